"""The real Bolt app behind the real HTTP server, on a fresh SQLite database, talking to the fake Slack."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, func, select

from bot.server import SLACK_PATH, HttpServer, health, wsgi_app
from bot.settings import Settings
from bot.wiring import Process, build
from kpi_core.config import Config
from tests import slack_limits
from tests.fake_slack import TEAM_ID, FakeSlack
from tests.slack_requests import SlackClient

SIGNING_SECRET = "test-signing-secret"
NOW = datetime(2026, 9, 30, 8, 0, tzinfo=UTC)  # a Wednesday: 2026-W40, 2026-09, 2026-Q3
REPO_ROOT = Path(__file__).resolve().parent.parent

# Users of bot/config/example.yaml
ADMIN = "U0ADMIN"
MANAGER = "U0MANAGER"
LEAD_SHANGHAI_AND_BERLIN = "U0LEADSH"
LEAD_BEIJING = "U0LEADBJ"
STRANGER = "U0NOBODY"


@dataclass
class Bot:
    slack: SlackClient
    fake: FakeSlack
    engine: sa.Engine
    url: str
    process: Process | None = None  # the wired process (its jobs, alerts, sender), for tests that drive them

    def command(self, text: str, *, user_id: str, name: str = "cmd") -> tuple[int, dict[str, Any] | str]:
        """Sends ``/kpi text``; returns the status and the ack body (JSON when it has one)."""
        reply = self.slack.command(text, user_id=user_id, response_url=self.fake.response_url(name))
        body = _json_or_text(reply.body)
        slack_limits.record(slack_limits.ack_violations(body))
        return reply.status, body

    def submit(
        self, view: dict[str, Any], answers: dict[str, dict[str, Any]], *, user_id: str, view_hash: str = "h1"
    ) -> tuple[int, dict[str, Any] | str]:
        """Submits an opened modal with ``answers`` keyed by block_id; every block_id must exist in it."""
        block_ids = {block.get("block_id") for block in view["blocks"]}
        unknown = set(answers) - block_ids
        assert not unknown, f"the modal has no blocks {unknown}; it has {block_ids}"
        reply = self.slack.submit_view(
            callback_id=view["callback_id"],
            values={block_id: {"value": state} for block_id, state in answers.items()},
            user_id=user_id,
            private_metadata=view.get("private_metadata", ""),
            view_id=view.get("id", "V0VIEW"),
            view_hash=view_hash,
        )
        body = _json_or_text(reply.body)
        slack_limits.record(slack_limits.ack_violations(body, submitted_view=view))
        return reply.status, body

    def options(self, view: dict[str, Any], block_id: str, typed: str, *, user_id: str) -> list[dict[str, Any]]:
        """The options the app serves for an external select of ``view`` when the user types ``typed``."""
        action_id = next(b["element"]["action_id"] for b in view["blocks"] if b.get("block_id") == block_id)
        reply = self.slack.suggest(action_id=action_id, block_id=block_id, value=typed, user_id=user_id, view=view)
        assert reply.status == 200, reply
        body = _json_or_text(reply.body)
        assert isinstance(body, dict), body
        slack_limits.record(slack_limits.options_violations(body))
        options: list[dict[str, Any]] = body["options"]
        return options

    def opened_view(self, index: int = -1) -> dict[str, Any]:
        """The modal the app last opened (as the fake Slack recorded it)."""
        calls = self.fake.wait_for("views.open", count=1)
        view: dict[str, Any] = calls[index].params["view"]
        return view

    def count(self, table: Any, *where: Any) -> int:
        with Session(self.engine) as session:
            return int(session.exec(select(func.count()).select_from(table).where(*where)).one())


def _json_or_text(body: str) -> dict[str, Any] | str:
    try:
        parsed: dict[str, Any] = json.loads(body)
    except ValueError:
        return body
    return parsed


@contextmanager
def running_bot(
    *,
    config: Config,
    database_url: str,
    fake: FakeSlack,
    now: datetime = NOW,
    alerting: bool = False,
    clock: Callable[[], datetime] | None = None,
) -> Iterator[Bot]:
    """``alerting``: every write a listener makes checks the team's alert thresholds, as in `kpi-bot serve`;
    ``clock`` (e.g. a tests.factories.Clock the test moves) replaces the fixed ``now``."""
    settings = Settings(
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_API_URL=fake.base_url,
        KPI_DATABASE_URL=database_url,
    )
    process = build(settings, clock=clock or (lambda: now), config=config)
    engine = process.services.engine
    app = process.app(check_alerts=alerting)
    application = wsgi_app(app, health=lambda: health(engine), signing_secret=SIGNING_SECRET, team_id=TEAM_ID)
    server = HttpServer(application, port=0, threads=4)
    thread = threading.Thread(target=server.serve_forever, name="bot-http", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        yield Bot(SlackClient(url + SLACK_PATH, SIGNING_SECRET), fake, engine, url, process)
    finally:
        server.stop()
        thread.join(timeout=5)
        process.close()
