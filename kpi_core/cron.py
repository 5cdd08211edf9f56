"""Checks a five-field cron expression (minute hour day month weekday) as the config is loaded, so a typo
is reported with its file and field before anything runs; the scheduler (bot/jobs.py) then builds the
triggers. Weekdays must be named: APScheduler counts them from Monday = 0, cron from Sunday = 0."""

from __future__ import annotations

import re

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: (field name, lowest, highest, names usable for values)
FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day", 1, 31, ()),
    ("month", 1, 12, MONTHS),
    ("day_of_week", 0, 6, WEEKDAYS),
)
_TERM = re.compile(r"^(?:\*|(?P<first>\w+)(?:-(?P<last>\w+))?)(?:/(?P<step>\d+))?$")


class CronSyntaxError(ValueError):
    """What is wrong with one cron expression (the config names where it is)."""


def check_cron(expression: str) -> None:
    """Raises CronSyntaxError unless ``expression`` is five valid fields with named weekdays."""
    fields = expression.split()
    if len(fields) != len(FIELDS):
        raise CronSyntaxError(f"Wrong number of fields; got {len(fields)}, expected {len(FIELDS)}")
    if any(character.isdigit() for character in fields[4]):
        raise CronSyntaxError("name the weekdays (mon, tue, ... or mon-fri)")
    for text, (name, lowest, highest, names) in zip(fields, FIELDS, strict=True):
        for term in text.split(","):
            if name == "day" and term == "last":
                continue
            _check_term(term, name, lowest, highest, names)


def _check_term(term: str, field: str, lowest: int, highest: int, names: tuple[str, ...]) -> None:
    match = _TERM.match(term.lower())
    if match is None or match["step"] == "0":
        raise CronSyntaxError(f'Unrecognized expression "{term}" for field "{field}"')
    values = [_value(match[part], field, names) for part in ("first", "last") if match[part] is not None]
    for value in values:
        if not lowest <= value <= highest:
            raise CronSyntaxError(f"{field}: {value} is outside {lowest}-{highest}")
    if len(values) == 2 and values[0] > values[1]:
        raise CronSyntaxError(f'{field}: the range "{term}" ends before it starts')


def _value(text: str, field: str, names: tuple[str, ...]) -> int:
    if text.isdigit():
        return int(text)
    if text in names:
        return names.index(text) + (1 if names is MONTHS else 0)
    raise CronSyntaxError(f'Unrecognized expression "{text}" for field "{field}"')
