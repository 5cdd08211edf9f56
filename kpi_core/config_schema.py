"""The config file's shape: pydantic models of teams, measures, KPIs, targets, scorecards, schedules,
roles and forms (kpi_core.config loads a file into them and checks what pydantic cannot)."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, time
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kpi_core.appeal_schema import AppealSettings
from kpi_core.calendar_schema import AnomalyWatch, CalendarConfig, Due
from kpi_core.close_schema import PeriodCloseSettings
from kpi_core.config_projection import ProjectionSettings
from kpi_core.config_verification import VerificationSettings
from kpi_core.cron import CronSyntaxError, check_cron
from kpi_core.errors import ExpressionSyntaxError, UnknownTeam
from kpi_core.expressions import names_in
from kpi_core.names import Language, Names
from kpi_core.periods import PeriodKind
from kpi_core.plan_schema import KpiPlan

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
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
    #: working hours and holidays (kpi_core.business_time); None: no holiday moves, 09:00-18:00 Mon-Fri
    calendar: CalendarConfig | None = None
    #: who gets a lead's reminders and escalations while the lead is away (/kpi away)
    backup: str | None = None

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
    #: wall: elapsed time; business: working time of the team's calendar (kpi_core.business_durations)
    clock: Literal["wall", "business"] = "wall"

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
    anomaly: AnomalyWatch = AnomalyWatch()

    def target_for(self, team: str, period_kind: PeriodKind) -> float | None:
        target = self.team_targets.get(team, self.target)
        if isinstance(target, dict):
            return target.get(period_kind)
        return target

    def alert_threshold_for(self, team: str) -> float | None:
        if self.alert is None:
            return None
        return self.alert.team_thresholds.get(team, self.alert.threshold)


class ReviewSettings(_Model):
    """360° reviews (kpi_core/reviews.py): deadlines, peers, anonymity and how groups weigh in the score."""

    deadline_days: int = Field(default=14, ge=1, le=365, description="days from launch to the deadline")
    nomination_days: int = Field(default=5, ge=1, le=365, description="days to nominate peers, else defaulted")
    max_peers: int = Field(default=8, ge=1, le=20)
    min_group_raters: int = Field(default=3, ge=3, description="answers before peers/subordinates are shown")
    admins_see_raters: bool = Field(default=False, description="admins' exports name every rater")
    group_weights: dict[Literal["self", "superior", "peer", "subordinate"], float] = Field(
        default={"self": 0, "superior": 50, "peer": 25, "subordinate": 25}
    )

    @field_validator("group_weights")
    @classmethod
    def _some_weight(cls, value: dict[str, float]) -> dict[str, float]:
        if any(weight < 0 for weight in value.values()) or not any(value.values()):
            raise ValueError("weights must be at least 0, and some group must weigh more than 0")
        return value


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


#: A Slack user id (U… or, on Enterprise Grid, W…); a typo here would silently orphan a person.
UserId = Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")]


class Roles(_Model):
    admins: list[str] = []
    management: list[str] = []
    #: human resources: see every person's scorecard and (issue 11) launch review cycles
    hr: list[str] = []
    #: check submitted data before it counts (kpi_core/verification.py); none: verification is off
    verifiers: list[UserId] = []


class Competency(_Model):
    """A quality rated in reviews (1-5), part of a person's personal performance (个人绩效)."""

    key: Key
    name: Names


#: The seed scheme's eight competencies: position performance (岗位绩效) and personal performance (个人绩效).
DEFAULT_COMPETENCIES: tuple[Competency, ...] = tuple(
    Competency(key=key, name=Names(en=en, zh=zh))
    for key, en, zh in (
        ("quality", "Quality of work", "工作质量"),
        ("efficiency", "Efficiency", "工作效率"),
        ("innovation", "Innovation", "创新能力"),
        ("responsibility", "Responsibility", "责任心"),
        ("attitude", "Attitude", "工作态度"),
        ("teamwork", "Teamwork", "团队协作"),
        ("learning", "Learning", "学习能力"),
        ("problem_solving", "Problem solving", "问题解决能力"),
    )
)


