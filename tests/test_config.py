"""The shipped example config, and every kind of rejection: each names the file, the field path and what."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kpi_core.config import Config, load_config, parse_config
from kpi_core.errors import ConfigError, ConfigProblem
from tests.conftest import EXAMPLE_CONFIG
from tests.factories import CATALOGUE_KPIS

CATALOGUE = list(CATALOGUE_KPIS)

Writer = Callable[[Path], None]


def _lines_of(line: str) -> tuple[int, int]:
    """The 1-based line of ``line`` in the example config, and the next one (where a copy is inserted)."""
    number = EXAMPLE_CONFIG.read_text(encoding="utf-8").splitlines(keepends=True).index(line) + 1
    return number, number + 1


def _example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def _item(items: list[dict[str, Any]], key: str, field: str = "key") -> dict[str, Any]:
    return next(item for item in items if item[field] == key)


def mutated(change: Callable[[dict[str, Any]], object]) -> Writer:
    """The example config with ``change`` applied to its parsed dict, written back as YAML."""

    def write(path: Path) -> None:
        raw = _example()
        change(raw)
        path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")

    return write


def edited(old: str, new: str) -> Writer:
    """The example config's text with ``old`` (which must occur once) replaced by ``new``."""

    def write(path: Path) -> None:
        text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path.write_text(text.replace(old, new), encoding="utf-8")

    return write


def no_file(path: Path) -> None:
    pass


def kpi(key: str, **fields: Any) -> Callable[[dict[str, Any]], object]:
    return lambda raw: _item(raw["kpis"], key).update(fields)


def team(key: str, **fields: Any) -> Callable[[dict[str, Any]], object]:
    return lambda raw: _item(raw["teams"], key).update(fields)


def test_example_config_loads_and_covers_the_catalogue(example_config: Config) -> None:
    assert [kpi.key for kpi in example_config.kpis] == CATALOGUE
    for kpi in example_config.kpis:
        assert kpi.name.en.strip() and kpi.name.zh.strip(), kpi.key
        assert kpi.name.en != kpi.name.zh
    assert example_config.kpi_by_key["on_time_delivery"].name.zh == "准时交付率"
    assert example_config.kpi_by_key["on_time_delivery"].name.en == "On-time delivery rate"


def test_example_config_has_teams_in_several_time_zones(example_config: Config) -> None:
    assert len(example_config.teams) >= 3
    assert len({team.timezone for team in example_config.teams}) >= 2
    assert example_config.team("berlin_ops").timezone == "Europe/Berlin"
    assert {team.language for team in example_config.teams} == {"en", "zh", "both"}


def test_example_config_quarterly_scorecard_weights(example_config: Config) -> None:
    scheme = example_config.scorecards["quarterly"]
    assert scheme.period == "quarter"
    assert {item.kpi: item.weight for item in scheme.items} == {
        "sales": 40,
        "csat": 20,
        "response_time": 15,
        "budget_variance": 15,
        "milestone_on_time": 10,
    }


def test_example_config_round_trips_through_yaml(tmp_path: Path, example_config: Config) -> None:
    """The mutation tests below rely on a dump of the parsed example being accepted unchanged."""
    path = tmp_path / "copy.yaml"
    mutated(lambda raw: None)(path)
    assert load_config(path) == example_config


