"""A console on the fake service (hostile text in every field) whose alerts fire just
after it starts, then it quits: what `test_alert_bytes` runs under a pseudo-terminal.
Not a test itself. `python tests/e2e/alerting_console.py DESKTOP` (off, osc9, osc777)."""

from __future__ import annotations

import dataclasses
import sys
from datetime import timedelta

from tests.support.fake_service import FakeService
from triage.domain.settings import AlertsConfig
from triage.ui.app import TriageApp


class AlertingApp(TriageApp):
    """Looks once (what is shown at start), then 38 minutes later: three alerts."""

    def on_mount(self) -> None:
        super().on_mount()
        self.set_timer(0.5, self._fire)

    def _fire(self) -> None:
        service = self.service
        self.tell_alerts(service.now())
        service.clock.advance(timedelta(minutes=38))  # type: ignore[attr-defined]
        self.tell_alerts(service.now())
        self.set_timer(0.5, self.exit)


def main(desktop: str) -> None:
    service = FakeService.hostile()
    alerts = AlertsConfig(bell=True, toast=False, desktop=desktop)
    service.config = dataclasses.replace(service.config, alerts=alerts)
    AlertingApp(service).run()


if __name__ == "__main__":
    main(sys.argv[1])
