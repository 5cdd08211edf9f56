"""What a clicked button carries: the id of the row it acts on (a submission, a corrective action)."""

from __future__ import annotations

from typing import Any

from bot.forms import as_id


def clicked_id(body: dict[str, Any]) -> int:
    """The id a button carries; 0 (no row has it) when the value, echoed by Slack or written by a forger,
    cannot be an id, so it is answered like any unknown id."""
    return as_id(body["actions"][0].get("value"))
