"""``kpi-bot``: the command line (demo, check-config, import, submissions, report, me, migrate, ...).

Each command imports what it needs when it runs: `kpi-bot --help` must not load matplotlib, Bolt,
APScheduler or SQLModel (about 2 s)."""

from __future__ import annotations

import csv
import getpass
import json
import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kpi_core.errors import KpiError

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from bot.sender import Outgoing
    from bot.services import Services
    from bot.settings import Settings
    from bot.wiring import Process
    from kpi_core.periods import Period, PeriodKind


def _services(settings: Settings) -> Services:
    """The config, the migrated database, the renderer and the clock; the engine is closed with the
    command (a command run in-process, as by tests, must not leak pooled connections)."""
    from bot.wiring import build_services

    services = build_services(settings)
    click.get_current_context().call_on_close(services.engine.dispose)
    return services


def _process(settings: Settings) -> Process:
    """The whole process (bot/wiring.py), closed with the command."""
    from bot.wiring import build

    process = build(settings)
    click.get_current_context().call_on_close(process.close)
    return process


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

    context.obj = load_settings()


@main.command("check-config")
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def check_config(settings: Settings, file: Path | None) -> None:
    """Check a config file (default: $KPI_CONFIG) and report every problem."""
    from kpi_core.config import load_config

    path = file or settings.config_path
    with _user_errors():
        config = load_config(path)
    click.echo(
        f"{path}: OK ({len(config.teams)} teams, {len(config.measures)} measures, {len(config.kpis)} KPIs, "
        f"{len(config.scorecards)} scorecards)"
    )


@main.command("migrate")
@click.pass_obj
def migrate_command(settings: Settings) -> None:
    """Create or upgrade the database schema."""
    from kpi_core.db import make_engine, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    engine.dispose()
    click.echo("database is up to date")


def _operator(by: str | None) -> str:
    """Who runs the command, for the submission and the audit trail: ``--by``, else the OS user."""
    try:
        name = by or getpass.getuser()
    except (OSError, KeyError):  # no login name (a container running as a uid without a passwd entry)
        name = "cli"
    from kpi_core.models import USER_CHARS

    if not name.strip() or len(name) > USER_CHARS:
        raise click.BadParameter(f"a name of 1 to {USER_CHARS} characters is required", param_hint="--by")
    return name


_BY_HELP = "Who does it, for the record (default: the OS user)."


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
@click.option("--by", "submitted_by", help=_BY_HELP)
@click.option("--replace", is_flag=True, help="Replace what earlier submissions hold of the same content or periods.")
@click.pass_obj
def import_command(settings: Settings, kind: str, file: Path, submitted_by: str | None, replace: bool) -> None:
    """Import a CSV file of surveys, measures, cases or milestones (all rows or none)."""
    user = _operator(submitted_by)
    from kpi_core import use_cases

    with _user_errors():
        services = _services(settings)
        summary = use_cases.import_file(
            services.engine,
            config=services.config,
            kind=kind,
            path=file,
            submitted_by=user,
            now=datetime.now(UTC),
            replace=replace,
        )
    click.echo(f"imported {summary.rows} {kind} rows from {file} (submission {summary.submission_id})")


