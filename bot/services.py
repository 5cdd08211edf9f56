"""What listeners and jobs share: the config, the database, the renderer and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.render import Renderer
from kpi_core.config import Config
from kpi_core.reporting import ReportCache


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Services:
    config: Config
    engine: sa.Engine
    renderer: Renderer
    clock: Callable[[], datetime] = utc_now
    reports: ReportCache = field(default_factory=ReportCache)
