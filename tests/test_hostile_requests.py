"""Hostile and malformed requests against a real ``kpi-bot serve``: each gets a 4xx or a polite answer,
never a 500 and never a traceback in the server's log, signed or not. The table names each attempt."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App

from bot.request_gate import RequestGate
from tests.bot_harness import LEAD_SHANGHAI_AND_BERLIN
from tests.fake_slack import Call, FakeSlack
from tests.serve_harness import SECRET, START_TIMEOUT, Served, running_serve, serve_env, start
from tests.slack_requests import (
    FORM,
    JSON,
    SlackClient,
    block_actions_body,
    datepicker_value,
    datetimepicker_value,
    post_raw,
    sign,
    slash_command_body,
    static_select_value,
    text_value,
    view_submission_body,
)

LEAD = LEAD_SHANGHAI_AND_BERLIN
MIB = 1024 * 1024


@dataclass
class Server:
    served: Served
    fake: FakeSlack

    @property
    def slack_url(self) -> str:
        return self.served.url + "/slack/events"

    def log(self) -> str:
        return "".join(self.served.stderr)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server for the whole table, on each backend (PostgreSQL refuses a NUL in text; SQLite stores
    it): every attempt must leave it answering the next one."""
    tmp_path = tmp_path_factory.mktemp("hostile")
    database = {"KPI_DATABASE_URL": request.getfixturevalue("postgres_url")} if request.param == "postgresql" else {}
    with FakeSlack() as fake, running_serve(tmp_path, serve_env(tmp_path, fake, **database)) as served:
        yield Server(served, fake)


@dataclass(frozen=True)
class Attempt:
    body: bytes
    content_type: str = FORM
    signed: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    timestamp: int | None = None
    #: nothing in the log either; False for shapes Slack never sends that get past parsing and fail in a
    #: listener: the error handler answers those politely and the log keeps the traceback for the operator.
    quiet: bool = True


def _submitted(form: str, answers: dict[str, dict[str, Any]]) -> bytes:
    """The modal of config form ``form`` submitted by a lead with ``answers`` (block_id -> element state)."""
    return view_submission_body(
        callback_id=f"submit_{form}",
        values={block_id: {"value": state} for block_id, state in answers.items()},
        user_id=LEAD,
        private_metadata=json.dumps({"form": form}),
        view_id=f"V{time.monotonic_ns()}",
    )


def _milestone(**states: dict[str, Any]) -> bytes:
    """A milestone with ``states`` replacing the ordinary answers."""
    ordinary = {
        "team": static_select_value("shanghai_ops"),
        "project": text_value("ERP rollout"),
        "milestone_name": text_value("Go live"),
        "due_on": datepicker_value("2026-09-01"),
    }
    return _submitted("milestone", ordinary | states)


def _case(raised_at: int) -> bytes:
    answers = {
        "team": static_select_value("shanghai_ops"),
        "case_kind": static_select_value("after_sales"),
        "raised_at": datetimepicker_value(raised_at),
    }
    return _submitted("case", answers)


def _values_a_list() -> bytes:
    body = view_submission_body(callback_id="submit_milestone", values={}, user_id=LEAD)
    return body.replace(b"%22values%22%3A+%7B%7D", b"%22values%22%3A+%5B%5D")


def _withdraw(value: str, response_url: str) -> bytes:
    return block_actions_body(
        action_id="withdraw_submission", value=value, user_id=LEAD, response_url=response_url, channel_id="C0TEST"
    )


def _command(fake: FakeSlack, **fields: Any) -> bytes:
    return slash_command_body("help", user_id=LEAD, response_url=fake.response_url("hostile"), **fields)


def _nested_json(depth: int) -> bytes:
    return ('{"type": "event_callback", "event": ' + "[" * depth + "]" * depth + "}").encode()


