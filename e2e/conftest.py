"""Fixtures of the end-to-end suite: the real binaries, the official SDK clients, and failure output.

`stack` is started once per session (one social account). Tests whose faults change an account's
state (throttling cooldowns, retries) take `make_stack` and get a stack of their own. When a test
fails, the report gets the proxy's and the simulator's log lines written during the test and the
simulator's request log.
"""

from __future__ import annotations

import os
from typing import Callable

import pytest

import harness
from harness import Stack

_LIVE: list[Stack] = []

# The SDKs read their own environment variables (base URLs, keys, auth tokens, custom headers):
# any of them in the caller's shell would change what the clients send. Only explicit arguments
# count here, and no HTTP proxy may take the loopback traffic.
for _name in list(os.environ):
    if _name.startswith(("ANTHROPIC_", "OPENAI_")) or _name.lower() in (
        "http_proxy", "https_proxy", "all_proxy"
    ):
        del os.environ[_name]
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def pytest_report_header(config):
    return [f"kiro-sim: {harness.SIM_BIN}", f"kiro-proxy: {harness.PROXY_BIN}"]


def _start(name: str, **kwargs) -> Stack:
    stack = Stack(name=name, workdir=harness.new_workdir(name))
    _LIVE.append(stack)
    try:
        stack.start(**kwargs)
    except Exception:
        stack.stop()
        _LIVE.remove(stack)
        raise
    return stack


def _stop(stack: Stack) -> None:
    stack.stop()
    if stack in _LIVE:
        _LIVE.remove(stack)
    harness.remove_workdir(stack.workdir)


@pytest.fixture(scope="session")
def stack():
    s = _start("main")
    yield s
    _stop(s)


@pytest.fixture
def make_stack() -> Callable[..., Stack]:
    """Starts a private stack (stopped after the test): `make_stack(account_kinds=("social",))`."""
    made: list[Stack] = []

    def make(name: str = "fresh", **kwargs) -> Stack:
        s = _start(name, **kwargs)
        made.append(s)
        return s

    yield make
    for s in made:
        _stop(s)


@pytest.fixture
def anthropic_factory():
    import anthropic

    def make(stack: Stack, api_key: str = harness.CLIENT_KEY, prefix: str = "", **kw):
        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", 20)
        return anthropic.Anthropic(base_url=stack.proxy_url + prefix, api_key=api_key, **kw)

    return make


@pytest.fixture
def openai_factory():
    import openai

    def make(stack: Stack, api_key: str = harness.CLIENT_KEY, **kw):
        kw.setdefault("max_retries", 0)
        kw.setdefault("timeout", 20)
        return openai.OpenAI(base_url=stack.proxy_url + "/v1", api_key=api_key, **kw)

    return make


@pytest.fixture
def anthropic_client(stack, anthropic_factory):
    return anthropic_factory(stack)


@pytest.fixture
def openai_client(stack, openai_factory):
    return openai_factory(stack)


# --- failure output -------------------------------------------------------------------------

_MARKS: dict[str, tuple[dict[str, int], int]] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    # Remember where each live stack's logs were when the test body started.
    for s in _LIVE:
        try:
            since = s.sim.last_request_id() if s.sim else 0
        except Exception:  # noqa: BLE001
            since = 0
        _MARKS[f"{item.nodeid}|{s.name}|{id(s)}"] = (s.log_offsets(), since)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when not in ("setup", "call") or not report.failed:
        return
    for s in list(_LIVE):
        offsets, since = _MARKS.get(f"{item.nodeid}|{s.name}|{id(s)}", ({}, 0))
        try:
            text = s.diagnostics(offsets, since)
        except Exception as e:  # noqa: BLE001
            text = f"<diagnostics failed: {e}>"
        report.sections.append((f"stack {s.name}", text))
