"""The config's business-calendar keys: a team's working hours and holidays (``teams[].calendar``), when a
form's data is due (``forms[].due``) and a KPI's anomaly watch (``kpis[].anomaly``). Checked as the config
loads, like the rest of it; kpi_core.business_time turns a calendar into working time."""

from __future__ import annotations

import re
from datetime import date, time
from functools import cache
from typing import Any, Protocol

import holidays
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kpi_core.cron import WEEKDAYS
from kpi_core.errors import ConfigProblem
from kpi_core.periods import PeriodKind

_HOURS = re.compile(r"^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})$")
_DUE = re.compile(r"^(?P<day>[A-Za-z]{3}|[0-9]{1,2}) (?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})$")
#: the most extra days a calendar may list (a typo such as a range pasted as every day of a decade)
MAX_EXTRA_DAYS = 1000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@cache
def supported_countries() -> dict[str, list[str]]:
    """ISO 3166 codes the ``holidays`` package knows, with their subdivisions."""
    return {code: list(subdivisions) for code, subdivisions in holidays.list_supported_countries().items()}


class CalendarConfig(_Model):
    """A team's working time: ``hours`` on working days; working days are Monday to Friday (the country's
    weekend where ``holidays`` knows it), less the country's public holidays, plus its make-up working days
    (China's 调休), with ``extra_holidays`` and ``extra_workdays`` the config adds."""

    country: str | None = None
    subdivision: str | None = None
    hours: str = "09:00-18:00"
    extra_holidays: tuple[date, ...] = Field(default=(), max_length=MAX_EXTRA_DAYS)
    extra_workdays: tuple[date, ...] = Field(default=(), max_length=MAX_EXTRA_DAYS)

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None and value not in supported_countries():
            raise ValueError(
                f"unknown country {value!r}: use an ISO 3166 code the holidays package knows, such as CN, DE or US"
            )
        return value

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        parse_hours(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> CalendarConfig:
        if self.subdivision is not None:
            if self.country is None:
                raise ValueError("a subdivision needs a country")
            known = supported_countries()[self.country]
            if self.subdivision not in known:
                raise ValueError(
                    f"unknown subdivision {self.subdivision!r} of {self.country} (known: {', '.join(known) or 'none'})"
                )
        both = sorted(set(self.extra_holidays) & set(self.extra_workdays))
        if both:
            raise ValueError(f"{both[0].isoformat()} is both an extra holiday and an extra workday")
        return self

    @property
    def opening(self) -> tuple[time, time | None]:
        """(start, end) of the working hours; end None means midnight at the end of the day (24:00)."""
        return parse_hours(self.hours)


def parse_hours(text: str) -> tuple[time, time | None]:
    """``"09:00-18:00"`` -> (09:00, 18:00); ``"00:00-24:00"`` -> (00:00, None). Raises ValueError."""
    match = _HOURS.match(text)
    message = f"bad working hours {text!r}: write them as HH:MM-HH:MM, e.g. 09:00-18:00"
    if match is None:
        raise ValueError(message)
    start_hour, start_minute, end_hour, end_minute = (int(part) for part in match.groups())
    if start_hour > 23 or start_minute > 59 or end_minute > 59 or end_hour > 24 or (end_hour == 24 and end_minute):
        raise ValueError(message)
    start = time(start_hour, start_minute)
    end = None if end_hour == 24 else time(end_hour, end_minute)
    if end is not None and end <= start:
        raise ValueError(f"bad working hours {text!r}: they must end after they start, on the same day")
    return start, end


class Due(_Model):
    """When a form's data for a period is expected: ``at`` is a weekday and local time in the week after a
    weekly period (``MON 12:00``), or a day of the next period and a time for monthly and quarterly ones
    (``3 12:00``). Missing then, the team's leads are told by DM; ``channel_after_hours`` (working hours
    when the team has a calendar) later, the team's channel."""

    at: str
    channel_after_hours: float = Field(default=4, gt=0, le=24 * 14)

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        return {"at": data} if isinstance(data, str) else data

    @field_validator("at")
    @classmethod
    def _valid_at(cls, value: str) -> str:
        parse_due(value)
        return value


def parse_due(text: str) -> tuple[int | str, time]:
    """``"MON 12:00"`` -> ("mon", 12:00); ``"3 09:30"`` -> (3, 09:30). Raises ValueError."""
    match = _DUE.match(text.strip())
    message = f"bad due time {text!r}: write a weekday and a time (MON 12:00), or a day of the month (3 12:00)"
    if match is None:
        raise ValueError(message)
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise ValueError(message)
    day = match["day"]
    if day.isdigit():
        if not 1 <= int(day) <= 28:
            raise ValueError(f"bad due time {text!r}: the day of the next period must be 1 to 28")
        return int(day), time(hour, minute)
    if day.lower() not in WEEKDAYS:
        raise ValueError(message)
    return day.lower(), time(hour, minute)


class _DueForm(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def period(self) -> PeriodKind: ...
    @property
    def due(self) -> Due | None: ...


def check_due(form: _DueForm) -> list[ConfigProblem]:
    """A due time fits its form: data of a measures form only, a weekday for a weekly period, a day of the
    month for a monthly or quarterly one."""
    if form.due is None:
        return []
    where = f"forms.{form.key}.due"
    if form.kind != "measures":
        return [ConfigProblem(where, f"only measures forms have due data (this one is a {form.kind} form)")]
    day, _ = parse_due(form.due.at)
    if form.period is PeriodKind.WEEK and not isinstance(day, str):
        return [ConfigProblem(where, f"a weekly form is due on a weekday, e.g. MON 12:00 (not {form.due.at!r})")]
    if form.period is not PeriodKind.WEEK and isinstance(day, str):
        return [ConfigProblem(where, f"a {form.period.value}ly form is due on a day of the next period, e.g. 3 12:00")]
    return []


class AnomalyWatch(_Model):
    """How unusual a KPI's weekly value must be (robust z-score) to be flagged, and whether it is alerted."""

    threshold: float = Field(default=3.5, gt=0)
    alert: bool = False
