"""An alert message with the buttons that handle it (acknowledge, assign, snooze, open a corrective
action) and the status line saying who acknowledged and owns it and until when it is snoozed."""

from __future__ import annotations

from typing import Any

from bot.mrkdwn import Mrkdwn, mention
from bot.services import Services
from kpi_core.alert_lifecycle import SNOOZES
from kpi_core.config import Language
from kpi_core.config_schema import Names
from kpi_core.models import Alert, AlertHandling

#: An alert's actions block is ``alert:<id>``: every element of it (a user picker has no value) is read
#: back to its alert through it.
BLOCK_PREFIX = "alert:"


def alert_blocks(
    services: Services, *, alert: Alert, text: str, handling: AlertHandling | None
) -> list[dict[str, Any]]:
    """The blocks of an open alert whose sentence is ``text`` (mrkdwn already: bot.alert_poster.alert_text)."""
    team = services.config.team(alert.team)
    return services.renderer.blocks(
        "alert",
        language=team.language,
        text=Mrkdwn(text),
        status=status_line(services, alert=alert, handling=handling),
        block_id=f"{BLOCK_PREFIX}{alert.id}",
        alert_id=alert.id,
        acknowledged=handling is not None and handling.acknowledged_at is not None,
        owner=handling.owner if handling else None,
        snoozes=list(SNOOZES),
    )


def status_line(services: Services, *, alert: Alert, handling: AlertHandling | None) -> Mrkdwn:
    """``Acknowledged by @a · owner @b · snoozed until 2026-10-01 09:00 CST``, or empty."""
    if handling is None:
        return Mrkdwn("")
    team = services.config.team(alert.team)
    renderer, language = services.renderer, team.language
    parts = []
    if handling.acknowledged_by:
        parts.append(renderer.mrkdwn("alert_ops.acknowledged_by", language, user=mention(handling.acknowledged_by)))
    if handling.owner:
        parts.append(renderer.mrkdwn("alert_ops.owner", language, user=mention(handling.owner)))
    if handling.snoozed_until is not None:
        until = handling.snoozed_until.astimezone(team.tz).strftime("%Y-%m-%d %H:%M %Z")
        parts.append(renderer.mrkdwn("alert_ops.snoozed_until", language, until=until))
    return Mrkdwn(" · ".join(parts))


def alert_id_of(block_id: object) -> int:
    """The alert an element of an alert message belongs to; 0 (no alert has it) for a block id that is
    not one of ours (forged)."""
    if not isinstance(block_id, str) or not block_id.startswith(BLOCK_PREFIX):
        return 0
    digits = block_id.removeprefix(BLOCK_PREFIX)
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 18 else 0


def sentence(services: Services, key: str, language: Language, **params: Any) -> Mrkdwn:
    """A strings.yaml message whose ``Names`` params (team, KPI) are given in the message's own language;
    for "both", the whole sentence in each language, so names are not doubled inside each half."""
    if language == "both":
        return Mrkdwn(f"{sentence(services, key, 'en', **params)} / {sentence(services, key, 'zh', **params)}")
    values = {
        name: value.in_language(language) if isinstance(value, Names) else value for name, value in params.items()
    }
    return services.renderer.mrkdwn(key, language, **values)
