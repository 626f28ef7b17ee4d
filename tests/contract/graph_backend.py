"""The contract suite's Microsoft 365 backend: the in-repo Graph fake, through its transport.

A shared mailbox (clients@agency.example) that every console opens with its own
sign-in (alice, bob and the CEO each have a token file written as `triage login`
writes it, with Full Access and Send As on the mailbox). Client mail is delivered to
its Inbox, a colleague's reply from another mail client is filed in Sent Items, and
what the fake sent is read back as the recipients got it. The fake is built from
Microsoft's documentation, not from a live tenant (see tests/support/graph_fake).

Replies leave from the shared mailbox under the manager's name (Graph's From must be
the mailbox that sends), so the manager who replies (alice) has the mailbox's address.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from tests.contract.backends import STAFF_DOMAIN, SentMail, write_config
from tests.support.graph_fake import CLIENT_ID, GraphFake
from triage.clock import FrozenClock
from triage.config import load_config
from triage.providers import graph
from triage.providers.oauth import Tokens, TokenStore
from triage.service.core import TriageService

SHARED = f"clients@{STAFF_DOMAIN}"


def graph_provider_toml(fake: GraphFake, token_file: Path) -> str:
    return "\n".join([
        'kind = "graph"', f'mailbox = "{SHARED}"', 'folder = "inbox"',
        f'tenant = "{STAFF_DOMAIN}"', f'client_id = "{CLIENT_ID}"', 'auth = "oauth"',
        f'api_url = "{fake.api_url}"', f'login_url = "{fake.login_url}"',
        f'token_file = "{token_file}"',
    ])  # fmt: skip


def sign_in(fake: GraphFake, upn: str, token_file: Path, clock: FrozenClock) -> None:
    """What `triage login` leaves behind: the user's tokens in a 0600 token file."""
    answer = fake.identity.issue(upn)
    expires = clock.now() + timedelta(seconds=answer["expires_in"])
    TokenStore(token_file).save(Tokens(answer["access_token"], answer["refresh_token"], expires))


class GraphBackend:
    name = "graph"

    def __init__(self, clock: FrozenClock, tmp_path: Path) -> None:
        self.clock = clock
        self.fake = GraphFake(clock)
        self.fake.mailbox(SHARED, "Agency Clients")
        for who in ("alice", "bob", "ceo"):
            self.fake.add_user(f"{who}@{STAFF_DOMAIN}", full_access={SHARED}, send_as={SHARED})
        self.account = SHARED
        self.transport = self.fake.transport()

    def manager_email(self, manager: str) -> str:
        return SHARED if manager == "alice" else f"{manager}@{STAFF_DOMAIN}"

    def deliver(
        self, from_name: str, from_email: str, subject: str, body: str, *,
        to: Sequence[str] | None = None, cc: Iterable[str] = (), message_id: str | None = None,
        in_reply_to: str | None = None, references: Iterable[str] = (),
        at: datetime | None = None, html: bool = False,
    ) -> None:  # fmt: skip
        self.fake.deliver(
            SHARED, from_name, from_email, list(to or [SHARED]), subject, body,
            at or self.clock.now(), cc=cc, message_id=message_id or _new_id(from_email),
            in_reply_to=in_reply_to or "", references=references, html=html,
        )  # fmt: skip

    def staff_reply_outside(
        self, from_name: str, from_email: str, subject: str, body: str, *,
        to: Sequence[str], in_reply_to: str, references: Iterable[str] = (),
        message_id: str | None = None, at: datetime | None = None,
    ) -> None:  # fmt: skip
        self.fake.deliver(
            SHARED, from_name, from_email, list(to), subject, body, at or self.clock.now(),
            message_id=message_id or _new_id(from_email), in_reply_to=in_reply_to,
            references=references or [in_reply_to], folder="sentitems",
        )  # fmt: skip

    def sent(self) -> list[SentMail]:
        return [SentMail(s.from_name, s.from_email, s.to, s.subject, s.message_id,
                         s.in_reply_to, s.references, s.body) for s in self.fake.sent]  # fmt: skip

    def config_path(self, tmp_path: Path, user: str) -> Path:
        token_file = tmp_path / user / "graph-token.json"
        if not token_file.exists():
            sign_in(self.fake, f"{user}@{STAFF_DOMAIN}", token_file, self.clock)
        return write_config(
            tmp_path / user / "config.toml", graph_provider_toml(self.fake, token_file),
            alice=self.manager_email("alice"), bob=self.manager_email("bob"),
            staff=[STAFF_DOMAIN], cache=tmp_path / user / "cache.json",
        )  # fmt: skip

    def service(
        self, tmp_path: Path, user: str = "alice", clock: FrozenClock | None = None
    ) -> TriageService:
        clock = clock or self.clock
        cfg = load_config(self.config_path(tmp_path, user), user_override=user)
        tokens = graph.access_tokens(cfg.provider, {}, clock, transport=self.transport)
        provider = graph.connect_provider(cfg.provider, tokens, clock=clock,
                                          transport=self.transport)  # fmt: skip
        return TriageService(cfg, clock, user=user, provider=provider)

    def break_state(self, service: TriageService) -> None:
        """As Exchange does when its delta token cache drops our tokens: 410 Gone."""
        self.fake.forget_changes()

    def stale_state(self, state: str, how: str) -> str:
        if how == "garbled":
            return "no-such-state"
        data = json.loads(state)  # delta links whose tokens the server never gave
        data["links"] = {k: v.split("$deltatoken=")[0] + "$deltatoken=never-given"
                         for k, v in data["links"].items()}  # fmt: skip
        return json.dumps(data)


def _new_id(sender: str) -> str:
    return f"{uuid.uuid4().hex}@{sender.rpartition('@')[2] or 'contract.test'}"
