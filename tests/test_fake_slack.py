"""The Slack test doubles: the fake Web API answers slack_sdk like Slack, and built requests pass Bolt."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from slack_bolt import Ack, App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from tests import slack_requests as sr
from tests.fake_slack import FakeSlack

SECRET = "test-signing-secret"
MODAL = {
    "type": "modal",
    "callback_id": "measures",
    "title": {"type": "plain_text", "text": "KPI"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Figures"}}],
}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url)


def test_views_open_is_recorded_and_echoes_the_view(fake: FakeSlack, client: WebClient) -> None:
    response = client.views_open(trigger_id="123.456.abc", view=MODAL)

    (call,) = fake.calls("views.open")
    assert call.params == {"trigger_id": "123.456.abc", "view": MODAL}
    assert call.headers["content-type"].startswith("application/json")
    assert call.token == "xoxb-test"
    assert response["view"]["callback_id"] == "measures"
    assert response["view"]["id"].startswith("V") and response["view"]["hash"].startswith("h")


def test_views_update_with_a_stale_hash_conflicts(fake: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id="123.456.abc", view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]

    with pytest.raises(SlackApiError, match="hash_conflict"):
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]


def test_form_values_holding_json_are_decoded(fake: FakeSlack, client: WebClient) -> None:
    client.api_call("views.publish", params={"user_id": "U1", "view": json.dumps(MODAL)})

    (call,) = fake.calls("views.publish")
    assert call.headers["content-type"] == "application/x-www-form-urlencoded"
    assert call.params == {"user_id": "U1", "view": MODAL}


def test_posted_messages_come_back_from_history_newest_first(fake: FakeSlack, client: WebClient) -> None:
    metadata = {"event_type": "kpi_digest", "event_payload": {"delivery_key": "weekly:T0TEAM:2026-W05"}}
    first = client.chat_postMessage(channel="C1", text="first", metadata=metadata)
    second = client.chat_postMessage(channel="C1", text="second")
    client.chat_postMessage(channel="C2", text="elsewhere")

    assert first["channel"] == "C1" and float(first["ts"]) < float(second["ts"])
    assert fake.calls("chat.postMessage")[0].params["metadata"] == metadata
    plain = client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in plain] == ["second", "first"]
    assert "metadata" not in plain[1]
    with_metadata = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert with_metadata[1]["metadata"] == metadata


def test_files_upload_v2_goes_through_the_three_steps(fake: FakeSlack, client: WebClient) -> None:
    content = b"\x89PNG fake chart"

    response = client.files_upload_v2(content=content, filename="chart.png", title="Chart", channel="C1")

    assert [call.method for call in fake.calls()] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    (url_call,) = fake.calls("files.getUploadURLExternal")
    assert url_call.params == {"filename": "chart.png", "length": str(len(content))}
    (upload,) = fake.calls("upload")
    assert upload.body == content and upload.params == {}
    (complete,) = fake.calls("files.completeUploadExternal")
    file_id = upload.path.rsplit("/", 1)[1]
    assert complete.params["files"] == [{"id": file_id, "title": "Chart"}]
    assert complete.params["channel_id"] == "C1"
    assert response["file"]["id"] == file_id


def test_users_info_gives_the_locale_only_when_asked(fake: FakeSlack, client: WebClient) -> None:
    fake.set_user("U1", tz="Asia/Shanghai")

    user = client.users_info(user="U1", include_locale=True)["user"]

    assert (user["tz"], user["tz_offset"], user["locale"]) == ("Asia/Shanghai", 8 * 3600, "en-US")
    assert "locale" not in client.users_info(user="U1")["user"]


def test_wait_for_sees_calls_from_other_threads(fake: FakeSlack, client: WebClient) -> None:
    def post_later() -> None:
        time.sleep(0.05)
        client.chat_postMessage(channel="C1", text="late")

    worker = threading.Thread(target=post_later)
    worker.start()
    calls = fake.wait_for("chat.postMessage", timeout=5)
    worker.join()

    assert calls[0].params["text"] == "late"


def test_wait_for_times_out_with_the_calls_seen(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()

    with pytest.raises(AssertionError, match=r"views\.open.*auth\.test"):
        fake.wait_for("views.open", timeout=0.05)


def test_rate_limited_call_is_retried(fake: FakeSlack, client: WebClient) -> None:
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))
    fake.fail_next("chat.postMessage", status=429, retry_after=0)

    response = client.chat_postMessage(channel="C1", text="hi")

    assert response["ok"]
    assert [call.failed for call in fake.calls("chat.postMessage")] == [True, False]


@pytest.mark.parametrize(
    ("status", "error", "expected_error"),
    [
        pytest.param(429, None, "ratelimited", id="rate-limited"),
        pytest.param(200, "channel_not_found", "channel_not_found", id="ok-false"),
        pytest.param(503, None, "internal_error", id="server-error"),
    ],
)
def test_scripted_failures_reach_the_client(
    fake: FakeSlack, client: WebClient, status: int, error: str | None, expected_error: str
) -> None:
    fake.fail_next("chat.postMessage", status=status, error=error)

    with pytest.raises(SlackApiError) as raised:
        client.chat_postMessage(channel="C1", text="hi")

    assert raised.value.response.status_code == status
    assert raised.value.response["error"] == expected_error
    assert client.chat_postMessage(channel="C1", text="again")["ok"]


def test_signature_verifies_and_a_tampered_body_does_not() -> None:
    body = sr.slash_command_body("report", user_id="U1", response_url="http://127.0.0.1/response/x")
    now = int(time.time())
    headers = sr.sign(body, secret=SECRET, timestamp=now)
    verifier = SignatureVerifier(SECRET)

    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert not verifier.is_valid(body + b"&x=1", str(now), headers["X-Slack-Signature"])
    stale = sr.sign(body, secret=SECRET, timestamp=now - 600)
    assert not verifier.is_valid(body, stale["X-Slack-Request-Timestamp"], stale["X-Slack-Signature"])


def test_client_posts_signed_bodies_over_http(fake: FakeSlack) -> None:
    slack = sr.SlackClient(fake.response_url("app"), SECRET)

    reply = slack.command("report week", user_id="U1", response_url=fake.response_url("cmd"))

    assert reply.status == 200 and reply.body == "ok"
    (call,) = fake.calls("response")
    verifier = SignatureVerifier(SECRET)
    timestamp, signature = call.headers["x-slack-request-timestamp"], call.headers["x-slack-signature"]
    assert verifier.is_valid(call.body, timestamp, signature)
    assert call.params["command"] == "/kpi" and call.params["text"] == "report week"


def test_built_requests_pass_bolt(fake: FakeSlack, client: WebClient) -> None:
    app = App(client=client, signing_secret=SECRET)
    seen: list[str] = []
    home_opened = threading.Event()

    @app.command("/kpi")
    def command(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.view("measures")
    def submission(ack: Ack, view: dict[str, Any]) -> None:
        seen.append(view["state"]["values"]["volume"]["value"]["value"])
        ack(response_action="errors", errors={"volume": "Not a number"})

    @app.action("refresh")
    def refresh(ack: Ack) -> None:
        seen.append("refresh")
        ack()

    @app.event("app_home_opened")
    def home(event: dict[str, Any]) -> None:
        if event["tab"] == "home":
            home_opened.set()

    def dispatch(body: bytes, timestamp: int | None = None) -> tuple[int, str]:
        headers = sr.sign(body, secret=SECRET, timestamp=timestamp or int(time.time()))
        response = app.dispatch(BoltRequest(body=body.decode(), headers=dict(headers)))
        return response.status, response.body

    assert dispatch(sr.slash_command_body("", user_id="U1", response_url=fake.response_url("c")))[0] == 200
    assert fake.wait_for("views.open")[0].params["view"]["callback_id"] == "measures"
    values = {"volume": {"value": sr.text_value("12x")}, "due": {"on": sr.datepicker_value("2026-09-30")}}
    status, answer = dispatch(sr.view_submission_body(callback_id="measures", values=values, user_id="U1"))
    assert (status, json.loads(answer)) == (
        200,
        {"response_action": "errors", "errors": {"volume": "Not a number"}},
    )
    assert dispatch(sr.block_actions_body(action_id="refresh", value="1", user_id="U1", channel_id="C1"))[0] == 200
    assert dispatch(sr.app_home_opened_body(user_id="U1"))[0] == 200
    assert dispatch(sr.url_verification_body("xyz")) == (200, '{"challenge": "xyz"}')
    assert dispatch(sr.app_home_opened_body(user_id="U1"), timestamp=int(time.time()) - 600)[0] == 401
    assert seen == ["12x", "refresh"]
    assert home_opened.wait(timeout=5)
