"""``/kpi <subcommand>``: help, submit, case, milestone, report, scorecard, history, undo, alerts, actions; goals
and me (bot/listeners/commands/people.py); plan (bot/listeners/commands/plan.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.close_delivery import final_scorecard_text
from bot.listeners.commands import people
from bot.listeners.commands.away import away
from bot.listeners.commands.close import close_period, reopen_period
from bot.listeners.commands.followup import list_actions, list_alerts
from bot.listeners.commands.plan import plan
from bot.listeners.commands.review import handle_review
from bot.listeners.commands.verify import verify
from bot.listeners.context import access_of, after_ack, message_localizer, services_of
from bot.modals import case_update_modal, form_modal, milestone_completion_modal
from bot.mrkdwn import escape
from bot.plan_progress_view import report_progress_blocks
from bot.render import RESPONSE_URL_POSTS, message_parts
from bot.services import Services
from kpi_core import close_use_cases, use_cases
from kpi_core.access import Access
from kpi_core.errors import PeriodError
from kpi_core.periods import Period, PeriodKind
from kpi_core.verification_use_cases import unverified_of

HISTORY_TEAMS_NAMED = 10  # more teams are counted in the title, not named


@dataclass(frozen=True)
class Invocation:
    ack: Ack
    respond: Respond
    client: WebClient
    services: Services
    access: Access
    args: list[str]
    trigger_id: str
    localize: Callable[..., str]
    context: BoltContext

    def reply(self, text: str) -> None:
        """Acknowledge with a message only the user sees."""
        self.ack(text=text, response_type="ephemeral")

    def respond_in_parts(self, text: str) -> None:
        """A long answer (an admin's scorecard of 200 teams) as several answers, in order, each only for
        the user: a response_url takes at most five, and the last one counts what did not fit."""
        parts = message_parts(text, max_parts=RESPONSE_URL_POSTS)
        for number, blocks in enumerate(parts, start=1):
            fallback = text.splitlines()[0] if number == 1 else f"{text.splitlines()[0]} ({number}/{len(parts)})"
            self.respond(text=fallback, blocks=blocks, response_type="ephemeral")


def handle_kpi(ack: Ack, command: dict[str, Any], respond: Respond, client: WebClient, context: BoltContext) -> None:
    words = (command.get("text") or "").split()
    name = words[0].lower() if words else "help"
    services = services_of(context)
    access = access_of(context)
    invocation = Invocation(
        ack,
        respond,
        client,
        services,
        access,
        words[1:],
        command.get("trigger_id", ""),
        message_localizer(context),
        context,
    )
    subcommand = SUBCOMMANDS.get(name)
    if subcommand is None:
        invocation.reply(invocation.localize("unknown_subcommand", word=name) + "\n" + _help(invocation))
    elif subcommand not in _ANY_ROLE and access.role == "none":  # HR, people, verifiers: no team role
        invocation.reply(invocation.localize("refused"))
    else:
        subcommand(invocation)


def _help(invocation: Invocation) -> str:
    return invocation.services.renderer.render("help.txt.j2", language="both", forms=invocation.services.config.forms)


def _show_help(invocation: Invocation) -> None:
    invocation.reply(_help(invocation))


def _submit(invocation: Invocation) -> None:
    config, access = invocation.services.config, invocation.access
    key = invocation.args[0] if invocation.args else config.forms[0].key
    form = config.form_by_key.get(key)
    if form is None:
        invocation.ack(text=invocation.localize("unknown_form", form=key, forms=", ".join(config.form_by_key)))
        return
    if not _may_submit_somewhere(invocation):
        return
    invocation.ack()  # trigger_id lives 3 s and the modal needs nothing slow: open it at once
    invocation.client.views_open(trigger_id=invocation.trigger_id, view=form_modal(invocation.services, access, form))


def _may_submit_somewhere(invocation: Invocation) -> bool:
    """True for a user who may submit for some team; anyone else gets the polite refusal of ``submit``."""
    access = invocation.access
    if access.submit_teams:
        return True
    invocation.reply(invocation.localize("refused_submit", team=", ".join(access.view_teams) or "-"))
    return False


def _update_case(invocation: Invocation) -> None:
    _open_items_modal(invocation, use_cases.open_cases, "nothing_open_cases", case_update_modal)


def _complete_milestone(invocation: Invocation) -> None:
    _open_items_modal(invocation, use_cases.open_milestones, "nothing_open_milestones", milestone_completion_modal)


def _open_items_modal(
    invocation: Invocation,
    list_open: Callable[..., list[Any]],
    nothing_open: str,
    build_modal: Callable[[Services, Access, list[Any]], dict[str, Any]],
) -> None:
    """Opens the modal that closes one of the user's teams' open items, or says there is none."""
    if not _may_submit_somewhere(invocation):
        return
    items = list_open(invocation.services.engine, teams=invocation.access.submit_teams)
    if not items:
        invocation.reply(invocation.localize(nothing_open))
        return
    invocation.ack()
    invocation.client.views_open(
        trigger_id=invocation.trigger_id, view=build_modal(invocation.services, invocation.access, items)
    )


def _parse_args(invocation: Invocation) -> tuple[str | None, Period | None, str | None]:
    """``[team] [period]`` in any order -> (team, period, error message)."""
    config = invocation.services.config
    team = period = None
    for word in invocation.args:
        if word in config.team_by_key:
            team = word
            continue
        try:
            period = Period.parse(word)
        except PeriodError:
            if any(character.isdigit() for character in word):
                return None, None, invocation.localize("bad_period", text=word)
            return (
                None,
                None,
                invocation.localize("unknown_team", team=word, teams=", ".join(config.team_by_key)),
            )
    return team, period, None


def _report(invocation: Invocation) -> None:
    team, period, error = _parse_args(invocation)
    access = invocation.access
    if error:
        invocation.reply(error)
        return
    team = team or (access.view_teams[0] if access.view_teams else None)
    if team is None or not access.may_view(team):
        invocation.reply(invocation.localize("refused_view", team=team or "-"))
        return
    invocation.ack()  # computing can take longer than Slack's 3 s: answer through response_url
    after_ack(invocation.context, "/kpi report", lambda: _post_report(invocation, team, period))


def _post_report(invocation: Invocation, team: str, period: Period | None) -> None:
    services = invocation.services
    team_config = services.config.team(team)
    period = period or Period.current(PeriodKind.WEEK, now=services.clock(), tz=team_config.tz)
    wanted = [(period, [team]), (period.previous(), [team])]
    [current], [previous] = use_cases.reports(
        services.engine, config=services.config, wanted=wanted, cache=services.reports
    )
    # one message: a report's blocks are bounded by the config's KPIs (ten fields a section), not by teams
    marks = unverified_of(services.engine, config=services.config, team=team, periods=[period]).get(period, ())
    blocks = services.renderer.report_blocks(
        team=team_config, report=current, previous=previous, now=services.clock(), unverified=marks
    )
    blocks[-1:-1] = report_progress_blocks(services, team=team_config, period=period)  # before the legend
    fallback = escape(blocks[0]["text"]["text"])  # the notification text is mrkdwn; the header plain text
    invocation.respond(text=fallback, blocks=blocks, response_type="ephemeral")


def _scorecard(invocation: Invocation) -> None:
    _, period, error = _parse_args(invocation)
    if error:
        invocation.reply(error)
        return
    invocation.ack()
    after_ack(invocation.context, "/kpi scorecard", lambda: _post_scorecard(invocation, period))


def _post_scorecard(invocation: Invocation, period: Period | None) -> None:
    services = invocation.services
    zone = services.config.team(invocation.access.view_teams[0]).tz if invocation.access.view_teams else None
    period = period or Period.current(PeriodKind.QUARTER, now=services.clock(), tz=zone or services.config.teams[0].tz)
    closed = close_use_cases.frozen(services.engine, period_label=period.label)
    if closed is not None:  # a closed period's scorecard is its frozen snapshot, whatever the data says now
        invocation.respond_in_parts(final_scorecard_text(services, *closed, language=invocation.access.language))
        return
    rankings = use_cases.rankings(services.engine, config=services.config, period=period, cache=services.reports)
    texts = [
        services.renderer.scorecard(
            scheme_key=key,
            period=period.label,
            ranking=ranking,
            language=invocation.access.language,
            failures=rankings.failures,
        )
        for key, ranking in rankings.schemes.items()
    ]
    text = "\n\n".join(texts) or invocation.localize("no_data")
    invocation.respond_in_parts(text)


def _history(invocation: Invocation) -> None:
    access = invocation.access
    teams = [word for word in invocation.args if access.may_submit(word)] or list(access.submit_teams)
    if not teams:
        invocation.reply(invocation.localize("refused_submit", team=", ".join(invocation.args) or "-"))
        return
    invocation.ack()
    submissions = use_cases.recent_submissions(invocation.services.engine, teams=teams)
    # an admin may submit for every team: naming them all would outgrow a section (3,000 characters)
    if len(teams) > HISTORY_TEAMS_NAMED:
        title = invocation.localize("history_title_many", count=len(teams))
    else:
        title = invocation.localize("history_title", teams=", ".join(teams))
    _respond_with_submissions(invocation, title, submissions)


def _undo(invocation: Invocation) -> None:
    if not _may_submit_somewhere(invocation):
        return
    invocation.ack()
    latest = use_cases.latest_submission_by(invocation.services.engine, user=invocation.access.user)
    if latest is None:
        invocation.respond(text=invocation.localize("nothing_to_undo"), response_type="ephemeral")
        return
    _respond_with_submissions(invocation, invocation.localize("undo_title"), [latest])


def _respond_with_submissions(invocation: Invocation, title: str, submissions: list[Any]) -> None:
    services, access = invocation.services, invocation.access
    # whose values each holds (issue 11): a lead tells one person's submission from another's
    people = use_cases.person_of_submissions(services.engine, submission_ids=[item.id for item in submissions])
    known = services.config.person_by_user
    blocks = services.renderer.blocks(
        "submissions",
        language=access.language,
        title=title,
        submissions=submissions,
        tz={team.key: team.tz for team in services.config.teams},
        people={key: (known[user].name if user in known else None) or user for key, user in people.items()},
    )
    invocation.respond(text=title, blocks=blocks, response_type="ephemeral")


#: subcommands that answer users without a team role themselves (HR, people), each with its own refusal
_ANY_ROLE = (_show_help, people.me, handle_review, plan, verify)

SUBCOMMANDS: dict[str, Callable[[Invocation], None]] = {
    "help": _show_help,
    "submit": _submit,
    "case": _update_case,
    "milestone": _complete_milestone,
    "report": _report,
    "scorecard": _scorecard,
    "history": _history,
    "undo": _undo,
    "away": away,
    "review": handle_review,
    "goals": people.goals,
    "me": people.me,
    "alerts": list_alerts,
    "actions": list_actions,
    "verify": verify,
    "plan": plan,
    "close": close_period,
    "reopen": reopen_period,
}
