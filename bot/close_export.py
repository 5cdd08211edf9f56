"""A closed period's results as plain data: HR's results file (CSV) and ``kpi-bot export results``
(CSV or JSON). The one place frozen results become rows; pay factors and persons leave the bot only here."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from kpi_core.close_scoring import ClosedResult
from kpi_core.config import Config
from kpi_core.period_close import Revision

RESULT_COLUMNS = (
    "period",
    "revision",
    "subject_kind",
    "subject",
    "name",
    "team",
    "score",
    "rank",
    "grade",
    "pay_factor",
    "rewards",
    "appeal_state",
    "verified_share",
)


def subject_name(config: Config, result: ClosedResult) -> str:
    """A team's English name, a person's configured name (or their user id when it has none)."""
    if result.subject_kind == "team":
        team = config.team_by_key.get(result.subject)
        return team.name.en if team else result.subject
    person = config.person_by_user.get(result.subject)
    return (person.name if person else None) or result.subject


def result_rows(
    config: Config, results: Sequence[ClosedResult], *, appeal_states: Mapping[tuple[str, str], str]
) -> list[dict[str, Any]]:
    """One row per team and person, in ``RESULT_COLUMNS``; ``appeal_states`` by (subject kind, subject)."""
    return [
        {
            "period": result.period,
            "revision": result.revision,
            "subject_kind": result.subject_kind,
            "subject": result.subject,
            "name": subject_name(config, result),
            "team": result.team,
            "score": result.score,
            "rank": result.rank,
            "grade": result.grade,
            "pay_factor": result.pay_factor,
            "rewards": "; ".join(reward["en"] for reward in result.rewards),
            "appeal_state": appeal_states.get((result.subject_kind, result.subject)),
            "verified_share": None if result.verified_share is None else round(result.verified_share, 4),
        }
        for result in results
    ]


def results_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def results_json(revision: Revision, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {
        "period": revision.period,
        "revision": revision.revision,
        "revision_kind": revision.kind,
        "scorecard": revision.scheme,
        "made_by": revision.made_by,
        "made_at": revision.made_at.isoformat(),
        "reason": revision.reason,
        "results": list(rows),
    }
