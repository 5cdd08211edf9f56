"""A config whose forms a chat modal could not show is refused, naming the limit; titles fit per language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from kpi_core.config import Config, parse_config
from kpi_core.config_schema import Form, Language
from kpi_core.display_limits import FORM_TITLE_MAX_CHARS, form_title
from kpi_core.errors import ConfigError
from tests.conftest import EXAMPLE_CONFIG


def _example() -> dict[str, Any]:
    return yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))


def _form(raw: dict[str, Any], key: str) -> dict[str, Any]:
    return next(form for form in raw["forms"] if form["key"] == key)


def _many_measures(raw: dict[str, Any]) -> None:
    extra = [
        {"key": f"extra_{i}", "name": {"en": f"Extra {i}", "zh": f"额外 {i}"}, "unit": "count"} for i in range(120)
    ]
    raw["measures"] += extra
    _form(raw, "weekly")["measures"] = [measure["key"] for measure in extra]


def _long_key(raw: dict[str, Any]) -> None:
    key = "m" * 250
    raw["measures"].append({"key": key, "name": {"en": "Long", "zh": "长"}, "unit": "count"})
    _form(raw, "weekly")["measures"].append(key)


def _title_without_short(raw: dict[str, Any]) -> None:
    del _form(raw, "weekly")["short_title"]


def _short_title_too_long(raw: dict[str, Any]) -> None:
    _form(raw, "survey")["title"]["zh"] = "满" * 30


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        pytest.param(
            _title_without_short,
            "forms.weekly.title.en",
            "'Weekly operations figures' is 25 characters; a chat modal's title holds at most 24",
            id="title-25-characters",
        ),
        pytest.param(_short_title_too_long, "forms.survey.title.zh", "is 30 characters", id="zh-title-without-short"),
        pytest.param(
            _many_measures,
            "forms.weekly.measures",
            "120 measures; a chat modal holds at most 100 blocks, so a form at most 98 measures",
            id="120-measures",
        ),
        pytest.param(
            _long_key, "forms.weekly.measures", "is 250 characters; a form's input is named by it", id="250-char-key"
        ),
    ],
)
def test_a_form_chat_cannot_show_is_refused_naming_the_limit(
    change: Callable[[dict[str, Any]], None], path: str, message: str
) -> None:
    raw = _example()
    change(raw)
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert any(problem.path == path and message in problem.message for problem in caught.value.problems), [
        str(problem) for problem in caught.value.problems
    ]


@pytest.mark.parametrize(
    ("form_key", "language", "title"),
    [
        pytest.param("weekly", "en", "Weekly figures", id="en-short"),
        pytest.param("weekly", "zh", "每周运营数据", id="zh-full"),
        pytest.param("weekly", "both", "Weekly figures / 每周运营数据", id="both-short-en"),
        pytest.param("milestone", "both", "Project milestone / 里程碑", id="both-short-zh"),
        pytest.param("survey", "both", "Survey scores / 满意度调查", id="both-full"),
        pytest.param("milestone", "en", "Project milestone", id="en-full"),
    ],
)
def test_each_language_gets_a_title_that_fits_without_a_cut(
    example_config: Config, form_key: str, language: Language, title: str
) -> None:
    chosen = form_title(example_config.form_by_key[form_key], language)
    assert chosen == title and len(chosen) <= FORM_TITLE_MAX_CHARS


def test_a_bilingual_title_that_cannot_keep_both_halves_falls_back_to_english() -> None:
    form = Form.model_validate(
        {"key": "f", "kind": "survey", "title": {"en": "Customer survey scores", "zh": "客户满意度调查评分"}}
    )
    assert form_title(form, "both") == "Customer survey scores"
