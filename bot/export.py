"""Reports as plain data for ``kpi-bot report --format json|csv``: the one place a typed report becomes
the JSON shape the README documents, or CSV rows."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kpi_core.config import Config
from kpi_core.reporting import Report

CSV_COLUMNS = ("team", "period", "kpi", "value", "unit", "target", "status", "n")


def report_json(config: Config, report: Report) -> dict[str, Any]:
    """The JSON object of one team's report; each KPI carries its name, group, unit and direction from
    ``config`` so that the file reads on its own."""
    kpis = {}
    for key, result in report.kpis.items():
        kpi = config.kpi_by_key[key]
        kpis[key] = {
            "name": kpi.name.model_dump(),
            "group": kpi.group,
            "value": result.value,
            "unit": kpi.unit,
            "better": kpi.better,
            "target": result.target,
            "threshold": result.threshold,
            "status": result.status,
            "n": result.n,
            "details": dict(result.details),
        }
    return {
        "team": report.team,
        "period": report.period.label,
        "period_kind": report.period.kind.value,
        "period_start": report.period.start.isoformat(),
        "period_end": report.period.end.isoformat(),
        "kpis": kpis,
        "scorecard": {
            scheme: {
                "score": placement.score,
                "rank": placement.rank,
                "teams": placement.teams,
                "items": [asdict(item) for item in placement.items],
            }
            for scheme, placement in report.scorecard.items()
        },
        # a report that could not be computed has no KPIs and says why
        "failure": {"kind": report.failure.kind, "detail": report.failure.detail} if report.failure else None,
    }


def report_csv_rows(config: Config, report: Report) -> list[dict[str, Any]]:
    """One flat row per KPI, in ``CSV_COLUMNS``."""
    return [
        {
            "team": report.team,
            "period": report.period.label,
            "kpi": key,
            "value": result.value,
            "unit": config.kpi_by_key[key].unit,
            "target": result.target,
            "status": result.status,
            "n": result.n,
        }
        for key, result in report.kpis.items()
    ]