@pytest.mark.parametrize(
    ("write", "path", "message"),
    [
        pytest.param(
            mutated(lambda raw: _item(raw["kpis"], "on_time_delivery")["formula"].update(numerator="on_time_orderz")),
            "kpis.on_time_delivery.formula.numerator",
            "unknown measure 'on_time_orderz' in formula (did you mean 'on_time_orders'?)",
            id="unknown-measure-in-formula",
        ),
        pytest.param(
            mutated(kpi("sales", formula={"kind": "expression", "expression": "sales + refunds"})),
            "kpis.sales.formula.expression",
            "unknown measure 'refunds' in formula",
            id="unknown-measure-in-expression",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["scorecards"]["quarterly"]["items"], "sales", "kpi").update(weight=35)),
            "scorecards.quarterly.weights",
            "weights sum to 95 %, they must sum to 100 %",
            id="weights-not-100",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["scorecards"]["quarterly"]["items"], "csat", "kpi").update(weight=-5)),
            "scorecards.quarterly.items.csat.weight",
            "Input should be greater than 0",
            id="negative-weight",
        ),
        pytest.param(
            mutated(team("berlin_ops", timezone="Europe/Berlln")),
            "teams.berlin_ops.timezone",
            "unknown time zone 'Europe/Berlln' (use an IANA name such as Asia/Shanghai)",
            id="unknown-time-zone",
        ),
        pytest.param(
            mutated(team("berlin_ops", timezone="Europe")),
            "teams.berlin_ops.timezone",
            "unknown time zone 'Europe' (use an IANA name such as Asia/Shanghai)",
            id="time-zone-folder",
        ),
        pytest.param(
            mutated(lambda raw: raw["schedules"]["management_summary"].update(timezone="Asia/Peking")),
            "schedules.management_summary.timezone",
            "unknown time zone 'Asia/Peking'",
            id="unknown-schedule-time-zone",
        ),
        pytest.param(
            mutated(lambda raw: raw["teams"].append({**_item(raw["teams"], "berlin_ops"), "channel": "C0OTHER"})),
            "teams.berlin_ops",
            "duplicate key 'berlin_ops' (2 times)",
            id="duplicate-team-key",
        ),
        pytest.param(
            mutated(lambda raw: raw["kpis"].append(_item(raw["kpis"], "roi"))),
            "kpis.roi",
            "duplicate key 'roi' (2 times)",
            id="duplicate-kpi-key",
        ),
        pytest.param(
            edited("    timezone: Europe/Berlin\n", "    timezone: Europe/Berlin\n    timezone: Europe/Paris\n"),
            "teams.berlin_ops.timezone",
            "key 'timezone' is given twice (lines {} and {}); only one may stay".format(
                *_lines_of("    timezone: Europe/Berlin\n")
            ),
            id="yaml-key-given-twice",
        ),
        pytest.param(
            edited("    target: 95\n", "    target: 95\n    target: 98\n"),
            "kpis.on_time_delivery.target",
            "key 'target' is given twice (lines {} and {}); only one may stay".format(*_lines_of("    target: 95\n")),
            id="yaml-kpi-field-given-twice",
        ),
        pytest.param(
            mutated(kpi("on_time_delivery", target=-95)),
            "kpis.on_time_delivery.target",
            "target must not be negative: on_time_delivery is never below 0",
            id="negative-target",
        ),
        pytest.param(
            mutated(kpi("inventory_turnover", target={"week": 0.2, "month": -0.8})),
            "kpis.inventory_turnover.target",
            "target must not be negative: inventory_turnover is never below 0",
            id="negative-target-per-period",
        ),
        pytest.param(
            mutated(kpi("on_time_delivery", team_targets={"berlin_ops": -1})),
            "kpis.on_time_delivery.team_targets.berlin_ops",
            "target must not be negative: on_time_delivery is never below 0",
            id="negative-team-target",
        ),
        pytest.param(
            mutated(kpi("sales", formula={"kind": "expression", "expression": "__import__('os')"})),
            "kpis.sales.formula.expression",
            "\"__import__('os')\" may only use + - * / ( ), numbers and measure keys",
            id="call-in-expression",
        ),
        pytest.param(
            mutated(kpi("sales", formula={"kind": "expression", "expression": "orders.__class__"})),
            "kpis.sales.formula.expression",
            "'orders.__class__' may only use + - * / ( ), numbers and measure keys",
            id="attribute-in-expression",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["kpis"], "roi")["formula"].update(denominator="investment_cost ** 2")),
            "kpis.roi.formula.denominator",
            "'investment_cost ** 2' may only use + - * / ( ), numbers and measure keys",
            id="power-in-ratio",
        ),
        pytest.param(
            mutated(kpi("sales", formula={"kind": "expression", "expression": "sales +"})),
            "kpis.sales.formula.expression",
            "cannot parse 'sales +': invalid syntax",
            id="unparsable-expression",
        ),
        pytest.param(
            mutated(lambda raw: raw["schedules"]["weekly_digest"].update(cron="0 25 * * mon")),
            "schedules.weekly_digest.cron",
            "bad cron expression '0 25 * * mon'",
            id="bad-cron-hour",
        ),
        pytest.param(
            mutated(lambda raw: raw["schedules"]["weekly_digest"].update(cron="0 9 * *")),
            "schedules.weekly_digest.cron",
            "bad cron expression '0 9 * *': Wrong number of fields; got 4, expected 5",
            id="bad-cron-fields",
        ),
        pytest.param(
            mutated(lambda raw: raw["schedules"]["weekly_digest"].update(cron="0 9 * * 1")),
            "schedules.weekly_digest.cron",
            "bad cron expression '0 9 * * 1': name the weekdays (mon, tue, ... or mon-fri)",
            id="numeric-weekday-is-ambiguous",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["scorecards"]["quarterly"]["items"], "csat", "kpi").update(kpi="nps")),
            "scorecards.quarterly.items.nps",
            "unknown KPI 'nps'",
            id="unknown-kpi-in-scorecard",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["scorecards"]["quarterly"]["items"], "csat", "kpi").update(kpi="cast")),
            "scorecards.quarterly.items.cast",
            "unknown KPI 'cast' (did you mean 'csat'?)",
            id="misspelt-kpi-in-scorecard",
        ),
        pytest.param(
            mutated(kpi("on_time_delivery", team_targets={"berlin_opz": 97})),
            "kpis.on_time_delivery.team_targets.berlin_opz",
            "override for unknown team 'berlin_opz' (did you mean 'berlin_ops'?)",
            id="misspelt-team-in-team-targets",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["measures"], "on_time_orders").update(at_most="order")),
            "measures.on_time_orders.at_most",
            "unknown measure 'order' (did you mean 'orders'?)",
            id="misspelt-measure-in-at-most",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["forms"], "weekly")["measures"].append("salse")),
            "forms.weekly.measures",
            "unknown measure 'salse' (did you mean 'sales'?)",
            id="misspelt-measure-in-form",
        ),
        pytest.param(
            mutated(kpi("on_time_delivery", team_targets={"paris_ops": 97})),
            "kpis.on_time_delivery.team_targets.paris_ops",
            "override for unknown team 'paris_ops'",
            id="unknown-team-in-team-targets",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["kpis"], "response_time")["alert"]["team_thresholds"].update(paris_ops=3)),
            "kpis.response_time.alert.team_thresholds.paris_ops",
            "override for unknown team 'paris_ops'",
            id="unknown-team-in-alert",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["kpis"], "on_time_delivery")["formula"].pop("denominator")),
            "kpis.on_time_delivery.formula.denominator",
            "Field required",
            id="missing-formula-field",
        ),
        pytest.param(
            mutated(team("berlin_ops", colour="red")),
            "teams.berlin_ops.colour",
            "unknown field 'colour' (known: key, name, channel, timezone, language, leads, members, quiet_hours, "
            "calendar, backup)",
            id="unknown-field",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["kpis"], "csat").update(tagret=_item(raw["kpis"], "csat").pop("target"))),
            "kpis.csat.tagret",
            "unknown field 'tagret' (did you mean 'target'?)",
            id="misspelt-field",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["kpis"], "on_time_delivery")["formula"].update(scael=100)),
            "kpis.on_time_delivery.formula.scael",
            "unknown field 'scael' (did you mean 'scale'?)",
            id="misspelt-formula-field",
        ),
        pytest.param(
            no_file,
            "",
            "cannot read: No such file or directory",
            id="missing-file",
        ),
        pytest.param(
            edited("    channel: C0BERLIN\n", "    channel: [C0BERLIN\n"),
            "",
            "not valid YAML at line 21, column 13: expected ',' or ']', but got ':'",
            id="invalid-yaml",
        ),
        pytest.param(
            lambda path: path.write_bytes(EXAMPLE_CONFIG.read_bytes().replace("上海".encode(), "上海".encode("gbk"))),
            "",
            "not UTF-8 text (byte ",
            id="not-utf8",
        ),
        pytest.param(
            lambda path: path.write_text("", encoding="utf-8"),
            "",
            "the top level must be a mapping",
            id="empty-file",
        ),
        pytest.param(
            mutated(kpi("debt_to_asset", band={"low": 60, "high": 30})),
            "kpis.debt_to_asset.band",
            "low must not be above high",
            id="band-upside-down",
        ),
        pytest.param(
            mutated(lambda raw: _item(raw["measures"], "sales").update(ceiling=1e300)),
            "measures.sales.ceiling",
            "Input should be less than or equal to 1000000000000000",
            id="ceiling-that-lets-sums-overflow",
        ),
        pytest.param(
            mutated(lambda raw: raw.update(data_since="the beginning")),
            "data_since",
            "Input should be a valid date",
            id="data-since-not-a-date",
        ),
        pytest.param(
            lambda path: path.write_text("- just\n- a list\n", encoding="utf-8"),
            "",
            "the top level must be a mapping",
            id="not-a-mapping",
        ),
    ],
)
def test_config_rejected(tmp_path: Path, write: Writer, path: str, message: str) -> None:
    file = tmp_path / "bad.yaml"
    write(file)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    error = caught.value
    assert error.file == str(file)
    assert len(error.problems) == 1, error.problems
    [problem] = error.problems
    assert problem.path == path
    assert problem.message.startswith(message), problem.message
    assert f"{file}: {path}" in str(error)


