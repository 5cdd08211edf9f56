"""The appeal modals: built from templates/views/appeal*.json.j2, and their submissions -> validated input,
or field errors keyed by the input's block_id (the item, the reason, the evidence links, a corrected value)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.appeals import AppealMessenger, answer_value
from bot.forms import Errors, Localize, State
from bot.modals import option_text
from bot.review_forms import long_text
from kpi_core import rules
from kpi_core.appeal_models import REASON_CHARS, Appeal
from kpi_core.appeals import DECISION_REASON_CHARS, LINK_CHARS, MAX_LINKS, link_problem
from kpi_core.config import Language
from kpi_core.period_close import ClosedResult

#: the decisions a button asks for, by the state they move the appeal to
DECISIONS = {"take_up": "under_review", "uphold": "upheld", "reject": "rejected"}
EVIDENCE_CHARS = MAX_LINKS * (LINK_CHARS + 1)


@dataclass(frozen=True)
class AppealInput:
    item: str
    reason: str
    evidence: list[str]


@dataclass(frozen=True)
class DecisionInput:
    reason: str
    corrected_value: float | None


def appeal_modal(messenger: AppealMessenger, result: ClosedResult, *, language: Language) -> dict[str, Any]:
    renderer = messenger.services.renderer
    names = {kpi.key: kpi.name.in_language(language) for kpi in messenger.services.config.kpis}
    intro = renderer.mrkdwn(
        "appeals.modal_intro",
        language,
        period=result.period,
        subject=messenger.subject_name(result.subject_kind, result.subject, language),
    )
    return renderer.view(
        "appeal",
        language=language,
        metadata={"answer": answer_value(result.period, result.subject_kind, result.subject)},
        intro=intro,
        items=[(key, option_text(names.get(key, key))) for key in list(result.items)[:100]],
        reason_chars=REASON_CHARS,
        evidence_chars=EVIDENCE_CHARS,
        max_links=MAX_LINKS,
    )


def decision_modal(messenger: AppealMessenger, appeal: Appeal, *, decision: str, to: str) -> dict[str, Any]:
    """``decision``: take_up, uphold or reject; the modal shows the appeal as the deciders' DM does."""
    language = messenger.reviews.language(to)
    return messenger.services.renderer.view(
        "appeal_decision",
        language=language,
        metadata={"appeal": appeal.id, "decision": decision},
        intro=messenger.appeal_text(appeal, to),
        to=decision,
        reason_chars=DECISION_REASON_CHARS,
    )


def parse_appeal(view: dict[str, Any], *, items: list[str], localize: Localize) -> tuple[AppealInput | None, Errors]:
    state = State(view)
    errors: Errors = {}
    item = state.selected("item")
    if item is None:
        errors["item"] = localize("errors.required")
    elif item not in items:
        errors["item"] = localize("errors.unreadable")
    reason = long_text(state, errors, localize, "reason", required=True, maximum=REASON_CHARS)
    evidence = (state.text("evidence") or "").split()
    bad = next((link for link in evidence if link_problem(link)), None)
    if len(evidence) > MAX_LINKS:
        errors["evidence"] = localize("appeals.errors.too_many_links", count=MAX_LINKS)
    elif bad is not None:
        errors["evidence"] = localize("appeals.errors.bad_link", link=bad[:60])
    if errors or item is None or reason is None:
        return None, errors
    return AppealInput(item, reason, list(dict.fromkeys(evidence))), {}


def parse_decision(view: dict[str, Any], *, decision: str, localize: Localize) -> tuple[DecisionInput | None, Errors]:
    state = State(view)
    errors: Errors = {}
    corrected: float | None = None
    if decision == "uphold":
        text = state.text("corrected_value")
        if text is None:
            errors["corrected_value"] = localize("errors.required")
        else:
            parsed = rules.number(text, rules.Bounds(minimum=None))
            if isinstance(parsed, rules.Problem):
                errors["corrected_value"] = localize(f"errors.{parsed.code}", **dict(parsed.params))
            else:
                corrected = parsed
    reason = long_text(state, errors, localize, "reason", required=True, maximum=DECISION_REASON_CHARS)
    if errors or reason is None:
        return None, errors
    return DecisionInput(reason, corrected), {}


def decision_of(state: State) -> str:
    """The decision a modal's metadata names; "" when it came back as anything else."""
    decision = state.metadata.get("decision")
    return decision if isinstance(decision, str) and decision in DECISIONS else ""
