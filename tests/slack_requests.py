"""Signed requests shaped like Slack's own (commands, interactions, events), sent over real HTTP.

Bodies are built once as bytes and signed over exactly those bytes, as Slack does.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
import urllib.request
from typing import Any, NamedTuple
from urllib.error import HTTPError
from urllib.parse import urlencode

__all__ = [
    "API_APP_ID",
    "FORM",
    "JSON",
    "TEAM_ID",
    "Reply",
    "SlackClient",
    "app_home_opened_body",
    "block_actions_body",
    "block_suggestion_body",
    "datepicker_value",
    "datetimepicker_value",
    "event_callback_body",
    "number_value",
    "post_raw",
    "sign",
    "slash_command_body",
    "static_select_value",
    "text_value",
    "url_verification_body",
    "view_submission_body",
]

TEAM_ID = "T0TEAM"
TEAM_DOMAIN = "demo"
API_APP_ID = "A0KPIBOT"
BOT_USER_ID = "UBOT"
VERIFICATION_TOKEN = "legacy-verification-token"  # the deprecated `token` field Slack still sends
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def sign(body: bytes, *, secret: str, timestamp: int) -> dict[str, str]:
    """The X-Slack-Request-Timestamp and X-Slack-Signature headers for `body` (any bytes, UTF-8 or not)."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def _trigger_id() -> str:
    """A fresh trigger_id in Slack's dotted shape."""
    return f"{secrets.randbelow(10**12)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def _user(user_id: str, team_id: str) -> dict[str, str]:
    """The `user` object of interaction payloads."""
    return {
        "id": user_id,
        "username": f"user-{user_id.lower()}",
        "name": f"user-{user_id.lower()}",
        "team_id": team_id,
    }


def _payload_form(payload: dict[str, Any]) -> bytes:
    """An interaction body: the form field `payload` holding JSON."""
    return urlencode({"payload": json.dumps(payload)}).encode()


# element states, as Slack puts them in view.state.values[block_id][action_id]


def text_value(value: str | None) -> dict[str, Any]:
    """A plain_text_input state (None when left empty)."""
    return {"type": "plain_text_input", "value": value}


def number_value(value: str | None) -> dict[str, Any]:
    """A number_input state: Slack sends the typed text, not a number."""
    return {"type": "number_input", "value": value}


def static_select_value(value: str | None, *, text: str | None = None) -> dict[str, Any]:
    """A static_select state with `value` chosen (None when nothing is)."""
    option = None
    if value is not None:
        option = {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}
    return {"type": "static_select", "selected_option": option}


def datepicker_value(date: str | None) -> dict[str, Any]:
    """A datepicker state, `date` as YYYY-MM-DD."""
    return {"type": "datepicker", "selected_date": date}


def datetimepicker_value(epoch_seconds: int | None) -> dict[str, Any]:
    """A datetimepicker state, as epoch seconds."""
    return {"type": "datetimepicker", "selected_date_time": epoch_seconds}


# bodies


