"""A fake Slack Web API: a real local HTTP server that answers Slack-shaped JSON and records every call.

Point `slack_sdk.WebClient(base_url=fake.base_url)` at it, and give commands a `fake.response_url(name)`.
Like Slack, `conversations.history` returns message metadata only with `include_all_metadata`, and
`users.info` returns the locale only with `include_locale`.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests import slack_limits

__all__ = ["BOT_ID", "BOT_USER_ID", "TEAM_ID", "TEAM_NAME", "Call", "FakeSlack"]

TEAM_ID = "T0TEAM"
TEAM_NAME = "Demo"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
APP_ID = "A0KPIBOT"

Params = dict[str, Any]
Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Call:
    """One request the fake received: `method` is the Web API method, "response" or "upload"."""

    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    params: Params
    body: bytes
    time: float
    failed: bool = False

    @property
    def token(self) -> str | None:
        """The bearer token of the call, from the Authorization header or a `token` param."""
        authorization = self.headers.get("authorization", "")
        if authorization.startswith("Bearer "):
            return authorization.removeprefix("Bearer ")
        return self.params.get("token")


@dataclass
class _Failure:
    status: int
    retry_after: int
    error: str | None


def _decode_params(content_type: str, body: bytes, query: str) -> Params:
    """Merge query string and body params; JSON-looking form values (blocks, view) are decoded."""
    params: Params = {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}
    if content_type.startswith("application/json"):
        params.update(json.loads(body or b"{}"))
    elif content_type.startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        for key, values in form.items():
            params[key] = _maybe_json(values[-1])
    return params


def _maybe_json(value: str) -> Any:
    """Decode a form value sent as JSON text (slack_sdk json.dumps-es blocks, view, files)."""
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _truthy(value: Any) -> bool:
    """Slack's reading of a boolean param: slack_sdk sends True as "1" in forms."""
    return value in (True, 1, "1", "true")