class Position(_Model):
    """A job: the KPIs (weights in percent, summing to 100) that make its position performance, and the
    competencies its holders are rated on (None: every configured competency)."""

    key: Key
    name: Names
    kpis: dict[Key, float] = Field(default={}, description="KPI key -> weight in percent")
    competencies: list[Key] | None = None


class Person(_Model):
    """Someone assessed: their team, position and direct superior (None: the team's first lead)."""

    user: UserId
    name: str | None = None
    team: Key
    position: Key
    superior: UserId | None = None


class PersonScorecard(_Model):
    """The composite personal score: weights in percent of position, personal and team performance."""

    position: float = Field(default=50, ge=0)
    personal: float = Field(default=30, ge=0)
    team: float = Field(default=20, ge=0)
    #: the period kind personal targets are agreed for and ``/kpi me`` shows by default
    period: PeriodKind = PeriodKind.QUARTER
    #: the team scorecard whose score is the team part (None: the first one configured)
    team_scorecard: Key | None = None


class FollowUp(_Model):
    """How an open alert is followed up (minutes; None: never): management hears of an alert nobody has
    acknowledged within ``escalate_after_minutes`` (working time where the team has working hours), and
    an acknowledged alert still open is re-reminded in its thread every ``remind_every_minutes``."""

    escalate_after_minutes: int | None = Field(default=None, gt=0, le=525_600)
    remind_every_minutes: int | None = Field(default=None, gt=0, le=525_600)


class AlertFollowUp(FollowUp):
    """The defaults for every team, the channel escalations go to (None: a DM to each of management), and
    per-team overrides of the two durations."""

    channel: str | None = None
    teams: dict[Key, FollowUp] = {}

    def for_team(self, team: str) -> FollowUp:
        override = self.teams.get(team)
        if override is None:
            return self
        return FollowUp(
            escalate_after_minutes=override.escalate_after_minutes or self.escalate_after_minutes,
            remind_every_minutes=override.remind_every_minutes or self.remind_every_minutes,
        )


class Form(_Model):
    key: Key
    kind: Literal["measures", "survey", "case", "milestone"]
    title: Names
    #: the title shown where the full one is too long for a chat modal (kpi_core.display_limits)
    short_title: Names | None = None
    period: PeriodKind = PeriodKind.WEEK
    measures: list[Key] = []
    due: Due | None = None


class Config(_Model):
    teams: list[Team]
    measures: list[Measure]
    kpis: list[Kpi]
    scorecards: dict[Key, Scorecard] = {}
    schedules: dict[Key, Schedule] = {}
    reviews: ReviewSettings = ReviewSettings()
    roles: Roles = Roles()
    forms: list[Form] = []
    competencies: list[Competency] = list(DEFAULT_COMPETENCIES)
    positions: list[Position] = []
    people: list[Person] = []
    person_scorecard: PersonScorecard = PersonScorecard()
    #: the display names of the KPI groups (kpis[].group); without it a group shows as its key, capitalised
    groups: dict[Key, Names] = {}
    #: the earliest day data may be dated (older dates are typing mistakes, or break date arithmetic)
    data_since: date = date(2000, 1, 1)
    alert_followup: AlertFollowUp = AlertFollowUp()
    verification: VerificationSettings = VerificationSettings()
    plans: dict[Key, KpiPlan] = {}  # yearly targets and their decomposition (kpi_core/plan_schema.py)
    period_close: PeriodCloseSettings = PeriodCloseSettings()
    appeals: AppealSettings = AppealSettings()
    projection: ProjectionSettings = ProjectionSettings()  # year to date vs plan: kpi_core/projection.py

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
    def position_by_key(self) -> dict[str, Position]:
        return {position.key: position for position in self.positions}

    @cached_property
    def competency_by_key(self) -> dict[str, Competency]:
        return {competency.key: competency for competency in self.competencies}

    @cached_property
    def person_by_user(self) -> dict[str, Person]:
        return {person.user: person for person in self.people}

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