@main.group("submissions")
def submissions() -> None:
    """List and withdraw submissions (CSV imports, Slack forms, the demo)."""


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@submissions.command("list")
@click.option("--team", help="One team's key.")
@click.option("--source", type=click.Choice(["csv", "slack", "demo"]), help="Where the data came from.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def list_submissions(settings: Settings, team: str | None, source: str | None, limit: int) -> None:
    """The latest submissions, newest first, withdrawn ones marked."""
    from kpi_core import use_cases

    with _user_errors():
        services = _services(settings)
        if team is not None:
            services.config.team(team)  # an unknown team is an error, not an empty list
        found = use_cases.list_submissions(services.engine, team=team, source=source, limit=limit)
    for item in found:
        state = f"withdrawn {_when(item.withdrawn_at)} by {item.withdrawn_by}" if item.withdrawn_at else "active"
        click.echo(
            f"{item.id}\t{_when(item.submitted_at)}\t{item.source}\t{item.team or '(several teams)'}\t{item.kind}"
            f"\t{item.row_count} rows\tby {item.submitted_by}\t{state}"
        )
    if not found:
        click.echo("no submissions", err=True)


@submissions.command("withdraw")
@click.argument("submission_id", type=int)
@click.option("--reason", help="Why, for the audit trail.")
@click.option("--by", "by", help=_BY_HELP)
@click.pass_obj
def withdraw(settings: Settings, submission_id: int, reason: str | None, by: str | None) -> None:
    """Withdraw a submission: its values are deleted (each audited) and no longer count."""
    from kpi_core import use_cases

    user = _operator(by)
    with _user_errors():
        services = _services(settings)
        outcome = use_cases.withdraw_submission(
            services.engine, submission_id=submission_id, teams=None, user=user, now=datetime.now(UTC), reason=reason
        )
    withdrawn = outcome.submission
    if withdrawn is None:
        raise click.ClickException(f"there is no submission {submission_id}")
    if outcome.outcome == "gone":
        assert withdrawn.withdrawn_at is not None
        raise click.ClickException(
            f"submission {submission_id} was withdrawn already "
            f"({_when(withdrawn.withdrawn_at)} by {withdrawn.withdrawn_by})"
        )
    click.echo(
        f"withdrew submission {submission_id} ({withdrawn.source}): {outcome.rows} rows deleted, audited as {user}"
    )


@main.command("report")
@click.option("--team", "team", help="One team's key.")
@click.option("--all", "all_teams", is_flag=True, help="Every team.")
@click.option("--period", required=True, help="2026-W40, 2026-09, 2026-Q3 or 2026.")
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True
)
@click.pass_obj
def report(settings: Settings, team: str | None, all_teams: bool, period: str, output_format: str) -> None:
    """Compute every KPI for one team or all teams in a period."""
    from bot.export import CSV_COLUMNS, report_csv_rows, report_json
    from kpi_core import use_cases
    from kpi_core.periods import Period

    if bool(team) == all_teams:
        raise click.UsageError("give either --team T or --all")
    with _user_errors():
        services = _services(settings)
        config = services.config
        parsed = Period.parse(period)
        selected = [team] if team else None
        # Only the text report shows the previous period beside this one; JSON and CSV do not compute it.
        periods = [parsed, parsed.previous()] if output_format == "text" else [parsed]
        wanted = [(shown, selected) for shown in periods]
        reports, *earlier = use_cases.reports(services.engine, config=config, wanted=wanted)
    if output_format == "json":
        exported = [report_json(config, team_report) for team_report in reports]
        click.echo(json.dumps(exported[0] if team else exported, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for team_report in reports:
            writer.writerows(report_csv_rows(config, team_report))
    else:
        from bot.plan_progress_view import report_progress_blocks
        from bot.render import blocks_text
        from kpi_core.verification_use_cases import unverified_of

        for current, before in zip(reports, earlier[0], strict=True):
            team_config = config.team(current.team)
            marks = unverified_of(services.engine, config=config, team=current.team, periods=[parsed])
            blocks = services.renderer.report_blocks(
                team=team_config,
                report=current,
                previous=before,
                now=services.clock(),
                unverified=marks.get(parsed, ()),
            )
            blocks[-1:-1] = report_progress_blocks(
                services, team=team_config, period=parsed, now=services.clock()
            )  # before the legend
            _echo_mrkdwn(blocks_text(blocks) + "\n")  # as Slack shows the /kpi report answer


@main.command("me")
@click.option("--user", "user", required=True, help="The person's Slack user id (people in the config).")
@click.option("--period", help="2026-Q4 (default: the current period of person_scorecard.period).")
@click.pass_obj
def me(settings: Settings, user: str, period: str | None) -> None:
    """Print a person's scorecard as `/kpi me` shows it to them (a dry run: nothing is posted)."""
    from bot.people_views import card_text
    from kpi_core import people_use_cases
    from kpi_core.periods import Period
    from kpi_core.person_scorecard import default_period

    with _user_errors():
        services = _services(settings)
        config = services.config
        person = config.person_by_user.get(user)
        if person is None:
            raise click.UsageError(f"{user} is not in the config's people")
        shown = Period.parse(period) if period else default_period(config, person, now=services.clock())
        card = people_use_cases.scorecard_of(services.engine, config=config, person=person, period=shown)
    _echo_mrkdwn(card_text(services.renderer, config, config.team(person.team).language, card))


@main.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=3000, show_default=True, help="0 picks a free port (printed at start).")
@click.option("--socket", "socket_mode", is_flag=True, help="Socket Mode (local development; needs SLACK_APP_TOKEN).")
@click.option("--no-scheduler", is_flag=True, help="Leave digests and alerts to a separate `kpi-bot worker`.")
@click.pass_obj
def serve(settings: Settings, host: str, port: int, socket_mode: bool, no_scheduler: bool) -> None:
    """Run the Slack app: HTTP on /slack/events (health on /healthz), or Socket Mode; plus the scheduler."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.request_gate import installed_workspace
    from bot.server import SLACK_PATH, HttpServer, health, wsgi_app

    _log_to_stderr()
    with _user_errors():
        process = _process(settings)
        app = process.app()
        # the one workspace served over HTTP (Socket Mode connects with this app's own token)
        team_id = None if socket_mode else settings.slack_team_id or installed_workspace(process.client)
    scheduler = None if no_scheduler else _start_scheduler(BackgroundScheduler(timezone=UTC), process)
    try:
        if settings.answer_workers:  # reports, scorecards and the Home tab off the server's interpreter
            process.services.answers.start_processes(settings, process.services.config, workers=settings.answer_workers)
        if socket_mode:
            if settings.slack_app_token is None:
                raise click.ClickException("Socket Mode needs SLACK_APP_TOKEN (an xapp- token)")
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()
            return
        secret = settings.slack_signing_secret
        assert secret is not None and team_id is not None  # process.app() refuses to build without the secret
        application = wsgi_app(
            app,
            health=lambda: health(process.services.engine),
            signing_secret=secret.get_secret_value(),
            team_id=team_id,
        )
        server = HttpServer(application, host=host, port=port)
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, lambda *_: server.stop())
        click.echo(f"listening on http://{host}:{server.port}{SLACK_PATH}", err=True)
        server.serve_forever()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        process.alerts.queue.close()  # the alerts of writes already acked still go out
        process.services.answers.close()


@main.command("worker")
@click.pass_obj
def worker(settings: Settings) -> None:
    """Run only the scheduler (digests, summary, scorecard, reminders, alerts), apart from `serve`."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    _log_to_stderr()
    with _user_errors():
        process = _process(settings)
    scheduler = BlockingScheduler(timezone=UTC)
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, lambda *_: scheduler.shutdown(wait=False))
    click.echo("worker started", err=True)
    _start_scheduler(scheduler, process)