def test_non_arithmetic_expression_is_never_evaluated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    file = tmp_path / "bad.yaml"
    mutated(kpi("sales", formula={"kind": "expression", "expression": "__import__('os').system('touch pwned')"}))(file)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert [problem.path for problem in caught.value.problems] == ["kpis.sales.formula.expression"]
    assert not (tmp_path / "pwned").exists()


def test_negative_target_is_fine_for_a_signed_kpi(tmp_path: Path) -> None:
    file = tmp_path / "signed.yaml"
    mutated(kpi("budget_variance", target=-2))(file)
    assert load_config(file).kpi_by_key["budget_variance"].target == -2


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    def mistakes(raw: dict[str, Any]) -> None:
        _item(raw["teams"], "newyork_delivery")["timezone"] = "America/NewYork"  # schema
        _item(raw["kpis"], "csat")["target"] = -4  # cross-check
        _item(raw["kpis"], "roi")["team_targets"] = {"lisbon": 1}  # cross-check
        _item(raw["measures"], "orders")["unit"] = ["orders"]  # schema, on a measure the formulas use
        _item(raw["kpis"], "sales")["colour"] = "red"  # schema: the KPI is left out of the cross-checks
        _item(raw["kpis"], "sales")["target"] = -1  # so this is not reported (it is in the next round)

    file = tmp_path / "bad.yaml"
    mutated(mistakes)(file)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    # The schema's problems first, then the cross-checks of every item that passed the schema. An item that
    # failed it still counts as declared: no "unknown measure 'orders'" in on_time_delivery's formula, and no
    # "override for unknown team 'newyork_delivery'" either.
    assert [str(problem) for problem in caught.value.problems] == [
        "teams.newyork_delivery.timezone: unknown time zone 'America/NewYork' (use an IANA name such as Asia/Shanghai)",
        "measures.orders.unit: Input should be a valid string",
        "kpis.sales.colour: unknown field 'colour' (known: key, name, group, unit, better, formula, signed, target, "
        "team_targets, band, alert, report_growth, cadence, anomaly)",
        "kpis.csat.target: target must not be negative: csat is never below 0",
        "kpis.roi.team_targets.lisbon: override for unknown team 'lisbon'",
    ]
    assert str(caught.value).startswith(f"invalid config {file} (5 problem(s)):")


