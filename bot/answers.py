"""The slow answers themselves: compute, render and send a report, a scorecard, a person's card or the
Home tab. Each is a task of bot/answer_lane.py: a module-level function called with the services and
Slack client of the process that runs it (a worker process under ``serve``) and plain, picklable
arguments the listener resolved (the period, the clock's reading, the response_url), so it answers the
same in any process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt.context.respond import Respond
from slack_sdk import WebClient

from bot.close_delivery import final_scorecard_text
from bot.mrkdwn import escape
from bot.people_views import card_text
from bot.plan_progress_view import report_progress_blocks
from bot.render import RESPONSE_URL_POSTS, message_parts
from bot.services import Services
from kpi_core import close_use_cases, people_use_cases, use_cases
from kpi_core.access import Access
from kpi_core.config_schema import Language, Person
from kpi_core.people import person_of
from kpi_core.periods import Period, PeriodKind
from kpi_core.person_scorecard import default_period
from kpi_core.verification_use_cases import unverified_of

HOME_TEAMS = 12  # a management user sees the first dozen teams; the tab has a 100-block limit


def report(
    services: Services, client: WebClient, *, response_url: str, team: str, period: Period, now: datetime
) -> None:
    """``/kpi report``: the team's report of ``period`` against the previous one, as one message."""
    wanted = [(period, [team]), (period.previous(), [team])]
    [current], [previous] = use_cases.reports(
        services.engine, config=services.config, wanted=wanted, cache=services.reports
    )
    # one message: a report's blocks are bounded by the config's KPIs (ten fields a section), not by teams
    team_config = services.config.team(team)
    marks = unverified_of(services.engine, config=services.config, team=team, periods=[period]).get(period, ())
    blocks = services.renderer.report_blocks(
        team=team_config, report=current, previous=previous, now=now, unverified=marks
    )
    blocks[-1:-1] = report_progress_blocks(services, team=team_config, period=period, now=now)  # before the legend
    fallback = escape(blocks[0]["text"]["text"])  # the notification text is mrkdwn; the header plain text
    Respond(response_url=response_url)(text=fallback, blocks=blocks, response_type="ephemeral")


def scorecard(services: Services, client: WebClient, *, response_url: str, period: Period, language: Language) -> None:
    """``/kpi scorecard``: every scheme's ranking of ``period``; of a closed period, its frozen snapshot,
    whatever the data says now."""
    closed = close_use_cases.frozen(services.engine, period_label=period.label)
    if closed is not None:
        respond_in_parts(Respond(response_url=response_url), final_scorecard_text(services, *closed, language=language))
        return
    rankings = use_cases.rankings(services.engine, config=services.config, period=period, cache=services.reports)
    texts = [
        services.renderer.scorecard(
            scheme_key=key, period=period.label, ranking=ranking, language=language, failures=rankings.failures
        )
        for key, ranking in rankings.schemes.items()
    ]
    text = "\n\n".join(texts) or services.renderer.mrkdwn("no_data", language)
    respond_in_parts(Respond(response_url=response_url), text)


def person_card(
    services: Services, client: WebClient, *, response_url: str, person: Person, period: Period, language: Language
) -> None:
    """``/kpi me``: a person's scorecard of ``period``, only for the one who asked."""
    card = people_use_cases.scorecard_of(services.engine, config=services.config, person=person, period=period)
    respond_in_parts(Respond(response_url=response_url), card_text(services.renderer, services.config, language, card))


def home(services: Services, client: WebClient, *, access: Access, now: datetime) -> None:
    """The Home tab: the user's own scorecard (when they are a configured person), then their teams'
    KPIs for the current week, with status against target."""
    config = services.config
    wanted = [(home_week(services, access, now, team), [team]) for team in access.view_teams[:HOME_TEAMS]]
    by_team = use_cases.reports(services.engine, config=config, wanted=wanted, cache=services.reports)
    reports = [team_report for team_reports in by_team for team_report in team_reports]
    view = services.renderer.view(
        "home",
        language=access.language,
        reports=reports,
        role=access.role,
        person_blocks=_person_blocks(services, access, now),
    )
    client.views_publish(user_id=access.user, view=view)


def home_week(services: Services, access: Access, now: datetime, team: str | None = None) -> Period:
    """The week the Home tab shows for ``team`` (default the user's first): the lane's route."""
    key = team or (access.view_teams[0] if access.view_teams else None)
    zone = services.config.team(key).tz if key else services.config.teams[0].tz
    return Period.current(PeriodKind.WEEK, now=now, tz=zone)


def _person_blocks(services: Services, access: Access, now: datetime) -> list[dict[str, Any]]:
    """The user's own personal scorecard (issue 11) for the current period; none for someone not
    configured. The Home tab is the user's own, so nobody else sees it."""
    person = person_of(services.config, access.user)
    if person is None:
        return []
    period = default_period(services.config, person, now=now)
    card = people_use_cases.scorecard_of(services.engine, config=services.config, person=person, period=period)
    return message_parts(card_text(services.renderer, services.config, access.language, card))[0]


def respond_in_parts(respond: Respond, text: str) -> None:
    """A long answer (an admin's scorecard of 200 teams) as several answers, in order, each only for the
    user: a response_url takes at most five, and the last one counts what did not fit."""
    parts = message_parts(text, max_parts=RESPONSE_URL_POSTS)
    for number, blocks in enumerate(parts, start=1):
        fallback = text.splitlines()[0] if number == 1 else f"{text.splitlines()[0]} ({number}/{len(parts)})"
        respond(text=fallback, blocks=blocks, response_type="ephemeral")