# (attempt built from the fake Slack, the statuses that are acceptable)
ATTEMPTS: list[Any] = [
    # unsigned or badly signed: refused before the body is parsed
    pytest.param(lambda fake: Attempt(b"k=v&" * 200_000, signed=False), {401}, id="unsigned-800k-form-pairs"),
    pytest.param(lambda fake: Attempt(_command(fake), signed=False), {401}, id="unsigned-command"),
    pytest.param(
        lambda fake: Attempt(_command(fake), headers={"X-Slack-Request-Timestamp": "abc"}), {401}, id="timestamp-abc"
    ),
    pytest.param(
        lambda fake: Attempt(_command(fake), headers={"X-Slack-Request-Timestamp": "9" * 5000}),
        {401},
        id="timestamp-5000-digits",
    ),
    pytest.param(
        lambda fake: Attempt(_command(fake), timestamp=int(time.time()) - 3600), {401}, id="timestamp-an-hour-old"
    ),
    pytest.param(
        lambda fake: Attempt(_command(fake), headers={"X-Slack-Signature": "v0=" + "é" * 64}),
        {401},
        id="signature-not-ascii",
    ),
    pytest.param(
        lambda fake: Attempt(_command(fake), headers={"X-Slack-Signature": "v0=" + "0" * 64}),
        {401},
        id="signature-wrong",
    ),
    pytest.param(lambda fake: Attempt(b"{" * 400_000, content_type=JSON, signed=False), {401}, id="unsigned-deep"),
    # signed by Slack's secret, yet malformed: refused with 400, never parsed into a 500
    pytest.param(lambda fake: Attempt(b"payload=%7B%22type%22%3A"), {400}, id="payload-broken-json"),
    pytest.param(lambda fake: Attempt(_command(fake), content_type=JSON), {400}, id="form-body-labelled-json"),
    pytest.param(lambda fake: Attempt(_nested_json(200_000), content_type=JSON), {400}, id="json-200k-deep"),
    pytest.param(lambda fake: Attempt(b"[1, 2]", content_type=JSON), {400}, id="json-list"),
    pytest.param(
        lambda fake: Attempt(urlencode({"payload": '{"type": "block_actions", "team": 7}'}).encode()),
        {400, 403},
        id="payload-team-a-number",
    ),
    pytest.param(lambda fake: Attempt(b"\xff\xfe" + b"text=\xe9"), {400}, id="body-not-utf8"),
    # a signed request from another workspace (one workspace per deployment)
    pytest.param(lambda fake: Attempt(_command(fake, team_id="T0OTHER")), {403}, id="command-other-workspace"),
    pytest.param(
        lambda fake: Attempt(_withdraw("1", fake.response_url("other")).replace(b"T0TEAM", b"T0OTHER")),
        {403},
        id="action-other-workspace",
    ),
    # hostile values in well-formed, signed interactions: a polite answer (a field error or a reply)
    pytest.param(lambda fake: Attempt(_withdraw("abc", fake.response_url("w"))), {200}, id="withdraw-abc"),
    pytest.param(lambda fake: Attempt(_withdraw("9" * 30, fake.response_url("w"))), {200}, id="withdraw-30-digits"),
    pytest.param(lambda fake: Attempt(_withdraw("-1", fake.response_url("w"))), {200}, id="withdraw-negative"),
    pytest.param(
        lambda fake: Attempt(_milestone(due_on=datepicker_value("2026-02-30"))),
        {200},
        id="datepicker-2026-02-30",
    ),
    pytest.param(lambda fake: Attempt(_milestone(milestone_name=text_value("Go\x00live"))), {200}, id="nul-in-text"),
    pytest.param(lambda fake: Attempt(_case(10**20)), {200}, id="datetimepicker-year-3-trillion"),
    pytest.param(
        lambda fake: Attempt(_milestone(team={"type": "static_select", "selected_option": "x"}), quiet=False),
        {200},
        id="select-option-not-an-object",
    ),
    pytest.param(lambda fake: Attempt(_values_a_list(), quiet=False), {200}, id="view-state-values-a-list"),
]


def _send(server: Server, attempt: Attempt) -> tuple[int, str]:
    client = SlackClient(server.slack_url, SECRET)
    reply = client.post(
        attempt.body,
        content_type=attempt.content_type,
        signed=attempt.signed,
        timestamp=attempt.timestamp,
        headers=attempt.headers,
    )
    return reply.status, reply.body


