"""``/kpi alerts`` and ``/kpi actions`` as Block Kit messages: one section per open alert (value against
threshold, age, owner, snooze) or corrective action (owner, due date, overdue, root cause and action),
in pages that fit a message, at most as many as a response_url takes; a last page says what was left out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.alert_view import sentence
from bot.mrkdwn import Mrkdwn, mention
from bot.render import RESPONSE_URL_POSTS, format_value
from bot.services import Services
from kpi_core.access import Access
from kpi_core.actions import is_overdue
from kpi_core.alert_lifecycle import OpenAlert
from kpi_core.config_schema import Names
from kpi_core.models import CorrectiveAction

#: Items a message holds: a corrective action's section is at most about 700 characters (its texts are
#: cut to LIST_TEXT_CHARS), so 15 stay under Slack's ~12,000 characters of block text a message.
ITEMS_PER_MESSAGE = 15
LIST_TEXT_CHARS = 200
TEAMS_NAMED = 10  # more teams are counted in the title, not named


@dataclass(frozen=True)
class Item:
    text: Mrkdwn
    close_id: int | None = None  # a corrective action the user may close


def alert_pages(
    services: Services, access: Access, alerts: Sequence[OpenAlert], *, teams: Sequence[str]
) -> list[list[dict[str, Any]]]:
    now, language, config = services.clock(), access.language, services.config
    # an alert of a KPI since removed from the config is not listed: nothing could name it
    items = [Item(_alert_item(services, access, item, now)) for item in alerts if item.alert.kpi in config.kpi_by_key]
    return _pages(
        services, access, "alerts", items, teams=teams, empty=services.renderer.mrkdwn("alert_ops.no_alerts", language)
    )


def action_pages(
    services: Services, access: Access, actions: Sequence[CorrectiveAction], *, teams: Sequence[str]
) -> list[list[dict[str, Any]]]:
    now, config = services.clock(), services.config
    items = [
        Item(_action_item(services, access, action, now), action.id if action.team in access.alert_teams else None)
        for action in actions
        if action.kpi in config.kpi_by_key
    ]
    empty = services.renderer.mrkdwn("alert_ops.no_actions", access.language)
    return _pages(services, access, "actions", items, teams=teams, empty=empty)


def _pages(
    services: Services, access: Access, kind: str, items: list[Item], *, teams: Sequence[str], empty: Mrkdwn
) -> list[list[dict[str, Any]]]:
    renderer, language = services.renderer, access.language
    if len(teams) > TEAMS_NAMED:
        title = renderer.mrkdwn(f"alert_ops.{kind}_title_many", language, count=len(teams))
    else:
        names = [services.config.team(team).name for team in teams]
        joined = Names(en=", ".join(name.en for name in names), zh=", ".join(name.zh for name in names))
        title = sentence(services, f"alert_ops.{kind}_title", language, teams=joined)
    chunks = [items[start : start + ITEMS_PER_MESSAGE] for start in range(0, len(items), ITEMS_PER_MESSAGE)] or [[]]
    shown = chunks[:RESPONSE_URL_POSTS]
    left_out = len(items) - sum(len(chunk) for chunk in shown)
    pages = []
    for number, chunk in enumerate(shown, start=1):
        note = empty if not items else Mrkdwn("")
        if number == len(shown) and left_out:
            note = renderer.mrkdwn(f"alert_ops.more_{kind}", language, count=left_out)
        page_title = title if len(shown) == 1 else Mrkdwn(f"{title} ({number}/{len(shown)})")
        pages.append(renderer.blocks("followup_list", language=language, title=page_title, items=chunk, note=note))
    return pages


def _alert_item(services: Services, access: Access, item: OpenAlert, now: datetime) -> Mrkdwn:
    config, renderer, language = services.config, services.renderer, access.language
    alert, handling = item.alert, item.handling
    kpi = config.kpi_by_key[alert.kpi]
    unit = "h" if alert.case_id is not None else kpi.unit
    what = kpi.name
    if alert.case_id is not None:
        case_of = {
            code: renderer.text("alert_ops.alert_case", code, case=alert.case_id, kpi=kpi.name.in_language(code))
            for code in ("en", "zh")
        }
        what = Names(**case_of)
    line = sentence(
        services,
        "alert_ops.alert_line",
        language,
        icon="🔴",
        team=config.team(alert.team).name,
        what=what,
        value=format_value(alert.value, unit, no_data="–"),
        threshold=format_value(alert.threshold, unit, no_data="–"),
        age=age(now - alert.opened_at),
    )
    status = []
    if handling is not None and handling.owner:
        status.append(renderer.mrkdwn("alert_ops.owner", language, user=mention(handling.owner)))
    else:
        status.append(renderer.mrkdwn("alert_ops.unowned", language))
    if handling is not None and handling.acknowledged_by:
        status.append(renderer.mrkdwn("alert_ops.acknowledged_by", language, user=mention(handling.acknowledged_by)))
    else:
        status.append(renderer.mrkdwn("alert_ops.not_acknowledged", language))
    if handling is not None and handling.snoozed_until is not None and handling.snoozed_until > now:
        until = handling.snoozed_until.astimezone(config.team(alert.team).tz).strftime("%Y-%m-%d %H:%M %Z")
        status.append(renderer.mrkdwn("alert_ops.snoozed_until", language, until=until))
    return Mrkdwn(f"{line}\n{' · '.join(status)}")


def _action_item(services: Services, access: Access, action: CorrectiveAction, now: datetime) -> Mrkdwn:
    config, renderer, language = services.config, services.renderer, access.language
    overdue = is_overdue(action, config=config, now=now)
    icon = Names(en=renderer.text("alert_ops.overdue", "en"), zh=renderer.text("alert_ops.overdue", "zh"))
    line = sentence(
        services,
        "alert_ops.action_line",
        language,
        icon=icon if overdue else "•",
        id=action.id,
        team=config.team(action.team).name,
        kpi=config.kpi_by_key[action.kpi].name,
        owner=mention(action.owner),
        due=action.due_on.isoformat(),
    )
    # the texts are the user's own: shown once, under labels in the reader's first language
    texts = renderer.mrkdwn(
        "alert_ops.action_text",
        "en" if language == "both" else language,
        root_cause=_cut(action.root_cause),
        action=_cut(action.action),
    )
    lines = [line, texts]
    if action.note:
        note = "alert_ops.action_too_early" if action.note == "too_early" else "alert_ops.action_note"
        lines.append(renderer.mrkdwn(note, language, note=action.note))
    return Mrkdwn("\n".join(lines))


def _cut(text: str) -> str:
    return text if len(text) <= LIST_TEXT_CHARS else text[: LIST_TEXT_CHARS - 1] + "…"


def age(delta: timedelta) -> str:
    """``2 d 3 h``, ``3 h 20 min``, ``15 min``: how long an alert has been open."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
