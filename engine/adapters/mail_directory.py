"""Mail-directory adapters: carry out Phụ lục I rows (cấp mới, đổi tên, cấp lại mật khẩu, thu hồi).

This module holds what every implementation shares — the contract (`MailDirectory`), the row logic
written once against a few store primitives (`MailStore`, `carry_out`), the address derivation and
the outcome messages — and the `local` implementation, which keeps mailboxes in the platform's
database (the embedded default). The LDAP implementation is `engine.adapters.ldap_directory`.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.adapters.base import CallContext
from engine.domain.text import ascii_words
from engine.persistence.models import AdapterOperation, MailAccount
from engine.services.identity import hash_password

ACTIONS = {
    "cap_moi": "Cấp mới",
    "doi_ten": "Đổi tên / thay đổi thông tin",
    "cap_lai_mat_khau": "Cấp lại mật khẩu",
    "thu_hoi": "Thu hồi",
}
#: The outcome shown for a row carried out, by action.
DONE = {
    "cap_moi": "Đã cấp mới",
    "doi_ten": "Đã cập nhật thông tin",
    "cap_lai_mat_khau": "Đã cấp lại mật khẩu (gửi riêng cho người dùng)",
    "thu_hoi": "Đã thu hồi (khóa tài khoản, giữ dữ liệu)",
}
#: The outcome of a row whose new password went out by a one-time link, by action.
SENT = {
    "cap_moi": "Đã cấp mới — mật khẩu gửi qua liên kết dùng một lần tới {to}",
    "cap_lai_mat_khau": "Đã cấp lại mật khẩu — mật khẩu mới gửi qua liên kết dùng một lần tới {to}",
}
NOT_FOUND = "Không thực hiện: không tìm thấy địa chỉ thư hiện tại"
PERSONAL, COLLECTIVE = "ca_nhan", "tap_the"


@dataclass(frozen=True)
class Mailbox:
    """One mailbox as every directory describes it; `lookup` returns it as a dict."""

    address: str
    display_name: str
    unit_name: str = ""
    title: str = ""
    kind: str = PERSONAL
    active: bool = True


class MailDirectory(Protocol):
    """What the platform asks of a mail directory, whichever system keeps it."""

    name: str

    def apply(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        """Carry out `data["row"]` once per idempotency `key`; return `{"row": {..., "ket_qua", "dia_chi",
        "trang_thai"}}`, the same on every retry. Raise AdapterError when the directory cannot be reached."""

    def exists(self, address: str) -> bool:
        """Whether a mailbox (active or revoked) holds `address`."""

    def lookup(self, address: str) -> dict[str, Any] | None:
        """The mailbox at `address` (Mailbox fields), or None."""


class PasswordSink(Protocol):
    """Delivers a password a row has just set by a one-time link (engine.services.credentials)."""

    def __call__(self, key: str, context: CallContext | None, action: str, address: str, password: str,
                 session: Session | None = None) -> str:
        """Issue the link for operation `key` and notify; return where it went, in words for `ket_qua`.
        `session` joins the directory's transaction. Raise AdapterError when it cannot be sent."""

    def delivered(self, key: str) -> str | None:
        """Where the link of operation `key` went, or None when that password reached no one."""


#: `carry_out`'s view of a sink, bound to one operation: (action, address, password) → where it went.
RowSink = Callable[[str, str, str], str]


class MailStore(Protocol):
    """The primitives one directory offers for a single row; `carry_out` decides what to call.

    The store hashes passwords itself in its directory's format: the clear text goes no further.
    """

    def find(self, address: str) -> Mailbox | None: ...

    def taken(self, address: str) -> bool:
        """Whether a new mailbox may not use `address` (held by any mailbox, active or not)."""

    def create(self, mailbox: Mailbox, password: str) -> bool:
        """Add the mailbox; False when its address was taken meanwhile (another worker won)."""

    def update(self, address: str, changes: Mapping[str, str]) -> None:
        """Change `display_name`, `unit_name` and/or `title` (the address stays)."""

    def set_password(self, address: str, password: str) -> None: ...

    def disable(self, address: str) -> None:
        """Revoke: the mailbox can no longer be used, its entry and mail are kept."""


# ---------------------------------------------------------------- addresses, passwords, outcomes


def local_part(full_name: str, collective: bool) -> str:
    """Given name then initials (Nguyễn Văn An → annv); units use all initials."""
    words = ascii_words(full_name)
    if not words:
        return "taikhoan"
    if collective:
        return "".join(w[0] for w in words)
    return words[-1] + "".join(w[0] for w in words[:-1])


def candidate_addresses(base: str, domain: str) -> Iterator[str]:
    """annv@…, then annv1@…, annv2@… : the first one free is the new address."""
    yield f"{base}@{domain}"
    n = 1
    while True:
        yield f"{base}{n}@{domain}"
        n += 1


def normal_address(address: object) -> str:
    return str(address or "").strip().lower()


def new_password() -> str:
    """A random initial or reset password; only its hash is ever stored, never returned."""
    return secrets.token_urlsafe(12)


def outcome(row: Mapping[str, Any], ok: bool, text: str, address: str = "") -> dict[str, Any]:
    """The row as the reply letter lists it: outcome, address, status and the action's name."""
    result = dict(row)
    result.update(ket_qua=text, dia_chi=address or row.get("dia_chi_hien_tai", ""),
                  trang_thai="thanh_cong" if ok else "that_bai",
                  thao_tac_ten=ACTIONS.get(str(row.get("thao_tac")), str(row.get("thao_tac"))))
    return {"row": result}


