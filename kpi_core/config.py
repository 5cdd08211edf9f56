"""``load_config``: a YAML file into the models of kpi_core.config_schema (re-exported here), with every
problem named by file and field path, including the cross-references pydantic cannot check."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kpi_core.config_schema import (
    CHANNEL_SCHEDULES,
    SCHEDULE_NAMES,
    CaseDurationFormula,
    Config,
    ExpressionFormula,
    Form,
    GrowthFormula,
    Kpi,
    Language,
    Measure,
    MilestoneFormula,
    QuietHours,
    RatioFormula,
    Schedule,
    Scorecard,
    ScorecardItem,
    SurveyFormula,
    Target,
    Team,
    is_timezone,
)
from kpi_core.display_limits import check_display_limits

__all__ = [  # the models live in config_schema; importers may take them from here
    "CaseDurationFormula",
    "Config",
    "ExpressionFormula",
    "Form",
    "GrowthFormula",
    "Kpi",
    "Language",
    "Measure",
    "MilestoneFormula",
    "QuietHours",
    "RatioFormula",
    "ScorecardItem",
    "SurveyFormula",
    "Team",
    "check_consistency",
    "load_config",
    "parse_config",
]
from kpi_core.calendar_schema import check_due
from kpi_core.close_schema import check_period_close
from kpi_core.config_people import check_people
from kpi_core.config_plans import check_plans
from kpi_core.config_problems import declared_keys, did_you_mean, schema_problem, valid_parts
from kpi_core.errors import ConfigError, ConfigProblem
from kpi_core.expressions import ExpressionSyntaxError, names_in
from kpi_core.periods import PeriodKind


def load_config(path: str | Path) -> Config:
    """Read, parse and check a config file; raises ConfigError naming the file and every bad field."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(file=file, problems=[ConfigProblem("", f"cannot read: {error.strerror}")]) from None
    except UnicodeDecodeError as error:
        message = f"not UTF-8 text (byte {error.start + 1} cannot be decoded)"
        raise ConfigError(file=file, problems=[ConfigProblem("", message)]) from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as error:
        raise ConfigError(file=file, problems=[error.problem]) from None
    except yaml.YAMLError as error:
        raise ConfigError(file=file, problems=[ConfigProblem("", _yaml_message(error))]) from None
    return parse_config(raw, file=file)


def parse_config(raw: Any, *, file: str = "<config>") -> Config:
    """The config in ``raw``; raises ConfigError with every problem of the file at once: the schema's and,
    beside them, the cross-checks of every item that passed the schema."""
    if not isinstance(raw, dict):
        raise ConfigError(file=file, problems=[ConfigProblem("", "the top level must be a mapping")])
    try:
        config = Config.model_validate(raw)
    except ValidationError as error:
        problems = [schema_problem(raw, detail) for detail in error.errors()]
        # Items that fail the schema are left out of the cross-checks, but their keys still count as declared:
        # a measure with a bad unit must not also show up as "unknown measure" in every formula using it.
        problems += check_consistency(valid_parts(raw), declared=declared_keys(raw))
        raise ConfigError(file=file, problems=problems) from None
    problems = check_consistency(config)
    if problems:
        raise ConfigError(file=file, problems=problems)
    return config


