"""A throwaway Dovecot IMAP server for the tests of the hotline's e-mail channel: own configuration, own
mail folder, own port on 127.0.0.1, plain IMAP (loopback only), any account name with one password.

    with running_imap(folder) as imap:
        box = imap.new_mailbox()        # an account of its own: tests never see each other's mail
        imap.deliver(box, raw_bytes)    # IMAP APPEND into its INBOX (no MTA needed)
        imap.flags(box)                 # {uid: {"\\Seen", ...}} as the server keeps them

The `imap_server` fixture (tests/conftest.py) starts one per test session (per xdist worker).
Dovecot runs in the foreground (`dovecot -F -c <config>`). As an ordinary user it runs every process
as that user; as root (CI) Dovecot refuses to run its login process or to keep mail as root, so it
uses the `dovenull` and `dovecot` accounts the Debian package creates, and the folder is made in the
system temporary directory where those accounts can reach it.
"""
from __future__ import annotations

import getpass
import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.processes import stop
from tests.smtp_server import free_port

STARTUP_SECONDS = 15.0
HOST = "127.0.0.1"
#: The password of every account (a static passdb: any other password is refused).
PASSWORD = "mat-khau-hop-thu-1022"


def dovecot() -> str:
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/bin")
    if found is None:
        pytest.fail("`dovecot` is not installed: run `make setup` (scripts/system_packages.sh installs the Debian "
                    "packages dovecot-core and dovecot-imapd)", pytrace=False)
    return found


@dataclass(frozen=True)
class Mailbox:
    """One account on the server: what HOTLINE_IMAP_USER / HOTLINE_IMAP_PASSWORD name."""

    user: str
    password: str


def _accounts() -> tuple[str, str, int, int]:
    """(login user, internal user, mail uid, mail gid) Dovecot's processes and mail files run as."""
    if os.geteuid() != 0:
        me = getpass.getuser()
        return me, me, os.getuid(), os.getgid()
    mail = pwd.getpwnam("dovecot")
    return "dovenull", "dovecot", mail.pw_uid, mail.pw_gid


def _config(root: Path, port: int) -> str:
    login, internal, uid, gid = _accounts()
    group = grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name
    return f"""# Generated for the tests (tests/imap_server.py).
instance_name = test-{root.name}
base_dir = {root / 'run'}
state_dir = {root / 'state'}
log_path = {root / 'dovecot.log'}
protocols = imap
listen = {HOST}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{root / 'mail'}/%u
# Any user name logs in with PASSWORD (its mailbox is made at the first login): each test takes a
# user of its own without the server having to reload anything.
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root / 'mail'}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {HOST}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


class ImapServer:
    """One Dovecot on 127.0.0.1; `stop()` takes it down (connections are then refused)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = HOST
        self.port = free_port()
        self.log = root / "dovecot.log"
        self._process: subprocess.Popen[bytes] | None = None
        _login, _internal, uid, gid = _accounts()
        for name in ("run", "state", "mail"):
            (root / name).mkdir()
        os.chown(root / "mail", uid, gid)
        (root / "dovecot.conf").write_text(_config(root, self.port), encoding="utf-8")

    def start(self) -> None:
        with (self.root / "dovecot.out").open("ab") as out:
            self._process = subprocess.Popen([dovecot(), "-F", "-c", str(self.root / "dovecot.conf")],
                                             stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                pytest.fail(f"dovecot stopped at start-up:\n{self._output()}", pytrace=False)
            try:
                socket.create_connection((self.host, self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"dovecot did not answer on {self.host}:{self.port} within {STARTUP_SECONDS:.0f} s",
                    pytrace=False)

    def _output(self) -> str:
        texts = [p.read_text(errors="replace") for p in (self.root / "dovecot.out", self.log) if p.exists()]
        return "\n".join(texts)[-3000:]

    def stop(self) -> None:
        if self._process is None:
            return
        stop(self._process)
        self._process = None

    def new_mailbox(self) -> Mailbox:
        """A new account with an empty INBOX."""
        return Mailbox(f"hotline-{uuid.uuid4().hex[:12]}@test.dongthap.gov.vn", PASSWORD)

    @contextmanager
    def connect(self, box: Mailbox) -> Iterator[imaplib.IMAP4]:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.login(box.user, box.password)
            conn.select("INBOX")
            yield conn
        finally:
            conn.logout()

    def deliver(self, box: Mailbox, raw: bytes) -> None:
        """Put one message into the account's INBOX, unread, as a mail server's delivery would."""
        with self.connect(box) as conn:
            typ, data = conn.append("INBOX", "", None, raw)
            assert typ == "OK", data

    def flags(self, box: Mailbox) -> dict[int, set[str]]:
        """Every message's flags by UID."""
        with self.connect(box) as conn:
            typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
            assert typ == "OK", data
        found = {}
        for line in data:
            if not isinstance(line, bytes):
                continue
            match = re.search(rb"UID (\d+).*FLAGS \(([^)]*)\)", line)
            assert match is not None, line
            found[int(match.group(1))] = set(match.group(2).decode().split()) - {"\\Recent"}
        return found


@contextmanager
def running_imap() -> Iterator[ImapServer]:
    """A started server in a folder of its own (removed afterwards), stopped on the way out."""
    # Not below pytest's basetemp: that folder is private to the user running pytest, and as root
    # Dovecot's own accounts must reach the mail folder and sockets.
    root = Path(tempfile.mkdtemp(prefix="dovecot-test-"))
    root.chmod(0o755)
    server = ImapServer(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
