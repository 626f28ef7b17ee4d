"""The lists beside the queue and the search: which conversations, in which order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.builders import T0, conversation
from triage.domain.model import Status, Tier
from triage.domain.views import in_view, matches, search

H = timedelta(hours=1)


def ids(convs: list[object]) -> list[str]:
    return [c.thread_id for c in convs]  # type: ignore[attr-defined]


def day() -> list[object]:
    """Two waiting (one premium, due later), a snoozed one, two done, two answered."""
    return [
        conversation(1, deadline=T0 + 2 * H),
        conversation(2, deadline=T0 + 3 * H, tier=Tier.PREMIUM),
        conversation(3, status=Status.SNOOZED, wake_at=T0 + 2 * H, snoozed_until=T0 + 5 * H),
        conversation(4, status=Status.SNOOZED, wake_at=T0 + H, snoozed_until=T0 + H),
        conversation(5, status=Status.DONE, waiting=False, done_at=T0 + H,
                     last_message_at=T0 - 3 * H),
        conversation(6, status=Status.DONE, waiting=False, done_at=T0 + 2 * H,
                     last_message_at=T0 - 4 * H),
        conversation(7, status=Status.ANSWERED, waiting=False, deadline=None,
                     replied_at=T0 - H, last_message_at=T0 - H),
        conversation(8, status=Status.ANSWERED, waiting=False, deadline=None,
                     replied_at=T0 - 2 * H, last_message_at=T0 - 2 * H),
    ]  # fmt: skip


def test_each_view_lists_its_own_in_its_order() -> None:
    convs = day()
    now = T0
    assert ids(in_view(convs, "waiting", now)) == ["T00001", "T00002"]  # soonest due first
    assert ids(in_view(convs, "snoozed", now)) == ["T00004", "T00003"]  # soonest back first
    assert ids(in_view(convs, "done", now)) == ["T00006", "T00005"]  # latest first
    assert ids(in_view(convs, "answered", now)) == ["T00007", "T00008"]  # latest reply first
    # all: the awake waiting ones in queue order, then the rest by their last message
    assert ids(in_view(convs, "all", now)) == [
        "T00001", "T00002", "T00003", "T00004", "T00007", "T00008", "T00005", "T00006"]  # fmt: skip


def test_a_snooze_whose_wake_came_is_in_the_queue_not_the_snoozed_view() -> None:
    convs = day()
    at_wake = T0 + H  # T00004 wakes now; T00003 an hour later
    assert ids(in_view(convs, "waiting", at_wake)) == ["T00004", "T00001", "T00002"]
    assert ids(in_view(convs, "snoozed", at_wake)) == ["T00003"]
    assert "T00004" in ids(in_view(convs, "all", at_wake))[:3]
    assert ids(in_view(convs, "waiting", at_wake - timedelta(seconds=1))) == ["T00001", "T00002"]


def test_an_unknown_view_is_refused_by_name() -> None:
    with pytest.raises(
        ValueError, match=r"^unknown view 'later' \(views: waiting, snoozed, done, answered, all\)$"
    ):
        in_view(day(), "later", T0)


def test_done_and_answered_are_the_most_recent_first_whatever_order_they_came_in() -> None:
    convs = list(reversed(day()))
    assert ids(in_view(convs, "done", T0)) == ["T00006", "T00005"]
    assert ids(in_view(convs, "answered", T0)) == ["T00007", "T00008"]


def test_search_finds_every_word_in_any_field_or_the_bodies_newest_first() -> None:
    convs = [
        conversation(1, subject="Invoice for March", last_message_at=T0),
        conversation(2, client_name="Acme Invoicing", last_message_at=T0 + H),
        conversation(3, subject="Hello", client_email="march@invoice.example",
                     last_message_at=T0 - H),
        conversation(4, subject="Other", status=Status.DONE, waiting=False,
                     last_message_at=T0 + 2 * H),
    ]  # fmt: skip
    assert ids(search(convs, "INVOICE")) == ["T00002", "T00001", "T00003"]
    assert ids(search(convs, "invoice march")) == ["T00001", "T00003"]  # every word
    assert ids(search(convs, "banners", in_bodies={"T00004"})) == ["T00004"]  # done, too
    assert search(convs, "   ") == [] and search(convs, "nothing-like-it") == []
    assert matches(convs[0], ["march", "invoice"]) and not matches(convs[0], ["april"])