def done(row: Mapping[str, Any], address: str, sent_to: str | None = None) -> dict[str, Any]:
    """The outcome of the row's action carried out on `address` (also when replayed by key); `sent_to`
    says where the one-time link with its new password went."""
    action = str(row.get("thao_tac"))
    text = SENT[action].format(to=sent_to) if sent_to and action in SENT else DONE[action]
    return outcome(row, True, text, address)


# ---------------------------------------------------------------- one row


def carry_out(store: MailStore, row: Mapping[str, Any], domain: str, sink: RowSink | None = None) -> dict[str, Any]:
    """Carry out one row on `store`; a new password goes to `sink` (without one it is dropped). A row
    that cannot be done (unknown address, unknown action) is an outcome "that_bai" for people to read,
    not an error: retrying would not change it."""
    action = row.get("thao_tac")
    if action == "cap_moi":
        return _create(store, row, domain, sink)
    address = normal_address(row.get("dia_chi_hien_tai"))
    if not address or store.find(address) is None:
        return outcome(row, False, NOT_FOUND)
    if action == "doi_ten":
        changes = {"display_name": row.get("ho_ten"), "unit_name": row.get("don_vi"), "title": row.get("chuc_vu")}
        store.update(address, {k: str(v) for k, v in changes.items() if v})
    elif action == "cap_lai_mat_khau":
        password = new_password()
        store.set_password(address, password)
        if sink is not None:
            return done(row, address, sink(action, address, password))
    elif action == "thu_hoi":
        store.disable(address)
    else:
        return outcome(row, False, f"Không thực hiện: thao tác không hợp lệ ({action})")
    return done(row, address)


def _create(store: MailStore, row: Mapping[str, Any], domain: str, sink: RowSink | None) -> dict[str, Any]:
    collective = row.get("loai") == COLLECTIVE
    name = str(row.get("ho_ten") or "")
    mailbox = Mailbox(address="", display_name=name, unit_name=str(row.get("don_vi") or ""),
                      title=str(row.get("chuc_vu") or ""), kind=COLLECTIVE if collective else PERSONAL)
    for address in candidate_addresses(local_part(name, collective), domain):
        # The initial password is never returned: only its hash is kept in the directory,
        # and it reaches the person through the sink's one-time link.
        if store.taken(address):
            continue
        password = new_password()
        if store.create(replace(mailbox, address=address), password):
            return done(row, address, sink("cap_moi", address, password) if sink is not None else None)
    raise AssertionError("unreachable: candidate_addresses never ends")


def send_again(store: MailStore, row: Mapping[str, Any], address: str, sink: RowSink) -> dict[str, Any]:
    """A row an earlier attempt carried out whose password reached no one (the delivery failed after
    the directory's change): a new password is set and sent, the mailbox itself is not made again."""
    if store.find(address) is None:
        return outcome(row, False, NOT_FOUND)
    password = new_password()
    store.set_password(address, password)
    return done(row, address, sink(str(row.get("thao_tac")), address, password))


# ---------------------------------------------------------------- the local (database) directory


class _DatabaseMailboxes:
    """MailStore over the `mail_accounts` table, inside the caller's session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _account(self, address: str) -> MailAccount | None:
        return self._session.scalar(select(MailAccount).where(MailAccount.address == address))

    def find(self, address: str) -> Mailbox | None:
        account = self._account(address)
        if account is None:
            return None
        return Mailbox(account.address, account.display_name, account.unit_name, account.title,
                       account.kind, account.active)

    def taken(self, address: str) -> bool:
        return self._session.scalar(select(MailAccount.id).where(MailAccount.address == address)) is not None

    def create(self, mailbox: Mailbox, password: str) -> bool:
        # A concurrent create of the same address fails on the unique index at commit, which
        # rolls back the whole row (no savepoint: pysqlite would commit at its release).
        self._session.add(MailAccount(
            address=mailbox.address, display_name=mailbox.display_name, unit_name=mailbox.unit_name,
            title=mailbox.title, kind=mailbox.kind, password_hash=hash_password(password)))
        self._session.flush()
        return True

    def update(self, address: str, changes: Mapping[str, str]) -> None:
        account = self._account(address)
        assert account is not None
        for field_name, value in changes.items():
            setattr(account, field_name, value)

    def set_password(self, address: str, password: str) -> None:
        account = self._account(address)
        assert account is not None
        account.password_hash = hash_password(password)

    def disable(self, address: str) -> None:
        account = self._account(address)
        assert account is not None
        account.active = False


class LocalMailDirectory:
    """Records mailboxes in the platform's database (the embedded default).

    The row's change and the result stored under its key commit together, so a retry by key
    returns the first result and changes nothing.
    """

    name = "local"

    def __init__(self, session_factory: Callable[[], Session], domain: str, sink: PasswordSink | None = None) -> None:
        self._sessions = session_factory
        self.domain = domain
        self._sink = sink

    def apply(self, key: str, data: Mapping[str, Any], context: CallContext | None = None) -> dict[str, Any]:
        row = data.get("row") or {}
        with self._sessions() as session:
            stored = session.get(AdapterOperation, key)
            if stored is not None:
                return dict(stored.result)
            # The link and its notification commit with the mailbox: all of it, or none and a retry.
            row_sink = None if self._sink is None else partial(self._sink, key, context, session=session)
            result = carry_out(_DatabaseMailboxes(session), row, self.domain, row_sink)
            session.add(AdapterOperation(key=key, adapter="mail_directory.local", result=result))
            session.commit()
            return result

    def exists(self, address: str) -> bool:
        return self.lookup(address) is not None

    def lookup(self, address: str) -> dict[str, Any] | None:
        with self._sessions() as session:
            found = _DatabaseMailboxes(session).find(normal_address(address))
        return asdict(found) if found is not None else None