def _start_scheduler(scheduler: BaseScheduler, process: Process) -> BaseScheduler:
    """Installs every job (bot/jobs.py declares them all) and starts the scheduler."""
    sweep_every = timedelta(seconds=process.settings.alert_sweep_seconds)
    process.jobs.install(scheduler, alert_sweep_every=sweep_every)
    scheduler.start()
    return scheduler


@main.command("digest")
@click.option("--team", "team", help="One team's key.")
@click.option("--all", "all_teams", is_flag=True, help="Every team.")
@click.option("--period", help="The ISO week (default: each team's last complete week).")
@click.option("--dry-run", "mode", flag_value="dry-run", default=True, help="Print what would be posted (default).")
@click.option("--send", "mode", flag_value="send", help="Post it now (once: the delivery ledger remembers).")
@click.pass_obj
def digest(settings: Settings, team: str | None, all_teams: bool, period: str | None, mode: str) -> None:
    """Build the weekly digest of one team or all teams; print it, or post it to Slack."""
    from bot.digests import weekly_digests
    from kpi_core.periods import Period, PeriodKind

    if bool(team) == all_teams:
        raise click.UsageError("give either --team T or --all")
    with _user_errors():
        process = _process(settings) if mode == "send" else None  # posting needs the Slack token
        services = process.services if process is not None else _services(settings)
        week = Period.parse(period) if period else None
        if week is not None and week.kind is not PeriodKind.WEEK:
            raise click.UsageError("--period must be an ISO week such as 2026-W39")
        teams = [services.config.team(team)] if team else list(services.config.teams)
        messages = weekly_digests(services, teams=teams, period=week)
    if process is None:  # a dry run
        _print_messages(messages)
        return
    _log_to_stderr()
    for message, outcome in zip(messages, process.sender.send_all(messages), strict=True):
        click.echo(f"{message.team} {message.subject}: {outcome}")


def _print_messages(messages: list[Outgoing]) -> None:
    """What would be posted, message by message (a dry run); the parts posted in its thread follow it."""
    from bot.mrkdwn import unescape
    from bot.render import blocks_text

    for message in messages:  # as Slack would show it, without mrkdwn's escapes
        text = unescape("\n".join(blocks_text(blocks) for blocks in [message.blocks, *message.continued]))
        chart = f"[chart {message.chart.filename} in the thread]" if message.chart else ""
        click.echo(f"--- to {message.channel} ({message.kind} {message.team} {message.subject})\n{text}\n{chart}")


def _management_period(services: Services, name: str, kind: PeriodKind, period: str | None) -> tuple[Period, str]:
    """``period``, or the last complete one in the schedule's zone, and the schedule's channel."""
    from zoneinfo import ZoneInfo

    from kpi_core.periods import Period

    schedule = services.config.schedules.get(name)
    zone = ZoneInfo(schedule.timezone if schedule and schedule.timezone else "UTC")
    shown = Period.parse(period) if period else Period.current(kind, now=services.clock(), tz=zone).previous()
    channel = schedule.channel if schedule is not None and schedule.channel else "(no channel configured)"
    return shown, channel


