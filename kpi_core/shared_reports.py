"""Reports computed once per period and shared by every team and the rankings, invalidated precisely.

One entry per period holds the teams' computed KPIs, the scorecard rankings of the period (when a scheme
ranks that kind of period, every team is computed at once: the ranks need them all) and each team's
report. A request reads the data version (kpi_core.store); when it moved, the changes of the writes in
between (DataChange) say which teams' data on which dates changed, and only those teams are recomputed,
in the periods that depend on those dates (the period itself, the previous one and the one a year
before, which growth figures compare with); the ranks of such a period are scored again. Concurrent
requests for one period wait for a single computation; requests for different periods run side by side.

``results`` keeps bare computed KPIs the same way, per period and set of KPIs, for callers that need many
periods of a few KPIs: the year to date's months (kpi_core.plan_progress), which stay as they are until
a write touches them, so a digest run recomputes only the months and teams that changed.

Up to ``MAX_PERIODS`` periods of each kind are kept (least recently used first out): the anomaly scan
(kpi_core.anomaly_scan) reads its week and the ``FULL_HISTORY`` weeks before it once for every team's
weekly digest, so the cache holds that many weeks and a few more, and weeks never evict months or quarters.
A process that fell behind the pruned change log (kpi_core.data_changes.prune) recomputes what it holds.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlmodel import Session

from kpi_core.anomalies import FULL_HISTORY
from kpi_core.config import Config
from kpi_core.data_changes import changes_since, data_version
from kpi_core.kpis import TeamReport, compute_reports
from kpi_core.models import DataChange
from kpi_core.periods import Period, PeriodKind
from kpi_core.reporting import Rankings, Report, report_of, schemes_for
from kpi_core.scorecard import TeamScore

_K = TypeVar("_K", Period, tuple[Period, frozenset[str]])

#: periods of each kind kept: the anomaly scan's weeks (FULL_HISTORY and the judged one) and the weeks a
#: report or digest asks for around them; an LRU cache smaller than a scan that is repeated in the same
#: order (each team's digest) would miss every time
MAX_PERIODS = FULL_HISTORY + 1 + 8


@dataclass
class _Entry:
    config: Config
    version: int
    ranked: bool  # a scheme ranks this kind of period: every team is computed
    computed: dict[str, TeamReport] = field(default_factory=dict)
    schemes: dict[str, list[TeamScore]] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SharedReports:
    """Team reports and rankings per period, computed once and kept until a write touches them. The data
    version and the change log are read from the database, so replicas agree on what is stale."""

    def __init__(self, *, max_periods: int = MAX_PERIODS) -> None:
        self._entries: dict[PeriodKind, OrderedDict[Period, _Entry]] = {}
        # apart, so a digest's many months of a few KPIs and the reports' periods do not evict each other
        self._subsets: dict[PeriodKind, OrderedDict[tuple[Period, frozenset[str]], _Entry]] = {}
        self._max_periods = max_periods
        self._lock = threading.Lock()  # guards the entries; each entry's own lock guards its computation
        #: how many teams were computed in each period (both kinds of entry): what the cache saved is seen here
        self.computed: Counter[Period] = Counter()

    def build(
        self, session: Session, *, config: Config, period: Period, teams: list[str] | None = None
    ) -> list[Report]:
        """The reports of ``teams`` (default: all) in ``period``, ranked among all teams."""
        selected = teams if teams is not None else [team.key for team in config.teams]
        for key in selected:
            config.team(key)  # raises UnknownTeam before any query runs
        reports, _ = self._current(session, config, period, selected)
        return [reports[key] for key in selected]

    def rankings(self, session: Session, *, config: Config, period: Period) -> Rankings:
        reports, schemes = self._current(session, config, period, [team.key for team in config.teams])
        failures = tuple(report.failure for report in reports.values() if report.failure is not None)
        return Rankings(schemes, failures)

    def results(
        self, session: Session, *, config: Config, periods: list[Period], teams: list[str], kpis: Collection[str]
    ) -> dict[Period, dict[str, TeamReport]]:
        """``compute_reports`` of ``teams`` in each of ``periods`` for ``kpis`` only, keyed by period and
        team: computed once per period and set of KPIs, for the teams not yet computed or touched by a write
        since. When one of ``teams`` is missing, every team missing is computed with it: the scheduler runs
        each team's digest on its own, and all teams cost a month's statements about as much as one does."""
        for team in teams:
            config.team(team)  # raises UnknownTeam before any query runs
        version = data_version(session)  # once for all the periods: a year to date asks for 21 months
        found = {}
        for period in periods:
            key = (period, frozenset(kpis))
            entry = self._entry(self._subsets, key, period, config, version, ranked=False)
            with entry.lock:
                _refresh(session, entry, version, period)
                if any(team not in entry.computed for team in teams):
                    missing = [team for team in config.team_by_key if team not in entry.computed]
                    computed = compute_reports(session, config=config, period=period, teams=missing, kpis=key[1])
                    self.computed[period] += len(missing)
                    entry.computed = entry.computed | computed
                found[period] = {team: entry.computed[team] for team in teams}
        return found

    def _entry(
        self,
        entries: dict[PeriodKind, OrderedDict[_K, _Entry]],
        key: _K,
        period: Period,
        config: Config,
        version: int,
        *,
        ranked: bool,
    ) -> _Entry:
        with self._lock:
            of_kind = entries.setdefault(period.kind, OrderedDict())
            entry = of_kind.get(key)
            if entry is None or entry.config is not config:
                entry = of_kind[key] = _Entry(config, version, ranked)
            of_kind.move_to_end(key)
            while len(of_kind) > self._max_periods:
                of_kind.popitem(last=False)
        return entry

    def holds(self, period: Period, *, kpis: Collection[str] | None = None) -> frozenset[str]:
        """The teams whose report of ``period`` (of only ``kpis``, as ``results`` keeps them) is kept, as of
        the last request (no database read)."""
        with self._lock:
            whole, subsets = self._entries.get(period.kind), self._subsets.get(period.kind)
            if kpis is None:
                entry = whole.get(period) if whole is not None else None
            else:
                entry = subsets.get((period, frozenset(kpis))) if subsets is not None else None
        return frozenset(entry.computed) if entry is not None else frozenset()

    def _current(
        self, session: Session, config: Config, period: Period, wanted: list[str]
    ) -> tuple[dict[str, Report], dict[str, list[TeamScore]]]:
        """The entry's reports and rankings, brought up to date; both dicts are replaced, never changed,
        once handed out, so a caller may read them while another request updates the entry."""
        version = data_version(session)
        ranked = any(scheme.period == period.kind for scheme in config.scorecards.values())
        entry = self._entry(self._entries, period, period, config, version, ranked=ranked)
        with entry.lock:
            stale = _refresh(session, entry, version, period)
            needed = [team.key for team in config.teams] if ranked else wanted
            missing = [key for key in needed if key not in entry.computed]
            if missing or stale:
                if missing:
                    entry.computed.update(compute_reports(session, config=config, period=period, teams=missing))
                    self.computed[period] += len(missing)
                entry.computed = {key: entry.computed[key] for key in config.team_by_key if key in entry.computed}
                entry.schemes = schemes_for(config, entry.computed) if ranked else {}
                entry.reports = {key: report_of(report, entry.schemes) for key, report in entry.computed.items()}
            return entry.reports, entry.schemes


def _refresh(session: Session, entry: _Entry, version: int, period: Period) -> set[str]:
    """Drops the entry's teams whose figures for ``period`` the writes since its version may have moved
    (call it holding the entry's lock); returns them. An entry at a later version than this request read
    (another request brought it up to date meanwhile) is only fresher: it is served as it is."""
    if entry.version >= version:
        return set()
    changes = changes_since(session, version=entry.version, until=version)
    stale = _touched(entry.computed, changes, period)
    entry.version = version
    for key in stale:
        del entry.computed[key]
    return stale


def _touched(computed: dict[str, TeamReport], changes: Iterable[DataChange], period: Period) -> set[str]:
    """The computed teams whose figures for ``period`` the changes may have moved."""
    spans = [(shown.start, shown.end) for shown in (period, period.previous(), period.year_ago())]
    touched: set[str] = set()
    for change in changes:
        if not _overlaps(change.first_day, change.last_day, spans):
            continue
        if change.team is None:
            return set(computed)
        touched.add(change.team)
    return touched & set(computed)


def _overlaps(first: date | None, last: date | None, spans: list[tuple[date, date]]) -> bool:
    if first is None or last is None:
        return True
    return any(first < end and last >= start for start, end in spans)
