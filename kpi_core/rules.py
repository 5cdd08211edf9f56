"""The data rules every entry point applies: each Slack form, the replace confirmation and each CSV kind.

A rule returns a ``Problem`` (a code and display-ready parameters) or nothing; the edges turn problems into
words: bot/forms.py into a localised field error (``errors.<code>`` in strings.yaml), kpi_core/imports.py into
``line N, column C: ...``. One rule, one verdict, wherever the value comes from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache
from typing import get_args

from kpi_core.config import Config, Measure
from kpi_core.config_schema import DEFAULT_CEILING, CaseKind
from kpi_core.periods import PeriodKind

CASE_KINDS: tuple[str, ...] = get_args(CaseKind)
SCORES = (1, 2, 3, 4, 5)
_SCORE_TEXTS = {str(score): score for score in SCORES}

MAX_DECIMALS = 6
_MAX_NUMBER_CHARS = 40
#: The one number syntax: ASCII digits, an optional minus sign and decimal point. No thousands separators
#: (``1,5`` is 1.5 in half the world and 15 in the other), no ``_``, no exponents, no other scripts' digits.
_NUMBER = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")
#: A due date may lie ahead, but not beyond what any plan means (and far from date.max).
MAX_YEARS_AHEAD = 20


@dataclass(frozen=True)
class Problem:
    """What is wrong with one value: ``code`` names the message, ``params`` fill it (already display text)."""

    code: str
    params: Mapping[str, str] = field(default_factory=dict)


def problem(code: str, **params: object) -> Problem:
    return Problem(code, {name: str(value) for name, value in params.items()})


def format_number(value: float) -> str:
    """A number as people write it: 1000000000000, not 1e+12."""
    value = float(value)  # a config default may be an int
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return f"{value:g}"


@dataclass(frozen=True)
class Bounds:
    """The range a number must lie in; the ceiling caps both ends so sums cannot overflow."""

    minimum: float | None = 0
    maximum: float | None = None
    integer: bool = False
    ceiling: float = DEFAULT_CEILING
    #: the measure's key, for messages that name it
    measure: str | None = None

    @property
    def lowest(self) -> float:
        return -self.ceiling if self.minimum is None else max(self.minimum, -self.ceiling)

    @property
    def highest(self) -> float:
        return self.ceiling if self.maximum is None else min(self.maximum, self.ceiling)


#: A milestone's budget and actual cost: no measure, so the default ceiling.
MONEY = Bounds(minimum=0)


def measure_bounds(measure: Measure) -> Bounds:
    return Bounds(measure.minimum, measure.maximum, measure.integer, measure.ceiling, measure.key)


def parse_number(text: str) -> float | Problem:
    """``text`` in the one accepted syntax (``120``, ``-3``, ``3.5``), or ``not_a_number``/``too_precise``."""
    match = _NUMBER.fullmatch(text) if len(text) <= _MAX_NUMBER_CHARS else None
    if match is None:
        return problem("not_a_number")
    if match[3] is not None and len(match[3]) > MAX_DECIMALS:
        return problem("too_precise", decimals=MAX_DECIMALS)
    return float(text) + 0.0  # + 0.0 turns -0 into 0


def check_number(value: float, bounds: Bounds) -> Problem | None:
    if not math.isfinite(value):
        return problem("not_a_number")
    if value < bounds.lowest:
        return problem("below_minimum", minimum=format_number(bounds.lowest))
    if value > bounds.highest:
        return problem("above_maximum", maximum=format_number(bounds.highest), measure=bounds.measure or "")
    if bounds.integer and not value.is_integer():
        return problem("not_whole", measure=bounds.measure or "")
    return None


def number(text: str, bounds: Bounds) -> float | Problem:
    """Parse and check: the rule for every number a person types or a file holds."""
    value = parse_number(text)
    if isinstance(value, Problem):
        return value
    return check_number(value, bounds) or value


def stored_number(value: object, bounds: Bounds) -> float | Problem:
    """A number that travelled as JSON (a modal's metadata): a real int or float, then the same checks."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return problem("not_a_number")
    value = float(value) + 0.0
    return check_number(value, bounds) or value


def at_most(values: Mapping[str, float], measures: Mapping[str, Measure]) -> dict[str, Problem]:
    """A part cannot exceed its whole (``on_time_orders`` at most ``orders``) within one period."""
    problems = {}
    for key, value in values.items():
        total_key = measures[key].at_most
        if total_key is not None and total_key in values and value > values[total_key]:
            problems[key] = problem("above_total", other=total_key, total=format_number(values[total_key]))
    return problems


def measure_period(config: Config, measure: str) -> PeriodKind:
    """The period a measure is submitted for: its form's, weekly when no form asks for it."""
    for form in config.forms:
        if form.kind == "measures" and measure in form.measures:
            return form.period
    return PeriodKind.WEEK


def check_date(value: date, *, data_since: date, today: date | None) -> Problem | None:
    """A day inside the data window; ``today`` None: the day may lie ahead (a due date), within reason."""
    if value < data_since:
        return problem("before_data_since", since=data_since.isoformat())
    if today is not None and value > today:
        return problem("in_future")
    return None


def check_due_date(value: date, *, data_since: date, today: date) -> Problem | None:
    latest = date(min(today.year + MAX_YEARS_AHEAD, 9999), 12, 31)
    if value > latest:
        return problem("too_far_ahead", latest=latest.isoformat())
    return check_date(value, data_since=data_since, today=None)


def to_utc(value: datetime, *, zone: tzinfo, data_since: date) -> datetime | Problem:
    """An instant in UTC (naive means ``zone``'s local time); instants at the ends of the calendar do not
    exist in UTC and are outside the data window anyway."""
    try:
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    except OverflowError:
        return problem("in_future") if value.year > 1 else problem("before_data_since", since=data_since.isoformat())


def check_instant(value: datetime, *, data_since: date, zone: tzinfo, now: datetime) -> Problem | None:
    """An aware instant inside the data window: not before ``data_since`` in the team's zone, not after now."""
    if value < _data_start(data_since, zone):
        return problem("before_data_since", since=data_since.isoformat())
    if value > now:
        return problem("in_future")
    return None


@lru_cache(maxsize=64)
def _data_start(data_since: date, zone: tzinfo) -> datetime:
    return datetime.combine(data_since, time(0), zone)


def case_order(
    raised_at: datetime | None, first_response_at: datetime | None, resolved_at: datetime | None
) -> dict[str, Problem]:
    """A case is answered and resolved after it was raised, and not resolved before its first response.
    Keys name the later time at fault: ``first_response_at`` or ``resolved_at``."""
    problems = {}
    if raised_at is not None and first_response_at is not None and first_response_at < raised_at:
        problems["first_response_at"] = problem("before_raised")
    if raised_at is not None and resolved_at is not None and resolved_at < raised_at:
        problems["resolved_at"] = problem("before_raised")
    elif first_response_at is not None and resolved_at is not None and resolved_at < first_response_at:
        problems["resolved_at"] = problem("before_response")
    return problems


def check_case_kind(kind: str | None) -> Problem | None:
    return None if kind in CASE_KINDS else problem("unknown_case_kind", kinds=" or ".join(CASE_KINDS))


def check_person(config: Config, *, team: str, user: str) -> Problem | None:
    """A record belongs to a configured person of its own team (people in the config), or to nobody."""
    person = config.person_by_user.get(user)
    if person is None:
        return problem("not_a_person", person=user)
    if person.team != team:
        return problem("person_of_other_team", person=user, team=person.team)
    return None


def parse_score(text: str) -> int | Problem:
    score = _SCORE_TEXTS.get(text)
    return problem("bad_score", value=text) if score is None else score


def check_text(text: str, *, maximum: int) -> Problem | None:
    """One line of text that fits its column: no control characters (a NUL breaks PostgreSQL, a newline
    breaks messages)."""
    if len(text) > maximum:
        return problem("too_long", maximum=maximum, length=len(text))
    if has_control_character(text):
        return problem("control_character")
    return None


#: Unicode's category Cc (control characters): C0, DEL and C1; one regex search instead of a
#: unicodedata lookup per character (an import checks millions of cells)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def has_control_character(text: str) -> bool:
    return _CONTROL.search(text) is not None