@main.command("summary")
@click.option("--period", help="The ISO week (default: last week in the schedule's time zone).")
@click.pass_obj
def summary(settings: Settings, period: str | None) -> None:
    """Print the management summary management would get (a dry run: nothing is posted)."""
    from bot.digests import management_summary
    from kpi_core.periods import PeriodKind

    with _user_errors():
        services = _services(settings)
        week, channel = _management_period(services, "management_summary", PeriodKind.WEEK, period)
        if week.kind is not PeriodKind.WEEK:
            raise click.UsageError("--period must be an ISO week such as 2026-W39")
        _print_messages([management_summary(services, channel=channel, period=week)])


@main.command("scorecard")
@click.option("--period", help="The quarter or month (default: last quarter in the schedule's time zone).")
@click.pass_obj
def scorecard(settings: Settings, period: str | None) -> None:
    """Print the scorecards management would get (a dry run: nothing is posted)."""
    from bot.digests import quarterly_scorecards
    from kpi_core.periods import PeriodKind

    with _user_errors():
        services = _services(settings)
        shown, channel = _management_period(services, "quarterly_scorecard", PeriodKind.QUARTER, period)
        if shown.kind is PeriodKind.WEEK:
            raise click.UsageError("--period must be a quarter (2026-Q3) or a month (2026-09)")
        _print_messages(quarterly_scorecards(services, channel=channel, period=shown))


def _log_to_stderr() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


@main.command("demo")
@click.pass_obj
def demo(settings: Settings) -> None:
    """Load six months of demo data and print each team's weekly digest of its last week (as `kpi-bot digest
    --all --dry-run` would), the quarterly scorecard and a personal scorecard, then close the quarter and
    print its final scorecard with grades."""
    from bot.digests import weekly_digests
    from kpi_core import review_use_cases, use_cases
    from kpi_core.demo import DEMO_END
    from kpi_core.periods import Period, PeriodKind
    from kpi_core.review_demo import DEMO_CYCLE

    with _user_errors():
        services = _services(settings)
        config, engine = services.config, services.engine
        rows = use_cases.load_demo_once(engine, config=config, now=datetime.now(UTC))
        ratings = review_use_cases.load_demo_once(engine, config=config)  # a finished 360° review (issue 11)
        if rows is not None:
            click.echo(f"loaded {rows} demo rows into {engine.url.render_as_string(hide_password=True)}")
        if ratings is not None:
            click.echo(f"loaded the finished 360° review {DEMO_CYCLE} ({ratings} raters asked)")
        if rows is not None or ratings is not None:
            click.echo()
        week = Period.containing(PeriodKind.WEEK, DEMO_END).previous()
        quarter = Period.containing(PeriodKind.QUARTER, DEMO_END).previous()
        _print_messages(weekly_digests(services, teams=list(config.teams), period=week, charts=False))
        rankings = use_cases.rankings(engine, config=config, period=quarter)
    for scheme_key, ranking in rankings.schemes.items():
        _echo_mrkdwn(
            services.renderer.scorecard(
                scheme_key=scheme_key,
                period=quarter.label,
                ranking=ranking,
                language="both",
                failures=rankings.failures,
            )
        )
    if config.people:  # one personal scorecard, as `/kpi me` shows it (issue 11)
        from bot.people_views import card_text
        from kpi_core import people_use_cases

        person = config.people[0]
        with _user_errors():
            card = people_use_cases.scorecard_of(engine, config=config, person=person, period=quarter)
        _echo_mrkdwn("\n" + card_text(services.renderer, config, "both", card))
        _echo_review(services, person.user)
    from bot.cli_close import close_demo_quarter

    close_demo_quarter(services, quarter)  # the quarter closed, graded (issue 12)


def _echo_review(services: Services, user: str) -> None:
    """The person's latest 360° results, as they see them (anonymity applied)."""
    from bot.reviews import results_text
    from kpi_core import review_use_cases

    with _user_errors():
        found = review_use_cases.results_for(services.engine, config=services.config, viewer=user, subject=user)
    if found is not None:
        cycle, groups = found
        _echo_mrkdwn("\n" + results_text(services, cycle=cycle, subject=user, groups=groups, language="both"))


def _echo_mrkdwn(text: str) -> None:
    """A Slack message on the terminal: as Slack would show it, without mrkdwn's escapes."""
    from bot.mrkdwn import unescape

    click.echo(unescape(text))


def _register_review_commands() -> None:
    from bot.cli_plans import plan  # click only: `kpi-bot --help` stays light
    from bot.cli_reviews import export, review

    main.add_command(review)
    main.add_command(export)
    main.add_command(plan)


_register_review_commands()


def _register_close_commands() -> None:
    from bot.cli_close import close, export_results, reopen  # click only: `kpi-bot --help` stays light
    from bot.cli_reviews import export

    main.add_command(close)
    main.add_command(reopen)
    export.add_command(export_results)


_register_close_commands()

if __name__ == "__main__":
    main()
