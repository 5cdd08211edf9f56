"""Runtime settings from the environment, validated once (pydantic-settings)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(default="sqlite:///kpi_bot.db", validation_alias="KPI_DATABASE_URL")
    config_path: Path = Field(default=Path("config/example.yaml"), validation_alias="KPI_CONFIG")
    templates_dir: Path = Field(default=REPO_ROOT / "templates", validation_alias="KPI_TEMPLATES")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    claim_timeout_seconds: float = Field(
        default=300,
        gt=0,
        validation_alias="KPI_CLAIM_TIMEOUT_SECONDS",
        description="a pending delivery older than this belongs to a dead sender and is retried",
    )
    alert_sweep_seconds: float = Field(default=30, gt=0, validation_alias="KPI_ALERT_SWEEP_SECONDS")
    instance: str = Field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}", validation_alias="KPI_INSTANCE"
    )
    slack_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_API_URL"), description="Web API base URL (tests)"
    )


def load_settings() -> Settings:
    return Settings()
