"""The two mail backends the contract suite runs against: the demo mailbox and Cyrus.

Owns the `Backend` interface the contract tests speak (deliver client mail, file a
staff reply made outside triage, read what was sent, build a `TriageService` on a
test config, make the server forget our sync state) and its two implementations.
The demo one files mail straight into the in-process `JmapServer`; the Cyrus one
APPENDs over IMAP with an INTERNALDATE (LMTP would stamp the real clock), reads the
SMTP sink and forces `cannotCalculateChanges` the way a real server gets there:
an expunge followed by `cyr_expire`.
"""

from __future__ import annotations

import email.utils
import imaplib
import subprocess
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Protocol

from tests.integration.cyrus import CYRUS_BIN, CYRUS_GROUP, CYRUS_USER, CyrusServer, CyrusUser
from tests.integration.smtp_sink import SmtpSink
from triage.clock import FrozenClock
from triage.config import load_config
from triage.demo.mailbox import DemoMailbox
from triage.service.core import TriageService

STAFF_DOMAIN = "agency.example"
CEO = "ceo@agency.example"
SECRET_ENV = "TRIAGE_CONTRACT_SECRET"


@dataclass(frozen=True)
class SentMail:
    """One message as the outside world received it (SMTP sink or demo outbox)."""

    from_name: str
    from_email: str
    to: tuple[str, ...]
    subject: str
    message_id: str  # without angle brackets
    in_reply_to: str
    references: tuple[str, ...]
    body: str


class Backend(Protocol):
    name: str
    clock: FrozenClock
    account: str  # the watched team mailbox's address: default To of client mail

    def manager_email(self, manager: str) -> str: ...
    def deliver(
        self, from_name: str, from_email: str, subject: str, body: str, *,
        to: Sequence[str] | None = None, cc: Iterable[str] = (), message_id: str | None = None,
        in_reply_to: str | None = None, references: Iterable[str] = (),
        at: datetime | None = None, html: bool = False,
    ) -> None: ...  # fmt: skip
    def staff_reply_outside(
        self, from_name: str, from_email: str, subject: str, body: str, *,
        to: Sequence[str], in_reply_to: str, references: Iterable[str] = (),
        message_id: str | None = None, at: datetime | None = None,
    ) -> None: ...  # fmt: skip
    def sent(self) -> list[SentMail]: ...
    def service(
        self, tmp_path: Path, user: str = "alice", clock: FrozenClock | None = None
    ) -> TriageService: ...
    def break_state(self, service: TriageService) -> None: ...
    def stale_state(self, state: str, how: str) -> str: ...  # how: "garbled" | "future"


# -- the test config (both backends) ----------------------------------------------------

CONFIG = """\
[provider]
{provider}
timeout_seconds = 10
notes_mailbox = "Triage Notes"

[user]
manager = "alice"

[agency]
staff_domains = {staff_domains}
ceo = "{ceo}"
at_risk_minutes = 15

[regions.support]
label = "24x7 support line"
timezone = "America/New_York"
hours = "24x7"
reply_within = "1h"

[regions.us-east]
label = "US Northeast"
timezone = "America/New_York"
holidays = "US"
hours = "08:00-18:00"
days = "mon-fri"
reply_within = "1h"

[regions.ca-on]
label = "Ontario"
timezone = "America/Toronto"
holidays = "CA-ON"
hours = "09:00-17:00"
days = "mon-fri"
reply_within = "next-business-day"

[managers.alice]
name = "Alice Martin"
email = "{alice}"
regions = ["support", "us-east"]

[managers.bob]
name = "Bob Okafor"
email = "{bob}"
regions = ["support", "us-east", "ca-on"]

[clients."acme.test"]
name = "Acme Rockets"
region = "support"
owner = "alice"
tier = "premium"

[clients."globex.test"]
name = "Globex"
region = "support"
owner = "bob"
tier = "standard"

[routing]
default_region = "support"
tld = {{ ca = "ca-on" }}

[cache]
path = "{cache}"
"""


def write_config(
    path: Path, provider: str, *, alice: str, bob: str, staff: Sequence[str], cache: Path
) -> Path:
    domains = "[" + ", ".join(f'"{d}"' for d in staff) + "]"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG.format(provider=provider, staff_domains=domains, ceo=CEO,
                                  alice=alice, bob=bob, cache=cache))  # fmt: skip
    return path


def _bare(message_id: str | None) -> str:
    return (message_id or "").strip().strip("<>")


def _new_message_id(sender: str) -> str:
    return f"{uuid.uuid4().hex}@{sender.rpartition('@')[2] or 'contract.test'}"


def stale_number(state: str, how: str) -> str:
    """A garbled state, or one from the server's future (a server restored from backup),
    for providers whose states are decimal numbers (the demo's, Cyrus's modseqs)."""
    assert state.isdigit()
    return "no-such-state" if how == "garbled" else str(int(state) + 1_000_000)


