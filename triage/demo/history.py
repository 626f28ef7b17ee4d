"""The demo's last week: answered conversations the CEO's report is worth looking at with.

Replies within and past their target by every manager across the regions, a "thanks"
marked done without a reply, a snooze, and a client who asked for another account
manager (then reassigned by the CEO). Every one of them is answered or done, so the
queue the demo shows is the day of `triage.demo.mailbox` alone; the report (`P`,
`triage report --demo`) counts them.

Deterministic from the demo's clock: each conversation starts on the Nth business day
before today in its client's region, at a local hour, and each later line comes a
number of business minutes after the one before (wall minutes in a 24x7 region), the
arithmetic of `triage.domain.calendar` itself, so "within" and "past" target are
what the console will measure. Nothing is later than the demo's start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from triage.demo.store import utc_text
from triage.domain import calendar as sla
from triage.domain import routing
from triage.domain.model import Region

if TYPE_CHECKING:
    from triage.demo.mailbox import DemoMailbox

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Past:
    """One conversation of the week.

    `day` business days before today (in the client's region), the first line at
    `hour` local time; `after[i]` business minutes between line i and line i + 1.
    `note` is filed `note_after` business minutes after line `note_line`; `owner`
    sets the owner mark (a reassignment's new owner)."""

    key: str
    sender: str
    subject: str
    day: int
    hour: float
    script: tuple[str, ...]
    after: tuple[int, ...] = ()
    note: tuple[tuple[str, str], ...] = ()
    note_line: int = -1
    note_after: int = 5
    owner: str = ""


HARBOR, BLUE = (
    "Dana Whitfield <dana@harborlight-media.com>",
    "Marcus Reed <marcus@bluecrest-capital.com>",
)
PRAIRIE, LONESTAR = (
    "Kyle Jensen <kyle@prairiewind-outfitters.com>",
    "Rosa Delgado <rosa@lonestar-smiles.com>",
)
SUMMIT, LOOM = (
    "Jess Harlan <jess@summitridge-lodges.com>",
    "Ken Nakamura <ken@pacificloom-apparel.com>",
)
CIDER, NIMBUS = (
    "Lena Ortiz <lena@goldengate-cider.com>",
    "Nimbusline On-call <ops@nimbusline-hosting.com>",
)
PINE, LAKE = (
    "Sophie Bennett <sophie@northernpine-realty.ca>",
    "Dr. Amrit Gill <amrit@lakeshore-orthodontics.ca>",
)
LACBLEU = "Mathieu Gagnon <mathieu@lacbleu-tourisme.qc.ca>"

WEEK: tuple[Past, ...] = (
    # US Northeast (1h; Harborlight is premium: a first reply within 30m)
    Past("w-harbor-1", HARBOR, "Podcast sponsorship slots", 1, 10, (
        "c: Which podcast slots are still open for January?",
        "alice: Weeks 2 and 4; I've pencilled you in for both."), (20,)),
    Past("w-harbor-2", HARBOR, "Banner sizes for the partner site", 3, 14, (
        "c: The partner site needs 300x600 as well. Can you add it?",
        "alice: Added, files are in the shared folder."), (75,)),
    Past("w-blue-1", BLUE, "Investor letter layout", 2, 9.5, (
        "c: Can the investor letter use the two-column layout?",
        "alice: Yes, draft attached.", "c: Looks good. One more chart on page 2?",
        "alice: Done, v2 attached."), (30, 50, 45)),
    Past("w-blue-2", BLUE, "Webinar landing page", 3, 11, (
        "c: The webinar page still shows last month's date.",
        "alice: Sorry for the wait, it's fixed now."), (95,)),
    # A "thanks": no reply needed, marked done.
    Past("w-blue-thanks", BLUE, "Annual report files", 1, 15, (
        "alice: The print files for the annual report are attached.",
        "c: Received, thanks a lot!"), (40,),
        note=(("action", "done"), ("by", "alice"), ("reason", "thanks / no question")),
        note_after=10),
    # US Midwest (1h; Lone Star Smiles is premium)
    Past("w-prairie-1", PRAIRIE, "Catalogue print run", 1, 13, (
        "c: 5,000 or 8,000 copies for the spring catalogue?",
        "bob: 8,000: last year's ran out in April."), (30,)),
    Past("w-prairie-2", PRAIRIE, "Store locator", 4, 9.25, (
        "c: The store locator is missing the Fargo shop.",
        "bob: Added, live in an hour."), (50,)),
    # The client who asked for someone else: answered late, then given to Bob by the CEO.
    Past("w-lonestar-ask", LONESTAR, "Ads stopped again", 2, 10, (
        "c: Our ads stopped again this morning, the third time this month. Honestly, can I "
        "speak to a different account manager?",
        "alice: I'm sorry, Rosa. The ads are running again, and the CEO will call you today."),
        (40,), note=(("action", "reassign"), ("by", "ceo"), ("to", "bob"), ("from", "alice"),
                     ("reason", "client asked for someone else")), note_after=15, owner="bob"),
    # US Mountain (2h; Summit Ridge is premium)
    Past("w-summit-1", SUMMIT, "Ski season video", 3, 10, (
        "c: Is the ski season video ready for review?",
        "bob: Yes, link sent; 2 minutes 30."), (25,)),
    # US West Coast (2h; Pacific Loom is premium)
    Past("w-loom-1", LOOM, "Lookbook photos", 1, 11, (
        "c: Can we swap photo 12 in the lookbook?",
        "alice: Swapped, new proof attached."), (28,)),
    Past("w-cider-1", CIDER, "Harvest newsletter", 3, 10, (
        "c: When does the harvest newsletter go out?",
        "bob: Thursday 9am, sorry for the slow answer."), (150,)),
    # US 24x7 support line (1h, wall time; premium: 30m), at night.
    Past("w-nimbus-1", NIMBUS, "Maintenance banner", 2, 2, (
        "c: Please put the maintenance banner on the site now.",
        "alice: Banner is up."), (50,)),
    # Ontario (next business day; Lakeshore is premium: a first reply within 30m)
    Past("w-pine-1", PINE, "Open house photos", 4, 10, (
        "c: Could the photographer come Saturday instead?",
        "claire: Yes, Saturday 10am is booked."), (300,)),
    Past("w-lake-1", LAKE, "Holiday greeting cards", 2, 15, (
        "c: We'd like holiday cards for our patients. Can you quote?",
        "bob: Quote attached: 500 cards, mailed by the 15th."), (20,)),
    # A snooze: the answer was promised for the next morning, then sent.
    Past("w-pine-snooze", PINE, "Spring listing budget", 3, 16.5, (
        "c: Can you send the spring listing budget?",
        "claire: Here is the budget, as promised."), (150,),
        note=(("action", "snooze"), ("by", "claire"), ("until", "+90")), note_line=0,
        note_after=10),
    # Quebec (next business day)
    Past("w-lacbleu-1", LACBLEU, "Brochure hivernale", 3, 10, (
        "c: Bonjour, pouvez-vous envoyer la brochure hivernale en PDF?",
        "claire: Voici le PDF, bonne journée!"), (120,)),
    Past("w-lacbleu-2", LACBLEU, "Réservations de groupe", 5, 10, (
        "c: La page des réservations de groupe ne fonctionne plus.",
        "claire: Désolée du délai, la page est réparée."), (1000,)),
)  # fmt: skip


def business_day(region: Region, now: datetime, back: int) -> date:
    """The `back`th business day before today in the region (every day when 24x7)."""
    day = sla.local_time(now, region).date()
    found = 0
    while found < back:
        day -= timedelta(days=1)
        found += region.is_24x7 or sla.is_business_day(day, region)
    return day


def line_times(past: Past, region: Region, now: datetime) -> list[datetime]:
    """When each line of `past` arrived, none later than a minute before `now`."""
    whole, minutes = int(past.hour), round((past.hour % 1) * 60)
    local = datetime.combine(business_day(region, now, past.day), time(whole, minutes),
                             tzinfo=ZoneInfo(region.timezone))  # fmt: skip
    times = [sla.clock_start(local, region) if region.is_24x7 else local]
    for gap in past.after:
        times.append(sla.deadline(times[-1], region, gap * MINUTE))
    return [min(t, now - (len(times) - i) * MINUTE) for i, t in enumerate(times)]


def play_week(demo: DemoMailbox, now: datetime) -> dict[str, str]:
    """Deliver the week into the demo's mailbox; its keys -> thread ids."""
    return {past.key: _play(demo, past, now) for past in WEEK}


def _play(demo: DemoMailbox, past: Past, now: datetime) -> str:
    cast, server = demo.cast, demo.server
    name, address = parseaddr(cast.sender(past.sender))
    region = demo.config.regions[routing.route(address, "", demo.config).region]
    times = line_times(past, region, now)
    ids: list[str] = []
    mids: list[str] = []
    for i, (line, at) in enumerate(zip(past.script, times, strict=True)):
        who, _, text = line.partition(":")
        parent, refs = (mids[-1] if mids else None), (list(mids) or None)
        subject = past.subject if i == 0 else f"Re: {past.subject}"
        if who == "c":
            mid = f"{past.key}.{i}.{demo.seed}@{address.rpartition('@')[2]}"
            ids.append(server.deliver(name, address, [cast.team], subject, text.strip(), at,
                                      keywords=("$seen",), message_id=mid, in_reply_to=parent,
                                      references=refs))  # fmt: skip
        else:
            manager = demo.config.managers[cast.manager(who)]
            mid = f"{past.key}.{i}.{demo.seed}@{cast.staff_domain}"
            ids.append(server.deliver(manager.name, manager.email, [address], subject,
                                      text.strip(), at, cc=[cast.team], keywords=("$seen",),
                                      mailbox="sent", message_id=mid, in_reply_to=parent,
                                      references=refs))  # fmt: skip
        mids.append(mid)
    if past.note:
        _note(demo, past, region, times, mids, now)
    if past.owner:
        server.set_keywords(ids, add=(f"triage-owner-{cast.manager(past.owner)}",))
    return server.emails[ids[0]].thread_id


def _note(demo: DemoMailbox, past: Past, region: Region, times: list[datetime],
          mids: list[str], now: datetime) -> None:  # fmt: skip
    """The action's note, filed as the console files one, joined to the thread."""
    line = past.note_line % len(times)
    at = min(sla.deadline(times[line], region, past.note_after * MINUTE), now - MINUTE)
    body: dict[str, object] = {"at": utc_text(at)}
    for key, value in past.note:
        if key in ("by", "to", "from") and value != "ceo":
            value = demo.cast.manager(value)
        if key == "until":  # "+N": N business minutes after the note
            value = utc_text(sla.deadline(at, region, int(value) * MINUTE))
        body[key] = value
    if body.get("action") == "done":
        body["seen"] = utc_text(times[line])
    _file(demo, past, body, at, mids[: line + 1])
    if body.get("action") == "snooze" and line + 1 < len(times):
        # Woken by hand just before the reply: a snooze ends only so (or at a client's
        # message); left alone it would come back as a follow-up after the reply.
        woke = {"action": "wake", "by": body["by"], "at": utc_text(times[line + 1] - MINUTE)}
        _file(demo, past, woke, times[line + 1] - MINUTE, mids[: line + 1])


def _file(demo: DemoMailbox, past: Past, body: dict[str, object], at: datetime,
          refs: list[str]) -> None:  # fmt: skip
    team = demo.cast.team
    demo.server.deliver(
        "triage", team, [team], f"Re: {past.subject}", json.dumps(body), at,
        in_reply_to=refs[-1], references=refs, mailbox=demo.config.provider.notes_mailbox,
        keywords=("triage-note", "$seen"),
    )  # fmt: skip
