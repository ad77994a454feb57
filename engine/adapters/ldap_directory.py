"""Mail-directory adapter for an LDAP directory (OpenLDAP) through ldap3: the `ldap` MAIL_DIRECTORY.

Entries are `inetOrgPerson` + the `mailAccount` class of the schema shipped in
`engine/adapters/ldap/mailaccount.ldif`: personal mailboxes under `ou=people,<base>`, collective ones
under `ou=collective,<base>`, named `uid=<local part>`. Every change carries its idempotency key in the
same LDAP request (`mailOperationKey`), so a retry finds the key and repeats nothing even when the
worker died after the write (docs/adapters.md).
"""
from __future__ import annotations

import math
import ssl
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import asdict
from functools import partial
from typing import Any

from engine.adapters.base import AdapterError, CallContext
from engine.adapters.mail_directory import (
    COLLECTIVE,
    PERSONAL,
    SENT,
    Mailbox,
    PasswordSink,
    carry_out,
    done,
    normal_address,
    send_again,
)
from engine.services.identity import hash_password
from engine.settings import Settings

with warnings.catch_warnings():
    # ldap3 2.9.1, its latest release, still reads pyasn1's tagMap/typeMap, deprecated since pyasn1
    # 0.6.1 (fixed in ldap3's repository but unreleased: cannatag/ldap3#1159).
    warnings.filterwarnings("ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning)
    from ldap3 import BASE, MODIFY_ADD, MODIFY_REPLACE, NONE, SUBTREE, Connection, Server, Tls
    from ldap3.core.exceptions import (
        LDAPCommunicationError,
        LDAPEntryAlreadyExistsResult,
        LDAPException,
        LDAPInvalidCredentialsResult,
        LDAPNoSuchObjectResult,
        LDAPOperationResult,
    )
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn
    from ldap3.utils.hashed import HASHED_SALTED_SHA, hashed

BRANCHES = {PERSONAL: "people", COLLECTIVE: "collective"}
ACTIVE, DISABLED = "active", "disabled"
ENTRY_CLASSES = ["top", "inetOrgPerson", "mailAccount"]
READ = ["mail", "cn", "displayName", "ou", "title", "mailAccountStatus"]
#: userPassword values by LDAP_HASH_SCHEME: the directory never receives the clear password.
HASHERS: dict[str, Callable[[str], str]] = {
    # verified by slapd's argon2 module (olcModuleLoad: argon2); the platform's own argon2id hash
    "ARGON2": lambda password: "{ARGON2}" + hash_password(password),
    # built into every OpenLDAP, for directories without the module
    "SSHA": lambda password: "{SSHA}" + str(hashed(HASHED_SALTED_SHA, password)).partition("}")[2],
}


def name_attributes(name: str, kind: str) -> dict[str, str]:
    """cn/displayName/sn/givenName of a Vietnamese name: givenName is the tên (last word), sn the họ and
    tên đệm; a collective mailbox is named after its unit and has no givenName."""
    words = name.split()
    if kind == COLLECTIVE or len(words) < 2:
        return {"cn": name, "displayName": name, "sn": name}
    return {"cn": name, "displayName": name, "sn": " ".join(words[:-1]), "givenName": words[-1]}


def _describe(exc: Exception, url: str) -> str:
    """The incident text for people: what failed, without credentials."""
    if isinstance(exc, LDAPInvalidCredentialsResult):
        return "Máy chủ danh bạ thư (LDAP) từ chối tài khoản kết nối: kiểm tra LDAP_BIND_DN và LDAP_BIND_PASSWORD"
    if isinstance(exc, LDAPCommunicationError | OSError):
        return f"Không kết nối được máy chủ danh bạ thư (LDAP) {url}: {exc}"
    if isinstance(exc, LDAPOperationResult):
        return f"Máy chủ danh bạ thư (LDAP) từ chối thao tác: {exc.description} {exc.message}".strip()
    return f"Lỗi máy chủ danh bạ thư (LDAP): {exc}"


class _Entries:
    """MailStore over one bound connection, tagging every write with the operation key."""

    def __init__(self, conn: Connection, directory: LdapMailDirectory, key: str) -> None:
        self._conn = conn
        self._dir = directory
        self._key = key
        self._found: dict[str, tuple[str, Mailbox]] = {}
        #: Whether an entry already holds the key (a write adding it again would be refused).
        self._tagged = False

    def _search(self, ldap_filter: str, attributes: list[str]) -> list[dict[str, Any]]:
        self._conn.search(self._dir.base_dn, ldap_filter, SUBTREE, attributes=attributes)
        return [r for r in self._conn.response or [] if r.get("type") == "searchResEntry"]

    def done_by_key(self) -> str | None:
        """The address of the entry a previous attempt of this operation already changed."""
        found = self._search(f"(mailOperationKey={escape_filter_chars(self._key)})", ["mail"])
        self._tagged = bool(found)
        return _values(found[0], "mail")[0] if found else None

    def find(self, address: str) -> Mailbox | None:
        found = self._search(f"(&(objectClass=mailAccount)(mail={escape_filter_chars(address)}))", READ)
        if not found:
            return None
        mailbox = self._dir.mailbox(found[0])
        self._found[address] = (found[0]["dn"], mailbox)
        return mailbox

    def taken(self, address: str) -> bool:
        uid = address.partition("@")[0]
        return bool(self._search(f"(|(mail={escape_filter_chars(address)})(uid={escape_filter_chars(uid)}))",
                                 ["mail"]))

    def create(self, mailbox: Mailbox, password: str) -> bool:
        uid = mailbox.address.partition("@")[0]
        attributes: dict[str, Any] = {
            **name_attributes(mailbox.display_name or uid, mailbox.kind), "uid": uid, "mail": mailbox.address,
            "mailAccountStatus": ACTIVE, "mailOperationKey": self._key,
            "userPassword": self._dir.password_hash(password),
        }
        attributes.update({k: v for k, v in (("ou", mailbox.unit_name), ("title", mailbox.title)) if v})
        branch = self._dir.branch_dn(mailbox.kind)
        self._ensure_branch(branch, BRANCHES[mailbox.kind])
        try:
            self._conn.add(f"uid={escape_rdn(uid)},{branch}", ENTRY_CLASSES, attributes)
        except LDAPEntryAlreadyExistsResult:
            return False
        return True

    def _ensure_branch(self, dn: str, name: str) -> None:
        if dn in self._dir.known_branches:
            return
        try:
            self._conn.search(dn, "(objectClass=*)", BASE, attributes=["ou"])
        except LDAPNoSuchObjectResult:
            with suppress(LDAPEntryAlreadyExistsResult):  # another worker made it meanwhile
                self._conn.add(dn, ["organizationalUnit"], {"ou": name})
        self._dir.known_branches.add(dn)

    def _modify(self, address: str, replace: Mapping[str, str]) -> None:
        dn, _mailbox = self._found[address]
        changes: dict[str, Any] = {name: [(MODIFY_REPLACE, [value])] for name, value in replace.items()}
        if not self._tagged:
            changes["mailOperationKey"] = [(MODIFY_ADD, [self._key])]
        self._conn.modify(dn, changes)

    def update(self, address: str, changes: Mapping[str, str]) -> None:
        replace: dict[str, str] = {}
        if "display_name" in changes:
            replace.update(name_attributes(changes["display_name"], self._found[address][1].kind))
        replace.update({attr: changes[k] for k, attr in (("unit_name", "ou"), ("title", "title")) if k in changes})
        self._modify(address, replace)

    def set_password(self, address: str, password: str) -> None:
        self._modify(address, {"userPassword": self._dir.password_hash(password)})

    def disable(self, address: str) -> None:
        self._modify(address, {"mailAccountStatus": DISABLED})


def _values(entry: Mapping[str, Any], name: str) -> list[str]:
    raw = {k.lower(): v for k, v in (entry.get("raw_attributes") or {}).items()}
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in raw.get(name.lower(), [])]


