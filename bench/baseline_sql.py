"""The baseline of bench/compute.py: the SQL a competent engineer would hand-write on PostgreSQL for the
same outputs as ``compute_reports`` (every KPI's value, ``n`` and details, every team, one period) of the
example config, and the few lines of Python that turn its rows into those outputs.

Four statements over a raw DBAPI cursor, one per kind of data and every team at once: a single time
pre-filter on the period's widest UTC bounds, each team's own bounds joined in as a VALUES list that
carries an integer team key to group by, ``date_part`` epoch arithmetic, one
``percentile_cont(ARRAY[0.5, 0.9])`` per group, and only the comparison measures the KPIs need (the
previous period's ``output`` and ``sales``, the year-ago ``sales``). Written for the example config's
KPIs; ``check_config`` refuses any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.resources import EXAMPLE_CONFIG
from kpi_core.config import Config, load_config
from kpi_core.periods import Period

Outputs = dict[str, dict[str, tuple[float | None, int, dict[str, Any]]]]  # team -> kpi -> (value, n, details)

#: case kind -> (end column, within hours) of the example's response_time and feedback_handling
CASE_ENDS = {"after_sales": ("first_response_at", 4.0), "feedback": ("resolved_at", 48.0)}
#: (period index, measures) beyond the current period: 1 = previous, 2 = a year ago
COMPARED = {1: ("output", "sales"), 2: ("sales",)}


def check_config(config: Config) -> None:
    example = load_config(EXAMPLE_CONFIG)
    if [(kpi.key, kpi.formula, kpi.report_growth) for kpi in config.kpis] != [
        (kpi.key, kpi.formula, kpi.report_growth) for kpi in example.kpis
    ]:
        raise SystemExit("the hand-written baseline computes the example config's KPIs only")


@dataclass
class _Team:
    measures: dict[tuple[int, str], tuple[float, float, int]] = field(default_factory=dict)  # sum, avg, rows
    last: dict[str, float] = field(default_factory=dict)
    survey: tuple[int, float, int] | None = None
    cases: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    milestones: tuple[Any, ...] | None = None


class Baseline:
    def __init__(self, config: Config, period: Period) -> None:
        check_config(config)
        self.teams = [team.key for team in config.teams]
        self.periods = [period, period.previous(), period.year_ago()]
        self.period = period
        # Each team's UTC bounds, by integer key; the widest span is the single pre-filter.
        self.bounds = [(index, team.key, *period.utc_bounds(team.tz)) for index, team in enumerate(config.teams)]
        self.start = min(row[2] for row in self.bounds)
        self.end = max(row[3] for row in self.bounds)
        self.team_values = ", ".join(["(%s, %s, %s::timestamptz, %s::timestamptz)"] * len(self.bounds))
        self.team_params = [value for row in self.bounds for value in row]

    def run(self, connection: Any) -> Outputs:
        cursor = connection.cursor()
        try:
            data = [_Team() for _ in self.teams]
            self._measures(cursor, data)
            self._survey(cursor, data)
            self._cases(cursor, data)
            self._milestones(cursor, data)
        finally:
            cursor.close()
            connection.rollback()
        return {key: outputs(team) for key, team in zip(self.teams, data, strict=True)}

    def _measures(self, cursor: Any, data: list[_Team]) -> None:
        periods = ", ".join(["(%s, %s::date, %s::date)"] * len(self.periods))
        period_params = [value for index, p in enumerate(self.periods) for value in (index, p.start, p.end)]
        compared = " OR ".join(
            f"(p.id = {index} AND m.measure IN ({', '.join(repr(name) for name in names)}))"
            for index, names in COMPARED.items()
        )
        cursor.execute(
            f"""
            WITH teams (id, team) AS (SELECT * FROM (VALUES {", ".join(["(%s, %s)"] * len(self.teams))}) v),
                 periods (id, lo, hi) AS (VALUES {periods})
            SELECT t.id, p.id, m.measure, sum(m.value), avg(m.value), count(*)
            FROM measure_value m
            JOIN teams t ON t.team = m.team
            JOIN periods p ON m.on_date >= p.lo AND m.on_date < p.hi
            WHERE m.on_date >= %s AND m.on_date < %s AND (p.id = 0 OR {compared})
            GROUP BY t.id, p.id, m.measure""",
            [value for row in enumerate(self.teams) for value in row]
            + period_params
            + [min(p.start for p in self.periods), max(p.end for p in self.periods)],
        )
        for team, period, measure, total, mean, rows in cursor.fetchall():
            data[team].measures[(period, measure)] = (float(total), float(mean), rows)
        cursor.execute(
            f"""
            WITH teams (id, team) AS (SELECT * FROM (VALUES {", ".join(["(%s, %s)"] * len(self.teams))}) v)
            SELECT DISTINCT ON (t.id, m.measure) t.id, m.measure, m.value
            FROM measure_value m JOIN teams t ON t.team = m.team
            WHERE m.on_date >= %s AND m.on_date < %s AND m.measure IN ('liabilities', 'assets')
            ORDER BY t.id, m.measure, m.on_date DESC, m.id DESC""",
            [value for row in enumerate(self.teams) for value in row] + [self.period.start, self.period.end],
        )
        for team, measure, value in cursor.fetchall():
            data[team].last[measure] = float(value)

    def _survey(self, cursor: Any, data: list[_Team]) -> None:
        cursor.execute(
            f"""
            WITH teams (id, team, lo, hi) AS (VALUES {self.team_values})
            SELECT t.id, count(*), avg(s.score), count(*) FILTER (WHERE s.score >= 4)
            FROM survey_response s JOIN teams t ON t.team = s.team
            WHERE s.submitted_at >= %s AND s.submitted_at < %s AND s.submitted_at >= t.lo AND s.submitted_at < t.hi
            GROUP BY t.id""",
            [*self.team_params, self.start, self.end],
        )
        for team, responses, mean, top in cursor.fetchall():
            data[team].survey = (responses, float(mean), top)

    def _cases(self, cursor: Any, data: list[_Team]) -> None:
        end = " ".join(f"WHEN '{kind}' THEN {column}" for kind, (column, _) in CASE_ENDS.items())
        within = " ".join(f"WHEN '{kind}' THEN {hours}" for kind, (_, hours) in CASE_ENDS.items())
        cursor.execute(
            f"""
            WITH teams (id, team, lo, hi) AS (VALUES {self.team_values}),
            cases AS (
                SELECT team, kind, raised_at,
                       date_part('epoch', CASE kind {end} END - raised_at) / 3600.0 AS hours,
                       CASE kind {within} END AS within
                FROM customer_case WHERE raised_at >= %s AND raised_at < %s
            )
            SELECT t.id, c.kind, count(*), count(c.hours), avg(c.hours),
                   percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY c.hours),
                   count(*) FILTER (WHERE c.hours <= c.within)
            FROM cases c JOIN teams t ON t.team = c.team
            WHERE c.raised_at >= t.lo AND c.raised_at < t.hi
            GROUP BY t.id, c.kind""",
            [*self.team_params, self.start, self.end],
        )
        for team, kind, *stats in cursor.fetchall():
            data[team].cases[kind] = tuple(stats)

    def _milestones(self, cursor: Any, data: list[_Team]) -> None:
        cursor.execute(
            f"""
            WITH teams (id, team) AS (SELECT * FROM (VALUES {", ".join(["(%s, %s)"] * len(self.teams))}) v)
            SELECT t.id, count(*), count(m.completed_on),
                   count(*) FILTER (WHERE m.completed_on <= m.due_on),
                   coalesce(sum(m.completed_on - m.due_on) FILTER (WHERE m.completed_on > m.due_on), 0),
                   count(*) FILTER (WHERE m.actual_cost IS NOT NULL AND m.budget IS NOT NULL),
                   coalesce(sum(m.budget) FILTER (WHERE m.actual_cost IS NOT NULL AND m.budget IS NOT NULL), 0),
                   coalesce(sum(m.actual_cost) FILTER (WHERE m.actual_cost IS NOT NULL AND m.budget IS NOT NULL), 0)
            FROM milestone m JOIN teams t ON t.team = m.team
            WHERE m.due_on >= %s AND m.due_on < %s
            GROUP BY t.id""",
            [value for row in enumerate(self.teams) for value in row] + [self.period.start, self.period.end],
        )
        for team, *stats in cursor.fetchall():
            data[team].milestones = tuple(stats)


# --- rows to outputs, by hand for the example's KPIs ---------------------------------------------------


def _growth(now: float | None, before: float | None) -> float | None:
    return None if now is None or not before else (now - before) / abs(before) * 100


def outputs(team: _Team) -> dict[str, tuple[float | None, int, dict[str, Any]]]:
    def total(name: str, period: int = 0) -> float | None:
        row = team.measures.get((period, name))
        return None if row is None else row[0]

    def mean(name: str) -> float | None:
        row = team.measures.get((0, name))
        return None if row is None else row[1]

    def rows(*names: str) -> int:
        return sum(team.measures[(0, name)][2] for name in names if (0, name) in team.measures)

    def minus(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else a - b

    def ratio(numerator: float | None, denominator: float | None, scale: float, n: int) -> tuple[Any, ...]:
        value = numerator / denominator * scale if numerator is not None and denominator else None
        return value, n, {"numerator": numerator, "denominator": denominator}

    def last(name: str) -> float | None:
        return team.last.get(name)

    out: dict[str, tuple[float | None, int, dict[str, Any]]] = {
        "on_time_delivery": ratio(total("on_time_orders"), total("orders"), 100, rows("on_time_orders", "orders")),
        "complaint_rate": ratio(total("complaints"), total("orders"), 100, rows("complaints", "orders")),
        "production_cost_rate": ratio(
            total("production_cost"), total("production_value"), 100, rows("production_cost", "production_value")
        ),
        "labor_cost_rate": ratio(
            total("labor_cost"), total("operating_revenue"), 100, rows("labor_cost", "operating_revenue")
        ),
        "inventory_turnover": ratio(total("cogs"), mean("inventory"), 1, rows("cogs", "inventory")),
        "opex_share": ratio(total("operating_cost"), total("total_cost"), 100, rows("operating_cost", "total_cost")),
        "budget_variance": ratio(
            minus(total("operating_cost"), total("operating_budget")),
            total("operating_budget"),
            100,
            rows("operating_cost", "operating_budget"),
        ),
        "output_per_head": ratio(total("output"), mean("headcount"), 1, rows("output", "headcount")),
        "resource_utilization": ratio(
            total("actual_capacity"), total("design_capacity"), 100, rows("actual_capacity", "design_capacity")
        ),
        "roi": ratio(
            minus(total("investment_return"), total("investment_cost")),
            total("investment_cost"),
            100,
            rows("investment_return", "investment_cost"),
        ),
        "debt_to_asset": ratio(last("liabilities"), last("assets"), 100, rows("liabilities", "assets")),
    }
    output_now, output_before = total("output"), total("output", 1)
    out["productivity_growth"] = (
        _growth(output_now, output_before),
        rows("output"),
        {"current": output_now, "previous": output_before},
    )
    sales = total("sales")
    out["sales"] = (
        sales,
        rows("sales"),
        {
            "growth_vs_previous_pct": _growth(sales, total("sales", 1)),
            "growth_vs_year_ago_pct": _growth(sales, total("sales", 2)),
        },
    )
    if team.survey is None:
        out["csat"] = (None, 0, {"responses": 0, "mean_score": None, "share_top_pct": None})
    else:
        responses, mean_score, top = team.survey
        share = top / responses * 100
        out["csat"] = (
            mean_score,
            responses,
            {"responses": responses, "mean_score": mean_score, "share_top_pct": share},
        )
    for key, kind in (("response_time", "after_sales"), ("feedback_handling", "feedback")):
        if kind not in team.cases:
            out[key] = (None, 0, {"cases": 0, "open_cases": 0})
            continue
        cases, ended, mean_hours, percentiles, within = team.cases[kind]
        median, p90 = percentiles or (None, None)
        details = {
            "cases": cases,
            "open_cases": cases - ended,
            "median_hours": median,
            "p90_hours": p90,
            "mean_hours": float(mean_hours) if ended else None,
            "within_hours": CASE_ENDS[kind][1],
            "share_within_pct": within / cases * 100,
        }
        out[key] = (median, cases, details)
    if team.milestones is None:
        for key in ("milestone_on_time", "schedule_slip", "project_cost_variance"):
            out[key] = (None, 0, {"due": 0})
    else:
        due, completed, on_time, slip, costed, budget, actual = team.milestones
        details = {"due": due, "completed": completed, "on_time": on_time}
        out["milestone_on_time"] = (on_time / due * 100, due, details)
        out["schedule_slip"] = (float(slip) / completed if completed else None, completed, details)
        variance = (float(actual) - float(budget)) / float(budget) * 100 if costed and budget else None
        out["project_cost_variance"] = (
            variance,
            costed,
            details | {"budget": float(budget), "actual_cost": float(actual)},
        )
    return out
