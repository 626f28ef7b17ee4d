"""The embedded demo mailbox: a seeded, live JmapServer for `triage --demo`.

Owns the demo's story: a realistic agency day laid out relative to `clock.now()`
(and, from `triage.demo.history`, the week before it, answered, for the report)
(deterministic for a given instant and seed), the trickle of new client mail that
keeps the queue visibly live, and the bulk filler used by the benchmarks. Waiting
conversations are timed with `triage.sla.deadline` itself, so a scene meant to be
breached or at risk is exactly that in the queue; when a region is closed, a scene
that cannot be at risk simply waits for the next opening, as real mail would.

Live arrivals are delivered lazily, when the server handles a request and the clock
has passed their time: no background task, so a frozen clock freezes the mailbox.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import httpx

from triage.clock import Clock, FrozenClock
from triage.config import Config, load_config
from triage.demo.cast import Cast
from triage.demo.history import play_week
from triage.demo.server import JmapServer
from triage.demo.store import Login, utc_text
from triage.domain import calendar as sla
from triage.domain import routing
from triage.domain.calendar import REGIONS_OWN, RegionsOwn
from triage.domain.model import Region
from triage.domain.targets import target_for
from triage.providers.base import Provider, open_provider

DEMO_CONFIG = Path(__file__).resolve().parent / "demo.toml"
SECRET_ENV = "TRIAGE_DEMO_SECRET"  # the in-process login's password, never the user's env
LIVE_BACKLOG = 30  # after a long clock jump only the newest arrivals are delivered
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Scene:
    """One seeded conversation.

    `script` lines are "c: text" for the client, "<manager id>: text" for staff.
    `left` (minutes) times the oldest unanswered client message so the queue shows
    that much time left (negative: breached); otherwise the last line is `age` old.
    """

    key: str
    sender: str  # "Name <address>"
    subject: str
    script: tuple[str, ...]
    left: float | None = None
    age: float = 45
    ceo: str = ""  # "to" or "cc" on the last client line
    html: bool = False
    keywords: tuple[str, ...] = ()
    note: tuple[tuple[str, str], ...] = ()  # extra note fields: action, by, reason, to


HOSTILE_SUBJECT = "Invoice \x1b]52;c;aGk=\x07 overdue [@click=app.quit] [bold red]PAY[/]"
SCENES: tuple[Scene, ...] = (
    Scene("breached-east", "Dana Whitfield <dana@harborlight-media.com>",
          "Launch assets still missing", ("c: We go live tomorrow at 9 and I still don't "
          "have the hero banners. I need them today, not 'soon'.",), left=-160),
    Scene("breached-east-2", "Marcus Reed <marcus@bluecrest-capital.com>",
          "Quarterly report numbers look wrong", ("c: Slide 4 says 12% growth. It was 21%. "
          "Please fix before our board sees it.", "c: Following up. Anyone?"), left=-20),
    Scene("at-risk-east", "Priya Shah <priya@bluecrest-capital.com>",
          "Press release approval", ("c: Can you confirm the quote from our CFO is final? "
          "Legal needs a yes or no.",), left=9),
    Scene("answered-east", "Dana Whitfield <dana@harborlight-media.com>",
          "Newsletter schedule", ("c: Can we move the newsletter to Thursdays?",
          "alice: Yes, starting next week. I've updated the calendar."), age=95),
    Scene("ceo", "Tom Brennan <tom@harborlight-media.com>", "Still waiting on the budget",
          ("c: I asked for the revised budget this morning. Where is it?",
           "c: Writing to you directly since nobody on the team is answering. This is "
           "the third time I've asked."), left=-70, ceo="to"),
    Scene("breached-central", "Rosa Delgado <rosa@lonestar-smiles.com>",
          "Ad spend paused?", ("c: Our Google ads stopped yesterday afternoon. Did someone "
          "pause them? We're losing bookings.",), left=-35),
    Scene("reopened-central", "Kyle Jensen <kyle@prairiewind-outfitters.com>",
          "Spring catalogue proofs", ("c: Proofs attached, please review pages 2-9.",
           "bob: Thanks Kyle, comments by noon.", "c: Got your comments. Two questions on "
           "page 7: the price or the photo crop?"), left=25),
    Scene("ok-central", "Kyle Jensen <kyle@prairiewind-outfitters.com>",
          "Booth size for the trade show", ("c: 10x10 or 10x20 for the Denver show?",), left=50),
    Scene("answered-central", "Rosa Delgado <rosa@lonestar-smiles.com>",
          "Patient survey wording", ("c: Is 'smile journey' too cheesy?",
           "alice: A little. 'Your visit' tests better; draft attached."), age=160),
    Scene("at-risk-mountain", "Jess Harlan <jess@summitridge-lodges.com>",
          "Winter rates page is down", ("c: The rates page shows a 404 since this morning. "
          "Peak booking week.",), left=12),
    Scene("ok-mountain", "Jess Harlan <jess@summitridge-lodges.com>",
          "Photo shoot dates", ("c: Would the 14th or 21st work for the lodge shoot?",), left=95),
    Scene("escalated", "Ken Nakamura <ken@pacificloom-apparel.com>", "Campaign results",
          ("c: Two weeks in and the numbers are flat. What's the plan?",
           "alice: We're shifting budget to the best-performing creatives today.",
           "c: That's what you said last week. I'm not happy, and I want to talk about "
           "whether this is working."), left=-50,
          keywords=("triage-escalated", "triage-owner-alice"),
          note=(("action", "escalate"), ("by", "alice"), ("reason", "client unhappy"))),
    Scene("reassigned", "Lena Ortiz <lena@goldengate-cider.com>", "New label artwork",
          ("c: Could Alice take over our account? We worked well with her on the rebrand.",),
          left=90, keywords=("triage-owner-alice",),
          note=(("action", "reassign"), ("by", "bob"), ("to", "alice"),
                ("reason", "client asked for someone else"))),
    Scene("ok-west", "Lena Ortiz <lena@goldengate-cider.com>", "Tasting room hours",
          ("c: Please update our hours on the site: Fri-Sun 12-8.",), left=100),
    Scene("html-only", "Ken Nakamura <ken@pacificloom-apparel.com>",
          "Updated brand guidelines", ("c: <html><body><p>Hi team,</p><p>Here are the "
          "<b>updated brand guidelines</b>. Please use the new navy "
          "(<code>#1B2A4A</code>) from now on.</p><p>Ken</p></body></html>",),
          left=70, html=True),
    Scene("support-at-risk", "Nimbusline On-call <ops@nimbusline-hosting.com>",
          "Status page shows an outage", ("c: Our public status page says 'major outage' "
          "but all systems are green. Please take it down now.",), left=6),
    Scene("support-answered", "Nimbusline On-call <ops@nimbusline-hosting.com>",
          "Tweet scheduled for maintenance", ("c: Please post the maintenance notice at 2am.",
           "alice: Scheduled for 02:00 Eastern, copy approved by your team."), age=300),
    Scene("on-breached", "Dr. Amrit Gill <amrit@lakeshore-orthodontics.ca>",
          "Clinic hours on Google", ("c: Our holiday hours on Google are still wrong.",),
          left=-180),
    Scene("on-ok", "Sophie Bennett <sophie@northernpine-realty.ca>",
          "Listing photos for spring", ("c: When could the photographer visit the "
          "Muskoka listings?",), age=120),
    Scene("on-answered", "Sophie Bennett <sophie@northernpine-realty.ca>",
          "Open house flyer", ("c: Flyer draft looks good, one typo on the back.",
           "claire: Fixed and sent to print, thanks Sophie."), age=200),
    Scene("on-followup", "Dr. Amrit Gill <amrit@lakeshore-orthodontics.ca>",
          "Referral programme", ("c: Can we run a referral promo in April?",
           "bob: Yes, I'll send a plan tomorrow.", "c: Great. Budget is $2,000."), age=40),
    Scene("qc-ok", "Mathieu Gagnon <mathieu@lacbleu-tourisme.qc.ca>",
          "Campagne estivale : questions", ("c: Bonjour, pouvez-vous confirmer le budget "
          "de la campagne estivale avant vendredi? Merci.",), age=170),
    Scene("qc-reopened", "Mathieu Gagnon <mathieu@lacbleu-tourisme.qc.ca>",
          "Traduction du site", ("c: La page d'accueil est encore en anglais.",
           "claire: Corrigé, merci Mathieu!", "c: Merci, mais la page Forfaits aussi."),
          age=25),
    Scene("unknown-ca", "Hannah Cole <hannah@maplecrest-bakery.ca>",
          "Looking for a new agency", ("c: Hi, we're a bakery in Guelph looking for help "
          "with social media. Do you take small clients?",), age=50),
    Scene("unknown-com", "Jordan Price <jordan@brightpath-logistics.com>",
          "Partnership inquiry", ("c: We'd like to discuss a retainer for 2027.",), age=130),
    # Three that need no reply now: a "thanks" (done), an out-of-office (done), and a
    # promise of news on Thursday (snooze it until then).
    Scene("thanks", "Marcus Reed <marcus@bluecrest-capital.com>", "Board deck",
          ("c: Could you send the final board deck?", "alice: Attached, the final version.",
           "c: Perfect, thanks a lot!"), age=15),
    Scene("out-of-office", "Lena Ortiz <lena@goldengate-cider.com>",
          "Harvest festival banner", ("bob: The banner proofs are attached.",
          "c: [Automatic reply] I am out of the office until Monday with limited access "
          "to email. For anything urgent, call the cellar door."), age=10),
    Scene("snooze-worthy", "Sophie Bennett <sophie@northernpine-realty.ca>",
          "Spring budget", ("claire: Could you send the spring budget when you have it?",
           "c: Our board meets Thursday morning; I'll send the numbers right after."),
          age=20),
    Scene("hostile", "\u202eMallory Evil <billing@totally-legit-invoices.com>",
          HOSTILE_SUBJECT, ("c: \x1b[31mPAY NOW\x1b[0m [link=https://evil.example]click"
          "[/link] \x1b]8;;https://evil.example\x07here\x1b]8;;\x07 \u202etxt.exe",), age=30),
)  # fmt: skip
LIVE_SUBJECTS = (
    "Quick question about the invoice", "Can we move our call?", "Feedback on the draft",
    "Urgent: typo on the homepage", "New idea for next month", "Re: campaign results",
    "Who is my contact now?", "Approval needed", "Numbers for the board", "Logo files?",
)  # fmt: skip
LIVE_BODIES = (
    "Could you get back to me on this today?", "Let me know when you have a minute.",
    "We need an answer before our 3pm meeting.", "Thanks in advance, this is important.",
    "Can you confirm you received this?", "Please call me if that's easier.",
)  # fmt: skip
FIRST_NAMES = ("Avery", "Blake", "Casey", "Drew", "Emery", "Finley", "Harper", "Jamie")


def _split(sender: str) -> tuple[str, str]:
    return parseaddr(sender)


def region_for(cfg: Config, address: str) -> Region:
    """The region the console will route this sender to (the same routing code)."""
    return cfg.regions[routing.route(address, "", cfg).region]


def arrival_for(
    region: Region, now: datetime, left: timedelta,
    within: timedelta | RegionsOwn | None = REGIONS_OWN,
) -> datetime | None:  # fmt: skip
    """The latest arrival whose deadline is at most `now + left`.

    Deadlines never move earlier when a message arrives later, so a bisection works.
    A breach (negative `left`) is always possible, if need be a larger one (on a
    Saturday the last breach is Friday's). Time still left is possible only if some
    deadline falls then: None means the region is closed around that instant.
    """
    target = now + left
    lo, hi = now - timedelta(days=21), now - MINUTE
    if sla.deadline(hi, region, within) <= target:
        return hi
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        lo, hi = (mid, hi) if sla.deadline(mid, region, within) <= target else (lo, mid)
    hit = lo.replace(microsecond=0)
    exact = abs(sla.deadline(hit, region, within) - target) < 2 * MINUTE
    return hit if exact or left < timedelta(0) else None


class DemoMailbox:
    """A JmapServer seeded with an agency day, plus live arrivals."""

    def __init__(
        self,
        clock: Clock,
        *,
        seed: int = 0,
        live: bool = True,
        config: Config | None = None,
        seeded: bool = True,
    ) -> None:
        self.clock = clock
        self.seed = seed
        bundled = load_config(DEMO_CONFIG, env={})
        self.config = config or bundled
        self.cast = Cast.of(self.config, bundled)
        self.server = JmapServer(clock, account_id=self.cast.team)
        self.server.add_identity(self.cast.team, "Agency team")
        for manager in self.config.managers.values():
            self.server.add_identity(manager.email, manager.name)
        self.server.add_identity(self.cast.ceo, "CEO")
        self.notes_mailbox = self.server.add_mailbox(self.config.provider.notes_mailbox)
        self.threads: dict[str, str] = {}  # scene key -> thread id
        self.week: dict[str, str] = {}  # the last week's (all answered or done) -> thread id
        self.delivered_live = 0
        self._started = clock.now()
        self._next_live = 0
        self._live_at = self._started + self._gap(0)
        if seeded:
            for scene in SCENES:
                self.threads[scene.key] = self._play(scene, self._started)
            self.week = play_week(self, self._started)
        if live:
            self.server.on_request = self.deliver_due

    # ---- what the JMAP client needs ----

    def transport(self) -> httpx.MockTransport:
        return self.server.transport()

    @property
    def session_url(self) -> str:
        return self.server.session_url

    @property
    def login(self) -> Login:
        return self.server.credentials

    def provider(
        self, *, transport: httpx.AsyncBaseTransport | None = None, timeout: float = 30.0
    ) -> Provider:
        """The real JMAP client (chosen through the provider registry), signing in with
        Basic as on Cyrus and talking to this mailbox through an httpx transport."""
        settings = replace(
            self.config.provider, kind="jmap", auth="basic", username=self.login.username,
            session_url=self.session_url, token_env=SECRET_ENV, token_file=None,
            timeout_seconds=timeout,
        )  # fmt: skip
        return open_provider(settings, env={SECRET_ENV: self.login.password}, clock=self.clock,
                             transport=transport or self.transport())  # fmt: skip

    # ---- the seeded day ----

    def _times(self, scene: Scene, region: Region, now: datetime) -> list[datetime]:
        """When each script line arrived; the anchor line is timed with the SLA."""
        lines = scene.script
        staff = [i for i, line in enumerate(lines) if not line.startswith("c:")]
        anchor = len(lines) - 1
        at = now - timedelta(minutes=scene.age)
        if scene.left is not None:
            anchor = staff[-1] + 1 if staff else 0
            # The target the console will apply: a first reply when no staff line is before.
            route = routing.route(_split(scene.sender)[1], "", self.config)
            target = target_for(not staff, route.client_key, route.tier, region, self.config)
            timed = arrival_for(region, now, timedelta(minutes=scene.left), target.within)
            at = timed or now - timedelta(minutes=scene.age)  # closed: waits for opening
        times = [at] * len(lines)
        rng = random.Random(f"{self.seed}:{scene.key}")
        step = min(20 * MINUTE, (now - at) / (len(lines) - anchor + 1))
        for i in range(anchor + 1, len(lines)):
            times[i] = times[i - 1] + step
        for i in range(anchor - 1, -1, -1):
            times[i] = times[i + 1] - timedelta(minutes=rng.randint(35, 140))
        return times

    def _play(self, scene: Scene, now: datetime) -> str:
        """Deliver a scene's messages (client mail to Inbox, staff replies to Sent),
        played by the config's own clients and managers (see `triage.demo.cast`)."""
        scene = replace(scene, sender=self.cast.sender(scene.sender),
                        keywords=tuple(self.cast.keyword(k) for k in scene.keywords),
                        note=tuple((k, self._noted(k, v)) for k, v in scene.note))  # fmt: skip
        region = region_for(self.config, _split(scene.sender)[1])
        mids: list[str] = []
        ids: list[str] = []
        for i, at in enumerate(self._times(scene, region, now)):
            ids.append(self._line(scene, i, at, mids))
        if scene.note:
            ids.append(self._note(scene, mids, now))
        if scene.keywords:
            self.server.set_keywords(ids, add=scene.keywords)
        return self.server.emails[ids[0]].thread_id

    def _noted(self, key: str, value: str) -> str:
        return self.cast.manager(value) if key in ("by", "to") else value

    def _line(self, scene: Scene, i: int, at: datetime, mids: list[str]) -> str:
        name, address = _split(scene.sender)
        who, _, text = scene.script[i].partition(":")
        last = i == len(scene.script) - 1
        domain = address.rpartition("@")[2] if who == "c" else self.cast.staff_domain
        mid = f"{scene.key}.{i}.{self.seed}@{domain}"
        subject = scene.subject if i == 0 else f"Re: {scene.subject}"
        parent, refs = (mids[-1] if mids else None), (list(mids) or None)
        mids.append(mid)
        if who != "c":
            manager = self.config.managers[self.cast.manager(who)]
            return self.server.deliver(
                manager.name, manager.email, [address], subject, text.strip(), at,
                cc=[self.cast.team],
                keywords=("$seen",), mailbox="sent", message_id=mid, in_reply_to=parent,
                references=refs,
            )  # fmt: skip
        team, ceo = self.cast.team, self.cast.ceo
        to, cc = [team], list[str]()
        if last and scene.ceo:  # an American client going over the team's head
            to, cc = ([ceo], [team]) if scene.ceo == "to" else ([team], [ceo])
        body = text.strip()
        return self.server.deliver(
            name, address, to, subject, "" if scene.html else body, at, cc=cc,
            html=body if scene.html else None, keywords=() if last else ("$seen",),
            message_id=mid, in_reply_to=parent, references=refs,
        )  # fmt: skip

    def _note(self, scene: Scene, mids: list[str], now: datetime) -> str:
        """A triage note email joined to the thread, as the console would file it."""
        at = min(self.server.emails[self.server.by_message_id[mids[-1]]].received_at + 5 * MINUTE,
                 now - MINUTE)  # fmt: skip
        body = {**dict(scene.note), "at": utc_text(at)}
        team = self.cast.team
        return self.server.deliver(
            "triage", team, [team], f"Re: {scene.subject}", json.dumps(body), at,
            in_reply_to=mids[-1], references=mids, mailbox=self.config.provider.notes_mailbox,
            keywords=("triage-note", "$seen"),
        )  # fmt: skip

    # ---- live arrivals ----

    def _gap(self, index: int) -> timedelta:
        """The pause before arrival `index`: 45-90 s, a pure function of seed and index."""
        return timedelta(seconds=random.Random(f"{self.seed}:gap:{index}").uniform(45, 90))

    def deliver_due(self) -> None:
        """Deliver every scheduled arrival whose time has come."""
        now = self.clock.now()
        due: list[tuple[int, datetime]] = []
        while self._live_at <= now:
            due.append((self._next_live, self._live_at))
            self._next_live += 1
            self._live_at += self._gap(self._next_live)
        for index, at in due[-LIVE_BACKLOG:]:
            self._arrive(index, at)

    def _arrive(self, index: int, at: datetime) -> None:
        rng = random.Random(f"{self.seed}:live:{index}")
        clients = sorted(self.config.clients)
        key = rng.choice(clients)
        address = key if "@" in key else f"{rng.choice(FIRST_NAMES).lower()}@{key}"
        name = self.config.clients[key].name if "@" in key else address.split("@")[0].title()
        followup = [
            t for k, t in self.threads.items() if self._client_of(t) == key.rpartition("@")[2]
        ]
        body = rng.choice(LIVE_BODIES)
        if followup and rng.random() < 0.4:
            last = self.server.thread_emails(rng.choice(followup))
            parent = [e for e in last if "triage-note" not in e.keywords][-1]
            subject = "Re: " + parent.subject.removeprefix("Re: ")
            self.server.deliver(name, address, [self.cast.team], subject, body, at,
                                in_reply_to=parent.message_id[0])  # fmt: skip
        else:
            self.server.deliver(name, address, [self.cast.team], rng.choice(LIVE_SUBJECTS), body,
                                at)  # fmt: skip
        self.delivered_live += 1

    def _client_of(self, thread_id: str) -> str:
        first = self.server.thread_emails(thread_id)[0]
        return str(first.from_[0]["email"]).rpartition("@")[2]

    # ---- benchmarks ----

    @classmethod
    def for_benchmark(cls, n: int, seed: int, now: datetime) -> DemoMailbox:
        """A frozen mailbox with `n` conversations of 1-5 messages, filled quickly."""
        demo = cls(FrozenClock(now), seed=seed, live=False, seeded=False)
        rng = random.Random(seed)
        known = [k for k in sorted(demo.config.clients) if "@" not in k]
        for i in range(n):
            if rng.random() < 0.3:
                domain = rng.choice(known)
            else:  # unknown clients exercise the TLD and default-region fallbacks
                tld = rng.choice(("com", "ca"))
                domain = f"client{i % 997}.example-{rng.choice(('shop', 'co'))}.{tld}"
            demo._bench_thread(rng, i, f"{rng.choice(FIRST_NAMES).lower()}@{domain}", now)
        return demo

    def _bench_thread(self, rng: random.Random, i: int, address: str, now: datetime) -> None:
        managers = list(self.config.managers.values())
        at = now - timedelta(minutes=rng.uniform(5, 14 * 24 * 60))
        parent: str | None = None
        for j in range(rng.randint(1, 5)):
            staff = j % 2 == 1
            manager = rng.choice(managers)
            name, sender = (manager.name, manager.email) if staff else ("Client", address)
            mid = f"b{i}.{j}.{self.seed}@{sender.rpartition('@')[2]}"
            self.server.deliver(
                name, sender, [address if staff else self.cast.team], f"Request {i}",
                f"Message {j} of conversation {i}.", min(at, now), message_id=mid,
                in_reply_to=parent, mailbox="sent" if staff else "inbox",
            )  # fmt: skip
            parent = mid
            at += timedelta(minutes=rng.uniform(10, 300))
