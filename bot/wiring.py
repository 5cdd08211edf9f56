"""Wires a running process together: services from settings, then the sender, alerting and jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.alert_poster import AlertPoster
from bot.jobs import Jobs
from bot.render import Renderer
from bot.sender import Sender
from bot.services import Services, utc_now
from bot.settings import Settings
from kpi_core.config import load_config
from kpi_core.db import make_engine, migrate


def build_services(settings: Settings) -> Services:
    """Loads the config (ConfigError names the file and field) and brings the schema up to date."""
    config = load_config(settings.config_path)
    engine = make_engine(settings.database_url)
    migrate(engine)
    return Services(
        config=config,
        engine=engine,
        renderer=Renderer(templates_dir=settings.templates_dir, config=config),
        clock=shifted_clock(settings.clock_start) if settings.clock_start else utc_now,
    )


def shifted_clock(start: datetime) -> Callable[[], datetime]:
    """A clock that reads ``start`` now and then moves on in real time (for demos of the schedules)."""
    offset = start - utc_now()
    return lambda: utc_now() + offset


@dataclass(frozen=True)
class Runtime:
    sender: Sender
    alerting: AlertPoster
    jobs: Jobs


def build_runtime(settings: Settings, services: Services, client: WebClient) -> Runtime:
    sender = Sender(
        services=services,
        client=client,
        owner=settings.instance,
        stale_after=timedelta(seconds=settings.claim_timeout_seconds),
    )
    alerting = AlertPoster(sender=sender)
    return Runtime(sender=sender, alerting=alerting, jobs=Jobs(sender=sender, alerting=alerting))