def slash_command_body(
    text: str,
    *,
    user_id: str,
    response_url: str,
    command: str = "/kpi",
    channel_id: str = "C0TEST",
    channel_name: str = "kpi-ops",
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
) -> bytes:
    """A slash command body, form-encoded with every field Slack sends."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": f"user-{user_id.lower()}",
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }
    return urlencode(fields).encode()


def view_submission_body(
    *,
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    user_id: str,
    private_metadata: str = "",
    view_id: str = "V0VIEW",
    view_hash: str = "h1",
    team_id: str = TEAM_ID,
    title: str = "KPI",
) -> bytes:
    """A view_submission body; `values` maps block_id -> action_id -> element state."""
    view: dict[str, Any] = {
        "id": view_id,
        "team_id": team_id,
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": private_metadata,
        "hash": view_hash,
        "state": {"values": values},
        "title": {"type": "plain_text", "text": title, "emoji": True},
        "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
        "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "blocks": [],
        "external_id": "",
        "root_view_id": view_id,
        "previous_view_id": None,
        "app_id": API_APP_ID,
        "app_installed_team_id": team_id,
        "bot_id": "BBOT",
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": _trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _payload_form(payload)


def block_actions_body(
    *,
    action_id: str,
    value: str,
    user_id: str,
    block_id: str = "b",
    response_url: str | None = None,
    trigger_id: str | None = None,
    container: dict[str, Any] | None = None,
    channel_id: str | None = None,
    view: dict[str, Any] | None = None,
    team_id: str = TEAM_ID,
    element: dict[str, Any] | None = None,
) -> bytes:
    """A block_actions body for a button click, in a message (channel_id) or a view (view); ``element``
    replaces the button's fields for another element (a users_select's ``selected_user``, a menu's
    ``selected_option``)."""
    action_ts = f"{time.time():.6f}"
    if container is None:
        if view is not None:
            container = {"type": "view", "view_id": view.get("id", "V0VIEW")}
        else:
            container = {
                "type": "message",
                "message_ts": action_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "action_ts": action_ts,
                **(element or {}),
            }
        ],
    }
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": "kpi-ops"}
    if view is not None:
        payload["view"] = view
    if response_url is not None:  # Slack sends one for messages only, not for modals or the Home tab
        payload["response_url"] = response_url
    return _payload_form(payload)


def block_suggestion_body(
    *, action_id: str, block_id: str, value: str, user_id: str, view: dict[str, Any], team_id: str = TEAM_ID
) -> bytes:
    """What Slack sends when a user types into an external select of ``view``: it asks for options."""
    payload = {
        "type": "block_suggestion",
        "user": _user(user_id, team_id),
        "container": {"type": "view", "view_id": view.get("id", "V0VIEW")},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view,
    }
    return _payload_form(payload)


def event_callback_body(event: dict[str, Any], *, event_id: str = "Ev0001", team_id: str = TEAM_ID) -> bytes:
    """An Events API event_callback body wrapping `event`."""
    body = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
    return json.dumps(body).encode()


def app_home_opened_body(*, user_id: str, event_id: str = "Ev0001", team_id: str = TEAM_ID) -> bytes:
    """An app_home_opened event on the Home tab."""
    event = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": f"D0{user_id}",
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    return event_callback_body(event, event_id=event_id, team_id=team_id)


def url_verification_body(challenge: str) -> bytes:
    """The url_verification handshake Slack sends when the Request URL is set."""
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}).encode()


# the client


class Reply(NamedTuple):
    """What the app answered."""

    status: int
    headers: dict[str, str]
    body: str


class SlackClient:
    """Posts bodies to the app's Request URL the way Slack does, signed unless told otherwise."""

    def __init__(self, base_url: str, secret: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.secret = secret
        self.timeout = timeout
        # never route localhost test traffic through a proxy from the environment
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(
        self,
        body: bytes,
        *,
        content_type: str,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """POST `body`; `timestamp` (e.g. stale) and `signature` (e.g. wrong) override the real ones."""
        all_headers = {"Content-Type": content_type}
        if signed:
            all_headers |= sign(body, secret=self.secret, timestamp=timestamp or int(time.time()))
            if signature is not None:
                all_headers["X-Slack-Signature"] = signature
        all_headers |= headers or {}
        request = urllib.request.Request(self.base_url, data=body, headers=all_headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return Reply(response.status, dict(response.headers.items()), response.read().decode())
        except HTTPError as error:
            with error:
                return Reply(error.code, dict(error.headers.items()), error.read().decode())

    def command(self, text: str, *, user_id: str, response_url: str, **fields: Any) -> Reply:
        """Send a slash command."""
        return self.post(
            slash_command_body(text, user_id=user_id, response_url=response_url, **fields), content_type=FORM
        )

    def submit_view(self, **fields: Any) -> Reply:
        """Send a view_submission (see `view_submission_body`)."""
        return self.post(view_submission_body(**fields), content_type=FORM)

    def action(self, **fields: Any) -> Reply:
        """Send a block_actions click (see `block_actions_body`)."""
        return self.post(block_actions_body(**fields), content_type=FORM)

    def suggest(self, **fields: Any) -> Reply:
        """Ask for an external select's options (see `block_suggestion_body`)."""
        return self.post(block_suggestion_body(**fields), content_type=FORM)

    def event(self, body: bytes, *, retry_num: int | None = None, retry_reason: str = "http_timeout") -> Reply:
        """Send an Events API body, as a retry when `retry_num` is given."""
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self.post(body, content_type=JSON, headers=headers)


def post_raw(url: str, head: dict[str, str], body: bytes = b"", *, timeout: float = 10.0) -> tuple[int, float]:
    """POSTs over a bare socket, the body sent from another thread while the answer is awaited: a server
    that refuses a large request before reading it answers while the body is still on its way (and may
    then reset the connection, which is ignored). Returns the status and the seconds until it arrived."""
    host_port = url.split("://", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    lines = [f"POST {path} HTTP/1.1", f"Host: {host_port}", *(f"{name}: {value}" for name, value in head.items())]
    with socket.create_connection((host, int(port)), timeout=timeout) as connection:
        started = time.perf_counter()
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

        def send_body() -> None:
            with contextlib.suppress(OSError):  # refused and closed mid-body: the answer is what counts
                connection.sendall(body)

        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        answer = b""
        while b"\r\n" not in answer:
            chunk = connection.recv(4096)
            if not chunk:
                break
            answer += chunk
        elapsed = time.perf_counter() - started
        with contextlib.suppress(OSError):  # unblocks a sender still writing into a full socket
            connection.shutdown(socket.SHUT_RDWR)
        sender.join(timeout=timeout)
    if not answer:
        raise ConnectionError(f"no answer from {url}")
    return int(answer.split(b" ", 2)[1]), elapsed
