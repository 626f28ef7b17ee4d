"""Nudges sent exactly once, whatever the number of watchers: lock, record, send, record.

For each nudge due (`triage.domain.nudges.due`) and not recorded as sent in the
conversation's notes, a watcher takes the conversation's lock: a mark set on its
first message by compare-and-set (`Provider.claim`), so of any number of watchers
racing for it exactly one wins. The winner files a `nudging` note (the nudge's key:
step, conversation, recipient, deadline), looks the nudge's own Message-ID up in Sent
(made from its key and when it became due: the same for every watcher and attempt),
sends it unless found there, files a `nudged` note (unless found sent with the lock
let go: its sender noted it) and lets the lock go. A watcher
that dies holding the lock is taken over when the lock expires (`LOCK_EXPIRED_AFTER`):
the lookup finds a nudge it sent before dying, so a crash between recording and
sending, or between sending and recording, never sends twice and never loses one.
A lookup or a send that fails leaves the nudge to a later round.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from triage.clock import Clock
from triage.domain import away as absence
from triage.domain import nudges
from triage.domain.away import Absences
from triage.domain.model import Conversation, Mark, ThreadRef
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

    def __init__(
        self, cfg: Config, provider: Provider, clock: Clock, live: LiveQueue, user: str
    ) -> None:
        self.cfg, self.provider, self.clock, self.live = cfg, provider, clock, live
        self.user = user  # who the notes say nudged (the watcher's --as)
        self._done: set[str] = set()  # keys known sent (by anyone): not asked again

    async def run(self, away: Absences) -> NudgeRound:
        now = self.clock.now()
        out = NudgeRound()
        view = self.live.view(now)
        near = view[: view.due_before(now + timedelta(minutes=self.cfg.agency.at_risk_minutes))]
        load = absence.loads(view) if away else None  # builds every conversation, once
        for n in nudges.due(near, now, self.cfg, away, load):
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
        if nudges.sent(conv.notes, n.key):
            self._done.add(n.key)
            return False
        thread, lock = conv.thread, nudges.lock_mark(now)
        found = await self.provider.claim(thread, lock, lambda m: nudges.locked(m, now))
        if found is None:
            return False  # another watcher is sending one of this conversation's nudges
        stale = {m: False for m in found if m.kind is lock.kind and m != lock}
        release = {lock: False, **stale}
        sending = False
        try:
            await self.provider.add_note(thread, nudges.note(n, nudges.NUDGING, self.user, now))
            mail = self._mail(n)
            hit = await self.provider.find_sent(mail.message_id)
            sending = True
            if hit is not None and hit.state is SentState.DRAFTED:
                await self.provider.send_drafted(hit.handle, mail)
            elif hit is None:
                await self.provider.send(mail)
            # Found sent with no dead watcher's lock: its sender noted it and let go (our
            # copy of the notes is older); with one, it died before noting it: note it.
            if hit is None or hit.state is SentState.DRAFTED or stale:
                await self.provider.add_note(thread, nudges.note(n, nudges.NUDGED, self.user,
                                                                 now))  # fmt: skip
        except ProviderError:
            if not sending:  # nothing left: the next round may try at once; else the lock
                await self._release(thread, release)  # expires first (it may have gone)
            raise
        await self._release(thread, release)
        self._done.add(n.key)
        return hit is None or hit.state is SentState.DRAFTED

    async def _release(self, thread: ThreadRef, marks: dict[Mark, bool]) -> None:
        with contextlib.suppress(ProviderError):  # else it expires by itself
            await self.provider.set_marks(thread, marks)

    def _mail(self, n: Nudge) -> OutgoingReply:
        domains = self.cfg.agency.staff_domains
        return OutgoingReply(
            message_id=new_message_id(domains[0] if domains else "triage", n.due_at, n.token),
            from_name="triage",
            from_email="",  # the team account's own address
            to=(header_safe(n.to),),
            cc=(),
            subject=header_safe(n.subject),
            body=n.body,
            in_reply_to="",
            references=(),
        )
