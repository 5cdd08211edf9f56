"""The payload validator itself: a payload just over each limit is caught, one at the limit is not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient

from tests import slack_limits
from tests.fake_slack import FakeSlack
from tests.slack_limits import LIMITS, VIEW_METHODS, ack_violations, call_violations


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "Figures", **fields: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **fields}


def select(options: int, *, text: str = "Team", action_id: str = "value") -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": action_id,
        "options": [{"text": plain(f"{text}"[:75] if i else text), "value": f"v{i}"} for i in range(options)],
    }


def input_block(block_id: str, element: dict[str, Any]) -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": plain("Team"), "element": element}


def modal(**fields: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "submit_measures",
        "private_metadata": "{}",
        "title": plain("Weekly ops figures"),
        "submit": plain("Submit"),
        "close": plain("Cancel"),
        "blocks": [input_block("team", select(3))],
        **fields,
    }


def message(**fields: Any) -> dict[str, Any]:
    return {"channel": "C1", "text": "Weekly digest", "blocks": [section()], **fields}


def button(text: str, action_id: str = "open") -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action_id, "value": "1"}


def sections_holding(characters: int) -> list[dict[str, Any]]:
    """Sections of at most 2,000 characters each that hold ``characters`` in all: each block is fine."""
    sizes = [2000] * (characters // 2000) + ([characters % 2000] if characters % 2000 else [])
    return [section("x" * size) for size in sizes]


def violations(method: str, payload: dict[str, Any]) -> list[str]:
    """The violations of ``payload`` sent as ``method`` (a view travels inside the call's ``view``)."""
    return call_violations(method, {"view": payload} if method in VIEW_METHODS else payload)


Edit = Callable[[dict[str, Any]], object]

# (method, a valid payload, an edit that puts it exactly at a limit, the same edit one step over, the limit)
CASES = [
    ("views.open", modal, lambda n: lambda p: p["title"].update(text="t" * n), "modal_title"),
    ("views.open", modal, lambda n: lambda p: p["submit"].update(text="s" * n), "modal_submit"),
    ("views.open", modal, lambda n: lambda p: p["close"].update(text="c" * n), "modal_close"),
    ("views.open", modal, lambda n: lambda p: p.update(private_metadata="m" * n), "private_metadata"),
    ("views.open", modal, lambda n: lambda p: p.update(callback_id="c" * n), "callback_id"),
    (
        "views.open",
        modal,
        lambda n: lambda p: p.update(blocks=[section(block_id=f"b{i}") for i in range(n)]),
        "modal_blocks",
    ),
    (
        "views.publish",
        lambda: {"type": "home", "blocks": [section()]},
        lambda n: lambda p: p.update(blocks=[section() for _ in range(n)]),
        "home_blocks",
    ),
    ("views.open", modal, lambda n: lambda p: p["blocks"][0].update(block_id="b" * n), "block_id"),
    ("views.open", modal, lambda n: lambda p: p["blocks"][0]["element"].update(action_id="a" * n), "action_id"),
    ("views.open", modal, lambda n: lambda p: p["blocks"][0].update(element=select(n)), "select_options"),
    ("views.open", modal, lambda n: lambda p: p["blocks"][0].update(element=select(2, text="o" * n)), "option_text"),
    ("chat.postMessage", message, lambda n: lambda p: p.update(blocks=[section() for _ in range(n)]), "message_blocks"),
    ("chat.postMessage", message, lambda n: lambda p: p.update(text="x" * n), "message_text"),
    ("chat.postMessage", message, lambda n: lambda p: p.update(blocks=[section("x" * n)]), "section_text"),
    (
        "chat.postMessage",
        message,
        lambda n: lambda p: p.update(blocks=[section(fields=[mrkdwn("f")] * n)]),
        "section_fields",
    ),
    (
        "chat.postMessage",
        message,
        lambda n: lambda p: p.update(blocks=[section(fields=[mrkdwn("f" * n)])]),
        "section_field",
    ),
    (
        "chat.postMessage",
        message,
        lambda n: lambda p: p.update(blocks=[{"type": "header", "text": plain("h" * n)}]),
        "header_text",
    ),
    (
        "chat.postMessage",
        message,
        lambda n: lambda p: p.update(blocks=[{"type": "context", "elements": [mrkdwn("c")] * n}]),
        "context_elements",
    ),
    (
        "chat.postMessage",
        message,
        lambda n: lambda p: p.update(blocks=[section(accessory=button("b" * n))]),
        "button_text",
    ),
    (
        "chat.postMessage",
        message,
        lambda n: lambda p: p.update(blocks=sections_holding(n)),
        "message_block_text",
    ),
]


@pytest.mark.parametrize(("method", "valid", "at", "limit"), [pytest.param(*case, id=case[3]) for case in CASES])
def test_a_payload_over_a_limit_is_caught_and_one_at_it_is_not(
    method: str, valid: Callable[[], dict[str, Any]], at: Callable[[int], Edit], limit: str
) -> None:
    maximum = LIMITS[limit].maximum
    at_limit, over_limit = valid(), valid()
    at(maximum)(at_limit)
    at(maximum + 1)(over_limit)
    assert violations(method, at_limit) == []
    problems = violations(method, over_limit)
    assert any(f"limit {maximum} " in problem and LIMITS[limit].what in problem for problem in problems), problems


def test_every_limit_has_a_case_and_a_source() -> None:
    assert {case[3] for case in CASES} == set(LIMITS)
    assert all(limit.source for limit in LIMITS.values())


@pytest.mark.parametrize(
    ("method", "payload", "expected"),
    [
        pytest.param("chat.postMessage", message(text=""), "no top-level text", id="message-without-text"),
        pytest.param(
            "views.open",
            modal(blocks=[section(block_id="same"), section(block_id="same")]),
            "block_ids repeat",
            id="repeated-block-id",
        ),
        pytest.param(
            "chat.postMessage",
            message(blocks=[{"type": "actions", "elements": [button("A"), button("B")]}]),
            "action_ids repeat",
            id="repeated-action-id",
        ),
        pytest.param("chat.postMessage", message(blocks=[{"type": "sparkle"}]), "knows no block", id="unknown-block"),
        pytest.param("views.open", modal(blocks=[{"type": "section"}]), "slack_sdk refuses", id="section-without-text"),
    ],
)
def test_what_slack_refuses_beyond_lengths_is_caught(method: str, payload: dict[str, Any], expected: str) -> None:
    problems = violations(method, payload)
    assert any(expected in problem for problem in problems), problems


def test_field_errors_may_only_name_input_blocks_of_the_submitted_view() -> None:
    view = modal(blocks=[input_block("team", select(2)), section(block_id="summary")])
    assert ack_violations({"response_action": "errors", "errors": {"team": "Pick a team"}}, submitted_view=view) == []
    problems = ack_violations({"response_action": "errors", "errors": {"summary": "Gone"}}, submitted_view=view)
    assert problems and "['summary']" in problems[0]
    update = {"response_action": "update", "view": modal(title=plain("Replace stored values? / 替换已有数据？"))}
    assert any("modal's title" in problem for problem in ack_violations(update, submitted_view=view))


def test_the_fake_slack_records_what_real_slack_would_refuse() -> None:
    too_long = copy.deepcopy(modal(title=plain("Weekly operations figures")))
    with FakeSlack() as fake:
        WebClient(base_url=fake.base_url, token="xoxb-test").views_open(trigger_id="1.2.3", view=too_long)
    recorded = slack_limits.take_violations()  # taken, so that this test itself passes
    assert any("'Weekly operations figures': 25 characters of a modal's title, limit 24" in p for p in recorded)
