"""``/kpi away [<@user>] 2026-10-01..2026-10-07``: a lead records their absence (an admin any lead's), so
their reminders and escalations go to a stand-in; ``/kpi away`` lists them, ``/kpi away cancel`` ends them."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from bot.mrkdwn import Mrkdwn, mention
from kpi_core import absence

if TYPE_CHECKING:
    from bot.listeners.commands.kpi import Invocation

_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]{0,80})?>$")


def away(invocation: Invocation) -> None:
    services, access = invocation.services, invocation.access
    config = services.config
    args = invocation.args
    user = access.user
    if args and _MENTION.match(args[0]):
        mentioned = _MENTION.match(args[0])
        assert mentioned is not None
        if access.role != "admin" and mentioned[1] != access.user:
            invocation.reply(invocation.localize("calendars.away_refused"))
            return
        user, args = mentioned[1], args[1:]
    led = [team for team in config.teams if user in team.leads]
    if not led:
        key = "calendars.away_not_a_lead" if user != access.user else "calendars.away_refused"
        invocation.reply(invocation.localize(key, user=mention(user)))
        return
    today = services.clock().astimezone(led[0].tz).date()
    if not args:
        _list(invocation, user, today)
    elif args == ["cancel"]:
        count = absence.cancel_absences(services.engine, user=user, today=today)
        invocation.reply(invocation.localize("calendars.away_cancelled", count=count))
    elif len(args) == 1:
        _record(invocation, user, args[0], today)
    else:
        invocation.reply(invocation.localize("calendars.away_usage"))


def _record(invocation: Invocation, user: str, text: str, today: date) -> None:
    services = invocation.services
    days = absence.parse_days(text[:64], today=today)
    if isinstance(days, absence.DaysProblem):
        invocation.reply(invocation.localize(f"calendars.away_errors.{days.code}", text=days.text[:64]))
        return
    first, last = days
    absence.record_absence(
        services.engine,
        user=user,
        first_day=first,
        last_day=last,
        recorded_by=invocation.access.user,
        now=services.clock(),
    )
    stand_ins = absence.stand_ins_for(services.engine, config=services.config, user=user, on=first)
    named = [mention(stand_in) for stand_in in stand_ins]
    key = "calendars.away_recorded" if user == invocation.access.user else "calendars.away_recorded_for"
    invocation.reply(
        invocation.localize(
            key,
            user=mention(user),
            first=first.isoformat(),
            last=last.isoformat(),
            stand_ins=Mrkdwn(", ".join(named)) if named else invocation.localize("calendars.away_nobody"),
        )
    )


def _list(invocation: Invocation, user: str, today: date) -> None:
    absences = absence.upcoming_absences(invocation.services.engine, user=user, today=today)
    if not absences:
        invocation.reply(invocation.localize("calendars.away_none"))
        return
    days = ", ".join(f"{item.first_day.isoformat()}..{item.last_day.isoformat()}" for item in absences)
    invocation.reply(invocation.localize("calendars.away_list", days=days))
