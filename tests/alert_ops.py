"""The app as `kpi-bot serve` runs it (alerting on), at a clock the test moves, for the alert follow-up
tests: make an alert, click its buttons as a given user, run the follow-up job, read what Slack got."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from bot.alert_followup import AlertFollowUpJob
from kpi_core import store
from kpi_core.config import Config
from kpi_core.db import transaction
from kpi_core.models import Alert, AlertHandling, AuditEntry
from kpi_core.periods import Period, PeriodKind
from tests.bot_harness import Bot, running_bot
from tests.factories import Clock, at
from tests.fake_slack import Call, FakeSlack
from tests.slack_calls import posts

#: Wednesday 2026-09-30 08:00 UTC: 16:00 in Shanghai, 10:00 in Berlin; 2026-W40 everywhere
WEDNESDAY = at("2026-09-30 08:00")


@dataclass
class Ops:
    bot: Bot
    clock: Clock

    @property
    def fake(self) -> FakeSlack:
        return self.bot.fake

    def week(self, team: str, period: str | None = None, **values: float) -> None:
        """Stores (or replaces) the team's measures for the week (default: the current one in the team's
        zone), as a lead's submission would."""
        tz = self.config.team(team).tz
        with transaction(self.bot.engine) as session:
            store.submit_measures(
                session,
                team=team,
                form="weekly",
                period=Period.parse(period) if period else Period.current(PeriodKind.WEEK, now=self.clock(), tz=tz),
                values=values,
                user="U0LEAD",
                now=self.clock(),
            )

    def breach(self, team: str = "shanghai_ops", on_time_orders: float = 85) -> Call:
        """An on-time delivery rate below 90 %: the alert, as posted to the team's channel."""
        channel = self.config.team(team).channel
        before = len(posts(self.fake, channel))
        self.week(team, orders=100, on_time_orders=on_time_orders)
        self.check()
        found = posts(self.fake, channel)
        assert len(found) == before + 1, found
        return found[-1]

    def check(self) -> None:
        assert self.bot.process is not None
        self.bot.process.alerts.check()

    def follow_up(self) -> None:
        assert self.bot.process is not None
        AlertFollowUpJob(self.bot.process.services, self.bot.process.sender).run()

    @property
    def config(self) -> Config:
        assert self.bot.process is not None
        return self.bot.process.services.config

    def click(self, action_id: str, *, user: str, alert_id: int | str, element: dict[str, Any] | None = None) -> int:
        """Clicks an element of alert ``alert_id``'s message as ``user``; returns the HTTP status."""
        reply = self.bot.slack.action(
            action_id=action_id,
            value=str(alert_id),
            user_id=user,
            block_id=f"alert:{alert_id}",
            response_url=self.fake.response_url("click"),
            channel_id="C0SHANGHAI",
            element=element,
        )
        return reply.status

    def alerts(self) -> list[Alert]:
        with Session(self.bot.engine) as session:
            return list(session.exec(select(Alert).order_by(Alert.id)))

    def handling(self, alert_id: int) -> AlertHandling | None:
        with Session(self.bot.engine) as session:
            return session.get(AlertHandling, alert_id)

    def audit(self) -> list[AuditEntry]:
        with Session(self.bot.engine) as session:
            return list(
                session.exec(select(AuditEntry).where(AuditEntry.entity != "measure_value").order_by(AuditEntry.id))
            )


@contextmanager
def running_ops(
    config: Config, template: Path, folder: Path, fake: FakeSlack, now: datetime = WEDNESDAY
) -> Iterator[Ops]:
    path = folder / "ops.db"
    shutil.copyfile(template, path)
    clock = Clock(now)
    with running_bot(config=config, database_url=f"sqlite:///{path}", fake=fake, alerting=True, clock=clock) as bot:
        yield Ops(bot, clock)


def alert_id_of(call: Call) -> int:
    """The id of the alert a posted message shows (its actions block is ``alert:<id>``)."""
    [actions] = [block for block in call.params["blocks"] if block["type"] == "actions"]
    return int(actions["block_id"].removeprefix("alert:"))