def check_consistency(config: Config, *, declared: Mapping[str, Collection[str]] | None = None) -> list[ConfigProblem]:
    """Cross-references pydantic cannot see: keys, formulas, targets, weights. ``declared`` names the teams,
    measures and KPIs of the file when ``config`` holds only part of them."""
    if declared is None:
        declared = {
            "teams": config.team_by_key,
            "measures": config.measure_by_key,
            "kpis": config.kpi_by_key,
            "positions": config.position_by_key,
            "competencies": config.competency_by_key,
            "people": config.person_by_user,
            "scorecards": config.scorecards,
        }
    problems: list[ConfigProblem] = []
    for section, keys in (
        ("teams", [team.key for team in config.teams]),
        ("measures", [measure.key for measure in config.measures]),
        ("kpis", [kpi.key for kpi in config.kpis]),
        ("forms", [form.key for form in config.forms]),
    ):
        for key, count in Counter(keys).items():
            if count > 1:
                problems.append(ConfigProblem(f"{section}.{key}", f"duplicate key {key!r} ({count} times)"))

    measures = declared["measures"]
    for measure in config.measures:
        if measure.at_most is not None and measure.at_most not in measures:
            message = f"unknown measure {measure.at_most!r}{did_you_mean(measure.at_most, measures)}"
            problems.append(ConfigProblem(f"measures.{measure.key}.at_most", message))
    for kpi in config.kpis:
        problems += _check_kpi(kpi, declared)
        if config.groups and kpi.group not in config.groups:
            message = f"group {kpi.group!r} is not declared in groups{did_you_mean(kpi.group, config.groups)}"
            problems.append(ConfigProblem(f"kpis.{kpi.key}.group", message))
    for name, scheme in config.scorecards.items():
        problems += _check_scorecard(name, scheme, config, declared)
    for form in config.forms:
        for measure_key in form.measures:
            if measure_key not in measures:
                message = f"unknown measure {measure_key!r}{did_you_mean(measure_key, measures)}"
                problems.append(ConfigProblem(f"forms.{form.key}.measures", message))
        if form.kind == "measures" and not form.measures:
            problems.append(ConfigProblem(f"forms.{form.key}.measures", "a measures form needs measures"))
        problems += check_due(form)
    for name, schedule in config.schedules.items():
        problems += _check_schedule(name, schedule)
    problems += check_people(config, declared)
    problems += check_plans(config, declared)
    for team in config.alert_followup.teams:
        if team not in declared["teams"]:
            message = f"override for unknown team {team!r}{did_you_mean(team, declared['teams'])}"
            problems.append(ConfigProblem(f"alert_followup.teams.{team}", message))
    problems += check_period_close(config.period_close, scorecards=declared["scorecards"])
    problems += check_display_limits(config)
    return problems


def _check_schedule(name: str, schedule: Schedule) -> list[ConfigProblem]:
    where = f"schedules.{name}"
    if name not in SCHEDULE_NAMES:
        hint = did_you_mean(name, SCHEDULE_NAMES)
        return [ConfigProblem(where, f"unknown schedule {name!r}{hint} (known: {', '.join(SCHEDULE_NAMES)})")]
    problems: list[ConfigProblem] = []
    if schedule.timezone is not None and not is_timezone(schedule.timezone):
        problems.append(ConfigProblem(f"{where}.timezone", f"unknown time zone {schedule.timezone!r}"))
    if name in CHANNEL_SCHEDULES and schedule.channel is None:
        # without a channel the job is skipped: the summary would silently never be posted
        problems.append(ConfigProblem(f"{where}.channel", f"{name} posts to one channel: give its channel"))
    return problems


def _check_kpi(kpi: Kpi, declared: Mapping[str, Collection[str]]) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    where = f"kpis.{kpi.key}"
    for field, expression in kpi.formula.expressions():
        try:
            used = names_in(expression)
        except ExpressionSyntaxError as error:
            problems.append(ConfigProblem(f"{where}.formula.{field}", str(error)))
            continue
        for name in sorted(used - set(declared["measures"])):
            message = f"unknown measure {name!r} in formula{did_you_mean(name, declared['measures'])}"
            problems.append(ConfigProblem(f"{where}.formula.{field}", message))
    formula = kpi.formula
    if isinstance(formula, CaseDurationFormula) and formula.statistic == "share_within" and not formula.within_hours:
        problems.append(ConfigProblem(f"{where}.formula.within_hours", "share_within needs within_hours"))
    if isinstance(formula, GrowthFormula) and kpi.report_growth:
        problems.append(
            ConfigProblem(
                f"{where}.report_growth",
                f"{kpi.key} is a growth already: growth of a growth is not supported, remove report_growth",
            )
        )
    if kpi.better == "band" and kpi.band is None:
        problems.append(ConfigProblem(f"{where}.band", "better: band needs a band with low and high"))
    if kpi.band is not None and kpi.band.low > kpi.band.high:
        problems.append(ConfigProblem(f"{where}.band", "low must not be above high"))
    targets: list[tuple[str, Target]] = [("target", kpi.target)] if kpi.target is not None else []
    targets += [(f"team_targets.{team}", target) for team, target in kpi.team_targets.items()]
    for field, target in targets:
        values = target.values() if isinstance(target, dict) else [target]
        if not kpi.signed and any(value < 0 for value in values):
            problems.append(
                ConfigProblem(f"{where}.{field}", f"target must not be negative: {kpi.key} is never below 0")
            )
    overrides = [(f"team_targets.{team}", team) for team in kpi.team_targets]
    overrides += [(f"alert.team_thresholds.{team}", team) for team in (kpi.alert.team_thresholds if kpi.alert else {})]
    for field, team in overrides:
        if team not in declared["teams"]:
            message = f"override for unknown team {team!r}{did_you_mean(team, declared['teams'])}"
            problems.append(ConfigProblem(f"{where}.{field}", message))
    return problems


