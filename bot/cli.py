"""``kpi-bot``: the command line (demo, check-config, import, report, migrate).

Each command imports what it needs when it runs: `kpi-bot --help` must not load matplotlib, Bolt,
APScheduler or SQLModel (about 2 s)."""

from __future__ import annotations

import csv
import json
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kpi_core.errors import KpiError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from apscheduler.schedulers.base import BaseScheduler

    from bot.runtime import Runtime
    from bot.settings import Settings
    from kpi_core.config import Config


@dataclass
class Context:
    settings: Settings
    engines: list[sa.Engine] = field(default_factory=list)

    def config(self) -> Config:
        from kpi_core.config import load_config

        return load_config(self.settings.config_path)

    def engine(self) -> sa.Engine:
        from kpi_core.db import make_engine, migrate

        engine = make_engine(self.settings.database_url)
        self.engines.append(engine)
        migrate(engine)
        return engine

    def close(self) -> None:
        """Closes the pooled connections (a command run in-process, as by tests, must not leak them)."""
        for engine in self.engines:
            engine.dispose()
        self.engines.clear()


@contextmanager
def _user_errors() -> Iterator[None]:
    """Our own errors end the command with their message and exit code 1, not a traceback."""
    try:
        yield
    except KpiError as error:
        raise click.ClickException(str(error)) from None


@click.group()
@click.pass_context
def main(context: click.Context) -> None:
    """KPI Bot: collect, compute and report operations KPIs."""
    from bot.settings import load_settings

    context.obj = Context(settings=load_settings())
    context.call_on_close(context.obj.close)


@main.command("check-config")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def check_config(obj: Context, file: Path | None) -> None:
    """Check a config file (default: $KPI_CONFIG) and report every problem."""
    from kpi_core.config import load_config

    path = file or obj.settings.config_path
    with _user_errors():
        config = load_config(path)
    click.echo(
        f"{path}: OK ({len(config.teams)} teams, {len(config.measures)} measures, {len(config.kpis)} KPIs, "
        f"{len(config.scorecards)} scorecards)"
    )


@main.command("migrate")
@click.pass_obj
def migrate_command(obj: Context) -> None:
    """Create or upgrade the database schema."""
    obj.engine()
    click.echo("database is up to date")


class _ImportKinds(click.Choice[str]):
    """The kinds kpi_core.imports knows, read only when `import` runs or shows its help."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from kpi_core.imports import KINDS

        return tuple(sorted(KINDS))

    @choices.setter
    def choices(self, _given: object) -> None:
        """click.Choice sets its choices when built; these come from KINDS instead."""


@main.command("import")
@click.argument("kind", type=_ImportKinds())
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--by", "submitted_by", default="cli", show_default=True, help="Who submits the data.")
@click.pass_obj
def import_command(obj: Context, kind: str, file: Path, submitted_by: str) -> None:
    """Import a CSV file of surveys, measures, cases or milestones (all rows or none)."""
    from kpi_core.db import transaction
    from kpi_core.imports import import_csv

    with _user_errors():
        config = obj.config()
        with transaction(obj.engine()) as session:
            summary = import_csv(
                session, config=config, kind=kind, path=file, submitted_by=submitted_by, now=datetime.now(UTC)
            )
    click.echo(f"imported {summary.rows} {kind} rows from {file} (submission {summary.submission_id})")


@main.command("report")
@click.option("--team", "team", help="One team's key.")
@click.option("--all", "all_teams", is_flag=True, help="Every team.")
@click.option("--period", required=True, help="2026-W40, 2026-09 or 2026-Q3.")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True
)
@click.pass_obj
def report(obj: Context, team: str | None, all_teams: bool, period: str, output_format: str) -> None:
    """Compute every KPI for one team or all teams in a period."""
    from bot.render import Renderer
    from kpi_core.db import transaction
    from kpi_core.periods import Period
    from kpi_core.reporting import CSV_COLUMNS, build_reports, report_rows

    if bool(team) == all_teams:
        raise click.UsageError("give either --team T or --all")
    with _user_errors():
        config = obj.config()
        parsed = Period.parse(period)
        with transaction(obj.engine()) as session:
            reports = build_reports(session, config=config, period=parsed, teams=[team] if team else None)
            previous = build_reports(session, config=config, period=parsed.previous(), teams=[team] if team else None)
    if output_format == "json":
        click.echo(json.dumps(reports[0] if team else reports, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for team_report in reports:
            writer.writerows(report_rows(team_report))
    else:
        renderer = Renderer(templates_dir=obj.settings.templates_dir, config=config)
        for current, before in zip(reports, previous, strict=True):
            team_config = config.team(current["team"])
            click.echo(renderer.digest(team=team_config, report=current, previous=before, title="report") + "\n")


@main.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=3000, show_default=True, help="0 picks a free port (printed at start).")
@click.option("--socket", "socket_mode", is_flag=True, help="Socket Mode (local development; needs SLACK_APP_TOKEN).")
@click.option("--no-scheduler", is_flag=True, help="Leave digests and alerts to a separate `kpi-bot worker`.")
@click.pass_obj
def serve(obj: Context, host: str, port: int, socket_mode: bool, no_scheduler: bool) -> None:
    """Run the Slack app: HTTP on /slack/events (health on /healthz), or Socket Mode; plus the scheduler."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.app import SettingsError, build_app, build_client
    from bot.runtime import build_runtime, build_services
    from bot.server import SLACK_PATH, HttpServer, health, wsgi_app

    _log_to_stderr()
    with _user_errors():
        services = build_services(obj.settings)
    try:
        client = build_client(obj.settings)
        runtime = build_runtime(obj.settings, services, client)
        app = build_app(obj.settings, services, client=client, alerting=runtime.alerting)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    scheduler = None if no_scheduler else _start_scheduler(BackgroundScheduler(timezone=UTC), runtime, obj.settings)
    try:
        if socket_mode:
            if obj.settings.slack_app_token is None:
                raise click.ClickException("Socket Mode needs SLACK_APP_TOKEN (an xapp- token)")
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(app, obj.settings.slack_app_token.get_secret_value()).start()
            return
        server = HttpServer(wsgi_app(app, health=lambda: health(services.engine)), host=host, port=port)
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda *_: server.stop())
        click.echo(f"listening on http://{host}:{server.port}{SLACK_PATH}", err=True)
        server.serve_forever()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


