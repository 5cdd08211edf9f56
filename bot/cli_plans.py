"""``kpi-bot plan show 2027 [--team T]``: the year plans in force per team and KPI, with the config's default
beside an approved plan (issue 12). Plans are edited in Slack (``/kpi plan``), where another member of
management or the admins approves them. Commands import what they need when they run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bot.settings import Settings
    from kpi_core.config_schema import Language


@click.group("plan")
def plan() -> None:
    """Show the annual plans (they are edited and approved in Slack with /kpi plan)."""


@plan.command("show")
@click.argument("year")
@click.option("--team", help="One team's key (default: every team).")
@click.pass_obj
def show(settings: Settings, year: str, team: str | None) -> None:
    """The plan in force of every planned KPI in YEAR (e.g. 2027): approved, else the config's default."""
    from bot.cli import _echo_mrkdwn, _services, _user_errors
    from bot.plan_views import source_text
    from kpi_core.periods import Period, PeriodKind
    from kpi_core.plan_approval import year_plans

    with _user_errors():
        services = _services(settings)
        config = services.config
        period = Period.parse(year)
        if period.kind is not PeriodKind.YEAR:
            raise click.BadParameter(f"{year!r} is not a year (e.g. 2027)", param_hint="YEAR")
        teams = [config.team(team).key] if team else [key for key in config.team_by_key]
        lines = year_plans(services.engine, config=config, year=period.start.year, teams=teams)
    language: Language = "en"
    shown = []
    for key in teams:
        rows = []
        for line in (line for line in lines if line.team == key):
            kpi = config.kpi_by_key[line.kpi]
            in_force = line.in_force
            source = source_text(services, language, in_force, zone_of=key)
            default = line.default if line.approved is not None else None
            default_source = source_text(services, language, default, zone_of=key) if default else None
            rows.append((kpi.name.in_language(language), kpi.unit, in_force, source, default, default_source))
        if rows:
            shown.append((config.team(key).name.in_language(language), rows))
    _echo_mrkdwn(services.renderer.render("plan_show.txt.j2", language=language, year=period.label, teams=shown))
