"""What real Slack refuses: every payload the fake Slack records is checked against Slack's limits.

Our fake Slack accepts anything, so a modal title of 25 characters would pass every test and fail for every
user (`views.open` answers `invalid_arguments` after the ack, and the user sees nothing). Each payload is
parsed with slack_sdk's own Block Kit models (their `to_dict()` runs `validate_json()` on every nested
object) and checked against the documented limits below, which slack_sdk does not all enforce.
`tests/conftest.py` fails any test whose payloads broke a limit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

__all__ = [
    "LIMITS",
    "Limit",
    "ack_violations",
    "options_violations",
    "blocks_violations",
    "call_violations",
    "recorded_violations",
    "record",
    "take_violations",
    "view_violations",
]

BLOCK_KIT = "https://docs.slack.dev/reference/block-kit/blocks"
VIEWS = "https://docs.slack.dev/reference/views"
POST_MESSAGE = "https://docs.slack.dev/reference/methods/chat.postMessage"


@dataclass(frozen=True)
class Limit:
    """One documented limit: the most `maximum` of `what`, per `source`."""

    what: str
    maximum: int
    source: str


# The limits, each with where it is written down. slack_sdk's models enforce most of them too; they are
# checked here explicitly so that a newer slack_sdk dropping one does not silently drop the check.
LIMITS = {
    "modal_title": Limit("characters of a modal's title", 24, f"{VIEWS} (slack_sdk View.title_max_length)"),
    "modal_submit": Limit("characters of a modal's submit", 24, f"{VIEWS} (slack_sdk View.submit_max_length)"),
    "modal_close": Limit("characters of a modal's close", 24, f"{VIEWS} (slack_sdk View.close_max_length)"),
    "modal_blocks": Limit("blocks in a modal", 100, f"{VIEWS} (slack_sdk View.blocks_max_length)"),
    "home_blocks": Limit("blocks on the Home tab", 100, f"{VIEWS} (slack_sdk View.blocks_max_length)"),
    "message_blocks": Limit("blocks in a message", 50, f"{POST_MESSAGE} (argument blocks)"),
    "private_metadata": Limit(
        "characters of private_metadata", 3000, f"{VIEWS} (slack_sdk View.private_metadata_max_length)"
    ),
    "callback_id": Limit("characters of callback_id", 255, f"{VIEWS} (slack_sdk View.callback_id_max_length)"),
    "block_id": Limit("characters of a block_id", 255, f"{BLOCK_KIT} (slack_sdk Block.block_id_max_length)"),
    "action_id": Limit(
        "characters of an action_id",
        255,
        "https://docs.slack.dev/reference/block-kit/block-elements (slack_sdk BlockElement.action_id_max_length)",
    ),
    "section_text": Limit(
        "characters of a section's text", 3000, f"{BLOCK_KIT}/section-block (slack_sdk SectionBlock)"
    ),
    "section_fields": Limit("fields of a section", 10, f"{BLOCK_KIT}/section-block (slack_sdk SectionBlock)"),
    "section_field": Limit("characters of a section field", 2000, f"{BLOCK_KIT}/section-block"),
    "header_text": Limit("characters of a header", 150, f"{BLOCK_KIT}/header-block (slack_sdk HeaderBlock)"),
    "context_elements": Limit("elements of a context block", 10, f"{BLOCK_KIT}/context-block (slack_sdk ContextBlock)"),
    "button_text": Limit(
        "characters of a button's text",
        75,
        "https://docs.slack.dev/reference/block-kit/block-elements/button-element (slack_sdk ButtonElement)",
    ),
    "select_options": Limit(
        "options of a static select",
        100,
        "https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element (slack_sdk StaticSelectElement)",
    ),
    "option_text": Limit(
        "characters of an option's text",
        75,
        "https://docs.slack.dev/reference/block-kit/composition-objects/option-object (slack_sdk Option)",
    ),
    "message_text": Limit("characters of a message's top-level text", 40000, f"{POST_MESSAGE} (argument text)"),
    "message_block_text": Limit(
        "characters of text in all blocks of one message",
        12000,
        "msg_blocks_too_long, reported in slackapi/bolt-js#2509 and #2867 (not in Slack's reference)",
    ),
}

# Web API methods whose payload is a message, and those whose payload is a view
MESSAGE_METHODS = {"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage", "response"}
TEXT_REQUIRED = {"chat.postMessage", "chat.postEphemeral"}  # the notification fallback, per POST_MESSAGE
VIEW_METHODS = {"views.open", "views.update", "views.push", "views.publish"}


def _over(key: str, actual: int, where: str) -> str:
    limit = LIMITS[key]
    return f"{where}: {actual} {limit.what}, limit {limit.maximum} ({limit.source})"


def _text(value: Any) -> str:
    """The text of a text object (or a plain string)."""
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return "" if value is None else str(value)


def _text_objects(node: Any) -> Iterator[str]:
    """Every text of a plain_text or mrkdwn object anywhere under `node`."""
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            yield node["text"]
            return
        for value in node.values():
            yield from _text_objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _text_objects(value)


def _elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The interactive elements of a block (an accessory, an input's element, an actions block's)."""
    found = [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
    if block.get("type") == "actions":
        found += [e for e in block.get("elements", []) if isinstance(e, dict)]
    return found


def _element_violations(element: dict[str, Any], where: str) -> list[str]:
    problems = []
    action_id = str(element.get("action_id", ""))
    if len(action_id) > LIMITS["action_id"].maximum:
        problems.append(_over("action_id", len(action_id), f"{where} action_id {action_id[:40]!r}..."))
    if element.get("type") == "button" and len(_text(element.get("text"))) > LIMITS["button_text"].maximum:
        problems.append(_over("button_text", len(_text(element.get("text"))), f"{where} button"))
    options = element.get("options") or []
    is_static = element.get("type") in ("static_select", "multi_static_select")
    if is_static and len(options) > LIMITS["select_options"].maximum:
        problems.append(_over("select_options", len(options), f"{where} {element['type']}"))
    for group in element.get("option_groups") or []:
        options = options + (group.get("options") or [])
    for option in options + [o for o in [element.get("initial_option")] if o]:
        if len(_text(option.get("text"))) > LIMITS["option_text"].maximum:
            text = _text(option.get("text"))
            problems.append(_over("option_text", len(text), f"{where} option {text[:40]!r}..."))
    return problems


def _block_violations(block: dict[str, Any], where: str) -> list[str]:
    """The explicit limits of one block, then slack_sdk's own validation of it."""
    problems = []
    kind = block.get("type")
    block_id = str(block.get("block_id", ""))
    if len(block_id) > LIMITS["block_id"].maximum:
        problems.append(_over("block_id", len(block_id), f"{where} block_id {block_id[:40]!r}..."))
    if kind == "section":
        if len(_text(block.get("text"))) > LIMITS["section_text"].maximum:
            problems.append(_over("section_text", len(_text(block.get("text"))), f"{where} section"))
        fields = block.get("fields") or []
        if len(fields) > LIMITS["section_fields"].maximum:
            problems.append(_over("section_fields", len(fields), f"{where} section"))
        for field in fields:
            if len(_text(field)) > LIMITS["section_field"].maximum:
                problems.append(_over("section_field", len(_text(field)), f"{where} section field"))
    elif kind == "header" and len(_text(block.get("text"))) > LIMITS["header_text"].maximum:
        problems.append(_over("header_text", len(_text(block.get("text"))), f"{where} header"))
    elif kind == "context" and len(block.get("elements") or []) > LIMITS["context_elements"].maximum:
        problems.append(_over("context_elements", len(block["elements"]), f"{where} context"))
    action_ids = [str(e.get("action_id")) for e in _elements(block) if e.get("action_id")]
    if len(action_ids) != len(set(action_ids)):
        problems.append(f"{where}: action_ids repeat within the block: {sorted(action_ids)}")
    for element in _elements(block):
        problems += _element_violations(element, where)
    try:
        parsed = Block.parse(block)
        if parsed is None:
            problems.append(f"{where}: slack_sdk knows no block of type {kind!r}")
        else:
            parsed.to_dict()  # validate_json() on the block and every object inside it
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as error:
        problems.append(f"{where}: slack_sdk refuses the {kind} block: {error}")
    return problems


def blocks_violations(blocks: Any, *, surface: str, where: str) -> list[str]:
    """The limits of a list of blocks on a surface: "message", "modal" or "home"."""
    if not isinstance(blocks, list):
        return [f"{where}: blocks is not a list: {type(blocks).__name__}"]
    key = {"message": "message_blocks", "modal": "modal_blocks", "home": "home_blocks"}[surface]
    problems = []
    if len(blocks) > LIMITS[key].maximum:
        problems.append(_over(key, len(blocks), where))
    block_ids = [str(b["block_id"]) for b in blocks if isinstance(b, dict) and b.get("block_id")]
    repeated = sorted({b for b in block_ids if block_ids.count(b) > 1})
    if repeated:
        problems.append(f"{where}: block_ids repeat: {repeated} (block_id must be unique, {BLOCK_KIT})")
    for index, block in enumerate(blocks):
        problems += _block_violations(block, f"{where} block {index}")
    if surface == "message":
        total = sum(len(text) for text in _text_objects(blocks))
        if total > LIMITS["message_block_text"].maximum:
            problems.append(_over("message_block_text", total, where))
    return problems


def view_violations(view: Any, *, where: str) -> list[str]:
    """A modal or Home tab view: its own limits, its blocks', and slack_sdk's View validation."""
    if not isinstance(view, dict):
        return [f"{where}: the view is not an object"]
    problems = []
    is_home = view.get("type") == "home"
    if not is_home:
        for part in ("title", "submit", "close"):
            length = len(_text(view.get(part)))
            if length > LIMITS[f"modal_{part}"].maximum:
                problems.append(_over(f"modal_{part}", length, f"{where} {part} {_text(view.get(part))!r}"))
    for key in ("private_metadata", "callback_id"):
        length = len(str(view.get(key) or ""))
        if length > LIMITS[key].maximum:
            problems.append(_over(key, length, where))
    problems += blocks_violations(view.get("blocks", []), surface="home" if is_home else "modal", where=where)
    fields = {key: value for key, value in view.items() if key not in ("id", "hash", "state", "team_id", "app_id")}
    try:
        View(**fields).to_dict()  # validate_json() on the view and everything inside it
    except (SlackObjectFormationError, TypeError, KeyError, AttributeError) as error:
        problems.append(f"{where}: slack_sdk refuses the view: {error}")
    return problems


def message_violations(params: dict[str, Any], *, method: str) -> list[str]:
    """A message (chat.* or a response_url post)."""
    problems = []
    text = params.get("text")
    if method in TEXT_REQUIRED and not (isinstance(text, str) and text.strip()):
        problems.append(f"{method}: no top-level text (the notification fallback must always be set)")
    if isinstance(text, str) and len(text) > LIMITS["message_text"].maximum:
        problems.append(_over("message_text", len(text), method))
    if "blocks" in params:
        problems += blocks_violations(params["blocks"], surface="message", where=method)
    return problems


def call_violations(method: str, params: dict[str, Any]) -> list[str]:
    """Everything real Slack would refuse in one Web API call or response_url post."""
    if method in VIEW_METHODS:
        return view_violations(params.get("view"), where=method)
    if method in MESSAGE_METHODS:
        return message_violations(params, method=method)
    return []


def _input_block_ids(view: dict[str, Any]) -> set[str]:
    return {str(b.get("block_id")) for b in view.get("blocks", []) if b.get("type") == "input"}


def ack_violations(ack: Any, *, submitted_view: dict[str, Any] | None = None) -> list[str]:
    """The ack body of a command or a view submission, which goes back to Slack over HTTP.

    `errors` may only name input blocks of the submitted view (Slack shows no error anywhere else:
    https://docs.slack.dev/surfaces/modals#displaying_errors); an `update` or `push` carries a whole view.
    """
    if not isinstance(ack, dict):
        return []
    action = ack.get("response_action")
    if action == "errors":
        if submitted_view is None:
            return ["view_submission ack: errors but no submitted view to check them against"]
        keys = set(ack.get("errors") or {})
        not_inputs = sorted(keys - _input_block_ids(submitted_view))
        if not keys:
            return ["view_submission ack: response_action errors with no errors"]
        if not_inputs:
            return [
                f"view_submission ack: errors keyed on {not_inputs}, which are not input blocks of the submitted "
                f"view {submitted_view.get('callback_id')!r} (input blocks: {sorted(_input_block_ids(submitted_view))})"
            ]
        return []
    if action in ("update", "push"):
        return view_violations(ack.get("view"), where=f"view_submission ack ({action})")
    if "blocks" in ack or "text" in ack:
        return message_violations(ack, method="command ack")
    return []


def options_violations(ack: dict[str, Any]) -> list[str]:
    """The options an app serves an external select (the ack of a block_suggestion)."""
    return _element_violations({"type": "static_select", **ack}, "block_suggestion ack")


# The violations recorded in this test run since the last `take_violations()`; written from the fake's
# server threads and read by the test's own thread.
_lock = threading.Lock()
_recorded: list[str] = []


def record(problems: list[str]) -> None:
    """Remember violations for the running test to fail on."""
    if problems:
        with _lock:
            _recorded.extend(problems)


def recorded_violations() -> list[str]:
    with _lock:
        return list(_recorded)


def take_violations() -> list[str]:
    """The recorded violations, forgotten from now on."""
    with _lock:
        taken = list(_recorded)
        _recorded.clear()
        return taken
