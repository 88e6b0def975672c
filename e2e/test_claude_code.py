"""Claude Code (@anthropic-ai/claude-code 2.1.197), headless `claude -p`, through kiro-proxy.

Run as the captures README §4.1 says: a temporary HOME, ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY
pointing at the proxy, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 (no traffic but to 127.0.0.1),
CLAUDE_CODE_MAX_RETRIES=1, `timeout 120`, stdin /dev/null, cwd a temporary work directory. The
environment is built from scratch so that no variable of the calling shell reaches it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from harness import CLIENT_KEY, ROOT, current_message, history, result_text, tool_results
from support import dump

NODE_DIR = ROOT / "e2e" / "node" / "node_modules"
CANDIDATES = [
    NODE_DIR / ".bin" / "claude",
    NODE_DIR / "@anthropic-ai" / "claude-code-linux-x64" / "claude",
]


def claude_binary() -> Path | None:
    for c in CANDIDATES:
        if c.exists() and os.access(c, os.X_OK):
            return c
    return None


pytestmark = pytest.mark.skipif(
    bool(os.environ.get("E2E_NO_CLAUDE"))
    or (claude_binary() is None and not os.environ.get("E2E_REQUIRE_CLAUDE")),
    reason="E2E_NO_CLAUDE is set, or Claude Code is not installed in e2e/node "
    "(scripts/e2e installs it)",
)


def run_claude(stack, args: list[str], timeout_s: int = 120) -> tuple[int, dict | None, str, str]:
    binary = claude_binary()
    assert binary is not None, "claude is not installed in e2e/node"
    home = Path(tempfile.mkdtemp(prefix="kiro-e2e-claude-home-"))
    work = Path(tempfile.mkdtemp(prefix="kiro-e2e-claude-work-"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "ANTHROPIC_BASE_URL": stack.proxy_url,
        "ANTHROPIC_API_KEY": CLIENT_KEY,
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "DISABLE_AUTOUPDATER": "1",
        "CLAUDE_CODE_MAX_RETRIES": "1",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    if os.environ.get("E2E_CLAUDE_MODEL"):
        env["ANTHROPIC_MODEL"] = os.environ["E2E_CLAUDE_MODEL"]
    try:
        proc = subprocess.run(
            ["timeout", str(timeout_s), str(binary), *args],
            cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=timeout_s + 10,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    try:
        parsed = json.loads(proc.stdout)
    except ValueError:
        parsed = None
    return proc.returncode, parsed, proc.stdout, proc.stderr


def describe(rc, out, stdout, stderr) -> str:
    return f"rc={rc}\nstdout: {stdout[-3000:]}\nstderr: {stderr[-3000:]}"


def test_text_turn(stack):
    since = stack.sim.last_request_id()
    rc, out, stdout, stderr = run_claude(
        stack, ["-p", "say hi [[sim:text Hello from the simulator]]", "--output-format", "json"])
    got = describe(rc, out, stdout, stderr)
    assert rc == 0, got
    assert out is not None and out.get("is_error") is False, got
    assert "Hello from the simulator" in (out.get("result") or ""), got
    chats = stack.sim.chats_since(since)
    # One streamed request: a broken stream would make Claude Code fall back to a second,
    # non-streaming request and still succeed, hiding the fault.
    assert len(chats) == 1, "expected one upstream chat request:\n" + stack.sim.summary(since)


def test_bash_tool_turn(stack):
    since = stack.sim.last_request_id()
    prompt = '[[sim:tool Bash {"command":"echo MARKER_1"}]] run it'
    rc, out, stdout, stderr = run_claude(
        stack, ["-p", prompt, "--output-format", "json", "--allowedTools", "Bash(echo:*)"])
    got = describe(rc, out, stdout, stderr)
    assert rc == 0, got
    assert out is not None and out.get("is_error") is False, got
    chats = stack.sim.chats_since(since)
    with_result = [c for c in chats
                   if any("MARKER_1" in result_text(r) for r in tool_results(c))]
    assert with_result, (
        "no upstream request carried a toolResult containing MARKER_1; current messages: "
        + dump([current_message(c) for c in chats]) + "\n" + got
    )
    assert (out.get("num_turns") or 0) >= 2, got
    assert not out.get("permission_denials"), got
    # Exactly the tool turn and the follow-up (no non-streaming fallbacks or retries).
    assert len(chats) == 2, "expected two upstream chat requests:\n" + stack.sim.summary(since)
    # Claude Code asks for adaptive thinking, so the simulator thought first; the signed
    # thinking block must come back in the follow-up's history.
    replayed = [h["assistantResponseMessage"].get("reasoningContent")
                for h in history(with_result[0]) if "assistantResponseMessage" in h]
    assert any((r or {}).get("reasoningText", {}).get("signature") for r in replayed), \
        "the follow-up request carries no signed reasoning in its history: " + dump(replayed)


def test_context_command_uses_count_tokens(stack):
    """`/context` fires parallel count_tokens calls; if they failed, Claude Code would fall back
    to non-streaming `/v1/messages` calls with max_tokens 1, which would reach the upstream."""
    since = stack.sim.last_request_id()
    rc, out, stdout, stderr = run_claude(stack, ["-p", "/context", "--output-format", "json"])
    got = describe(rc, out, stdout, stderr)
    assert rc == 0, got
    assert out is not None and out.get("is_error") is False, got
    assert "Context Usage" in (out.get("result") or ""), got
    assert stack.sim.chats_since(since) == [], (
        "count_tokens fell back to upstream chat requests:\n" + stack.sim.summary(since))
