"""Which Slack Web API calls slack_sdk may repeat on its own, and when.

A call that posts something (a message, a shared file) is repeated only when Slack cannot have acted on
it: a 429 (Slack refused it and said when to come back) or a connection that failed before the request
was sent. A lost answer (the connection dropped or timed out while waiting, or a 5xx) may come after Slack
posted, so such a post is never repeated here: the delivery ledger keeps it pending and the stale-claim
takeover looks for it in the channel history before posting again. Every other call (views.*, reads,
chat.update, which rewrites the same message) is idempotent and is also retried on lost answers and
500/503. slack_sdk's default ``ConnectionErrorRetryHandler`` is replaced, not extended: it repeats any
call whose connection dropped, posts included.
"""

from __future__ import annotations

from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit

from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

__all__ = ["POSTING_METHODS", "retry_handlers"]

#: Web API methods whose repetition after a lost answer can make a message or file appear twice.
POSTING_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.scheduleMessage",
        "chat.meMessage",
        "files.completeUploadExternal",
        "files.upload",
    }
)
#: A longer wait than this is not slept through in a job or listener thread: the call fails
#: ("ratelimited"), and a ledger delivery stays pending for the next catch-up.
MAX_RATE_LIMIT_WAIT_SECONDS = 30


def method_of(request: HttpRequest) -> str:
    """The Web API method of a request: the last segment of its URL's path."""
    return urlsplit(request.url).path.rstrip("/").rsplit("/", 1)[-1]


class RateLimitRetry(RateLimitErrorRetryHandler):
    """A 429 was refused before anything happened: wait Retry-After seconds and send again, unless the
    wait is longer than a thread should block."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        retry_after = next((values for name, values in response.headers.items() if name.lower() == "retry-after"), [])
        try:
            return int(retry_after[0]) <= MAX_RATE_LIMIT_WAIT_SECONDS if retry_after else True
        except ValueError:
            return False


class NotSentRetry(RetryHandler):
    """The connection failed while the request was being sent (refused, DNS, connect timeout): urllib
    wraps those in a bare URLError; failures while waiting for the answer arrive unwrapped."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is None and isinstance(error, URLError) and not isinstance(error, HTTPError)


class UnlessPosting(RetryHandler):
    """Applies ``inner`` (a retry on a lost answer) only to calls that cannot post anything twice."""

    def __init__(self, inner: RetryHandler) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if method_of(request) in POSTING_METHODS:
            return False
        return self.inner._can_retry(state=state, request=request, response=response, error=error)


def retry_handlers() -> list[RetryHandler]:
    """The client's whole retry policy (first match wins; at most 3 retries for 429, 1 otherwise)."""
    return [
        RateLimitRetry(max_retry_count=3),
        NotSentRetry(),
        UnlessPosting(ConnectionErrorRetryHandler()),
        UnlessPosting(ServerErrorRetryHandler()),
    ]