def test_an_item_that_fails_the_schema_still_counts_as_declared(tmp_path: Path) -> None:
    def mistakes(raw: dict[str, Any]) -> None:
        _item(raw["teams"], "berlin_ops")["language"] = "de"  # berlin_ops has team targets
        _item(raw["kpis"], "csat")["better"] = "more"  # csat is scored by both schemes
        _item(raw["measures"], "orders")["aggregate"] = "total"  # orders is in forms, formulas and at_most

    file = tmp_path / "bad.yaml"
    mutated(mistakes)(file)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert [problem.path for problem in caught.value.problems] == [
        "teams.berlin_ops.language",
        "measures.orders.aggregate",
        "kpis.csat.better",
    ]


def _without_chinese(node: Any) -> Any:
    """``node`` with every ``{en, zh}`` name reduced to its English half, and every team speaking English."""
    if isinstance(node, dict):
        if set(node) == {"en", "zh"}:
            return {"en": node["en"]}
        return {key: "en" if key == "language" else _without_chinese(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_without_chinese(item) for item in node]
    return node


def _english_only(raw: dict[str, Any]) -> None:
    raw.update(_without_chinese(raw))


def test_an_english_only_config_needs_no_chinese_names(tmp_path: Path, example_config: Config) -> None:
    file = tmp_path / "english.yaml"
    mutated(_english_only)(file)
    assert "zh:" not in file.read_text(encoding="utf-8")

    config = load_config(file)

    named = [
        *(team.name for team in config.teams),
        *(measure.name for measure in config.measures),
        *(kpi.name for kpi in config.kpis),
        *(scheme.name for scheme in config.scorecards.values()),
        *(form.title for form in config.forms),
    ]
    assert len(named) == 4 + 21 + 19 + 2 + len(example_config.forms)
    for names in named:
        assert names.zh == names.en
        assert names.in_language("zh") == names.in_language("both") == names.in_language("en") == names.en
    assert config.kpi_by_key["csat"].name.en == example_config.kpi_by_key["csat"].name.en


def test_a_name_may_be_a_plain_string_and_chinese_stays_optional_per_name(tmp_path: Path) -> None:
    def change(raw: dict[str, Any]) -> None:
        _item(raw["kpis"], "sales")["name"] = "Sales"
        _item(raw["teams"], "berlin_ops")["name"] = {"en": "Berlin", "zh": None}

    file = tmp_path / "plain.yaml"
    mutated(change)(file)
    config = load_config(file)
    assert config.kpi_by_key["sales"].name.in_language("both") == "Sales"
    assert config.team("berlin_ops").name.in_language("zh") == "Berlin"
    # the other names keep their own Chinese
    assert config.kpi_by_key["csat"].name.in_language("both") == "Customer satisfaction / 客户满意度"


def test_a_name_without_english_is_still_an_error(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    mutated(lambda raw: _item(raw["kpis"], "sales").update(name={"zh": "销售额"}))(file)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert caught.value.problems == [ConfigProblem("kpis.sales.name.en", "Field required")]


def test_parse_config_names_the_given_file() -> None:
    raw = _example()
    _item(raw["teams"], "berlin_ops")["language"] = "de"
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, file="inline.yaml")
    assert caught.value.file == "inline.yaml"
    assert caught.value.problems == [ConfigProblem("teams.berlin_ops.language", "Input should be 'en', 'zh' or 'both'")]


def _scorecard_item(scheme: str, key: str, **fields: Any) -> Callable[[dict[str, Any]], object]:
    return lambda raw: _item(raw["scorecards"][scheme]["items"], key, "kpi").update(fields)


def _rename_schedule(old: str, new: str) -> Callable[[dict[str, Any]], object]:
    return lambda raw: raw["schedules"].update({new: raw["schedules"].pop(old)})


@pytest.mark.parametrize(
    ("write", "path", "message"),
    [
        pytest.param(
            mutated(kpi("sales", team_targets={"berlin_ops": {"week": 180000, "month": 780000}})),
            "scorecards.quarterly.items.sales",
            "sales has no quarter target for team(s) berlin_ops to score against",
            id="team-target-lacks-the-schemes-period",
        ),
        pytest.param(
            mutated(kpi("csat", target={"week": 4.2, "quarter": 4.2})),
            "scorecards.service_monthly.items.csat",
            "csat has no month target for any team to score against",
            id="target-lacks-the-schemes-period",
        ),
        pytest.param(
            mutated(lambda raw: (kpi("csat", target=None)(raw), raw["scorecards"].pop("service_monthly"))),
            "scorecards.quarterly.items.csat",
            "csat has no quarter target for any team to score against",
            id="no-target-at-all",
        ),
        pytest.param(
            mutated(kpi("productivity_growth", report_growth=["year_ago"])),
            "kpis.productivity_growth.report_growth",
            "productivity_growth is a growth already: growth of a growth is not supported",
            id="growth-of-a-growth",
        ),
        pytest.param(
            mutated(_rename_schedule("weekly_digest", "weekly_digst")),
            "schedules.weekly_digst",
            "unknown schedule 'weekly_digst' (did you mean 'weekly_digest'?) (known: weekly_digest, monthly_digest, "
            "submission_reminder, management_summary, quarterly_scorecard)",
            id="unknown-schedule",
        ),
        pytest.param(
            mutated(lambda raw: raw["schedules"]["management_summary"].pop("channel")),
            "schedules.management_summary.channel",
            "management_summary posts to one channel: give its channel",
            id="management-summary-without-channel",
        ),
        pytest.param(
            mutated(lambda raw: raw["schedules"]["quarterly_scorecard"].pop("channel")),
            "schedules.quarterly_scorecard.channel",
            "quarterly_scorecard posts to one channel: give its channel",
            id="quarterly-scorecard-without-channel",
        ),
    ],
)
def test_config_rejected_before_it_misleads(tmp_path: Path, write: Writer, path: str, message: str) -> None:
    """Configs that used to load and then scored 0, compared wrongly or never ran a schedule."""
    file = tmp_path / "bad.yaml"
    write(file)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert [problem.path for problem in caught.value.problems] == [path]
    assert caught.value.problems[0].message.startswith(message), caught.value.problems[0].message


def _sales_scored_by_band(raw: dict[str, Any]) -> None:
    kpi("sales", target=None, team_targets={})(raw)
    _scorecard_item("quarterly", "sales", full_at=3000000, zero_at=0)(raw)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(_sales_scored_by_band, id="band-needs-no-target"),
        pytest.param(
            kpi("csat", team_targets={"berlin_ops": {"month": 4.5, "quarter": 4.4}}),
            id="team-target-per-period-kind",
        ),
    ],
)
def test_config_accepted_when_every_team_can_be_scored(
    tmp_path: Path, change: Callable[[dict[str, Any]], object]
) -> None:
    file = tmp_path / "good.yaml"
    mutated(change)(file)
    load_config(file)


def test_each_kpi_has_a_cadence_declared_or_derived_from_its_forms(tmp_path: Path, example_config: Config) -> None:
    cadences = example_config.cadences
    assert cadences["on_time_delivery"] == "week"  # orders: the weekly form
    assert cadences["csat"] == "week"  # surveys, cases and milestones are weekly
    assert cadences["production_cost_rate"] == "month"  # the monthly costs form
    assert cadences["roi"] == cadences["debt_to_asset"] == "quarter"  # the quarterly finance form
    file = tmp_path / "declared.yaml"
    mutated(lambda raw: raw["kpis"][0].update(cadence="month"))(file)
    assert load_config(file).cadences["on_time_delivery"] == "month"


def test_every_kpi_group_must_be_declared_and_group_names_come_from_the_config(
    tmp_path: Path, example_config: Config
) -> None:
    assert example_config.group_name("cost").zh == "成本控制"
    file = tmp_path / "bad.yaml"
    mutated(lambda raw: raw["kpis"][0].update(group="servcie"))(file)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    assert [str(problem) for problem in caught.value.problems] == [
        "kpis.on_time_delivery.group: group 'servcie' is not declared in groups (did you mean 'service'?)"
    ]
