"""``kpi-bot review launch|close|status`` and ``kpi-bot export reviews``: 360° review cycles from the
command line. The running bot's review tick (bot/jobs.py) sends the DMs a launch or close calls for.
Commands import what they need when they run (`kpi-bot --help` stays light)."""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bot.settings import Settings

#: the export's columns: averages by group (anonymity applied), or with reviews.admins_see_raters each rating
EXPORT_COLUMNS = ("cycle", "person", "group", "asked", "answered", "shown", "competency", "average")
RATER_COLUMNS = ("cycle", "person", "group", "rater", "competency", "score")


@click.group("review")
def review() -> None:
    """Launch, close and follow 360° review cycles."""


@review.command("launch")
@click.argument("cycle")
@click.option("--quarterly", is_flag=True, help="The year's current quarter instead of the whole year.")
@click.option("--deadline", help="The last day of rating, YYYY-MM-DD (default: reviews.deadline_days from today).")
@click.option("--by", help="Who launches it, for the audit trail (default: the OS user).")
@click.pass_obj
def launch(settings: Settings, cycle: str, quarterly: bool, deadline: str | None, by: str | None) -> None:
    """Launch a review cycle: 2026 (yearly), 2026 --quarterly, or 2026-Q4."""
    from bot.cli import _operator, _services, _user_errors
    from kpi_core import review_use_cases
    from kpi_core.review_cycles import parse_launch

    with _user_errors():
        services = _services(settings)
        config, now = services.config, services.clock()
        words = [cycle, *(["quarterly"] if quarterly else []), *([deadline] if deadline else [])]
        request = parse_launch(words, today=now.astimezone(UTC).date(), deadline_days=config.reviews.deadline_days)
        launched = review_use_cases.launch(
            services.engine, config=config, request=request, user=_operator(by), now=now, operator=True
        )
    click.echo(
        f"launched review {launched.key}: {len(config.people)} people, deadline {launched.deadline_on} "
        f"(ends {launched.deadline_at:%Y-%m-%d %H:%M} UTC); the bot's review tick asks the raters by DM"
    )


@review.command("close")
@click.argument("cycle")
@click.option("--by", help="Who closes it, for the audit trail (default: the OS user).")
@click.pass_obj
def close(settings: Settings, cycle: str, by: str | None) -> None:
    """Close a review cycle now; the superiors get the review packets from the bot's review tick."""
    from bot.cli import _operator, _services, _user_errors
    from kpi_core import review_use_cases

    with _user_errors():
        services = _services(settings)
        closed = review_use_cases.close(
            services.engine, config=services.config, key=cycle, user=_operator(by), now=services.clock(), operator=True
        )
    click.echo(f"closed review {closed.key}")


@review.command("status")
@click.argument("cycle")
@click.pass_obj
def status(settings: Settings, cycle: str) -> None:
    """How far a review cycle has come: counts per rater group, never who."""
    from bot.cli import _echo_mrkdwn, _services, _user_errors
    from kpi_core import review_use_cases

    with _user_errors():
        services = _services(settings)
        found = review_use_cases.status(services.engine, key=cycle)
        text = services.renderer.render(
            "review_status.txt.j2", language="en", status=found, deadline=found.cycle.deadline_on
        )
    _echo_mrkdwn(text)


@click.group("export")
def export() -> None:
    """Export stored results."""


@export.command("reviews")
@click.argument("cycle")
@click.option("--format", "output_format", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.pass_obj
def export_reviews(settings: Settings, cycle: str, output_format: str) -> None:
    """A closed cycle's results per person, rater group and competency, anonymity applied: peer and
    subordinate averages only from reviews.min_group_raters answers; raters named only with
    reviews.admins_see_raters."""
    from bot.cli import _services, _user_errors
    from kpi_core import review_use_cases

    with _user_errors():
        services = _services(settings)
        rows = review_use_cases.export(services.engine, config=services.config, key=cycle)
    if output_format == "json":
        click.echo(json.dumps({"cycle": cycle, "exported_at": datetime.now(UTC).isoformat(), "rows": rows}, indent=2))
        return
    columns = RATER_COLUMNS if services.config.reviews.admins_see_raters else EXPORT_COLUMNS
    writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
