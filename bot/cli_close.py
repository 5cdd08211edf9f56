"""``kpi-bot close``, ``kpi-bot reopen`` and ``kpi-bot export results``: period close from the command line.
The running bot's catch-up (bot/jobs.py, every few minutes and at start) posts the final scorecard and
sends HR's results file of a period closed here, once. Commands import what they need when they run."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bot.services import Services
    from bot.settings import Settings
    from kpi_core.periods import Period


@click.command("close")
@click.argument("period")
@click.option("--by", help="Who closes it, for the record (default: the OS user).")
@click.pass_obj
def close(settings: Settings, period: str, by: str | None) -> None:
    """Close a period (2026-Q3): freeze its graded scorecard once every submission in it is verified."""
    from bot.cli import _operator, _services, _user_errors
    from kpi_core import close_use_cases

    with _user_errors():
        services = _services(settings)
        revision, _ = close_use_cases.close(
            services.engine,
            config=services.config,
            period_label=period,
            user=_operator(by),
            now=services.clock(),
            operator=True,
        )
    click.echo(f"closed {revision.period} (revision {revision.revision}); the bot posts the final scorecard\n")
    echo_final_scorecard(services, revision.period)


def echo_final_scorecard(services: Services, period: str) -> None:
    """The closed period's final scorecard as management's channel gets it."""
    from bot.cli import _echo_mrkdwn, _user_errors
    from bot.close_delivery import final_scorecard_text
    from kpi_core import close_use_cases

    with _user_errors():
        found = close_use_cases.frozen(services.engine, period_label=period)
    if found is not None:
        revision, results = found
        _echo_mrkdwn(final_scorecard_text(services, revision, results, language="both"))


@click.command("reopen")
@click.argument("period")
@click.option("--reason", required=True, help="Why, for the record (required).")
@click.option("--by", help="Who reopens it, for the record (default: the OS user).")
@click.pass_obj
def reopen(settings: Settings, period: str, reason: str, by: str | None) -> None:
    """Reopen a closed period: its live data counts again until it is closed again (a new revision)."""
    from bot.cli import _operator, _services, _user_errors
    from kpi_core import close_use_cases

    with _user_errors():
        services = _services(settings)
        reopened = close_use_cases.reopen(
            services.engine,
            config=services.config,
            period_label=period,
            reason=reason,
            user=_operator(by),
            now=services.clock(),
            operator=True,
        )
    click.echo(f"reopened {reopened.period}: {reopened.reason}")


@click.command("results")
@click.option("--period", required=True, help="The closed period, e.g. 2026-Q3.")
@click.option("--format", "output_format", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.pass_obj
def export_results(settings: Settings, period: str, output_format: str) -> None:
    """A closed period's results, teams and persons: score, rank, grade, pay factor, rank rewards, appeal
    state and verified share (the file HR gets)."""
    from bot.cli import _services, _user_errors
    from bot.close_export import result_rows, results_csv, results_json
    from kpi_core import appeal_use_cases, close_use_cases

    with _user_errors():
        services = _services(settings)
        found = close_use_cases.frozen(services.engine, period_label=period)
    if found is None:
        raise click.ClickException(f"{period} is not closed: close it first (kpi-bot close {period})")
    revision, results = found
    states = appeal_use_cases.appeal_states(services.engine, period_label=revision.period)
    rows = result_rows(services.config, results, appeal_states=states)
    if output_format == "json":
        click.echo(json.dumps(results_json(revision, rows), indent=2, ensure_ascii=False))
        return
    click.echo(results_csv(rows), nl=False)


def close_demo_quarter(services: Services, quarter: Period) -> None:
    """The demo's last quarter closed (once: a second demo finds it closed) and its final scorecard printed."""
    from bot.cli import _user_errors
    from kpi_core import close_use_cases
    from kpi_core.period_close import ended_at

    config = services.config
    with _user_errors():
        if close_use_cases.frozen(services.engine, period_label=quarter.label) is None:
            close_use_cases.close(
                services.engine,
                config=config,
                period_label=quarter.label,
                user=next(iter(config.roles.management + config.roles.admins), "demo"),
                now=max(services.clock(), ended_at(config, quarter)),
                operator=True,
            )
    click.echo()
    echo_final_scorecard(services, quarter.label)