def _check_scorecard(
    name: str, scheme: Scorecard, config: Config, declared: Mapping[str, Collection[str]]
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    where = f"scorecards.{name}"
    total = sum(item.weight for item in scheme.items)
    if abs(total - 100) > 1e-6:
        problems.append(ConfigProblem(f"{where}.weights", f"weights sum to {total:g} %, they must sum to 100 %"))
    for key, count in Counter(item.kpi for item in scheme.items).items():
        if count > 1:
            problems.append(ConfigProblem(f"{where}.items.{key}", f"KPI {key!r} is weighted {count} times"))
    for item in scheme.items:
        kpi = config.kpi_by_key.get(item.kpi)
        if kpi is None:
            if item.kpi not in declared["kpis"]:  # else the KPI failed the schema, which says why
                message = f"unknown KPI {item.kpi!r}{did_you_mean(item.kpi, declared['kpis'])}"
                problems.append(ConfigProblem(f"{where}.items.{item.kpi}", message))
            continue
        has_band = item.full_at is not None or item.zero_at is not None
        if has_band:
            if item.full_at is None or item.zero_at is None or item.full_at == item.zero_at:
                problems.append(
                    ConfigProblem(
                        f"{where}.items.{item.kpi}",
                        "a band needs both full_at and zero_at, and they must differ",
                    )
                )
        elif kpi.signed or kpi.better == "band":
            problems.append(
                ConfigProblem(
                    f"{where}.items.{item.kpi}",
                    f"{item.kpi} can be negative or is a band: score it with full_at and zero_at",
                )
            )
        else:
            problems += _check_scored_against_target(f"{where}.items.{item.kpi}", kpi, scheme.period, config)
    return problems


def _check_scored_against_target(where: str, kpi: Kpi, period: PeriodKind, config: Config) -> list[ConfigProblem]:
    """Without a target for the scheme's period kind a team's item scores 0, whatever its value."""
    lacking = [team.key for team in config.teams if kpi.target_for(team.key, period) is None]
    if not lacking:
        return []
    teams = "any team" if len(lacking) == len(config.teams) else f"team(s) {', '.join(lacking)}"
    message = f"{kpi.key} has no {period} target for {teams} to score against (give one, or full_at and zero_at)"
    return [ConfigProblem(where, message)]


def _yaml_message(error: yaml.YAMLError) -> str:
    """``not valid YAML at line 3, column 5: <what>`` (PyYAML names the file "<unicode string>")."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {error.problem}"
    return f"not valid YAML: {error}"


class _DuplicateKey(Exception):
    def __init__(self, problem: ConfigProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that rejects a mapping with the same key twice (PyYAML keeps the last silently)."""

    def construct_document(self, node: yaml.Node) -> Any:
        _reject_duplicate_keys(node, [], set())
        return super().construct_document(node)


def _reject_duplicate_keys(node: yaml.Node, path: list[str], seen_nodes: set[int]) -> None:
    """Raises _DuplicateKey naming the mapping by its field path (list items by their key, as above)."""
    if id(node) in seen_nodes:  # an alias of a node checked already (or a recursive one)
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # ``<<: *defaults`` may be overridden on purpose
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            line = key_node.start_mark.line + 1
            if key in lines:
                raise _DuplicateKey(
                    ConfigProblem(
                        ".".join([*path, str(key)]),
                        f"key {key!r} is given twice (lines {lines[key]} and {line}); only one may stay",
                    )
                )
            lines[key] = line
            _reject_duplicate_keys(value_node, [*path, str(key)], seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            name = f"[{index}]"
            if isinstance(item, yaml.MappingNode):
                for key_node, value_node in item.value:
                    if key_node.value in ("key", "kpi", "user") and isinstance(value_node, yaml.ScalarNode):
                        name = value_node.value
                        break
            _reject_duplicate_keys(item, [*path, name], seen_nodes)
