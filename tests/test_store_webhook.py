"""Delivering the outbox to an HTTP webhook: a local server on 127.0.0.1 that
fails some requests first, refuses others, or is not there at all.

Delivery is at least once: every action arrives, a retried one with the same
`Idempotency-Key`, and each key is in the outbox once, marked delivered.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tierwise.cli.main import main
from tierwise.engine.policy import compile_policy
from tierwise.engine.store import Store

POLICY = """\
policy "hooks" version 1
facts
  employees int
criterion "Size" weight 100
  employees >= 1000 => 100
  otherwise         => 30
tiers
  A from 80
  B below 80
routes
  tier A => assign "ae", notify "#a"
  otherwise => enroll "nurture"
"""

# Four B accounts (one action each) and three A accounts (two each).
ACCOUNTS = {f"acct-{n}": {"employees": str(n * 250)} for n in range(7)}


class Receiver:
    """What the webhook saw, and how it answers: `answers` come first, then 200."""

    def __init__(self, answers: list[int]):
        self.answers = list(answers)
        self.keys: list[str] = []  # the Idempotency-Key of every request
        self.accepted: list[dict[str, object]] = []
        self.lock = threading.Lock()

    def answer(self, key: str, body: dict[str, object]) -> int:
        with self.lock:
            self.keys.append(key)
            status = self.answers.pop(0) if self.answers else 200
            if status == 200:
                self.accepted.append(body)
            return status


@pytest.fixture
def webhook() -> Iterator[Callable[[list[int]], tuple[str, Receiver]]]:
    """Start a local webhook that answers as told; its URL and what it saw."""
    servers: list[ThreadingHTTPServer] = []

    def start(answers: list[int]) -> tuple[str, Receiver]:
        receiver = Receiver(answers)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server name)
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length))
                status = receiver.answer(self.headers["Idempotency-Key"], body)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep the test output quiet

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        serve = threading.Thread(target=server.serve_forever, args=(0.05,))
        serve.daemon = True
        serve.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/hooks", receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def store_with_actions(store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store whose outbox holds the 10 actions grading ACCOUNTS fires."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    policy = compile_policy(POLICY)
    with Store.open(store_url, check=False) as store:
        store.upgrade()
        with store.begin_run(policy, as_of="2026-12-01") as run:
            for account, facts in ACCOUNTS.items():
                run.grade(facts, id=account)
        assert store.action_counts()["pending"] == 10
    return store_url


def deliver(url: str, store_url: str, *options: str) -> Result:
    args = ["actions", "deliver", "--to", url, "--backoff", "0.01", "--db", store_url]
    return CliRunner().invoke(main, [*args, *options])


def outbox(store_url: str) -> list[tuple[str, str, int]]:
    with Store.open(store_url) as store:
        return [(a.key, a.status, a.attempts) for a in store.actions(status=None)]


def test_every_action_arrives_though_the_webhook_fails_first(
    webhook: Callable[[list[int]], tuple[str, Receiver]], store_with_actions: str
) -> None:
    url, receiver = webhook([500, 503, 429, 500])  # then 200
    result = deliver(url, store_with_actions)
    assert (result.exit_code, result.stderr) == (
        0,
        f"delivered 10 actions to {url}; 0 refused, 0 pending\n",
    )
    stored = outbox(store_with_actions)
    keys = [key for key, _, _ in stored]
    assert len(keys) == len(set(keys)) == 10
    assert {status for _, status, _ in stored} == {"delivered"}
    assert sum(attempts for _, _, attempts in stored) == 14  # 10 + 4 retries
    assert Counter(receiver.keys) == Counter(keys) + Counter([keys[0]] * 4)
    assert sorted(str(body["key"]) for body in receiver.accepted) == sorted(keys)
    first = receiver.accepted[0]
    assert (first["account"], first["action"], first["target"], first["tier"]) == (
        "acct-0",
        "enroll",
        "nurture",
        "B",
    )
    again = deliver(url, store_with_actions)
    assert again.stderr == f"delivered 0 actions to {url}; 0 refused, 0 pending\n"
    assert len(receiver.keys) == 14


def test_a_webhook_that_keeps_failing_leaves_actions_pending(
    webhook: Callable[[list[int]], tuple[str, Receiver]], store_with_actions: str
) -> None:
    url, receiver = webhook([200, 200, 500, 500, 500])
    result = deliver(url, store_with_actions, "--max-attempts", "3")
    assert result.exit_code == 1
    third = outbox(store_with_actions)[2][0]
    assert result.stderr == (
        f"not delivered: {third}: HTTP 500 Internal Server Error\n"
        f"delivered 2 actions to {url}; 0 refused, 8 pending\n"
    )
    assert [status for _, status, _ in outbox(store_with_actions)] == (
        ["delivered"] * 2 + ["pending"] * 8
    )
    resumed = deliver(url, store_with_actions)
    assert resumed.stderr == f"delivered 8 actions to {url}; 0 refused, 0 pending\n"
    assert Counter(receiver.keys)[third] == 4  # failed 3 times, then accepted


def test_a_refused_action_is_marked_failed_and_can_be_sent_again(
    webhook: Callable[[list[int]], tuple[str, Receiver]], store_with_actions: str
) -> None:
    url, receiver = webhook([422])
    result = deliver(url, store_with_actions)
    first = outbox(store_with_actions)[0][0]
    assert result.exit_code == 1
    assert result.stderr == (
        f"not delivered: {first}: HTTP 422 Unprocessable Entity\n"
        f"delivered 9 actions to {url}; 1 refused, 0 pending\n"
    )
    assert outbox(store_with_actions)[0][1:] == ("failed", 1)
    retried = deliver(url, store_with_actions, "--retry-failed")
    assert retried.stderr == f"delivered 1 action to {url}; 0 refused, 0 pending\n"
    assert outbox(store_with_actions)[0][1:] == ("delivered", 2)
    assert sorted(str(body["key"]) for body in receiver.accepted) == sorted(
        key for key, _, _ in outbox(store_with_actions)
    )


def test_no_webhook_listening_leaves_everything_pending(
    store_with_actions: str, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on any more
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hooks"
    result = deliver(url, store_with_actions, "--max-attempts", "2")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"delivered 0 actions to {url}; 0 refused, 10 pending"
    )
    assert "Connection refused" in result.stderr.splitlines()[0]
    assert outbox(store_with_actions)[0][1:] == ("pending", 2)
