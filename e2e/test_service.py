"""The proxy's plain HTTP surface and account kinds, with the standard library and the SDK."""

from __future__ import annotations

from harness import CHAT_PATH, CLIENT_KEY, http
from support import MODEL, dump


def test_healthz_and_readyz(stack):
    status, _, body = http("GET", stack.proxy_url + "/healthz")
    assert status == 200, f"/healthz: {status} {body}"
    status, _, body = http("GET", stack.proxy_url + "/readyz")
    assert status == 200, f"/readyz with a usable account: {status} {body}"


def test_readyz_without_accounts(make_stack):
    stack = make_stack("noaccounts", account_kinds=())
    status, _, body = http("GET", stack.proxy_url + "/readyz")
    assert status == 503, f"/readyz with no account: {status} {body}"
    assert isinstance(body, dict), f"/readyz should explain itself in JSON: {body!r}"


def test_head_and_get_root(stack):
    # Claude Code pre-connects with `HEAD /`; any answer but a failure is fine.
    status, _, body = http("HEAD", stack.proxy_url + "/")
    assert status < 400, f"HEAD /: {status} {body}"
    status, _, body = http("GET", stack.proxy_url + "/")
    assert status < 400, f"GET /: {status} {body}"


def test_event_logging_accepted(stack):
    status, _, body = http("POST", stack.proxy_url + "/api/event_logging/batch",
                           {"events": [{"name": "x"}]}, {"x-api-key": CLIENT_KEY})
    assert status < 300, f"/api/event_logging/batch: {status} {body}"


def test_api_key_account(make_stack, anthropic_factory):
    """A Kiro API key account (`ksk_…`): tokentype API_KEY, no profileArn upstream."""
    stack = make_stack("apikey", account_kinds=("api_key",))
    client = anthropic_factory(stack)
    msg = client.messages.create(model=MODEL, max_tokens=64,
                                 messages=[{"role": "user", "content": "[[sim:text keyed]]"}])
    assert [b.text for b in msg.content if b.type == "text"] == ["keyed"], dump(msg)
    chats = stack.sim.chats_since(0)
    assert len(chats) == 1, stack.sim.summary()
    headers = {k: v for k, v in chats[0]["headers"]}
    assert headers.get("tokentype") == "API_KEY", f"upstream headers: {headers}"
    assert "profileArn" not in (chats[0].get("body_json") or {}), dump(chats[0].get("body_json"))
    assert chats[0]["path"] == CHAT_PATH


def test_body_too_large(make_stack, anthropic_factory, openai_factory):
    import anthropic
    import openai

    stack = make_stack("bodylimit", proxy_env={"KIRO_MAX_REQUEST_BODY_BYTES": "20000"})
    big = "x" * 30_000
    try:
        anthropic_factory(stack).messages.create(
            model=MODEL, max_tokens=16, messages=[{"role": "user", "content": big}])
        raise AssertionError("a body over the limit was accepted (Anthropic)")
    except anthropic.APIStatusError as e:
        assert e.status_code == 413, f"Anthropic: {e.status_code} {e.body!r}"
        assert isinstance(e.body, dict) and e.body.get("type") == "error", f"body: {e.body!r}"
    try:
        openai_factory(stack).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": big}])
        raise AssertionError("a body over the limit was accepted (OpenAI)")
    except openai.APIStatusError as e:
        assert e.status_code == 413, f"OpenAI: {e.status_code} {e.body!r}"
        assert isinstance(e.body, dict) and e.body.get("message"), f"body: {e.body!r}"
    assert stack.sim.chats_since(0) == [], "an oversized body reached the upstream"