def _json_answer(status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
    """A JSON HTTP answer."""
    return (
        status,
        {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        json.dumps(payload).encode(),
    )


DROP = 0  # a scripted "status" that answers nothing and closes the connection


class FakeSlack:
    """A threaded HTTP server on 127.0.0.1:0 that plays the Slack Web API and response_url endpoints."""

    def __init__(self, *, first_ts: int | None = None, user_tz: str = "UTC") -> None:
        # Message ts start at the real time, as Slack's do, so "the last two days of history" finds them.
        self._first_ts = int(time.time()) if first_ts is None else first_ts
        self._user_tz = user_tz
        self._condition = threading.Condition()
        self._calls: list[Call] = []
        self._failures: dict[str, list[_Failure | None]] = {}  # None: a call answered normally
        self._delays: dict[str, list[float]] = {}
        self._lost_answers: dict[str, list[_Failure | None]] = {}
        self._file_names: dict[str, str] = {}
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._conversations: dict[str, str] = {}  # the users of a group DM, sorted and joined -> its id
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[str, Callable[[Params], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "views.open": self._view,
            "views.update": self._view,
            "views.push": self._view,
            "views.publish": self._view,
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": lambda params: {"message_ts": self._next_ts()},
            "chat.update": self._update_message,
            "chat.getPermalink": self._permalink,
            "conversations.history": self._history,
            "conversations.replies": self._replies,
            "conversations.open": self._open_conversation,
            "users.info": self._user_info,
            "files.getUploadURLExternal": self._upload_url,
            "files.completeUploadExternal": self._complete_upload,
        }

    # lifecycle

    def start(self) -> FakeSlack:
        """Bind a free port and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeSlack is already started")
        self._server = _QuietServer(("127.0.0.1", 0), _make_handler(self))
        # a short poll interval keeps shutdown() (and so each test's teardown) fast
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket and join the thread."""
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._server, self._thread = None, None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def origin(self) -> str:
        """http://127.0.0.1:PORT of the running server."""
        if self._server is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The Web API base URL for `WebClient(base_url=...)`."""
        return f"{self.origin}/api/"

    def response_url(self, name: str) -> str:
        """A response_url whose posts are recorded as method "response"."""
        return f"{self.origin}/response/{name}"

    # recording and scripting

    def calls(self, method: str | None = None) -> list[Call]:
        """The calls received so far, optionally only those of one method."""
        with self._condition:
            return self._matching(method)

    def wait_until(self, found: Callable[[list[Call]], Any], timeout: float = 5.0) -> Any:
        """Block until ``found(calls)`` returns something truthy; return it (None after ``timeout``)."""
        with self._condition:
            return self._condition.wait_for(lambda: found(list(self._calls)), timeout=timeout)

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until `count` calls of `method` arrived; return them all."""
        with self._condition:
            arrived = self._condition.wait_for(lambda: len(self._matching(method)) >= count, timeout=timeout)
            if not arrived:
                seen = [(call.method, call.path) for call in self._calls]
                raise AssertionError(f"expected {count} call(s) of {method} within {timeout} s; saw {seen}")
            return self._matching(method)

    def assert_no_call(self, method: str | None = None, *, within: float = 0.2, already: int = 0) -> None:
        """Fail unless exactly ``already`` calls of ``method`` (any, when None) came so far and no other
        arrives within ``within`` seconds: for listeners that keep working after their ack, silence has
        to be waited for."""
        with self._condition:
            before = len(self._matching(method))
            arrived = self._condition.wait_for(lambda: len(self._matching(method)) > before, timeout=within)
            unexpected = self._matching(method)[before:]
        assert not arrived and before == already, f"unexpected {method or 'Slack'} call(s): {unexpected or before}"

    def _matching(self, method: str | None) -> list[Call]:
        """Calls of `method` (all calls for None); the caller holds the lock."""
        return [call for call in self._calls if method is None or call.method == method]

    def reset(self) -> None:
        """Forget calls, scripted failures, messages, views and user overrides."""
        with self._condition:
            self._calls.clear()
            self._failures.clear()
            self._delays.clear()
            self._lost_answers.clear()
            self._file_names.clear()
            self._messages.clear()
            self._views.clear()
            self._users.clear()

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        error: str | None = None,
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Make the next `times` calls of `method` fail, once `after` calls have gone through: 429 with
        Retry-After, 5xx, 200 `ok: false`, or DROP (the connection closes with no answer, as a network
        failure would)."""
        if status == 200 and error is None:
            raise ValueError("a failure with status 200 needs an error code")
        with self._condition:
            failures = self._failures.setdefault(method, [])
            failures += [None] * after + [_Failure(status, retry_after, error) for _ in range(times)]

    def hang_next(self, method: str, seconds: float) -> None:
        """Handle the next call of `method` (the message is posted) but answer only after `seconds`:
        a sender killed meanwhile never learns that Slack has its message."""
        with self._condition:
            self._delays.setdefault(method, []).append(seconds)

    # faults after Slack acted: the call takes effect (a message is posted), then its answer is lost

    def post_then_fail(self, method: str, *, status: int = DROP, times: int = 1, after: int = 0) -> None:
        """Handle the next `times` calls of `method` (the message is posted), once `after` calls have been
        answered normally, and then hang up without an answer (DROP) or answer `status` (a 5xx) instead
        of the real answer. With `hang_next` (an answer
        slower than the client's timeout) and `fail_next(status=429, retry_after=...)` these are the
        faults a sender must survive without posting twice."""
        if status not in (DROP, 500, 502, 503, 504):
            raise ValueError("a lost answer is a dropped connection (DROP) or a 5xx status")
        with self._condition:
            lost = self._lost_answers.setdefault(method, [])
            lost += [None] * after + [_Failure(status, 0, None) for _ in range(times)]

    def _lose_answer(self, method: str, answer: Answer) -> Answer:
        """The answer armed by `post_then_fail` instead of `answer`; the caller holds the lock."""
        lost = self._lost_answers.get(method)
        failure = lost.pop(0) if lost else None
        return self._failure_answer(failure) if failure else answer

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Override fields of the user users.info answers for `user_id` (tz, locale, real_name...)."""
        with self._condition:
            self._users.setdefault(user_id, {}).update(fields)

    # request handling (called from server threads)

    def _handle(self, raw_path: str, headers: dict[str, str], body: bytes) -> Answer:
        """Route, record and answer one request."""
        url = urlsplit(raw_path)
        kind, _, name = url.path.strip("/").partition("/")
        method = {"api": name, "response": "response", "upload": "upload"}.get(kind, url.path)
        # slack_sdk posts upload bytes without a content type, so urllib labels them as a form: keep them raw
        content_type = "" if kind == "upload" else headers.get("content-type", "")
        params = _decode_params(content_type, body, url.query)
        with self._condition:
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
            answer = (
                self._failure_answer(failure)
                if failure
                else self._lose_answer(method, self._answer(kind, method, params))
            )
            if failure is None:
                _check_limits(method, params)
            call = Call(method, url.path, headers, params, body, time.time(), failed=failure is not None)
            self._calls.append(call)
            self._condition.notify_all()
            delays = self._delays.get(method)
            delay = delays.pop(0) if delays else 0.0
        if delay:
            time.sleep(delay)
        return answer

    def _failure_answer(self, failure: _Failure) -> Answer:
        """The HTTP answer of a scripted failure (DROP: none at all)."""
        if failure.status == DROP:
            return DROP, {}, b""
        if failure.status == 429:
            error = failure.error or "ratelimited"
            return _json_answer(429, {"ok": False, "error": error}, {"Retry-After": str(failure.retry_after)})
        return _json_answer(failure.status, {"ok": False, "error": failure.error or "internal_error"})

    def _answer(self, kind: str, method: str, params: Params) -> Answer:
        """The canned answer of a successful request."""
        if kind == "response":
            return 200, {"Content-Type": "text/plain"}, b"ok"
        if kind == "upload":
            return 200, {"Content-Type": "text/plain"}, b"OK"
        if kind != "api":
            return 404, {"Content-Type": "text/plain"}, b"not found"
        handler = self._handlers.get(method)
        return _json_answer(200, {"ok": True, **(handler(params) if handler else {})})

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _next_ts(self) -> str:
        """Message timestamps that increase by 100 µs per message."""
        micros = next(self._ids) * 100
        return f"{self._first_ts + micros // 1_000_000}.{micros % 1_000_000:06d}"

    # canned Web API methods (run under the condition's lock)

    def _auth_test(self, params: Params) -> dict[str, Any]:
        return {
            "url": "https://demo.slack.com/",
            "team": TEAM_NAME,
            "user": "kpibot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _view(self, params: Params) -> dict[str, Any]:
        known = self._views.get(params.get("view_id", ""))
        if known and params.get("hash") not in (None, known["hash"]):
            return {"ok": False, "error": "hash_conflict"}  # the view changed since the caller read it
        view_id = params.get("view_id") or self._next_id("V")
        view = {
            **params.get("view", {}),
            "id": view_id,
            "team_id": TEAM_ID,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "hash": self._next_id("h"),
            "state": {"values": {}},
        }
        self._views[view_id] = view
        return {"view": view}

    def _post_message(self, params: Params) -> dict[str, Any]:
        channel = params.get("channel", "")
        ts = self._next_ts()
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "ts": ts}
        for key in ("text", "blocks", "attachments", "thread_ts", "metadata"):
            if key in params:
                message[key] = params[key]
        self._messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": ts, "message": message}

    def _open_conversation(self, params: Params) -> dict[str, Any]:
        """A group DM of ``users`` (the same one each time, as Slack's ``conversations.open``)."""
        users = ",".join(sorted(str(params.get("users", "")).split(",")))
        channel = self._conversations.setdefault(users, self._next_id("G"))
        return {"channel": {"id": channel}}

    def _update_message(self, params: Params) -> dict[str, Any]:
        channel, ts = params.get("channel", ""), params.get("ts", "")
        for message in self._messages.get(channel, []):
            if message["ts"] == ts:
                message.update({k: params[k] for k in ("text", "blocks", "metadata") if k in params})
                return {"channel": channel, "ts": ts, "text": message.get("text", ""), "message": message}
        return {"channel": channel, "ts": ts, "text": params.get("text", "")}

    def _permalink(self, params: Params) -> dict[str, Any]:
        channel, ts = params.get("channel", ""), str(params.get("message_ts", ""))
        return {
            "channel": channel,
            "permalink": f"https://demo.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _history(self, params: Params) -> dict[str, Any]:
        oldest, latest = float(params.get("oldest") or 0), float(params.get("latest") or "inf")
        limit = int(params.get("limit") or 100)
        with_metadata = _truthy(params.get("include_all_metadata"))
        found = [
            message if with_metadata else {k: v for k, v in message.items() if k != "metadata"}
            for message in reversed(self._messages.get(params.get("channel", ""), []))
            if oldest < float(message["ts"]) < latest and message.get("thread_ts", message["ts"]) == message["ts"]
        ]
        return {
            "messages": found[:limit],
            "has_more": len(found) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _replies(self, params: Params) -> dict[str, Any]:
        """A thread: its parent and replies, oldest first (metadata only with include_all_metadata)."""
        thread = str(params.get("ts", ""))
        with_metadata = _truthy(params.get("include_all_metadata"))
        found = [
            message if with_metadata else {k: v for k, v in message.items() if k != "metadata"}
            for message in self._messages.get(params.get("channel", ""), [])
            if message["ts"] == thread or message.get("thread_ts") == thread
        ]
        return {"messages": found, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _user_info(self, params: Params) -> dict[str, Any]:
        user_id = params.get("user", "")
        tz = self._users.get(user_id, {}).get("tz", self._user_tz)
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": f"user-{user_id.lower()}",
            "real_name": f"User {user_id}",
            "is_bot": False,
            "tz": tz,
            "tz_label": tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "locale": "en-US",
            "profile": {"display_name": f"user-{user_id.lower()}", "real_name": f"User {user_id}"},
            **self._users.get(user_id, {}),
        }
        if not _truthy(params.get("include_locale")):
            user.pop("locale")
        return {"user": user}

    def _upload_url(self, params: Params) -> dict[str, Any]:
        file_id = self._next_id("F")
        self._file_names[file_id] = params.get("filename", "")
        return {"upload_url": f"{self.origin}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, params: Params) -> dict[str, Any]:
        """Like Slack, sharing into a channel (or a thread) adds a message holding the files."""
        files = [
            {"id": f["id"], "title": f.get("title", ""), "name": self._file_names.get(f["id"], "")}
            for f in params.get("files", [])
        ]
        if params.get("channel_id"):
            message = {"type": "message", "user": BOT_USER_ID, "bot_id": BOT_ID, "ts": self._next_ts(), "files": files}
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            self._messages.setdefault(params["channel_id"], []).append(message)
        return {"files": files}


def _check_limits(method: str, params: Params) -> None:
    """Record what real Slack would refuse in this call; the test fails on it at teardown (conftest)."""
    slack_limits.record(slack_limits.call_violations(method, params))


def _make_handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one FakeSlack."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer_headers, payload = fake._handle(self.path, headers, body)
            if status == DROP:
                self.close_connection = True  # hang up without an answer: the client sees a network error
                return
            self.send_response(status)
            for name, value in {**answer_headers, "Content-Length": str(len(payload))}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    return Handler


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a sender killed mid-request) is part of the tests, not an error to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)
