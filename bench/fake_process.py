"""The fake Slack of the tests in a process of its own, for benchmarks that time requests: the fake
receives every answer posted to a response_url, and in the measuring process its threads would take
the interpreter from the client threads whose latencies are being timed (real Slack answers on its own
servers, not in the client's process)."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from tests.fake_slack import FakeSlack


class FakeSlackProcess:
    """What bench/ack.py and bench/fanout.py use of ``FakeSlack``: ``base_url``, ``response_url``,
    ``reset``, ``wait_for`` and ``count`` (numbers of calls, not the calls)."""

    def __enter__(self) -> FakeSlackProcess:
        self._pipe, child = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        self.origin = str(self._pipe.recv())
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._ask("stop")
        self._process.join(timeout=10)

    @property
    def base_url(self) -> str:
        return f"{self.origin}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.origin}/response/{name}"

    def reset(self) -> None:
        self._ask("reset")

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> int:
        return int(self._ask("wait_for", method, count, timeout))

    def count(self, method: str) -> int:
        """How many calls of ``method`` the fake has recorded."""
        return int(self._ask("count", method))

    def _ask(self, *request: Any) -> Any:
        self._pipe.send(request)
        answer = self._pipe.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer


def _serve(pipe: Connection) -> None:
    with FakeSlack() as fake:
        pipe.send(fake.origin)
        while True:
            command, *args = pipe.recv()
            try:
                if command == "stop":
                    pipe.send(None)
                    return
                if command == "reset":
                    fake.reset()
                    pipe.send(None)
                elif command == "wait_for":
                    pipe.send(len(fake.wait_for(*args)))
                elif command == "count":
                    pipe.send(len(fake.calls(*args)))
            except Exception as error:
                pipe.send(error)
