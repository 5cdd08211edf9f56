"""The one place that wires a running process from settings: the config, the database (migrated), the
renderer and the clock (``Services``), then the Slack client, the sender, the alert poster, the jobs and
the Bolt app. ``kpi-bot`` commands, tests, benchmarks and scripts all build it through ``build``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_bolt import App
from slack_sdk import WebClient

from bot.alert_poster import AlertPoster
from bot.app import build_app, build_client
from bot.jobs import Jobs
from bot.render import Renderer
from bot.sender import Sender
from bot.services import Services, utc_now
from bot.settings import Settings
from kpi_core.config import Config, load_config
from kpi_core.db import make_engine, migrate


def build_services(
    settings: Settings, *, clock: Callable[[], datetime] | None = None, config: Config | None = None
) -> Services:
    """What needs no Slack: the config (ConfigError names the file and field), the database brought up
    to date, the renderer and the clock. ``config`` replaces the file (benchmarks generate theirs)."""
    config = config or load_config(settings.config_path)
    engine = make_engine(settings.database_url)
    migrate(engine)
    return Services(
        config=config,
        engine=engine,
        renderer=Renderer(templates_dir=settings.templates_dir, config=config),
        clock=clock or (shifted_clock(settings.clock_start) if settings.clock_start else utc_now),
    )


def shifted_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that reads ``start`` now and then moves on in real time (for demos of the schedules)."""
    offset = start - utc_now()
    return lambda: utc_now() + offset


@dataclass(frozen=True)
class Process:
    """Everything a running ``kpi-bot serve``/``worker``/``digest --send`` uses, each part built once."""

    settings: Settings
    services: Services
    client: WebClient
    sender: Sender
    alerts: AlertPoster
    jobs: Jobs

    def app(self, *, check_alerts: bool = True) -> App:
        """The Bolt app (SettingsError without a signing secret); ``check_alerts`` makes every write a
        listener makes check the team's alert thresholds, as in production."""
        return build_app(
            self.settings,
            self.services,
            client=self.client,
            alerts=self.alerts if check_alerts else None,
            notify_admins=self.sender.notify_admins,
            reviews=self.jobs.reviews,
        )

    def close(self) -> None:
        """Evaluates the alerts of writes already queued, then closes the database's pooled connections."""
        self.alerts.queue.close()
        self.services.answers.close()
        self.services.engine.dispose()


def build(
    settings: Settings,
    *,
    client: WebClient | None = None,
    clock: Callable[[], datetime] | None = None,
    config: Config | None = None,
) -> Process:
    """The whole process; ``client`` defaults to one from the settings (SettingsError without a token)."""
    client = client or build_client(settings)
    services = build_services(settings, clock=clock, config=config)
    sender = Sender(
        engine=services.engine,
        clock=services.clock,
        client=client,
        owner=settings.instance,
        admins=tuple(services.config.roles.admins),
        stale_after=timedelta(seconds=settings.claim_timeout_seconds),
    )
    alerts = AlertPoster(services=services, sender=sender)
    jobs = Jobs(services=services, sender=sender, alerts=alerts)
    return Process(settings=settings, services=services, client=client, sender=sender, alerts=alerts, jobs=jobs)
