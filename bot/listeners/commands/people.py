"""``/kpi goals [period]`` (propose personal targets) and ``/kpi me [period] [@person]`` (a personal
scorecard, answered only to the person, their superiors, HR and admins, and only ephemerally)."""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING

from bot import answers
from bot.goal_forms import goal_period
from bot.people_views import goals_modal
from kpi_core import people_use_cases
from kpi_core.errors import PeriodError
from kpi_core.goals import position_kpis
from kpi_core.people import may_see_person, person_of, superior_of
from kpi_core.periods import Period
from kpi_core.person_scorecard import default_period

if TYPE_CHECKING:
    from bot.listeners.commands.kpi import Invocation

#: ``<@U123>``, ``<@U123|name>`` (a mention as Slack sends it) or a bare ``U123``
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$")


def goals(invocation: Invocation) -> None:
    services, user = invocation.services, invocation.access.user
    config, now = services.config, services.clock()
    person = person_of(config, user)
    if person is None:
        invocation.reply(invocation.localize("people.not_a_person"))
        return
    superior = superior_of(config, user)
    if superior is None:
        invocation.reply(invocation.localize("people.no_superior"))
        return
    if not position_kpis(config, user):
        invocation.reply(invocation.localize("people.no_kpis"))
        return
    label = invocation.args[0] if invocation.args else default_period(config, person, now=now).next().label
    period = goal_period(config, person, label, now=now)
    if not isinstance(period, Period):
        key, params = period
        invocation.reply(invocation.localize(key, **params))
        return
    invocation.ack()  # trigger_id lives 3 s: the modal reads one small table
    initial = people_use_cases.known_targets(services.engine, person=user, period=period)
    view = goals_modal(
        services, invocation.access.language, person=person, period=period, superior=superior, initial=initial
    )
    invocation.client.views_open(trigger_id=invocation.trigger_id, view=view)


def me(invocation: Invocation) -> None:
    services, viewer = invocation.services, invocation.access.user
    config = services.config
    subject, label = viewer, None
    for word in invocation.args:
        match = _USER.match(word)
        if match:
            subject = match[1] or match[2]
        else:
            label = word
    person = person_of(config, subject)
    if not may_see_person(config, viewer, subject):
        # the same answer whether or not the person exists: a refusal tells nothing of who is configured
        key = "people.not_a_person" if subject == viewer else "people.refused_person"
        invocation.reply(invocation.localize(key))
        return
    if person is None:
        invocation.reply(invocation.localize("people.unknown_person", user=subject))
        return
    try:
        period = Period.parse(label) if label else default_period(config, person, now=services.clock())
    except PeriodError:
        invocation.reply(invocation.localize("bad_period", text=label))
        return
    # computing the KPIs can take longer than Slack's 3 s: ack, and answer through response_url
    task = partial(
        answers.person_card,
        response_url=invocation.response_url,
        person=person,
        period=period,
        language=invocation.access.language,
    )
    invocation.answer_later("/kpi me", task, route=period)
