"""The config file's shape: pydantic models of teams, measures, KPIs, targets, scorecards, schedules,
roles and forms (kpi_core.config loads a file into them and checks what pydantic cannot)."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, time
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kpi_core.cron import CronSyntaxError, check_cron
from kpi_core.errors import ExpressionSyntaxError, UnknownTeam
from kpi_core.expressions import names_in
from kpi_core.periods import PeriodKind

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Language = Literal["en", "zh", "both"]
Better = Literal["higher", "lower", "band"]
#: The kinds of customer case (kpi_core.rules.CASE_KINDS, the database's check constraint).
CaseKind = Literal["after_sales", "feedback"]

#: The schedules the bot knows how to run (bot/jobs.py); any other key would be ignored silently.
SCHEDULE_NAMES = (
    "weekly_digest",
    "monthly_digest",
    "submission_reminder",
    "management_summary",
    "quarterly_scorecard",
)
#: Schedules that post to one channel for all teams, instead of to each team's own channel.
CHANNEL_SCHEDULES = ("management_summary", "quarterly_scorecard")
#: The largest absolute value of a measure unless the config sets its ``ceiling``: a period sums at most a
#: few thousand values, so its sums stay far inside a double and PostgreSQL's SUM cannot overflow.
DEFAULT_CEILING = 1e12
#: The largest ceiling a config may set.
MAX_CEILING = 1e15


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Names(_Model):
    """A name in English and Chinese. Chinese falls back to English, so a config for English-speaking teams
    gives ``name: {en: Sales}`` or just ``name: Sales``."""

    en: str
    zh: str = ""  # always filled by _chinese_falls_back_to_english; the default only spares a second error

    @model_validator(mode="before")
    @classmethod
    def _chinese_falls_back_to_english(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"en": data, "zh": data}
        if isinstance(data, dict) and data.get("zh") is None and isinstance(data.get("en"), str):
            return {**data, "zh": data["en"]}
        return data

    def in_language(self, language: Language) -> str:
        if language == "both":
            # a name without its own Chinese is shown once, not as "Sales / Sales"
            return self.en if self.zh == self.en else f"{self.en} / {self.zh}"
        return self.zh if language == "zh" else self.en


class QuietHours(_Model):
    """Local times between which alerts are held (may wrap midnight, e.g. 22:00 to 07:00)."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class Team(_Model):
    key: Key
    name: Names
    channel: str
    timezone: str
    language: Language = "en"
    leads: list[str] = []
    members: list[str] = Field(default=[], description="users who may see the team's KPIs")
    quiet_hours: QuietHours | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        if not is_timezone(value):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Shanghai)")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Measure(_Model):
    key: Key
    name: Names
    unit: str
    aggregate: Literal["sum", "mean", "last"] = "sum"
    minimum: float | None = 0
    maximum: float | None = None
    integer: bool = False
    at_most: Key | None = Field(default=None, description="another measure this one cannot exceed")
    ceiling: float = Field(
        default=DEFAULT_CEILING, gt=0, le=MAX_CEILING, description="the largest absolute value accepted"
    )


class RatioFormula(_Model):
    kind: Literal["ratio"]
    numerator: str
    denominator: str
    scale: float = 1

    def expressions(self) -> list[tuple[str, str]]:
        return [("numerator", self.numerator), ("denominator", self.denominator)]


class ExpressionFormula(_Model):
    kind: Literal["expression"]
    expression: str

    def expressions(self) -> list[tuple[str, str]]:
        return [("expression", self.expression)]


class GrowthFormula(_Model):
    kind: Literal["growth"]
    of: str
    versus: Literal["previous", "year_ago"] = "previous"

    def expressions(self) -> list[tuple[str, str]]:
        return [("of", self.of)]


class SurveyFormula(_Model):
    kind: Literal["survey"]
    statistic: Literal["mean", "share_top"] = "mean"

    def expressions(self) -> list[tuple[str, str]]:
        return []


class CaseDurationFormula(_Model):
    kind: Literal["case_duration"]
    case_kind: CaseKind
    until: Literal["first_response", "resolved"]
    statistic: Literal["median", "p90", "mean", "share_within"] = "median"
    within_hours: float | None = Field(default=None, gt=0)

    def expressions(self) -> list[tuple[str, str]]:
        return []


class MilestoneFormula(_Model):
    kind: Literal["milestones"]
    statistic: Literal["on_time_share", "mean_slip_days", "cost_variance"]

    def expressions(self) -> list[tuple[str, str]]:
        return []


Formula = Annotated[
    RatioFormula | ExpressionFormula | GrowthFormula | SurveyFormula | CaseDurationFormula | MilestoneFormula,
    Field(discriminator="kind"),
]

