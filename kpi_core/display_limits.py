"""What a config must fit to be shown in chat, and the short form title each language gets.

A chat modal's title holds at most 24 characters, a modal at most 100 blocks and a block id at most 255
characters (Slack's views and Block Kit reference). A config that breaks them would load and then fail
for every user who opens the form, so the config check refuses it here, naming the limit.
"""

from __future__ import annotations

from kpi_core.config_schema import Config, Form, Language
from kpi_core.errors import ConfigProblem

__all__ = ["FORM_MAX_MEASURES", "FORM_TITLE_MAX_CHARS", "MEASURE_KEY_MAX_CHARS", "check_display_limits", "form_title"]

#: the longest modal title chat shows (Slack refuses the whole modal beyond it)
FORM_TITLE_MAX_CHARS = 24
#: a modal holds 100 blocks: the team and period menus and one input per measure
FORM_MAX_MEASURES = 98
#: a measure's input is the block "measure:<key>", and a block id holds at most 255 characters
MEASURE_KEY_MAX_CHARS = 255 - len("measure:")


def form_title(form: Form, language: Language) -> str:
    """The form's title in ``language`` that fits a modal: the full title, else the config's short one; a
    bilingual team keeps both halves while any pairing fits, else gets the English one alone."""
    short = form.short_title or form.title
    if language == "both":
        candidates = [f"{en} / {zh}" for en in (form.title.en, short.en) for zh in (form.title.zh, short.zh)]
        candidates += [form.title.en, short.en]
    elif language == "zh":
        candidates = [form.title.zh, short.zh]
    else:
        candidates = [form.title.en, short.en]
    # the config check guarantees a fitting one; the last resort only guards a config built in code
    return next((title for title in candidates if len(title) <= FORM_TITLE_MAX_CHARS), short.en)


def check_display_limits(config: Config) -> list[ConfigProblem]:
    """Every form title, form size and measure key that a chat modal could not show."""
    problems: list[ConfigProblem] = []
    for form in config.forms:
        where = f"forms.{form.key}"
        short = form.short_title or form.title
        for language in ("en", "zh"):
            title, short_title = getattr(form.title, language), getattr(short, language)
            if min(len(title), len(short_title)) > FORM_TITLE_MAX_CHARS:
                problems.append(
                    ConfigProblem(
                        f"{where}.title.{language}",
                        f"{title!r} is {len(title)} characters; a chat modal's title holds at most "
                        f"{FORM_TITLE_MAX_CHARS}: give a short_title.{language} that fits",
                    )
                )
        if len(form.measures) > FORM_MAX_MEASURES:
            problems.append(
                ConfigProblem(
                    f"{where}.measures",
                    f"{len(form.measures)} measures; a chat modal holds at most 100 blocks, so a form at most "
                    f"{FORM_MAX_MEASURES} measures: split it into several forms",
                )
            )
        for key in form.measures:
            if len(key) > MEASURE_KEY_MAX_CHARS:
                problems.append(
                    ConfigProblem(
                        f"{where}.measures",
                        f"measure key {key[:30]!r}... is {len(key)} characters; a form's input is named by it, "
                        f"which allows at most {MEASURE_KEY_MAX_CHARS} (a block id holds 255)",
                    )
                )
    return problems
