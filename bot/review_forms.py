"""The review modals' submissions -> validated input, or field errors keyed by the input's block_id: the
rating (1-5 per competency and a comment), the peer nominations and the interview record."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.forms import Errors, Localize, State
from kpi_core.interviews import InterviewRecord
from kpi_core.review_models import COMMENT_CHARS

SCORE_PREFIX = "score:"
SCORES = {str(score): score for score in range(1, 6)}
_MAX_ID = 2**63 - 1
_USER_ID_CHARS = 32


@dataclass(frozen=True)
class RatingInput:
    assignment_id: int
    scores: dict[str, int]
    comment: str | None


def metadata_id(state: State, key: str) -> int:
    """An id from the modal's metadata; 0 (which no row has) when it came back as anything else."""
    value = state.metadata.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= _MAX_ID else 0


def long_text(
    state: State, errors: Errors, localize: Localize, block_id: str, *, required: bool, maximum: int = COMMENT_CHARS
) -> str | None:
    """Multi-line text: newlines and tabs are fine, other control characters (a NUL breaks PostgreSQL) not."""
    text = state.text(block_id)
    if text is None:
        if required:
            errors[block_id] = localize("errors.required")
        return None
    if len(text) > maximum:
        errors[block_id] = localize("errors.too_long", maximum=maximum, length=len(text))
    elif any(unicodedata.category(char) == "Cc" and char not in "\n\t" for char in text):
        errors[block_id] = localize("errors.control_character")
    return text


def parse_rating(
    view: dict[str, Any], *, competencies: list[str], localize: Localize
) -> tuple[RatingInput | None, Errors]:
    state = State(view)
    errors: Errors = {}
    scores = {}
    for key in competencies:
        score = SCORES.get(state.selected(SCORE_PREFIX + key) or "")
        if score is None:
            errors[SCORE_PREFIX + key] = localize("reviews.errors.pick_score")
        else:
            scores[key] = score
    comment = long_text(state, errors, localize, "comment", required=False)
    if errors:
        return None, errors
    return RatingInput(metadata_id(state, "assignment"), scores, comment), {}


def parse_peers(view: dict[str, Any], *, max_peers: int, localize: Localize) -> tuple[list[str] | None, Errors]:
    selected = State(view).values.get("peers", {}).get("value", {}).get("selected_users")
    if not isinstance(selected, list) or not selected:
        return None, {"peers": localize("errors.required")}
    if not all(isinstance(user, str) and 0 < len(user) <= _USER_ID_CHARS for user in selected):
        return None, {"peers": localize("errors.unreadable")}
    if len(selected) > max_peers:
        return None, {"peers": localize("reviews.errors.too_many_peers", count=max_peers)}
    return list(dict.fromkeys(selected)), {}


def parse_interview(view: dict[str, Any], *, today: date, localize: Localize) -> tuple[InterviewRecord | None, Errors]:
    state = State(view)
    errors: Errors = {}
    held_on = state.date("held_on")
    if held_on is None:
        errors["held_on"] = localize("errors.unreadable" if "held_on" in state.unreadable else "errors.required")
    elif held_on > today:
        errors["held_on"] = localize("reviews.errors.in_future")
    rating = SCORES.get(state.selected("rating") or "")
    if rating is None:
        errors["rating"] = localize("reviews.errors.pick_score")
    strengths = long_text(state, errors, localize, "strengths", required=True)
    plan = long_text(state, errors, localize, "development_plan", required=True)
    if errors or held_on is None or rating is None or strengths is None or plan is None:
        return None, errors
    return InterviewRecord(held_on=held_on, rating=rating, strengths=strengths, development_plan=plan), {}