# -- the demo mailbox ---------------------------------------------------------------------

DEMO_PROVIDER = 'kind = "demo"\nmailbox = "inbox"'


class DemoBackend:
    """The embedded JMAP server, unseeded and without live arrivals."""

    name = "demo"

    def __init__(self, clock: FrozenClock, tmp_path: Path) -> None:
        self.clock = clock
        cfg_path = write_config(
            tmp_path / "demo-config.toml", DEMO_PROVIDER, alice=f"alice@{STAFF_DOMAIN}",
            bob=f"bob@{STAFF_DOMAIN}", staff=[STAFF_DOMAIN], cache=tmp_path / "unused.json",
        )  # fmt: skip
        self._cfg_path = cfg_path
        self.demo = DemoMailbox(clock, live=False, seeded=False, config=load_config(cfg_path))
        self.server = self.demo.server
        self.account = self.server.account_id

    def manager_email(self, manager: str) -> str:
        return f"{manager}@{STAFF_DOMAIN}"

    def deliver(
        self, from_name: str, from_email: str, subject: str, body: str, *,
        to: Sequence[str] | None = None, cc: Iterable[str] = (), message_id: str | None = None,
        in_reply_to: str | None = None, references: Iterable[str] = (),
        at: datetime | None = None, html: bool = False,
    ) -> None:  # fmt: skip
        refs = [_bare(r) for r in references] or ([_bare(in_reply_to)] if in_reply_to else None)
        self.server.deliver(
            from_name, from_email, list(to or [self.account]), subject, "" if html else body,
            at or self.clock.now(), cc=list(cc), message_id=message_id or
            _new_message_id(from_email), in_reply_to=in_reply_to,
            html=body if html else None, references=refs,
        )  # fmt: skip

    def staff_reply_outside(
        self, from_name: str, from_email: str, subject: str, body: str, *,
        to: Sequence[str], in_reply_to: str, references: Iterable[str] = (),
        message_id: str | None = None, at: datetime | None = None,
    ) -> None:  # fmt: skip
        refs = [_bare(r) for r in references] or [_bare(in_reply_to)]
        self.server.deliver(
            from_name, from_email, list(to), subject, body, at or self.clock.now(),
            message_id=message_id or _new_message_id(from_email), in_reply_to=in_reply_to,
            references=refs, mailbox="sent", keywords=("$seen",),
        )  # fmt: skip

    def sent(self) -> list[SentMail]:
        out = []
        for m in self.server.sent:
            name, addr = email.utils.parseaddr(m["from"] or "")
            out.append(SentMail(
                from_name=name, from_email=addr, to=tuple(m["to"]), subject=m["subject"],
                message_id=_bare(m["message-id"]), in_reply_to=_bare(m["in-reply-to"]),
                references=tuple(_bare(r) for r in (m["references"] or "").split()),
                body=m["body"],
            ))  # fmt: skip
        return out

    def service(
        self, tmp_path: Path, user: str = "alice", clock: FrozenClock | None = None
    ) -> TriageService:
        cfg = load_config(
            write_config(tmp_path / user / "config.toml", DEMO_PROVIDER,
                         alice=self.manager_email("alice"), bob=self.manager_email("bob"),
                         staff=[STAFF_DOMAIN], cache=tmp_path / user / "cache.json"),
            user_override=user,
        )  # fmt: skip
        return TriageService(cfg, clock or self.clock, user=user, provider=self.demo.provider())

    def break_state(self, service: TriageService) -> None:
        """As on Cyrus: a message comes and goes, then the server drops its change log."""
        junk = self.server.deliver("Junk", "junk@contract.test", [self.account], "junk", "x",
                                   self.clock.now(), mailbox="trash")  # fmt: skip
        self.server.destroy(junk)
        self.server.forget_changes()

    def stale_state(self, state: str, how: str) -> str:
        return stale_number(state, how)


# -- the real Cyrus server -------------------------------------------------------------


