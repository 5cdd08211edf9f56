"""Submitted review modals: the rating, the peer nominations, the interview record. Field errors go back
on their input; a refusal that no field explains (someone else's form, a closed cycle) turns the modal
into a notice, and nothing is stored."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.forms import State
from bot.listeners.context import (
    access_of,
    after_ack,
    localizer,
    message_localizer,
    review_refusal,
    reviews_of,
    services_of,
)
from bot.listeners.views.submissions import view_key
from bot.modals import notice_modal
from bot.mrkdwn import mention
from bot.review_forms import metadata_id, parse_interview, parse_peers, parse_rating
from kpi_core import review_use_cases as use
from kpi_core.errors import ReviewError
from kpi_core.people import superior_of
from kpi_core.review_cycles import zone_of

#: refusals of a nomination that the peers field explains
_PEER_PROBLEMS = ("bad_peer", "too_many_peers", "not_a_person")


def _notice(ack: Ack, context: BoltContext, title_key: str, error: ReviewError) -> None:
    notice = notice_modal(
        services_of(context), access_of(context), title_key=title_key, text=review_refusal(context, error)
    )
    ack(response_action="update", view=notice)


def _thank(client: WebClient, context: BoltContext, key: str, **params: Any) -> None:
    client.chat_postMessage(channel=access_of(context).user, text=message_localizer(context)(key, **params))


def handle_rating(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, user = services_of(context), access_of(context).user
    assignment_id = metadata_id(State(view), "assignment")
    try:
        form = use.rater_form(
            services.engine, config=services.config, assignment_id=assignment_id, rater=user, now=services.clock()
        )
    except ReviewError as error:
        _notice(ack, context, "reviews.title", error)
        return
    parsed, errors = parse_rating(view, competencies=form.competencies, localize=localizer(context))
    if parsed is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        replaced = use.submit_answer(
            services.engine,
            config=services.config,
            request_key=view_key(view),
            assignment_id=assignment_id,
            rater=user,
            scores=parsed.scores,
            comment=parsed.comment,
            now=services.clock(),
        )
    except ReviewError as error:
        _notice(ack, context, "reviews.title", error)
        return
    ack()
    if replaced is not None:  # None: a retry of a request already stored and thanked for
        _thank(
            client,
            context,
            "reviews.rated_again" if replaced else "reviews.rated",
            person=mention(form.assignment.subject),
        )


def handle_peers(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, user, messenger = services_of(context), access_of(context).user, reviews_of(context)
    peers, errors = parse_peers(view, max_peers=services.config.reviews.max_peers, localize=localizer(context))
    if peers is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        cycle, pending = use.nominate(
            services.engine,
            config=services.config,
            cycle_id=metadata_id(State(view), "cycle"),
            subject=user,
            peers=peers,
            now=services.clock(),
        )
    except ReviewError as error:
        if error.reason in _PEER_PROBLEMS:
            ack(response_action="errors", errors={"peers": review_refusal(context, error)})
        else:
            _notice(ack, context, "reviews.peers_title", error)
        return
    ack()
    if pending:
        superior = superior_of(services.config, user)
        _thank(client, context, "reviews.nominated", superior=mention(superior or "-"))
        after_ack(context, "review nominations", lambda: messenger.ask_approval(cycle, user, pending))
    else:
        _thank(client, context, "reviews.nominated_active")
        after_ack(context, "review nominations", messenger.send_requests)


def handle_interview(ack: Ack, view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services, user, messenger = services_of(context), access_of(context).user, reviews_of(context)
    interview_id = metadata_id(State(view), "interview")
    try:
        interview, cycle = use.interview(services.engine, interview_id=interview_id, user=user)
        if user == interview.subject:
            raise ReviewError(reason="not_yours")
    except ReviewError as error:
        _notice(ack, context, "reviews.interview_title", error)
        return
    today = services.clock().astimezone(zone_of(services.config, user)).date()
    record, errors = parse_interview(view, today=today, localize=localizer(context))
    if record is None:
        ack(response_action="errors", errors=errors)
        return
    try:
        stored = use.record_interview(
            services.engine,
            request_key=view_key(view),
            interview_id=interview_id,
            user=user,
            record=record,
            now=services.clock(),
        )
    except ReviewError as error:
        _notice(ack, context, "reviews.interview_title", error)
        return
    ack()
    if stored is None:
        return
    other = next((holder for holder in (stored.superior, stored.second_superior) if holder and holder != user), None)
    _thank(client, context, "reviews.recorded", person=mention(stored.subject), other=mention(other or stored.subject))
    after_ack(context, "interview record", lambda: messenger.after_record(stored, cycle))
