"""Nudges sent exactly once, whatever the number of watchers: claim, send, mark sent.

For each nudge due (`triage.domain.nudges.due`) a watcher first records it on the
provider with a claim: a mark carrying the nudge's key and the claim's time, set on
the conversation's first message by compare-and-set (`Provider.claim`), so of any
number of watchers racing for it exactly one wins. The winner sends the nudge with
a Message-ID made from the nudge's key and the first claim's time, the same on every
attempt, then marks the nudge sent. The others leave it alone while the claim's lease
(`CLAIM_LEASE`) runs; past it the claimer is taken to have died, and the next claim
takes over after looking the Message-ID up in Sent (`Provider.find_sent`): found, it
is only marked sent; drafted, that draft is sent; absent, it is sent. So a crash
between recording and sending, or between sending and marking, loses nothing and
sends nothing twice. A lookup or a send that cannot be completed leaves the nudge
for a later round (its claim runs out first).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from triage.clock import Clock
from triage.domain import nudges
from triage.domain.away import Absences
from triage.domain.model import Conversation
from triage.domain.nudges import Nudge
from triage.domain.outbox import new_message_id
from triage.domain.settings import Config
from triage.engine.live import LiveQueue
from triage.providers.base import OutgoingReply, Provider, ProviderError, SentState
from triage.text.mailtext import header_safe


@dataclass
class NudgeRound:
    """What one round did: the nudges this watcher sent, those left (sent or claimed
    by another watcher), and what went wrong, in words."""

    sent: list[Nudge] = field(default_factory=list)
    left: list[Nudge] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Nudger:
    """Sends the nudges due, once each across every watcher of the mailbox."""

    def __init__(self, cfg: Config, provider: Provider, clock: Clock, live: LiveQueue) -> None:
        self.cfg, self.provider, self.clock, self.live = cfg, provider, clock, live
        self._done: set[str] = set()  # keys known sent (by anyone): not asked again

    async def run(self, away: Absences) -> NudgeRound:
        now = self.clock.now()
        out = NudgeRound()
        for n in nudges.due(self.live.view(now), now, self.cfg, away):
            conv = self.live.get(n.thread_id)
            if n.key in self._done or conv is None or not conv.thread.message_ids:
                continue
            try:
                sent = await self._deliver(n, conv, now)
            except ProviderError as e:
                out.problems.append(f"{n.step} nudge to {n.recipient}: {e}")
                continue
            (out.sent if sent else out.left).append(n)
        return out

    async def _deliver(self, n: Nudge, conv: Conversation, now: datetime) -> bool:
        """True when this watcher sent it now; False when it was not this one's to send."""
        thread = conv.thread
        at = datetime.fromtimestamp(int(now.timestamp()), UTC)
        found = await self.provider.claim(thread, n.claim_mark(at),
                                          lambda marks: nudges.blocked(marks, n, now))  # fmt: skip
        if found is None:
            return False
        earlier = nudges.claims(found, n.key)  # claims whose watcher died: a take-over
        mail = self._mail(n, earlier[0] if earlier else at)
        hit = await self.provider.find_sent(mail.message_id) if earlier else None
        if hit is not None and hit.state is SentState.DRAFTED:
            await self.provider.send_drafted(hit.handle, mail)
        elif hit is None:
            await self.provider.send(mail)
        await self.provider.set_marks(thread, {n.sent_mark: True})
        self._done.add(n.key)
        return hit is None or hit.state is SentState.DRAFTED

    def _mail(self, n: Nudge, made: datetime) -> OutgoingReply:
        domains = self.cfg.agency.staff_domains
        return OutgoingReply(
            message_id=new_message_id(domains[0] if domains else "triage", made, n.token),
            from_name="triage",
            from_email="",  # the team account's own address
            to=(header_safe(n.to),),
            cc=(),
            subject=header_safe(n.subject),
            body=n.body,
            in_reply_to="",
            references=(),
        )
