"""The Gmail backend of the contract suite: the in-repo Gmail fake behind the real provider.

Client mail is filed into the fake's INBOX with the test's arrival time; a staff
reply made outside triage is filed under SENT; what triage sends is what the fake
received through `messages.send`. Losing the sync state is what happens on Gmail
after about a week: the history records are dropped and `history.list` answers 404.
The team mailbox's own address is alice's: Gmail sends only from the account's
address (or a send-as alias), which the fake enforces.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterable, Sequence
from datetime import datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

from tests.contract.backends import STAFF_DOMAIN, SentMail, message, stale_number, write_config
from tests.support.gmail_fake import GmailFake
from triage.clock import FrozenClock
from triage.config import load_config
from triage.providers.gmail import connect_provider, token_source
from triage.service.core import TriageService

TOKEN_ENV = "TRIAGE_GMAIL_TOKEN"


def _bare(value: object) -> str:
    return str(value or "").strip().strip("<>")


def _new_id(sender: str) -> str:
    import uuid

    return f"{uuid.uuid4().hex}@{sender.rpartition('@')[2] or 'contract.test'}"


def sent_mail(raw: bytes) -> SentMail:
    """A raw message as the outside world received it."""
    parsed = BytesParser(policy=policy.default).parsebytes(raw)
    name, addr = email.utils.parseaddr(str(parsed["From"]))
    body = parsed.get_body(("plain", "html"))  # type: ignore[attr-defined]
    return SentMail(
        from_name=name,
        from_email=addr,
        to=tuple(a for _n, a in email.utils.getaddresses([str(parsed["To"] or "")])),
        subject=str(parsed["Subject"]),
        message_id=_bare(parsed["Message-ID"]),
        in_reply_to=_bare(parsed["In-Reply-To"]),
        references=tuple(_bare(r) for r in str(parsed["References"] or "").split()),
        body=body.get_content() if body is not None else "",
    )


class GmailBackend:
    """The Gmail fake (httpx transport), one team mailbox every console reads."""

    name = "gmail"

    def __init__(self, clock: FrozenClock) -> None:
        self.clock = clock
        self.fake = GmailFake(clock, address=f"team@{STAFF_DOMAIN}")
        self.account = self.fake.address
        self.token = self.fake.token()

    def manager_email(self, manager: str) -> str:
        return self.account if manager == "alice" else f"{manager}@{STAFF_DOMAIN}"

    def provider_toml(self, api_url: str = "https://gmail.fake.invalid") -> str:
        return "\n".join(
            [
                'kind = "gmail"',
                f'user = "{self.account}"',
                'label = "INBOX"',
                'auth = "bearer"',
                f'token_env = "{TOKEN_ENV}"',
                f'api_url = "{api_url}"',
            ]
        )

    def _file(self, raw: bytes, labels: set[str], at: datetime | None) -> None:
        at_ms = int((at or self.clock.now()).timestamp() * 1000)
        self.fake.store.add(raw, labels, at_ms=at_ms)

    def deliver(
        self,
        from_name: str,
        from_email: str,
        subject: str,
        body: str,
        *,
        to: Sequence[str] | None = None,
        cc: Iterable[str] = (),
        message_id: str | None = None,
        in_reply_to: str | None = None,
        references: Iterable[str] = (),
        at: datetime | None = None,
        html: bool = False,
    ) -> None:
        raw = message(
            from_name,
            from_email,
            list(to or [self.account]),
            subject,
            body,
            list(cc),
            message_id or _new_id(from_email),
            in_reply_to,
            list(references),
            at or self.clock.now(),
            html,
        )
        self._file(raw, {"INBOX", "UNREAD"}, at)

    def staff_reply_outside(
        self,
        from_name: str,
        from_email: str,
        subject: str,
        body: str,
        *,
        to: Sequence[str],
        in_reply_to: str,
        references: Iterable[str] = (),
        message_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        raw = message(
            from_name,
            from_email,
            list(to),
            subject,
            body,
            [],
            message_id or _new_id(from_email),
            in_reply_to,
            list(references),
            at or self.clock.now(),
            False,
        )
        self._file(raw, {"SENT"}, at)

    def sent(self) -> list[SentMail]:
        return [sent_mail(raw) for raw in self.fake.sent]

    def config_path(
        self, tmp_path: Path, user: str, api_url: str = "https://gmail.fake.invalid"
    ) -> Path:
        return write_config(
            tmp_path / user / "config.toml",
            self.provider_toml(api_url),
            alice=self.manager_email("alice"),
            bob=self.manager_email("bob"),
            staff=[STAFF_DOMAIN],
            cache=tmp_path / user / "cache.json",
        )

    def service(
        self, tmp_path: Path, user: str = "alice", clock: FrozenClock | None = None
    ) -> TriageService:
        env = {TOKEN_ENV: self.token}
        cfg = load_config(self.config_path(tmp_path, user), user_override=user, env=env)
        clock = clock or self.clock
        provider = connect_provider(
            cfg.provider,
            token_source(cfg.provider, env, clock),
            clock=clock,
            transport=self.fake.transport(),
        )
        return TriageService(cfg, clock, user=user, provider=provider)

    def break_state(self, service: TriageService) -> None:
        """Gmail keeps history records for about a week; after that, 404 from history.list."""
        junk = message(
            "Junk",
            "junk@contract.test",
            [self.account],
            "junk",
            "x",
            [],
            _new_id("junk@contract.test"),
            None,
            [],
            self.clock.now(),
            False,
        )
        self._file(junk, {"TRASH"}, None)
        self.fake.store.forget_history()

    def stale_state(self, state: str, how: str) -> str:
        return stale_number(state, how)  # Gmail's historyIds are decimal numbers too
