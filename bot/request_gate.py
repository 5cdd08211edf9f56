"""What stands between the network and Bolt on ``/slack/events``: a body cap, the signature check on the
raw bytes, parsing that refuses malformed bodies with 400, and the one workspace this deployment serves.

Bolt's WSGI adapter reads and parses the whole body before its ``RequestVerification`` middleware runs
(``BoltRequest.__init__`` calls ``parse_body``), so an unsigned request could make the server hold and
parse as much as the HTTP server accepts. Here the order is: size from the headers, read, verify, then
parse; only a request Slack signed is ever parsed. Bolt verifies it again (cheap), which keeps its own
protection on for Socket Mode and for any other way the app is served.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from kpi_core.errors import SettingsError

logger = logging.getLogger(__name__)

#: Slack's request bodies are small: a slash command is about 600 bytes, a submitted modal of ours a few
#: kilobytes. The worst case, our largest modal (about a dozen inputs) with every input at Slack's 3,000
#: characters, all CJK (9 bytes each once URL-encoded), is about 350 KB. Larger bodies get 413 unread.
MAX_BODY_BYTES = 1024 * 1024
#: Slack's own rule: a signed request older (or newer) than five minutes is a replay.
MAX_CLOCK_SKEW_SECONDS = 300

_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
# Bodies that carry no workspace by design: the Request URL handshake and Slack's certificate check.
_WORKSPACE_FREE = ("url_verification",)


def installed_workspace(client: WebClient) -> str:
    """The workspace (team id) of the bot token, from ``auth.test``: the one workspace this deployment
    serves, when ``SLACK_TEAM_ID`` does not say it."""
    try:
        team_id = client.auth_test().get("team_id")
    except (SlackApiError, SlackRequestError, OSError) as error:
        reason = f"is not set, and Slack's auth.test could not tell it ({type(error).__name__}: {error})"
        raise SettingsError(setting="SLACK_TEAM_ID", reason=reason) from None
    if not isinstance(team_id, str) or not team_id:
        raise SettingsError(setting="SLACK_TEAM_ID", reason="is not set, and Slack's auth.test named no team")
    return team_id


class RequestGate:
    """A WSGI app for Slack's Request URL: refuses what must not reach Bolt, dispatches the rest to ``app``."""

    def __init__(
        self,
        app: App,
        *,
        signing_secret: str,
        team_id: str,
        max_body_bytes: int = MAX_BODY_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = app
        self._secret = signing_secret.encode()
        self._team_id = team_id
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = self._respond(environ)
        start_response(response.status, response.get_headers())
        return response.get_body()

    def _respond(self, environ: dict[str, Any]) -> WsgiHttpResponse:
        length = _content_length(environ)
        if length is None:
            return _refusal(400, "invalid Content-Length")
        if length > self._max_body_bytes:
            # Never read: the server closes the connection after answering (waitress caps bodies too).
            return _refusal(413, f"request body over {self._max_body_bytes} bytes")
        raw = environ["wsgi.input"].read(length) if length else b""
        if len(raw) != length:
            return _refusal(400, "request body shorter than its Content-Length")
        http = WsgiHttpRequest(environ)
        headers = http.get_headers()
        if not self._signed(raw, headers):
            return _refusal(401, "invalid request")
        try:
            request = BoltRequest(body=raw.decode("utf-8"), query=http.query_string, headers=headers)
        except (ValueError, RecursionError, TypeError, AttributeError, KeyError, IndexError) as error:
            # Bolt parses JSON and forms and then reads ids out of them: a signed body Slack would never send
            # (not UTF-8, broken or 200k-deep JSON, a list where an object belongs) is a client error.
            logger.warning("refused a signed but malformed request body (%s)", type(error).__name__)
            return _refusal(400, "malformed request body")
        if not self._our_workspace(request):
            logger.warning(
                "refused a request from workspace %r (this deployment serves %s)",
                request.context.team_id,
                self._team_id,
            )
            return _refusal(403, "this app is not installed in that workspace")
        bolt: BoltResponse = self._app.dispatch(request)
        return WsgiHttpResponse(status=bolt.status, headers=bolt.headers, body=bolt.body)

    def _signed(self, raw: bytes, headers: dict[str, Any]) -> bool:
        """Slack's signature scheme over the raw bytes, with header shapes checked before any arithmetic."""
        timestamp, signature = headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
        if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp):
            return False
        if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
            return False
        if abs(self._clock() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            return False
        digest = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + raw, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"v0={digest}", signature)

    def _our_workspace(self, request: BoltRequest) -> bool:
        if request.body.get("type") in _WORKSPACE_FREE or request.body.get("ssl_check") == "1":
            return True
        return request.context.team_id == self._team_id


def _content_length(environ: dict[str, Any]) -> int | None:
    value = environ.get("CONTENT_LENGTH") or "0"
    return int(value) if isinstance(value, str) and value.isascii() and value.isdigit() else None


def _refusal(status: int, message: str) -> WsgiHttpResponse:
    body = json.dumps({"error": message})
    return WsgiHttpResponse(status=status, headers={"content-type": ["application/json"]}, body=body)
