"""A throwaway OpenLDAP `slapd` for the mail-directory tests: own cn=config, own mdb database, own port.

The configuration is what docs/adapters.md recommends for production, in small: the core, cosine,
inetorgperson and nis schemas plus the platform's `mailaccount` schema, the argon2 password module,
a service account for the platform that may write only below the base DN, an ACL that refuses
to bind a disabled (`mailAccountStatus: disabled`) account, and the auditlog overlay writing every
change, values included, to `audit.ldif` (so tests can read what the directory was sent).
"""
from __future__ import annotations

import base64
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from ldap3 import SUBTREE, Connection, Server
from ldap3.utils.hashed import HASHED_SALTED_SHA, hashed

from engine.settings import ROOT
from tests.processes import stop

SCHEMA_DIR = Path("/etc/ldap/schema")
MAIL_SCHEMA = ROOT / "engine" / "adapters" / "ldap" / "mailaccount.ldif"
SUFFIX = "dc=dongthap,dc=gov,dc=vn"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "quan-tri-thu-nghiem"
#: The account the platform binds as: least privilege, write access below the suffix only.
SERVICE_DN = f"cn=quytrinh,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "dich-vu-thu-nghiem"
STARTUP_SECONDS = 15.0
MODULE_DIR = Path("/usr/lib/ldap")


def tool(name: str) -> str:
    """The path of an OpenLDAP program; a missing one fails the test with the way to install it."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        pytest.fail(f"`{name}` (OpenLDAP) is not installed: run `make setup` "
                    "(scripts/system_packages.sh installs the Debian packages slapd and ldap-utils)",
                    pytrace=False)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config_ldif(root: Path) -> str:
    modules = "".join(f"olcModuleLoad: {m}\n" for m in ("back_mdb", "argon2", "auditlog")
                      if (MODULE_DIR / f"{m}.so").exists())
    schemas = "".join(f"include: file://{SCHEMA_DIR / name}.ldif\n"
                      for name in ("core", "cosine", "nis", "inetorgperson"))
    svc = f'dn.exact="{SERVICE_DN}"'
    return f"""dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {root / 'slapd.pid'}
olcArgsFile: {root / 'slapd.args'}

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_DIR}
{modules}
dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

{schemas}include: file://{MAIL_SCHEMA}

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcRootDN: {ADMIN_DN}
olcRootPW: {hashed(HASHED_SALTED_SHA, ADMIN_PASSWORD)}
olcDbDirectory: {root / 'data'}
olcDbIndex: objectClass eq
olcDbIndex: mail,uid eq
olcDbIndex: mailOperationKey eq
olcAccess: {{0}}to dn.subtree="{SUFFIX}" filter=(mailAccountStatus=disabled) attrs=userPassword
  by {svc} write by * none
olcAccess: {{1}}to dn.subtree="{SUFFIX}" attrs=userPassword by {svc} write by anonymous auth by * none
olcAccess: {{2}}to dn.subtree="{SUFFIX}" by {svc} write by users read by * none

dn: olcOverlay={{0}}auditlog,olcDatabase={{1}}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAuditlogConfig
olcOverlay: {{0}}auditlog
olcAuditlogFile: {root / 'audit.ldif'}
"""


def _base_ldif() -> str:
    return f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: dongthap
o: Tỉnh Đồng Tháp

dn: ou=services,{SUFFIX}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: quytrinh
userPassword: {hashed(HASHED_SALTED_SHA, SERVICE_PASSWORD)}
"""


class LdapServer:
    """One slapd process on 127.0.0.1; `stop()` and `start()` again keep its data and port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.log = root / "slapd.log"
        #: Every change written to the directory, values included (the auditlog overlay).
        self.audit_log = root / "audit.ldif"
        self._process: subprocess.Popen[bytes] | None = None
        self._build()

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def _build(self) -> None:
        slapadd = tool("slapadd")
        config_dir, data_dir = self.root / "slapd.d", self.root / "data"
        config_dir.mkdir(parents=True)
        data_dir.mkdir()
        (self.root / "config.ldif").write_text(_config_ldif(self.root), encoding="utf-8")
        (self.root / "base.ldif").write_text(_base_ldif(), encoding="utf-8")
        for args in (["-n0", "-l", "config.ldif"], ["-n1", "-l", "base.ldif"]):
            done = subprocess.run([slapadd, "-F", str(config_dir), *args], cwd=self.root,
                                  capture_output=True, text=True, check=False)
            if done.returncode:
                pytest.fail(f"slapadd {' '.join(args)} failed:\n{done.stderr}", pytrace=False)

    def start(self) -> None:
        """Run slapd in the foreground (-d), logging requests (stats) to `self.log`, until it answers."""
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [tool("slapd"), "-F", str(self.root / "slapd.d"), "-h", f"{self.url}/", "-d", "256"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(f"slapd stopped at start-up:\n{self.log.read_text(errors='replace')[-3000:]}",
                            pytrace=False)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"slapd did not answer on {self.url} within {STARTUP_SECONDS:.0f} s", pytrace=False)

    def stop(self) -> None:
        if self._process is None:
            return
        stop(self._process)
        self._process = None

    @contextmanager
    def admin(self) -> Iterator[Connection]:
        """A connection bound as the directory's administrator (inspection from the tests), closed after."""
        conn = Connection(Server(self.url), ADMIN_DN, ADMIN_PASSWORD, raise_exceptions=True)
        try:
            conn.bind()
            yield conn
        finally:
            conn.unbind()

    def new_branch(self) -> str:
        """An empty `ou=…` below the suffix: one test's base DN, so tests never see each other's entries."""
        dn = f"ou=t{uuid.uuid4().hex[:12]},{SUFFIX}"
        with self.admin() as conn:
            conn.add(dn, ["organizationalUnit"])
        return dn

    def entries(self, base_dn: str) -> dict[str, dict[str, list[str]]]:
        """Every mail account below `base_dn`, as the administrator sees it: DN → attribute → values."""
        with self.admin() as conn:
            conn.search(base_dn, "(objectClass=mailAccount)", SUBTREE, attributes=["*"])
            return {r["dn"]: {name: [v.decode() for v in values] for name, values in r["raw_attributes"].items()}
                    for r in conn.response if r["type"] == "searchResEntry"}

    def written(self) -> list[tuple[str, str]]:
        """(attribute, value) of every change the directory received, decoded from the audit log's LDIF."""
        text = self.audit_log.read_text(encoding="utf-8").replace("\n ", "")  # unfold long lines
        pairs = []
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if not sep or line.startswith("#"):
                continue
            if value.startswith(":"):  # "name:: base64"
                value = base64.b64decode(value[1:].strip()).decode("utf-8", errors="replace")
            pairs.append((name, value.strip()))
        return pairs

    def can_bind(self, dn: str, password: str) -> bool:
        """Whether the person could log in with `password` (a simple bind as the entry)."""
        conn = Connection(Server(self.url), dn, password)
        try:
            return bool(conn.bind())
        finally:
            conn.unbind()


@contextmanager
def running(root: Path) -> Iterator[LdapServer]:
    """A started server in `root`, stopped (kill and wait) on the way out."""
    server = LdapServer(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