def _reply_to(fake: FakeSlack, name: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """The message posted to ``fake.response_url(name)``, waited for (listeners answer after their ack)."""

    def last_reply(calls: list[Call]) -> dict[str, Any] | None:
        posted = [call.params for call in calls if call.method == "response" and call.path == f"/response/{name}"]
        return posted[-1] if posted else None

    reply = fake.wait_until(last_reply, timeout=timeout)
    if reply:
        return reply
    raise AssertionError(f"nothing was posted to response_url {name!r}")


@pytest.mark.parametrize(("build", "statuses"), ATTEMPTS)
def test_a_hostile_request_gets_a_4xx_or_a_polite_answer(
    server: Server, build: Callable[[FakeSlack], Attempt], statuses: set[int]
) -> None:
    log_before = len(server.served.stderr)
    attempt = build(server.fake)
    status, body = _send(server, attempt)
    assert status in statuses, body
    if status == 200 and body:  # a polite answer: a field error, a modal saying what happened, or a message
        assert json.loads(body).get("response_action") in (None, "errors", "update"), body
    # and the server still answers an ordinary request
    assert _send(server, Attempt(_command(server.fake)))[0] == 200
    if attempt.quiet:
        assert "Traceback" not in "".join(server.served.stderr[log_before:])
    assert server.served.process.poll() is None


@pytest.mark.parametrize("value", [pytest.param("abc", id="abc"), pytest.param("9" * 30, id="30-digits")])
def test_withdrawing_a_submission_that_cannot_exist_is_refused_politely(server: Server, value: str) -> None:
    name = f"withdraw-{value[:5]}"
    status, _ = _send(server, Attempt(_withdraw(value, server.fake.response_url(name))))
    assert status == 200
    reply = _reply_to(server.fake, name)
    # the same answer as for a forged id that does exist elsewhere: whether it exists is not revealed
    assert reply["text"].startswith(("Sorry, only the team's leads", "抱歉，只有 - 的负责人")), reply
    assert reply["replace_original"] is False


def test_an_impossible_date_gets_a_field_error(server: Server) -> None:
    status, body = _send(server, Attempt(_milestone(due_on=datepicker_value("2026-02-30"))))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["due_on"], answer


def test_a_submission_failing_before_its_ack_gets_a_modal_saying_nothing_was_stored(server: Server) -> None:
    status, body = _send(server, Attempt(_values_a_list()))
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "update"
    (block,) = answer["view"]["blocks"]
    assert "nothing was stored" in block["text"]["text"]


@pytest.mark.parametrize(
    ("declared", "body"),
    [
        pytest.param(50 * MIB, b"", id="50MiB-declared-none-sent"),
        pytest.param(2 * MIB, b"k=v&" * (MIB // 2), id="2MiB-sent"),
        pytest.param(MIB + 1, b"x" * (MIB + 1), id="1MiB-plus-one-byte"),
    ],
)
def test_a_body_over_the_cap_is_refused_with_413_before_it_is_read(server: Server, declared: int, body: bytes) -> None:
    # "50MiB-declared-none-sent" proves the refusal needs no byte of the body: none is ever sent.
    status, _ = post_raw(server.slack_url, {"Content-Type": FORM, "Content-Length": str(declared)}, body)
    assert status == 413
    assert _send(server, Attempt(_command(server.fake)))[0] == 200


def test_a_chunked_body_over_the_cap_is_refused_with_413(server: Server) -> None:
    chunk = b"k=v&" * 16384  # 64 KiB
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(40)) + b"0\r\n\r\n"
    status, _ = post_raw(server.slack_url, {"Content-Type": FORM, "Transfer-Encoding": "chunked"}, chunks)
    assert status == 413


def test_a_signed_body_of_exactly_the_cap_is_served(server: Server) -> None:
    command = _command(server.fake)
    padding = b"&padding=" + b"x" * (MIB - len(command) - len(b"&padding="))
    body = command + padding
    assert len(body) == MIB
    status, _ = post_raw(
        server.slack_url,
        {"Content-Type": FORM, "Content-Length": str(MIB)} | sign(body, secret=SECRET, timestamp=int(time.time())),
        body,
    )
    assert status == 200


def test_the_gate_refuses_a_large_content_length_without_reading_the_body() -> None:
    """Behind a server that streams bodies (not waitress, which caps them itself), the gate's own check."""

    class Unreadable(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise AssertionError("the body was read")

    app = App(signing_secret=SECRET, token="xoxb-gate", token_verification_enabled=False)
    gate = RequestGate(app, signing_secret=SECRET, team_id="T0TEAM")
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "CONTENT_LENGTH": str(50 * MIB)}
    environ |= {"wsgi.input": Unreadable(), "SERVER_PROTOCOL": "HTTP/1.1"}
    statuses: list[str] = []
    gate(environ, lambda status, headers: statuses.append(status))
    assert statuses == ["413 Request Entity Too Large"]


def test_serve_takes_its_workspace_from_slack_team_id_without_asking_slack(tmp_path: Path, fake_slack) -> None:
    env = serve_env(tmp_path, fake_slack, SLACK_TEAM_ID="T0MINE")
    with running_serve(tmp_path, env) as served:
        assert fake_slack.calls("auth.test") == []  # (Bolt asks later, for its own context, on a request)
        client = SlackClient(served.url + "/slack/events", SECRET)
        assert client.command("help", user_id=LEAD, response_url=fake_slack.response_url("x")).status == 403
        mine = client.command("help", user_id=LEAD, response_url=fake_slack.response_url("y"), team_id="T0MINE")
        assert mine.status == 200


def test_serve_learns_its_workspace_from_auth_test_at_start(tmp_path: Path, fake_slack) -> None:
    with running_serve(tmp_path, serve_env(tmp_path, fake_slack)) as served:
        assert len(fake_slack.calls("auth.test")) == 1  # before any request arrived
        client = SlackClient(served.url + "/slack/events", SECRET)
        assert client.command("help", user_id=LEAD, response_url=fake_slack.response_url("x")).status == 200
        other = client.command("help", user_id=LEAD, response_url=fake_slack.response_url("y"), team_id="T0OTHER")
        assert other.status == 403


def test_serve_refuses_to_start_when_its_workspace_cannot_be_learned(tmp_path: Path, fake_slack) -> None:
    fake_slack.fail_next("auth.test", status=200, error="invalid_auth")
    process = start(tmp_path, serve_env(tmp_path, fake_slack))
    _, stderr = process.communicate(timeout=START_TIMEOUT)
    assert process.returncode != 0
    assert "SLACK_TEAM_ID is not set, and Slack's auth.test could not tell it" in stderr
    assert "Traceback" not in stderr
