"""What a clicked button carries: the id of the row it acts on (a submission, a corrective action)."""

from __future__ import annotations

from typing import Any

#: Row ids are 64-bit integers from 1: a larger number would not even bind as a query parameter.
_MAX_ID = 2**63 - 1


def clicked_id(body: dict[str, Any]) -> int:
    """The id a button carries; 0 (no row has it) when the value, echoed by Slack or written by a forger,
    cannot be an id, so it is answered like any unknown id."""
    value = body["actions"][0].get("value")
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or int(value) > _MAX_ID:
        return 0
    return int(value)
