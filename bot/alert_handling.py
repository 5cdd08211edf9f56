"""Redrawing an alert message after someone handled it: the message the ledger recorded for the alert is
edited (chat.update) to show who acknowledged and owns it and its snooze."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.alert_poster import alert_text
from bot.alert_view import alert_blocks
from bot.sender import NETWORK_ERRORS
from bot.services import Services
from kpi_core import ledger
from kpi_core.alert_lifecycle import handling_of

logger = logging.getLogger(__name__)


def redraw_alert(services: Services, client: WebClient, *, alert_id: int) -> None:
    """Edits the alert's message to its current handling; nothing for an alert not posted (held in quiet
    hours) or resolved (its message says so already)."""
    alert, handling, case = handling_of(services.engine, alert_id=alert_id)
    if alert is None or alert.resolved_at is not None:
        return
    posted = ledger.find(services.engine, key=ledger.delivery_key("alert", alert.team, str(alert.id)))
    if posted is None or posted.state != ledger.SENT or posted.channel is None or posted.ts is None:
        return
    text = "🔴 " + alert_text(services, alert, case)
    try:
        client.chat_update(
            channel=posted.channel,
            ts=posted.ts,
            text=text,
            blocks=alert_blocks(services, alert=alert, text=text, handling=handling),
        )
    except (SlackApiError, *NETWORK_ERRORS) as error:
        # the handling is stored either way; the next action redraws the message
        logger.warning("could not redraw alert %s of team %s: %s", alert.id, alert.team, error)
