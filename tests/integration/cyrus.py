"""A throwaway Cyrus IMAP 3.6 JMAP server on 127.0.0.1, for integration tests.

Owns the whole lifecycle of one instance living in one temporary directory:
config files, SASL users, the `master` process, seeding mail (IMAP APPEND,
LMTP delivery) and one-off search indexing. Facts it relies on are measured
in the project's notes on Cyrus JMAP (every child needs its own `-C`,
`conversations: yes` before any mailbox exists, LMTP over the unix socket,
full `squatter` runs hang).
"""

from __future__ import annotations

import contextlib
import http.client
import imaplib
import os
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import NamedTuple

CYRUS_BIN = Path("/usr/lib/cyrus/bin")
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
ADMIN = "admin"
# Cyrus drops to this user; every file of the instance must belong to it.
CYRUS_USER, CYRUS_GROUP = "cyrus", "mail"
START_TIMEOUT = 10.0
INDEX_TIMEOUT = 10.0

# Special-use mailboxes every test user gets (INBOX is created by the admin).
SPECIAL_MAILBOXES = (("Drafts", "\\Drafts"), ("Sent", "\\Sent"), ("Archive", "\\Archive"),
                     ("Trash", "\\Trash"))  # fmt: skip


class CyrusUser(NamedTuple):
    """A fresh JMAP login (what the `cyrus_user` fixture returns); account id == username."""

    username: str
    password: str
    session_url: str


def cyrus_installed() -> bool:
    """True when the Debian Cyrus packages (with the JMAP httpd) are present."""
    return (CYRUS_BIN / "master").exists() and (CYRUS_BIN / "httpd").exists()


