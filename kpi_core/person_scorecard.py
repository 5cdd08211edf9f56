"""One person's scorecard for a period: their position's KPIs against their agreed targets (position
performance), their latest review (personal performance), their team's score (team performance) and the
composite of the three by ``person_scorecard``'s weights. Who may see it is kpi_core.people's question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from kpi_core.config_schema import Config, Person, ScorecardItem
from kpi_core.isolation import NotFinite
from kpi_core.kpis import KpiResult, compute_person, compute_reports
from kpi_core.periods import Period
from kpi_core.review_hook import ReviewSummary, latest_review_summary
from kpi_core.scorecard import item_score, score_teams
from kpi_core.targets import person_targets

PARTS = ("position", "personal", "team")


@dataclass(frozen=True)
class PositionItem:
    kpi: str
    weight: float
    result: KpiResult  # ``target``: agreed, else planned (kpi_core/targets.py; None: neither, the item scores 0)
    score: float  # 0..100


@dataclass(frozen=True)
class PersonCard:
    """``composite`` weighs the parts that have a score; ``missing`` names those that have none (no review
    yet, a team that could not be computed) and were left out, the others' weights scaled up."""

    person: Person
    period: Period
    items: tuple[PositionItem, ...]
    position_score: float | None
    review: ReviewSummary | None
    team_scheme: str | None
    team_period: Period | None
    team_score: float | None
    composite: float | None
    missing: tuple[str, ...]


def default_period(config: Config, person: Person, *, now: datetime) -> Period:
    """The current period of the personal scorecard's kind, in the person's team's time zone."""
    return Period.current(config.person_scorecard.period, now=now, tz=config.team(person.team).tz)


def person_card(session: Session, *, config: Config, person: Person, period: Period) -> PersonCard:
    position = config.position_by_key[person.position]
    targets = person_targets(
        session, config=config, person=person.user, team=person.team, period=period, kpis=list(position.kpis)
    )
    items: list[PositionItem] = []
    try:
        results = compute_person(
            session, config=config, person=person, period=period, kpis=list(position.kpis), targets=targets
        )
    except NotFinite:  # a stored infinity: the position part is missing (and says so), never a wrong score
        results = {}
    for kpi_key, weight in position.kpis.items():
        if kpi_key not in results:
            continue
        result = results[kpi_key]
        scored = ScorecardItem(kpi=kpi_key, weight=weight)
        score = item_score(config.kpi_by_key[kpi_key], scored, value=result.value, target=result.target)
        items.append(PositionItem(kpi_key, weight, result, score))
    position_score = round(sum(item.score * item.weight / 100 for item in items), 6) if results else None
    review = latest_review_summary(session, config=config, user=person.user)
    team_scheme, team_period, team_score = _team_score(session, config, person, period)
    scores = {"position": position_score, "personal": review.score if review else None, "team": team_score}
    weights = {part: getattr(config.person_scorecard, part) for part in PARTS}
    present = [part for part in PARTS if scores[part] is not None and weights[part] > 0]
    total = sum(weights[part] for part in present)
    composite = None
    if total:
        composite = round(sum(weights[part] * (scores[part] or 0.0) for part in present) / total, 1)
    missing = tuple(part for part in PARTS if scores[part] is None and weights[part] > 0)
    return PersonCard(
        person, period, tuple(items), position_score, review, team_scheme, team_period, team_score, composite, missing
    )


def _team_score(
    session: Session, config: Config, person: Person, period: Period
) -> tuple[str | None, Period | None, float | None]:
    """The team's score in the configured team scorecard, for that scheme's period containing ``period``'s
    start (a monthly personal view of a quarterly team scheme takes the quarter)."""
    scheme_key = config.person_scorecard.team_scorecard or next(iter(config.scorecards), None)
    if scheme_key is None:
        return None, None, None
    scheme = config.scorecards[scheme_key]
    team_period = Period.containing(scheme.period, period.start)
    report = compute_reports(session, config=config, period=team_period, teams=[person.team])[person.team]
    if report.failure is not None:
        return scheme_key, team_period, None
    [scored] = score_teams(config, scheme_key, {person.team: report})
    return scheme_key, team_period, scored.score
