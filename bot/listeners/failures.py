"""The answer to a request whose listener failed before acknowledging it: a polite message, not Bolt's 500.

Every write a listener makes before its ack runs in one transaction, which an exception rolls back, so
"nothing was stored" holds. After the ack Bolt has answered already; the error is only logged.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import BoltContext, BoltResponse

from bot.services import Services
from kpi_core.access import Access
from kpi_core.config import Language


def polite_failure(body: dict[str, Any], context: BoltContext) -> BoltResponse:
    services: Services | None = context.get("services")
    if services is None:  # failed before our middleware ran: there is no renderer to say more with
        return BoltResponse(status=200, body="")
    access: Access | None = context.get("access")
    language: Language = access.language if access is not None else "both"
    if body.get("type") == "view_submission":
        view = services.renderer.view("failed", language=language)
        return BoltResponse(status=200, body={"response_action": "update", "view": view})
    if "command" in body:
        text = services.renderer.text("failed_text", language)
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
    return BoltResponse(status=200, body="")
