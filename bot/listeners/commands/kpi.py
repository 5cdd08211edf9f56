"""``/kpi <subcommand>``: help, submit, case, milestone, report, scorecard, history, undo, alerts, actions; goals
and me (bot/listeners/commands/people.py); plan (bot/listeners/commands/plan.py)."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot import answers
from bot.answer_lane import Task
from bot.listeners.commands import people
from bot.listeners.commands.away import away
from bot.listeners.commands.close import close_period, reopen_period
from bot.listeners.commands.followup import list_actions, list_alerts
from bot.listeners.commands.plan import plan
from bot.listeners.commands.review import handle_review
from bot.listeners.commands.verify import verify
from bot.listeners.context import access_of, answer_later, message_localizer, services_of
from bot.modals import case_update_modal, form_modal, milestone_completion_modal
from bot.services import Services
from kpi_core import use_cases
from kpi_core.access import Access
from kpi_core.errors import PeriodError
from kpi_core.periods import Period, PeriodKind

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

    @property
    def response_url(self) -> str:
        return str(self.respond.response_url)

    def answer_later(self, what: str, task: Task, *, route: Hashable) -> None:
        """Acks, and has ``task`` answer through response_url from the answer lane (bot/answer_lane.py);
        when the lane is full, the ack says the bot is busy instead."""
        answer_later(self.context, what, task, route=route, ack=self.ack, busy=self.reply)


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
    now = invocation.services.clock()
    period = period or Period.current(PeriodKind.WEEK, now=now, tz=invocation.services.config.team(team).tz)
    # computing can take longer than Slack's 3 s: ack, and answer through response_url
    task = partial(answers.report, response_url=invocation.response_url, team=team, period=period, now=now)
    invocation.answer_later("/kpi report", task, route=period)


def _scorecard(invocation: Invocation) -> None:
    _, period, error = _parse_args(invocation)
    if error:
        invocation.reply(error)
        return
    services, access = invocation.services, invocation.access
    zone = services.config.team(access.view_teams[0]).tz if access.view_teams else services.config.teams[0].tz
    period = period or Period.current(PeriodKind.QUARTER, now=services.clock(), tz=zone)
    task = partial(answers.scorecard, response_url=invocation.response_url, period=period, language=access.language)
    invocation.answer_later("/kpi scorecard", task, route=period)


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