class LdapMailDirectory:
    """Keeps mailboxes in an LDAP directory; configured by the LDAP_* settings."""

    name = "ldap"

    def __init__(self, settings: Settings, sink: PasswordSink | None = None) -> None:
        if settings.ldap_hash_scheme not in HASHERS:
            raise ValueError(f"LDAP_HASH_SCHEME={settings.ldap_hash_scheme!r}: use one of {', '.join(HASHERS)}")
        self.url = settings.ldap_url
        self.base_dn = settings.ldap_base_dn
        self.domain = settings.mail_domain
        self.password_scheme = settings.ldap_hash_scheme
        self.password_hash = HASHERS[settings.ldap_hash_scheme]
        self._bind_dn = settings.ldap_bind_dn
        self._bind_password = settings.ldap_bind_password
        self._timeout = settings.ldap_timeout_seconds
        self._tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ldap_ca_file or None)
        self._sink = sink
        #: Branch DNs known to exist, so each is checked once per process.
        self.known_branches: set[str] = set()

    def branch_dn(self, kind: str) -> str:
        return f"ou={BRANCHES[kind]},{self.base_dn}"

    def mailbox(self, entry: Mapping[str, Any]) -> Mailbox:
        def first(name: str) -> str:
            return next(iter(_values(entry, name)), "")

        kind = COLLECTIVE if str(entry["dn"]).lower().endswith(self.branch_dn(COLLECTIVE).lower()) else PERSONAL
        return Mailbox(address=first("mail").lower(), display_name=first("displayName") or first("cn"),
                       unit_name=first("ou"), title=first("title"), kind=kind,
                       active=first("mailAccountStatus").lower() != DISABLED)

    @contextmanager
    def _session(self) -> Iterator[Connection]:
        """A bound connection; every LDAP or network failure becomes an AdapterError (retried)."""
        conn: Connection | None = None
        try:
            server = Server(self.url, connect_timeout=self._timeout, get_info=NONE, tls=self._tls)
            conn = Connection(server, user=self._bind_dn or None, password=self._bind_password or None,
                              # ldap3 packs it into SO_RCVTIMEO as whole seconds
                              receive_timeout=max(1, math.ceil(self._timeout)), raise_exceptions=True)
            conn.open()
            conn.bind()
            yield conn
        except (LDAPException, OSError) as exc:
            raise AdapterError(_describe(exc, self.url)) from exc
        finally:
            if conn is not None:
                _close(conn)

    def apply(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        row = data.get("row") or {}
        sink = self._sink
        # The link is issued after the directory's change, in its own transaction (LDAP has none to join).
        with self._session() as conn:
            entries = _Entries(conn, self, key)
            address = entries.done_by_key()
            if address is None:
                return carry_out(entries, row, self.domain, None if sink is None else partial(sink, key, context))
            # Carried out by an earlier attempt: report it again, with the same link.
            if sink is None or str(row.get("thao_tac")) not in SENT:
                return done(row, address)
            sent_to = sink.delivered(key)
            if sent_to is None:  # that attempt's password reached no one (e.g. the mail server was down)
                return send_again(entries, row, address, partial(sink, key, context))
            return done(row, address, sent_to)

    def exists(self, address: str) -> bool:
        return self.lookup(address) is not None

    def lookup(self, address: str) -> dict[str, Any] | None:
        with self._session() as conn:
            found = _Entries(conn, self, "").find(normal_address(address))
        return asdict(found) if found is not None else None


def _close(conn: Connection) -> None:
    """Unbind, and close the socket in any case: ldap3 leaves it open when connecting or sending failed."""
    with suppress(LDAPException, OSError):
        conn.unbind()
    if conn.socket is not None:
        conn.socket.close()