#: A target for every period, or one per period kind (a weekly sales target differs from a quarterly one).
Target = float | dict[PeriodKind, float]


class Band(_Model):
    low: float
    high: float


class Alert(_Model):
    threshold: float
    period: PeriodKind = Field(default=PeriodKind.WEEK, description="the period a KPI is watched over")
    recover_margin: float = Field(default=0, ge=0)
    team_thresholds: dict[Key, float] = {}


class Kpi(_Model):
    key: Key
    name: Names
    group: str
    unit: str
    better: Better
    formula: Formula
    signed: bool = Field(default=False, description="values may be negative (growth, variance)")
    target: Target | None = None
    team_targets: dict[Key, Target] = {}
    band: Band | None = None
    alert: Alert | None = None
    report_growth: list[Literal["previous", "year_ago"]] = []
    #: the period the KPI is measured over; None: derived from its measures' forms (Config.cadence_of)
    cadence: PeriodKind | None = None

    def target_for(self, team: str, period_kind: PeriodKind) -> float | None:
        target = self.team_targets.get(team, self.target)
        if isinstance(target, dict):
            return target.get(period_kind)
        return target

    def alert_threshold_for(self, team: str) -> float | None:
        if self.alert is None:
            return None
        return self.alert.team_thresholds.get(team, self.alert.threshold)


class ScorecardItem(_Model):
    kpi: Key
    weight: float = Field(gt=0)
    full_at: float | None = None
    zero_at: float | None = None


class Scorecard(_Model):
    name: Names
    period: PeriodKind
    items: list[ScorecardItem]


class Schedule(_Model):
    cron: str
    timezone: str | None = Field(default=None, description="None: each team's own time zone")
    channel: str | None = None

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        try:
            check_cron(value)
        except CronSyntaxError as error:
            raise ValueError(f"bad cron expression {value!r}: {error}") from None
        return value


class Roles(_Model):
    admins: list[str] = []
    management: list[str] = []


class Form(_Model):
    key: Key
    kind: Literal["measures", "survey", "case", "milestone"]
    title: Names
    #: the title shown where the full one is too long for a chat modal (kpi_core.display_limits)
    short_title: Names | None = None
    period: PeriodKind = PeriodKind.WEEK
    measures: list[Key] = []


class Config(_Model):
    teams: list[Team]
    measures: list[Measure]
    kpis: list[Kpi]
    scorecards: dict[Key, Scorecard] = {}
    schedules: dict[Key, Schedule] = {}
    roles: Roles = Roles()
    forms: list[Form] = []
    #: the display names of the KPI groups (kpis[].group); without it a group shows as its key, capitalised
    groups: dict[Key, Names] = {}
    #: the earliest day data may be dated (older dates are typing mistakes, or break date arithmetic)
    data_since: date = date(2000, 1, 1)

    @cached_property
    def team_by_key(self) -> dict[str, Team]:
        return {team.key: team for team in self.teams}

    @cached_property
    def measure_by_key(self) -> dict[str, Measure]:
        return {measure.key: measure for measure in self.measures}

    @cached_property
    def form_by_key(self) -> dict[str, Form]:
        return {form.key: form for form in self.forms}

    @cached_property
    def kpi_by_key(self) -> dict[str, Kpi]:
        return {kpi.key: kpi for kpi in self.kpis}

    @cached_property
    def cadences(self) -> dict[str, PeriodKind]:
        """Each KPI's cadence: declared, or the longest period of the forms its measures are submitted
        with (a KPI on monthly cost figures is a monthly KPI); survey, case and milestone KPIs are weekly."""
        order = list(PeriodKind)
        form_period: dict[str, PeriodKind] = {}
        for form in self.forms:
            for measure in form.measures:
                known = form_period.get(measure, form.period)
                form_period[measure] = max(known, form.period, key=order.index)
        cadences = {}
        for kpi in self.kpis:
            used: set[str] = set()
            for _, expression in kpi.formula.expressions():
                with suppress(ExpressionSyntaxError):  # reported by kpi_core.config's checks
                    used |= names_in(expression)
            periods = [form_period[name] for name in used if name in form_period] or [PeriodKind.WEEK]
            cadences[kpi.key] = kpi.cadence or max(periods, key=order.index)
        return cadences

    def group_name(self, group: str) -> Names:
        return self.groups.get(group) or Names(en=group.replace("_", " ").capitalize())

    def team(self, key: str) -> Team:
        try:
            return self.team_by_key[key]
        except KeyError:
            raise UnknownTeam(team=key) from None


def is_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a tzdata folder such as "Europe"
        return False
    return True
