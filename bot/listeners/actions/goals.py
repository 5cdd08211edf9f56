"""The Approve / Adjust buttons of a personal-targets proposal (issue 11): only the person's direct superior
may use them; anyone else is told so, ephemerally, and nothing changes."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.goal_forms import decision_of
from bot.listeners.context import access_of, message_localizer, services_of
from bot.mrkdwn import mention
from bot.people_views import gaps_text, goals_modal
from kpi_core import people_use_cases
from kpi_core.config_schema import Person
from kpi_core.goals import NothingPending, NotTheSuperior
from kpi_core.people import superior_of
from kpi_core.people_use_cases import Decision
from kpi_core.periods import Period


def handle_approve(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    decided = _decision(body, context, respond)
    if decided is None:
        return
    person, period, stamp = decided
    try:
        decision = people_use_cases.decide_targets(
            services.engine,
            config=services.config,
            person=person,
            period=period,
            user=access.user,
            stamp=stamp,
            now=services.clock(),
        )
    except NotTheSuperior as refusal:
        _refuse(context, respond, person=person, superior=refusal.superior)
        return
    except NothingPending:
        respond(text=localize("people.decided_already"), replace_original=False)
        return
    done = localize("people.approved", superior=mention(access.user), person=mention(person.user), period=period.label)
    respond(text=done, replace_original=True)  # the buttons go: the proposal is decided
    tell_decision(context, client, person=person, period=period, decision=decision, reason=None)


def handle_adjust_open(
    ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext
) -> None:
    """Opens the adjustment modal for the direct superior, prefilled with the proposal."""
    ack()
    services, access, localize = services_of(context), access_of(context), message_localizer(context)
    decided = _decision(body, context, respond)
    if decided is None:
        return
    person, period, stamp = decided
    superior = superior_of(services.config, person.user)
    if access.user != superior:
        _refuse(context, respond, person=person, superior=superior)
        return
    proposal = people_use_cases.pending_proposal(services.engine, person=person.user, period=period)
    if proposal is None or proposal.stamp != stamp:
        respond(text=localize("people.decided_already"), replace_original=False)
        return
    view = goals_modal(
        services,
        access.language,
        person=person,
        period=period,
        superior=access.user,
        initial=proposal.values,
        adjusting=stamp,
    )
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _decision(body: dict[str, Any], context: BoltContext, respond: Respond) -> tuple[Person, Period, str] | None:
    """The person, period and stamp the clicked button carries; a forged or stale value is answered here."""
    decided = decision_of(services_of(context).config, body["actions"][0].get("value"))
    if decided is None:
        respond(text=message_localizer(context)("people.decided_already"), replace_original=False)
    return decided


def _refuse(context: BoltContext, respond: Respond, *, person: Person, superior: str | None) -> None:
    """Tells someone who is not the direct superior who is, only them (ephemeral: replace_original False)."""
    shown = mention(superior) if superior else "-"
    text = message_localizer(context)("people.not_superior", person=mention(person.user), superior=shown)
    respond(text=text, replace_original=False)


def tell_decision(
    context: BoltContext, client: WebClient, *, person: Person, period: Period, decision: Decision, reason: str | None
) -> None:
    """Tells the person what was agreed, and the superior whether the team's targets now add up."""
    services, access = services_of(context), access_of(context)
    config, renderer = services.config, services.renderer
    language = config.team(person.team).language
    superior = mention(access.user)
    if reason is None:
        told = renderer.mrkdwn("people.your_approved", language, superior=superior, period=period.label)
    else:
        targets = ", ".join(
            f"{config.kpi_by_key[key].name.in_language(language)} {value:g}" for key, value in decision.agreed.items()
        )
        told = renderer.mrkdwn(
            "people.your_adjusted", language, superior=superior, period=period.label, targets=targets, reason=reason
        )
    # the superior's mention and the period are ours; the reason is user text and escaped by mrkdwn()
    client.chat_postMessage(channel=person.user, text=told)
    if reason is not None:
        note = message_localizer(context)(
            "people.adjusted", superior=superior, person=mention(person.user), period=period.label, reason=reason
        )
        client.chat_postMessage(channel=access.user, text=note)
    gaps = gaps_text(renderer, config, access.language, team=person.team, period=period, gaps=decision.gaps)
    if gaps:
        client.chat_postMessage(channel=access.user, text=gaps)
