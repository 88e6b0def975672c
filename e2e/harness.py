"""Starts the real `kiro-sim` and `kiro-proxy` binaries on loopback and talks to them.

A `Stack` is one simulator plus one proxy pointed at it, each on a free port with its own
temporary data directory and log file. Tests reach the simulator's control API (`/_sim/...`)
through `Sim` and the proxy's admin API through `Stack.admin`. Only 127.0.0.1 is ever contacted.
Standard library only, so the harness does not depend on the SDKs it tests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN_DIR = Path(os.environ.get("E2E_BIN_DIR", TARGET_DIR / "debug"))
SIM_BIN = BIN_DIR / "kiro-sim"
PROXY_BIN = BIN_DIR / "kiro-proxy"

CLIENT_KEY = "e2e-client-key-0123456789"
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"
CHAT_PATH = "/generateAssistantResponse"

# Environment variables of the parent that would change what the binaries or the HTTP clients
# do: every proxy setting (the harness sets its own), the listen address, and HTTP proxies (a
# proxy variable would send loopback traffic elsewhere).
_SCRUB_PREFIXES = ("KIRO_",)
_SCRUB_NAMES = {
    "HOST", "PORT", "RUST_LOG",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
}


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _SCRUB_NAMES and not k.startswith(_SCRUB_PREFIXES)
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["NO_COLOR"] = "1"
    env.update(extra or {})
    return env


def free_port() -> int:
    """A port that was free a moment ago (bound to 127.0.0.1:0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class HttpError(Exception):
    def __init__(self, method: str, url: str, status: int, body: str):
        super().__init__(f"{method} {url} -> {status}: {body[:2000]}")
        self.status = status
        self.body = body


def http(method: str, url: str, body=None, headers: dict[str, str] | None = None,
         timeout: float = 30.0):
    """One request with the standard library; returns (status, headers, parsed JSON or text)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("content-type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as resp:
            raw = resp.read()
            status, rhdrs = resp.status, dict(resp.headers.items())
    except urllib.error.HTTPError as e:
        raw = e.read()
        status, rhdrs = e.code, dict(e.headers.items())
    text = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return status, {k.lower(): v for k, v in rhdrs.items()}, parsed


def _ok(method: str, url: str, body=None, headers=None, expect=(200, 201, 204)):
    status, _, parsed = http(method, url, body, headers)
    if status not in expect:
        raise HttpError(method, url, status, json.dumps(parsed) if parsed is not None else "")
    return parsed


@dataclass
class Process:
    """A child process whose stdout and stderr go to one log file."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    def log_text(self, offset: int = 0) -> str:
        """The log from byte `offset` on."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError as e:
            return f"<cannot read {self.log_path}: {e}>"

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int, max_lines: int = 80) -> str:
        text = _ANSI.sub("", self.log_text(offset))
        lines = text.splitlines()
        if len(lines) > max_lines:
            lines = [f"... ({len(lines) - max_lines} earlier lines cut)"] + lines[-max_lines:]
        return "\n".join(lines)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=5)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the test process dies, even by SIGKILL, so
    no simulator or proxy outlives an interrupted run (Linux only; elsewhere a no-op)."""
    try:
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except Exception:  # noqa: BLE001 - best effort
        pass


def _spawn(name: str, argv: list[str], env: dict[str, str], log_path: Path, cwd: Path) -> Process:
    log = open(log_path, "wb")
    try:
        popen = subprocess.Popen(
            argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    finally:
        log.close()
    return Process(name, popen, log_path)


def _wait_healthy(proc: Process, url: str, deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    last = "no answer"
    while time.monotonic() < end:
        if not proc.alive():
            raise RuntimeError(
                f"{proc.name} exited with {proc.popen.returncode} before {url} answered.\n"
                f"--- {proc.name} log ---\n{proc.log_since(0)}"
            )
        try:
            status, _, body = http("GET", url, timeout=2)
            if status == 200:
                return
            last = f"{status} {body}"
        except OSError as e:
            last = str(e)
        time.sleep(0.05)
    raise RuntimeError(
        f"{proc.name}: {url} not healthy after {deadline_s}s (last: {last}).\n"
        f"--- {proc.name} log ---\n{proc.log_since(0)}"
    )


class Sim:
    """The simulator's control API."""

    def __init__(self, base_url: str):
        self.base_url = base_url

    def _url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str):
        return _ok("GET", self._url(path))

    def post(self, path: str, body=None):
        return _ok("POST", self._url(path), body if body is not None else {})

    def patch(self, path: str, body):
        return _ok("PATCH", self._url(path), body)

    def delete(self, path: str):
        return _ok("DELETE", self._url(path))

    def create_account(self, **fields) -> dict:
        return self.post("/_sim/accounts", fields)

    def queue(self, behaviour: dict) -> dict:
        return self.post("/_sim/behaviours", behaviour)

    def clear_behaviours(self) -> None:
        self.delete("/_sim/behaviours")

    def settings(self, patch: dict) -> dict:
        return self.patch("/_sim/settings", patch)

    def requests(self, path: str | None = CHAT_PATH, since: int = 0) -> list[dict]:
        q = [f"since={since}"]
        if path:
            q.append(f"path={path}")
        return self.get("/_sim/requests?" + "&".join(q))

    def last_request_id(self) -> int:
        """The id of the newest logged request (0 when the log is empty): pass it as `since`."""
        entries = self.get("/_sim/requests")
        return max((e["id"] for e in entries), default=0)

    def chats_since(self, since: int) -> list[dict]:
        return self.requests(CHAT_PATH, since)

    def summary(self, since: int = 0, limit: int = 20) -> str:
        """A short text listing of logged requests, for failure messages."""
        try:
            entries = self.requests(None, since)
        except Exception as e:  # noqa: BLE001 - diagnostics must never raise
            return f"<cannot read the sim request log: {e}>"
        lines = []
        for e in entries[-limit:]:
            cur = current_message(e) if e.get("path") == CHAT_PATH else None
            content = ""
            if cur is not None:
                content = " content=" + json.dumps((cur.get("content") or "")[:120])
            lines.append(
                f"#{e['id']} {e['method']} {e['path']} account={e.get('account')} "
                f"status={e.get('status')} outcome={e.get('outcome')}{content}"
            )
        return "\n".join(lines) or "<no requests>"


def current_message(entry: dict) -> dict:
    """`conversationState.currentMessage.userInputMessage` of a logged chat request."""
    body = entry.get("body_json") or {}
    return (
        body.get("conversationState", {}).get("currentMessage", {}).get("userInputMessage", {})
    )


def history(entry: dict) -> list[dict]:
    body = entry.get("body_json") or {}
    return body.get("conversationState", {}).get("history") or []


def tool_results(entry: dict) -> list[dict]:
    ctx = current_message(entry).get("userInputMessageContext") or {}
    return ctx.get("toolResults") or []


def result_text(result: dict) -> str:
    parts = []
    for c in result.get("content") or []:
        if "text" in c:
            parts.append(str(c["text"]))
        elif "json" in c:
            parts.append(json.dumps(c["json"]))
    return "\n".join(parts)


@dataclass
class Stack:
    """kiro-sim + kiro-proxy, started together, with the proxy's accounts registered."""

    name: str
    workdir: Path
    sim_proc: Process | None = None
    proxy_proc: Process | None = None
    sim: Sim | None = None
    proxy_url: str = ""
    accounts: list[dict] = field(default_factory=list)
    proxy_accounts: list[dict] = field(default_factory=list)

    @property
    def processes(self) -> list[Process]:
        return [p for p in (self.sim_proc, self.proxy_proc) if p is not None]

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {ADMIN_TOKEN}"}

    def admin(self, method: str, path: str, body=None):
        return _ok(method, self.proxy_url + path, body, self.admin_headers)

    def start(self, account_kinds: tuple[str, ...] = ("social",), sim_args: tuple[str, ...] = (),
              proxy_env: dict[str, str] | None = None) -> "Stack":
        for binary in (SIM_BIN, PROXY_BIN):
            if not binary.exists():
                raise RuntimeError(
                    f"{binary} is missing: run `cargo build -p kiro-proxy -p kiro-sim` "
                    "(scripts/e2e does it)"
                )
        sim_port = free_port()
        sim_dir = self.workdir / "sim"
        sim_dir.mkdir(parents=True, exist_ok=True)
        self.sim_proc = _spawn(
            "kiro-sim",
            [str(SIM_BIN), "--host", "127.0.0.1", "--port", str(sim_port), "--seed", "7", *sim_args],
            clean_env(),
            self.workdir / "sim.log",
            sim_dir,
        )
        sim_url = f"http://127.0.0.1:{sim_port}"
        _wait_healthy(self.sim_proc, sim_url + "/_sim/health", 20)
        self.sim = Sim(sim_url)

        proxy_port = free_port()
        data_dir = self.workdir / "proxy-data"
        data_dir.mkdir(parents=True, exist_ok=True)
        env = clean_env({
            "KIRO_Q_URL": sim_url,
            "KIRO_CODEWHISPERER_URL": sim_url,
            "KIRO_SOCIAL_AUTH_URL": sim_url,
            "KIRO_OIDC_URL": sim_url,
            "KIRO_API_KEYS": CLIENT_KEY,
            "KIRO_ADMIN_TOKEN": ADMIN_TOKEN,
            "KIRO_LOG": os.environ.get("E2E_PROXY_LOG", "info"),
        })
        env.update(proxy_env or {})
        self.proxy_proc = _spawn(
            "kiro-proxy",
            [str(PROXY_BIN), "serve", "--host", "127.0.0.1", "--port", str(proxy_port),
             "--data-dir", str(data_dir)],
            env,
            self.workdir / "proxy.log",
            self.workdir,
        )
        self.proxy_url = f"http://127.0.0.1:{proxy_port}"
        _wait_healthy(self.proxy_proc, self.proxy_url + "/healthz", 30)
        for kind in account_kinds:
            self.add_account(kind)
        return self

    def add_account(self, kind: str) -> dict:
        """Creates an account of `kind` in the simulator and registers it with the proxy."""
        assert self.sim is not None
        created = self.sim.create_account(kind=kind)
        acct = created["account"]
        if kind == "social":
            body = {
                "authMethod": "social",
                "refreshToken": created["refresh_token"],
                "accessToken": created["access_token"],
                "expiresAt": created["expires_at"],
                "label": f"e2e {acct['id']}",
            }
            if acct.get("profile_arn"):
                body["profileArn"] = acct["profile_arn"]
        elif kind == "api_key":
            body = {"authMethod": "apiKey", "apiKey": created["api_key"],
                    "label": f"e2e {acct['id']}"}
        else:
            raise ValueError(f"unsupported account kind {kind!r}")
        registered = self.admin("POST", "/api/accounts", body)
        self.accounts.append(created)
        self.proxy_accounts.append(registered)
        return created

    def stop(self) -> None:
        for p in reversed(self.processes):
            p.stop()

    def diagnostics(self, offsets: dict[str, int] | None = None, since_request: int = 0) -> str:
        """Log tails of both processes (from `offsets`) and the sim's request log."""
        out = []
        for p in self.processes:
            start = (offsets or {}).get(p.name, 0)
            state = "running" if p.alive() else f"exited with {p.popen.returncode}"
            out.append(f"--- {self.name} {p.name} ({state}) log: {p.log_path} ---")
            out.append(p.log_since(start))
        if self.sim is not None and self.sim_proc is not None and self.sim_proc.alive():
            out.append(f"--- {self.name} kiro-sim request log (since #{since_request}) ---")
            out.append(self.sim.summary(since_request))
        return "\n".join(out)

    def log_offsets(self) -> dict[str, int]:
        return {p.name: p.log_size() for p in self.processes}


def new_workdir(prefix: str) -> Path:
    base = os.environ.get("E2E_TMP")
    if base:
        Path(base).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"kiro-e2e-{prefix}-", dir=base))


def remove_workdir(path: Path) -> None:
    if os.environ.get("E2E_KEEP"):
        return
    shutil.rmtree(path, ignore_errors=True)