class CyrusBackend:
    """One fresh Cyrus user: its INBOX is the team mailbox every console watches.

    Cyrus offers one sending identity per login (no Identity/set), and the provider
    sends from the identity it finds, so the manager who replies (alice) has the
    login as her address and the login's domain counts as staff.
    """

    name = "cyrus"

    def __init__(
        self, server: CyrusServer, user: CyrusUser, sink: SmtpSink, clock: FrozenClock
    ) -> None:
        self.server, self.user, self.sink, self.clock = server, user, sink, clock
        self.account = user.username
        self.staff = [STAFF_DOMAIN, user.username.rpartition("@")[2]]

    def manager_email(self, manager: str) -> str:
        return self.account if manager == "alice" else f"{manager}@{STAFF_DOMAIN}"

    def provider_toml(self) -> str:
        return "\n".join([
            'kind = "jmap"', 'mailbox = "inbox"', f'session_url = "{self.user.session_url}"',
            'auth = "basic"',
            f'username = "{self.user.username}"', f'token_env = "{SECRET_ENV}"',
        ])  # fmt: skip

    def deliver(
        self, from_name: str, from_email: str, subject: str, body: str, *,
        to: Sequence[str] | None = None, cc: Iterable[str] = (), message_id: str | None = None,
        in_reply_to: str | None = None, references: Iterable[str] = (),
        at: datetime | None = None, html: bool = False,
    ) -> None:  # fmt: skip
        msg = message(
            from_name, from_email, list(to or [self.account]), subject, body, list(cc),
            message_id or _new_message_id(from_email), in_reply_to, list(references),
            at or self.clock.now(), html,
        )  # fmt: skip
        self.server.append(self.account, "INBOX", msg, at or self.clock.now())

    def staff_reply_outside(
        self, from_name: str, from_email: str, subject: str, body: str, *,
        to: Sequence[str], in_reply_to: str, references: Iterable[str] = (),
        message_id: str | None = None, at: datetime | None = None,
    ) -> None:  # fmt: skip
        msg = message(
            from_name, from_email, list(to), subject, body, [],
            message_id or _new_message_id(from_email), in_reply_to, list(references),
            at or self.clock.now(), False,
        )  # fmt: skip
        self.server.append(self.account, "Sent", msg, at or self.clock.now(), flags=("\\Seen",))

    def sent(self) -> list[SentMail]:
        """What reached the SMTP sink from this test's login (the sink is shared)."""
        out = []
        for m in self.sink.messages:
            if m.mail_from.casefold() != self.account.casefold():
                continue
            parsed = BytesParser(policy=policy.default).parsebytes(m.data)
            name, addr = email.utils.parseaddr(str(parsed["From"]))
            body = parsed.get_body(("plain", "html"))
            out.append(SentMail(
                from_name=name, from_email=addr,
                to=tuple(a for _n, a in email.utils.getaddresses([str(parsed["To"] or "")])),
                subject=str(parsed["Subject"]), message_id=_bare(str(parsed["Message-ID"])),
                in_reply_to=_bare(str(parsed["In-Reply-To"] or "")),
                references=tuple(_bare(r) for r in str(parsed["References"] or "").split()),
                body=body.get_content() if body is not None else "",
            ))  # fmt: skip
        return out

    def config_path(self, tmp_path: Path, user: str) -> Path:
        return write_config(
            tmp_path / user / "config.toml", self.provider_toml(),
            alice=self.manager_email("alice"), bob=self.manager_email("bob"), staff=self.staff,
            cache=tmp_path / user / "cache.json",
        )  # fmt: skip

    def service(
        self, tmp_path: Path, user: str = "alice", clock: FrozenClock | None = None
    ) -> TriageService:
        env = {SECRET_ENV: self.user.password}
        cfg = load_config(self.config_path(tmp_path, user), user_override=user, env=env)
        return TriageService(cfg, clock or self.clock, user=user, env=env)

    def break_state(self, service: TriageService) -> None:
        """Expunge a message and purge expunged records: Cyrus then refuses older states.

        (`cyr_expire -X 0` raises the account's deleted-modseq; `Email/changes` from
        below it answers cannotCalculateChanges "outdated sinceModseq".)
        """
        at = self.clock.now()
        junk = message("Junk", "junk@contract.test", [self.account], "junk", "x", [],
                       _new_message_id("junk@contract.test"), None, [], at, False)  # fmt: skip
        self.server.append(self.account, "Trash", junk, at)
        imap = imaplib.IMAP4("127.0.0.1", self.server.imap_port, timeout=10)
        try:
            imap.login(self.account, self.user.password)
            imap.select("Trash")
            imap.store("1:*", "+FLAGS", "(\\Deleted)")
            imap.expunge()
        finally:
            imap.logout()
        cmd = [str(CYRUS_BIN / "cyr_expire"), "-C", str(self.server.conf), "-X", "0"]
        subprocess.run(cmd, check=True, timeout=20, capture_output=True,
                       user=CYRUS_USER, group=CYRUS_GROUP)  # fmt: skip

    def stale_state(self, state: str, how: str) -> str:
        return stale_number(state, how)


def message(
    from_name: str, from_email: str, to: list[str], subject: str, body: str, cc: list[str],
    message_id: str, in_reply_to: str | None, references: list[str], date: datetime,
    html: bool,
) -> bytes:  # fmt: skip
    """An RFC 5322 message with CRLF line ends, for IMAP APPEND."""
    msg = EmailMessage()
    msg["From"] = email.utils.formataddr((from_name, from_email))
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(date.astimezone(UTC))
    msg["Message-ID"] = f"<{_bare(message_id)}>"
    refs = [_bare(r) for r in references] or ([_bare(in_reply_to)] if in_reply_to else [])
    if in_reply_to:
        msg["In-Reply-To"] = f"<{_bare(in_reply_to)}>"
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg.set_content(body, subtype="html" if html else "plain")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