def free_port() -> int:
    """A currently free TCP port on loopback (the kernel picks a high one)."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free loopback ports (held open together, so never repeated)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


def make_message(
    from_: str,
    to: str | Sequence[str],
    subject: str,
    body: str,
    date: datetime,
    message_id: str,
    in_reply_to: str | None = None,
    cc: Iterable[str] = (),
) -> bytes:
    """A plain-text RFC 5322 message with CRLF line ends, ready for APPEND or LMTP."""
    msg = EmailMessage()
    msg["From"] = from_
    msg["To"] = to if isinstance(to, str) else ", ".join(to)
    cc = list(cc)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


class CyrusServer:
    """One Cyrus instance (imap, http with JMAP, lmtp) rooted in `tmpdir`.

    `tmpdir` and all its parents must be traversable by the `cyrus` user,
    because master drops privileges (pytest's own tmp dirs are mode 0700).
    """

    def __init__(self, tmpdir: Path, domain: str = "example.test", smtp_port: int = 25) -> None:
        self.root = Path(tmpdir)
        self.domain = domain
        self.smtp_port = smtp_port
        self.imap_port = self.http_port = self.lmtp_port = 0
        self.admin_password = secrets.token_urlsafe(12)
        self._passwords: dict[str, str] = {}
        self._master_pid: int | None = None

    # -- paths and urls ---------------------------------------------------
    @property
    def conf(self) -> Path:
        return self.root / "imapd.conf"

    @property
    def lmtp_socket(self) -> Path:
        return self.root / "run" / "lmtp.sock"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def session_url(self) -> str:
        # Answers 301 to /jmap: clients must follow redirects.
        return f"{self.http_url}/.well-known/jmap"

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> None:
        """Write the config, start master and wait until HTTP answers."""
        self._check_traversable()
        for sub in ("config/socket", "spool", "search", "sieve", "run"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.imap_port, self.http_port, self.lmtp_port = free_ports(3)
        _refuse_busy(self.imap_port, self.http_port, self.lmtp_port)
        self.conf.write_text(self._imapd_conf())
        (self.root / "cyrus.conf").write_text(self._cyrus_conf())
        self._saslpasswd(ADMIN, "localhost", self.admin_password)
        self._chown_tree()
        self._start_master()
        self._wait_http()

    def stop(self) -> None:
        """Stop master by its PID, kill any straggler of this instance, remove the dir."""
        if self._master_pid is not None:
            _signal(self._master_pid, signal.SIGTERM)
            _wait_gone(self._master_pid, 5.0)
        for pid in self._instance_pids():
            _signal(pid, signal.SIGKILL)
        self._master_pid = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> CyrusServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- users and mail -------------------------------------------------------
    def add_user(self, local: str, password: str) -> str:
        """Create `local@domain` with INBOX and special-use mailboxes; return the login."""
        login = f"{local}@{self.domain}"
        self._saslpasswd(local, self.domain, password)
        self._chown_tree(self.root / "sasldb2")
        self._passwords[login] = password
        with self._imap(ADMIN, self.admin_password) as imap:
            _ok(imap.create(f"user/{login}"), "CREATE INBOX")
        with self._imap(login, password) as imap:
            for name, use in SPECIAL_MAILBOXES:
                # imaplib passes the argument through verbatim: CREATE-SPECIAL-USE.
                _ok(imap.create(f"{name} (USE ({use}))"), f"CREATE {name}")
        return login

    def append(
        self,
        user: str,
        mailbox: str,
        raw_message: bytes,
        internaldate: datetime,
        flags: Iterable[str] = (),
    ) -> None:
        """IMAP APPEND as the user; INTERNALDATE becomes the JMAP `receivedAt`."""
        login = self._login(user)
        flag_list = "(" + " ".join(flags) + ")"
        with self._imap(login, self._passwords[login]) as imap:
            date = imaplib.Time2Internaldate(internaldate)
            _ok(imap.append(mailbox, flag_list, date, raw_message), f"APPEND {mailbox}")

    def deliver(self, user: str, raw_message: bytes, mail_from: str = "sender@remote.test") -> None:
        """Real delivery through lmtpd on the unix socket (TCP LMTP would demand AUTH)."""
        deliver_lmtp(self.lmtp_socket, mail_from, [self._login(user)], raw_message)

    def index(self, user: str | None = None) -> None:
        """Incremental squatter run (`-i`); a full run hangs past 20 messages in 3.6.1."""
        cmd = [str(CYRUS_BIN / "squatter"), "-C", str(self.conf), "-i"]
        if user is not None:
            cmd += ["-u", self._login(user)]
        subprocess.run(cmd, check=True, timeout=INDEX_TIMEOUT, capture_output=True,
                       user=CYRUS_USER, group=CYRUS_GROUP)  # fmt: skip

    # -- internals ------------------------------------------------------------
    def _login(self, user: str) -> str:
        return user if "@" in user else f"{user}@{self.domain}"

    def _imap(self, login: str, password: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        imap.login(login, password)
        return imap

    def _check_traversable(self) -> None:
        for parent in self.root.resolve().parents:
            if not os.stat(parent).st_mode & 0o001:
                raise RuntimeError(f"{parent} is not traversable by the cyrus user (mode 0700?)")

    def _saslpasswd(self, user: str, realm: str, password: str) -> None:
        cmd = [SASLPASSWD2, "-p", "-c", "-f", str(self.root / "sasldb2"), "-u", realm, user]
        subprocess.run(cmd, input=password.encode(), check=True, timeout=10, capture_output=True)

    def _chown_tree(self, only: Path | None = None) -> None:
        paths = [only] if only else [self.root, *self.root.rglob("*")]
        for path in paths:
            shutil.chown(path, CYRUS_USER, CYRUS_GROUP)

    def _start_master(self) -> None:
        run = self.root / "run"
        cmd = [str(CYRUS_BIN / "master"), "-C", str(self.conf), "-M", str(self.root / "cyrus.conf"),
               "-p", str(run / "master.pid"), "-L", str(run / "master.log"), "-d"]  # fmt: skip
        # With -d the parent returns once the daemon has bound its sockets (or failed).
        done = subprocess.run(cmd, timeout=START_TIMEOUT, capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"cyrus master failed: {done.stderr.decode(errors='replace')}")
        self._master_pid = int((run / "master.pid").read_text().split()[0])

    def _wait_http(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=2)
                conn.request("GET", "/.well-known/jmap")
                conn.getresponse().read()
                conn.close()
                return
            except OSError as exc:
                if time.monotonic() > deadline or not _alive(self._master_pid):
                    self.stop()
                    raise RuntimeError(f"cyrus httpd did not answer: {exc}") from exc
                time.sleep(0.02)  # bounded readiness poll, not a test sleep

    def _instance_pids(self) -> list[int]:
        """PIDs whose command line names this instance's directory (all ours)."""
        marker = str(self.root).encode()
        pids = []
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit() and int(proc.name) != os.getpid():
                with contextlib.suppress(OSError):
                    if marker in (proc / "cmdline").read_bytes():
                        pids.append(int(proc.name))
        return pids

    def _imapd_conf(self) -> str:
        r = self.root
        keys = {
            "configdirectory": r / "config", "partition-default": r / "spool",
            "defaultpartition": "default", "servername": "localhost", "admins": ADMIN,
            "allowplaintext": "yes", "sasl_pwcheck_method": "auxprop",
            "sasl_auxprop_plugin": "sasldb", "sasl_sasldb_path": r / "sasldb2",
            "sasl_mech_list": "PLAIN LOGIN", "virtdomains": "userid",
            "unixhierarchysep": "yes", "altnamespace": "yes", "httpmodules": "jmap",
            # Must be on before any mailbox exists: JMAP threads need it.
            "conversations": "yes", "conversations_db": "twoskip",
            "search_engine": "xapian", "search_index_headers": "yes",
            "defaultsearchtier": "t1", "t1searchpartition-default": r / "search",
            "sync_log": "1", "sync_log_channels": "squatter",
            "smtp_backend": "host", "smtp_host": f"127.0.0.1:{self.smtp_port}/noauth",
            "lmtpsocket": self.lmtp_socket, "idlesocket": r / "run" / "idle.sock",
            "notifysocket": r / "run" / "notify.sock", "sievedir": r / "sieve",
        }  # fmt: skip
        return "".join(f"{key}: {value}\n" for key, value in keys.items())

    def _cyrus_conf(self) -> str:
        def cmd(binary: str, *args: str) -> str:
            # master's -C is not inherited: every child needs its own.
            return " ".join([str(CYRUS_BIN / binary), "-C", str(self.conf), *args])

        return f"""START {{
  recover cmd="{cmd("ctl_cyrusdb", "-r")}"
}}
SERVICES {{
  imap cmd="{cmd("imapd")}" listen="127.0.0.1:{self.imap_port}" prefork=0
  http cmd="{cmd("httpd")}" listen="127.0.0.1:{self.http_port}" prefork=0
  lmtp cmd="{cmd("lmtpd")}" listen="127.0.0.1:{self.lmtp_port}" prefork=0
  lmtpunix cmd="{cmd("lmtpd")}" listen="{self.lmtp_socket}" prefork=0
}}
EVENTS {{
  checkpoint cmd="{cmd("ctl_cyrusdb", "-c")}" period=30
}}
DAEMON {{
  squatter cmd="{cmd("squatter", "-R")}"
}}
"""


def deliver_lmtp(sock: Path, mail_from: str, rcpts: Sequence[str], raw: bytes) -> None:
    """Deliver `raw` to `rcpts` through an LMTP unix socket; raise on any refusal."""
    with smtplib.LMTP(str(sock), timeout=10) as lmtp:
        refused = lmtp.sendmail(mail_from, list(rcpts), raw)
    if refused:
        raise RuntimeError(f"LMTP refused {refused}")


def _refuse_busy(*ports: int) -> None:
    """Fail fast: master only logs a bind error and keeps running without that service."""
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError as exc:
                raise RuntimeError(f"port 127.0.0.1:{port} is busy: {exc}") from exc


def _ok(result: tuple[str, Sequence[object]], what: str) -> None:
    status, data = result
    if status != "OK":
        raise RuntimeError(f"IMAP {what} failed: {status} {data}")


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _alive(pid: int | None) -> bool:
    """True while `pid` runs; zombies count as gone (init may never reap them here)."""
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)  # bounded shutdown poll