@main.command("worker")
@click.pass_obj
def worker(obj: Context) -> None:
    """Run only the scheduler (digests, summary, scorecard, reminders, alerts), apart from `serve`."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from bot.app import SettingsError, build_client
    from bot.runtime import build_runtime, build_services

    _log_to_stderr()
    with _user_errors():
        services = build_services(obj.settings)
    try:
        runtime = build_runtime(obj.settings, services, build_client(obj.settings))
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    scheduler = BlockingScheduler(timezone=UTC)
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: scheduler.shutdown(wait=False))
    click.echo("worker started", err=True)
    _start_scheduler(scheduler, runtime, obj.settings)


def _start_scheduler(scheduler: BaseScheduler, runtime: Runtime, settings: Settings) -> BaseScheduler:
    """Installs every job (bot/jobs.py declares them all) and starts the scheduler."""
    runtime.jobs.install(scheduler, alert_sweep_every=timedelta(seconds=settings.alert_sweep_seconds))
    scheduler.start()
    return scheduler


@main.command("digest")
@click.option("--team", "team", help="One team's key.")
@click.option("--all", "all_teams", is_flag=True, help="Every team.")
@click.option("--period", help="The ISO week (default: each team's last complete week).")
@click.option("--dry-run", "mode", flag_value="dry-run", default=True, help="Print what would be posted (default).")
@click.option("--send", "mode", flag_value="send", help="Post it now (once: the delivery ledger remembers).")
@click.pass_obj
def digest(obj: Context, team: str | None, all_teams: bool, period: str | None, mode: str) -> None:
    """Build the weekly digest of one team or all teams; print it, or post it to Slack."""
    from bot.app import SettingsError, build_client
    from bot.digests import weekly_digests
    from bot.runtime import build_runtime, build_services
    from kpi_core.periods import Period, PeriodKind

    if bool(team) == all_teams:
        raise click.UsageError("give either --team T or --all")
    with _user_errors():
        services = build_services(obj.settings)
        week = Period.parse(period) if period else None
        if week is not None and week.kind is not PeriodKind.WEEK:
            raise click.UsageError("--period must be an ISO week such as 2026-W39")
        teams = [services.config.team(team)] if team else list(services.config.teams)
        messages = weekly_digests(services, teams=teams, period=week)
    if mode == "dry-run":
        for message in messages:
            text = "\n".join(block["text"]["text"] for block in message.blocks)
            chart = f"[trend chart {message.chart.filename} in the thread]" if message.chart else ""
            click.echo(f"--- to {message.channel} ({message.kind} {message.team} {message.subject})\n{text}\n{chart}")
        return
    _log_to_stderr()
    try:
        sender = build_runtime(obj.settings, services, build_client(obj.settings)).sender
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    for message, outcome in zip(messages, sender.send_all(messages), strict=True):
        click.echo(f"{message.team} {message.subject}: {outcome}")


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


@main.command("demo")
@click.pass_obj
def demo(obj: Context) -> None:
    """Load six months of demo data and print each team's latest weekly digest and the quarterly scorecard."""
    from sqlmodel import select

    from bot.render import Renderer
    from kpi_core.db import transaction
    from kpi_core.demo import DEMO_END, load_demo_data
    from kpi_core.models import Submission
    from kpi_core.periods import Period, PeriodKind
    from kpi_core.reporting import build_reports, rank_teams

    with _user_errors():
        config = obj.config()
        engine = obj.engine()
        with transaction(engine) as session:
            if session.exec(select(Submission).where(Submission.kind == "demo").limit(1)).first() is None:
                rows = load_demo_data(session, config=config, now=datetime.now(UTC))
                click.echo(f"loaded {rows} demo rows into {engine.url.render_as_string(hide_password=True)}\n")
        week = Period.containing(PeriodKind.WEEK, DEMO_END).previous()
        quarter = Period.containing(PeriodKind.QUARTER, DEMO_END).previous()
        renderer = Renderer(templates_dir=obj.settings.templates_dir, config=config)
        with transaction(engine) as session:
            reports = build_reports(session, config=config, period=week)
            previous = build_reports(session, config=config, period=week.previous())
            for current, before in zip(reports, previous, strict=True):
                click.echo(renderer.digest(team=config.team(current["team"]), report=current, previous=before) + "\n")
            rankings = rank_teams(session, config=config, period=quarter)
    for scheme_key, ranking in rankings.items():
        click.echo(renderer.scorecard(scheme_key=scheme_key, period=quarter.label, ranking=ranking, language="both"))


if __name__ == "__main__":
    main()
