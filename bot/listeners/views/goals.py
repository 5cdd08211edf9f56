"""Submitted personal-target modals (issue 11): a person's proposal (stored, then sent to their direct
superior with Approve / Adjust), and the superior's adjustment with its reason."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.goal_forms import REASON, parse_adjustment, parse_goals
from bot.listeners.actions.goals import tell_decision
from bot.listeners.context import access_of, localizer, message_localizer, services_of
from bot.listeners.views.submissions import view_key
from bot.modals import notice_modal
from bot.mrkdwn import mention
from bot.people_views import proposal_blocks
from kpi_core import people_use_cases
from kpi_core.goals import NothingPending, NotTheSuperior
from kpi_core.people import person_of, superior_of


def handle_goals(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    config, now = services.config, services.clock()
    person = person_of(config, access.user)
    superior = superior_of(config, access.user)
    if person is None or superior is None:  # removed from the config (or their superior) since the modal opened
        key = "people.not_a_person" if person is None else "people.no_superior"
        notice = notice_modal(services, access, title_key="people.goals_title", text=localizer(context)(key))
        ack(response_action="update", view=notice)
        return
    parsed, errors = parse_goals(view, config=config, person=person, now=now, localize=localizer(context))
    if parsed is None:
        ack(response_action="errors", errors=errors)
        return
    proposal = people_use_cases.propose_targets(
        services.engine,
        config=config,
        person=person,
        period=parsed.period,
        values=parsed.values,
        request_key=view_key(view),
        now=now,
    )
    ack()
    if proposal is None:  # a retry of a proposal stored already: its messages went out the first time
        return
    language = config.team(person.team).language
    blocks = proposal_blocks(
        services, language, person=person, period=parsed.period, values=proposal.values, stamp=proposal.stamp
    )
    client.chat_postMessage(channel=superior, text=f"{person.user} {parsed.period.label}", blocks=blocks)
    sent = message_localizer(context)("people.proposal_sent", period=parsed.period.label, superior=mention(superior))
    client.chat_postMessage(channel=person.user, text=sent)


def handle_adjust(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, access = services_of(context), access_of(context)
    config, now, localize = services.config, services.clock(), localizer(context)
    parsed, errors = parse_adjustment(view, config=config, now=now, localize=localize)
    if parsed is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        decision = people_use_cases.decide_targets(
            services.engine,
            config=config,
            person=parsed.person,
            period=parsed.period,
            user=access.user,
            stamp=parsed.stamp,
            adjusted=parsed.values,
            reason=parsed.reason,
            now=now,
        )
    except NotTheSuperior as refusal:
        message = localize("people.not_superior", person=parsed.person.user, superior=refusal.superior or "-")
        ack(response_action="errors", errors={REASON: message})
        return
    except NothingPending:
        ack(response_action="errors", errors={REASON: localize("people.decided_already")})
        return
    ack()
    tell_decision(context, client, person=parsed.person, period=parsed.period, decision=decision, reason=parsed.reason)
