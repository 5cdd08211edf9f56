"""Runtime settings from the environment, validated once (pydantic-settings)."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.resources import EXAMPLE_CONFIG, TEMPLATES_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///kpi_bot.db", validation_alias="KPI_DATABASE_URL")
    config_path: Path = Field(default=EXAMPLE_CONFIG, validation_alias="KPI_CONFIG")
    templates_dir: Path = Field(default=TEMPLATES_DIR, validation_alias="KPI_TEMPLATES")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_team_id: str | None = Field(
        default=None,
        validation_alias="SLACK_TEAM_ID",
        description="the one workspace served; requests from any other are refused (default: from auth.test)",
    )
    claim_timeout_seconds: float = Field(
        default=300,
        gt=0,
        validation_alias="KPI_CLAIM_TIMEOUT_SECONDS",
        description="a pending delivery older than this belongs to a dead sender and is retried",
    )
    answer_workers: int = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1),
        ge=0,
        validation_alias="KPI_ANSWER_WORKERS",
        description="worker processes `serve` computes reports in (0: a thread of the server; see bot/answer_lane.py)",
    )
    alert_sweep_seconds: float = Field(default=30, gt=0, validation_alias="KPI_ALERT_SWEEP_SECONDS")
    instance: str = Field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}", validation_alias="KPI_INSTANCE"
    )
    clock_start: datetime | None = Field(
        default=None,
        validation_alias="KPI_CLOCK_START",
        description="run as if the process started at this instant (demos): the clock then moves on in real time",
    )
    slack_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_API_URL"), description="Web API base URL (tests)"
    )

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("KPI_CLOCK_START needs a UTC offset, e.g. 2026-10-05T08:00:00Z")
        return value


def load_settings() -> Settings:
    return Settings()
