"""The official Anthropic Python SDK (anthropic==2.14.0) against kiro-proxy, upstream kiro-sim.

Every answer is pinned: either the simulator's deterministic default reply (recomputed here) or
an in-band `[[sim:...]]` marker. Upstream effects are checked in the simulator's request log.
"""

from __future__ import annotations

import json

import anthropic
import pytest

from harness import CLIENT_KEY, current_message, history, result_text, tool_results
from support import (MODEL, THINKING_MODEL, UNKNOWN_MODEL, UPSTREAM_MODEL, dump, png_base64,
                     sim_default_reply)

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
TOOL_INPUT = {"city": "Paris", "unit": "c", "note": "brackets ]] and ünïcode"}


def text_of(message) -> str:
    return "".join(b.text for b in message.content if b.type == "text")


def one_chat(stack, since: int) -> dict:
    chats = stack.sim.chats_since(since)
    assert len(chats) == 1, f"expected one upstream chat request, the sim logged {len(chats)}:\n" \
        + stack.sim.summary(since)
    return chats[0]


# --- text -----------------------------------------------------------------------------------


def test_non_stream_default_answer(stack, anthropic_client):
    prompt = "What is the capital of France?"
    since = stack.sim.last_request_id()
    msg = anthropic_client.messages.create(
        model=MODEL, max_tokens=512, messages=[{"role": "user", "content": prompt}]
    )
    assert text_of(msg) == sim_default_reply(prompt), f"client got: {dump(msg)}"
    assert msg.role == "assistant" and msg.type == "message", dump(msg)
    assert msg.stop_reason == "end_turn", dump(msg)
    assert msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0, dump(msg)
    chat = one_chat(stack, since)
    cur = current_message(chat)
    assert cur.get("content") == prompt, f"upstream current message: {dump(cur)}"
    assert cur.get("modelId") == UPSTREAM_MODEL, f"upstream current message: {dump(cur)}"


def test_non_stream_pinned_text_with_system(stack, anthropic_client):
    msg = anthropic_client.messages.create(
        model=MODEL,
        max_tokens=512,
        system=[{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "Say the words. [[sim:text Bonjour, naïve café 日本語 🙂!]]"}]}],
        metadata={"user_id": "e2e-user"},
    )
    assert text_of(msg) == "Bonjour, naïve café 日本語 🙂!", f"client got: {dump(msg)}"


def test_anthropic_prefixed_path(stack, anthropic_factory):
    client = anthropic_factory(stack, prefix="/anthropic")
    msg = client.messages.create(
        model=MODEL, max_tokens=256,
        messages=[{"role": "user", "content": "[[sim:text via the prefixed path]]"}],
    )
    assert text_of(msg) == "via the prefixed path", f"client got: {dump(msg)}"


def test_request_id_headers(stack, anthropic_client):
    raw = anthropic_client.messages.with_raw_response.create(
        model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "[[sim:text ok]]"}]
    )
    headers = {k.lower(): v for k, v in raw.headers.items()}
    assert headers.get("request-id"), f"no request-id header; headers: {headers}"
    assert text_of(raw.parse()) == "ok"


def test_stream_text_deltas_and_usage(stack, anthropic_client):
    prompt = "Tell me about streams, please."
    with anthropic_client.messages.stream(
        model=MODEL, max_tokens=512, messages=[{"role": "user", "content": prompt}]
    ) as stream:
        deltas = list(stream.text_stream)
        final = stream.get_final_message()
    expected = sim_default_reply(prompt)
    assert len(deltas) > 1, f"expected several text deltas, got {deltas!r}"
    assert "".join(deltas) == expected, f"deltas joined: {''.join(deltas)!r}"
    assert text_of(final) == expected, f"final message: {dump(final)}"
    assert final.usage is not None and final.usage.output_tokens > 0, dump(final)
    assert final.stop_reason == "end_turn", dump(final)


def test_stream_event_sequence(stack, anthropic_client):
    """The raw SSE event order the SDK and Claude Code rely on (captures README §2, §4.4)."""
    events = []
    stream = anthropic_client.messages.create(
        model=MODEL, max_tokens=256, stream=True,
        messages=[{"role": "user", "content": "[[sim:text one two three]] [[sim:chunk 4]]"}],
    )
    for ev in stream:
        events.append(ev)
    types = [e.type for e in events]
    assert types[0] == "message_start", types
    assert types[-1] == "message_stop", types
    start_usage = events[0].message.usage
    assert start_usage is not None, dump(events[0])
    assert start_usage.cache_creation_input_tokens is not None, dump(events[0])
    assert start_usage.cache_read_input_tokens is not None, dump(events[0])
    assert "content_block_start" in types and "content_block_stop" in types, types
    deltas = [e for e in events if e.type == "message_delta"]
    assert len(deltas) == 1 and deltas[0].usage is not None, types
    assert deltas[0].delta.stop_reason == "end_turn", dump(deltas[0])
    text = "".join(e.delta.text for e in events
                   if e.type == "content_block_delta" and e.delta.type == "text_delta")
    assert text == "one two three", text


def test_max_tokens_enforced(stack, anthropic_client):
    msg = anthropic_client.messages.create(
        model=MODEL, max_tokens=20, messages=[{"role": "user", "content": "[[sim:long 400]]"}]
    )
    assert msg.stop_reason == "max_tokens", f"client got: {dump(msg)}"
    assert 0 < msg.usage.output_tokens <= 40, dump(msg.usage)
    assert len(text_of(msg).split()) < 100, f"output not cut: {len(text_of(msg).split())} words"


def test_stop_sequence(stack, anthropic_client):
    msg = anthropic_client.messages.create(
        model=MODEL, max_tokens=256, stop_sequences=["HALT"],
        messages=[{"role": "user", "content": "[[sim:text before HALT after]] [[sim:chunk 3]]"}],
    )
    assert text_of(msg) == "before ", f"client got: {dump(msg)}"
    assert msg.stop_reason == "stop_sequence" and msg.stop_sequence == "HALT", dump(msg)


# --- tools ----------------------------------------------------------------------------------


def _tool_turn(client, stream: bool):
    args = dict(
        model=MODEL, max_tokens=1024, tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content":
                   f"Weather? [[sim:tool get_weather {json.dumps(TOOL_INPUT)}]]"}],
    )
    if not stream:
        return client.messages.create(**args)
    with client.messages.stream(**args) as s:
        events = list(s)
        final = s.get_final_message()
    return final, events


def test_tool_round_trip(stack, anthropic_client):
    since = stack.sim.last_request_id()
    msg = _tool_turn(anthropic_client, stream=False)
    uses = [b for b in msg.content if b.type == "tool_use"]
    assert len(uses) == 1, f"client got: {dump(msg)}"
    use = uses[0]
    assert use.name == "get_weather" and use.input == TOOL_INPUT, dump(use)
    assert use.id, dump(use)
    assert msg.stop_reason == "tool_use", dump(msg)
    first = one_chat(stack, since)
    tools = (current_message(first).get("userInputMessageContext") or {}).get("tools") or []
    assert [t["toolSpecification"]["name"] for t in tools] == ["get_weather"], dump(tools)

    since = stack.sim.last_request_id()
    follow = anthropic_client.messages.create(
        model=MODEL, max_tokens=1024, tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content":
             f"Weather? [[sim:tool get_weather {json.dumps(TOOL_INPUT)}]]"},
            {"role": "assistant", "content": msg.content},
            {"role": "user", "content": [{
                "type": "tool_result", "tool_use_id": use.id,
                "content": [{"type": "text", "text": "18C, clear TOOL_RESULT_MARKER"}],
                "cache_control": {"type": "ephemeral"},
            }]},
        ],
    )
    second = one_chat(stack, since)
    results = tool_results(second)
    assert len(results) == 1, f"upstream toolResults: {dump(results)}"
    assert results[0]["toolUseId"] == use.id, dump(results)
    assert "TOOL_RESULT_MARKER" in result_text(results[0]), dump(results)
    assert results[0].get("status") == "success", dump(results)
    # The previous assistant turn is in the history with its tool use.
    assistant = [h["assistantResponseMessage"] for h in history(second)
                 if "assistantResponseMessage" in h]
    assert any(u.get("toolUseId") == use.id and u.get("input") == TOOL_INPUT
               for a in assistant for u in a.get("toolUses") or []), dump(history(second))
    assert text_of(follow) == sim_default_reply("", tool_results=1), f"client got: {dump(follow)}"
    assert follow.stop_reason == "end_turn", f"client got: {dump(follow)}"


def test_tool_use_streamed_as_input_json_delta(stack, anthropic_client):
    final, events = _tool_turn(anthropic_client, stream=True)
    kinds = [e.type for e in events]
    uses = [b for b in final.content if b.type == "tool_use"]
    assert len(uses) == 1 and uses[0].input == TOOL_INPUT, f"client got: {dump(final)}"
    assert final.stop_reason == "tool_use", dump(final)
    starts = [e for e in events if e.type == "content_block_start"
              and e.content_block.type == "tool_use"]
    assert len(starts) == 1 and starts[0].content_block.input in ({}, None), \
        f"the tool input must come as input_json_delta, not in content_block_start: {dump(starts)}"
    fragments = [e.delta.partial_json for e in events
                 if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
    # The simulator sends the input in 32-byte fragments; each should reach the client as it
    # arrives rather than as one buffered delta at the end.
    assert len(fragments) >= 2, f"input_json_delta fragments: {fragments}; events: {kinds}"
    assert json.loads("".join(fragments)) == TOOL_INPUT, fragments


def test_parallel_tool_calls(stack, anthropic_client):
    msg = anthropic_client.messages.create(
        model=MODEL, max_tokens=1024, tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content":
                   'Two cities. [[sim:tool get_weather {"city":"Paris"}]] '
                   '[[sim:tool get_weather {"city":"Oslo"}]]'}],
    )
    uses = [b for b in msg.content if b.type == "tool_use"]
    assert [u.input for u in uses] == [{"city": "Paris"}, {"city": "Oslo"}], dump(msg)
    assert len({u.id for u in uses}) == 2, dump(msg)
    assert msg.stop_reason == "tool_use", dump(msg)


# --- images ---------------------------------------------------------------------------------


def test_image_base64(stack, anthropic_client):
    data = png_base64()
    since = stack.sim.last_request_id()
    msg = anthropic_client.messages.create(
        model=MODEL, max_tokens=256,
        messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}},
            {"type": "text", "text": "Describe the picture. [[sim:text A red square.]]"},
        ]}],
    )
    assert text_of(msg) == "A red square.", f"client got: {dump(msg)}"
    cur = current_message(one_chat(stack, since))
    images = cur.get("images") or []
    assert len(images) == 1, f"upstream current message: {dump(cur)}"
    assert images[0].get("format") == "png", dump(images)
    assert images[0].get("source", {}).get("bytes") == data, "image bytes changed on the way"


# --- thinking -------------------------------------------------------------------------------


def test_thinking_signature_and_replay(stack, anthropic_client):
    thinking = {"type": "enabled", "budget_tokens": 2000}
    first_user = {"role": "user", "content": "[[sim:thinking]] [[sim:text The answer is 4.]] 2+2?"}
    msg = anthropic_client.messages.create(
        model=THINKING_MODEL, max_tokens=4096, thinking=thinking, messages=[first_user]
    )
    blocks = [b for b in msg.content if b.type == "thinking"]
    assert len(blocks) == 1, f"client got: {dump(msg)}"
    assert blocks[0].thinking, dump(blocks[0])
    assert blocks[0].signature, f"thinking block without a signature: {dump(blocks[0])}"
    assert msg.content[0].type == "thinking", "thinking must come first: " + dump(msg)
    assert text_of(msg) == "The answer is 4.", dump(msg)

    since = stack.sim.last_request_id()
    follow = anthropic_client.messages.create(
        model=THINKING_MODEL, max_tokens=4096, thinking=thinking,
        messages=[first_user, {"role": "assistant", "content": msg.content},
                  {"role": "user", "content": "And 3+3? [[sim:text 6]]"}],
    )
    assert text_of(follow) == "6", f"client got: {dump(follow)}"
    second = one_chat(stack, since)
    replayed = [h["assistantResponseMessage"].get("reasoningContent") for h in history(second)
                if "assistantResponseMessage" in h]
    sigs = [(r or {}).get("reasoningText", {}).get("signature") for r in replayed]
    assert blocks[0].signature in sigs, \
        f"the signed thinking was not replayed upstream; history reasoning: {dump(replayed)}"


def test_thinking_streamed(stack, anthropic_client):
    with anthropic_client.messages.stream(
        model=THINKING_MODEL, max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 2000},
        messages=[{"role": "user", "content": "[[sim:thinking deep thoughts here]] [[sim:text done]]"}],
    ) as s:
        kinds = [(e.type, getattr(getattr(e, "delta", None), "type", None)) for e in s]
        final = s.get_final_message()
    assert final.content[0].type == "thinking", dump(final)
    assert final.content[0].thinking == "deep thoughts here", dump(final)
    assert final.content[0].signature, dump(final)
    delta_kinds = {d for _, d in kinds if d}
    assert {"thinking_delta", "signature_delta", "text_delta"} <= delta_kinds, kinds


# --- count_tokens and models ----------------------------------------------------------------


def test_count_tokens(stack, anthropic_client):
    small = anthropic_client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "hello"}]
    )
    big = anthropic_client.messages.count_tokens(
        model=MODEL, system="You are a careful assistant.", tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "hello " + "lorem ipsum dolor sit amet " * 200}],
    )
    assert isinstance(small.input_tokens, int) and small.input_tokens > 0, dump(small)
    assert big.input_tokens > small.input_tokens + 500, f"small={dump(small)} big={dump(big)}"


def test_models_list(stack, anthropic_client):
    page = anthropic_client.models.list()
    ids = [m.id for m in page.data]
    assert ids, f"empty model list: {dump(page)}"
    assert all(m.type == "model" for m in page.data), dump(page)


# --- errors ---------------------------------------------------------------------------------


def test_error_invalid_request(stack, anthropic_client):
    since = stack.sim.last_request_id()
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.messages.create(model=MODEL, max_tokens=64, messages=[])
    e = info.value
    assert e.status_code == 400, e
    assert isinstance(e.body, dict) and e.body.get("type") == "error", f"body: {e.body!r}"
    assert e.body["error"]["type"] == "invalid_request_error", f"body: {e.body!r}"
    assert e.response.headers.get("x-should-retry") == "false", dict(e.response.headers)
    assert stack.sim.chats_since(since) == [], "an invalid request reached the upstream"


def test_error_bad_key(stack, anthropic_factory):
    client = anthropic_factory(stack, api_key="not-a-valid-key")
    with pytest.raises(anthropic.AuthenticationError) as info:
        client.messages.create(model=MODEL, max_tokens=64,
                               messages=[{"role": "user", "content": "hi"}])
    e = info.value
    assert e.status_code == 401, e
    assert e.body["error"]["type"] == "authentication_error", f"body: {e.body!r}"
    assert e.response.headers.get("x-should-retry") == "false", dict(e.response.headers)


def test_x_api_key_header_accepted(stack):
    import httpx2 as httpx  # the SDK's own HTTP client package

    r = httpx.post(
        stack.proxy_url + "/v1/messages?beta=true",
        headers={"x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01",
                 "anthropic-beta": "claude-code-20250219,some-future-beta-2099-01-01"},
        json={"model": MODEL, "max_tokens": 64,
              "messages": [{"role": "user", "content": "[[sim:text keyed]]"}]},
        timeout=30,
    )
    assert r.status_code == 200, f"{r.status_code} {r.text}"
    assert r.json()["content"][0]["text"] == "keyed", r.text


def test_error_unknown_model(stack, anthropic_client):
    since = stack.sim.last_request_id()
    with pytest.raises(anthropic.NotFoundError) as info:
        anthropic_client.messages.create(model=UNKNOWN_MODEL, max_tokens=64,
                                          messages=[{"role": "user", "content": "hi"}])
    e = info.value
    assert e.status_code == 404, e
    assert e.body["error"]["type"] == "not_found_error", f"body: {e.body!r}"
    assert stack.sim.chats_since(since) == [], "an unknown model caused an upstream round trip"


def test_error_context_too_long(stack, anthropic_client):
    with pytest.raises(anthropic.BadRequestError) as info:
        anthropic_client.messages.create(
            model=MODEL, max_tokens=64,
            messages=[{"role": "user", "content": "[[sim:error content_length_exceeded]] long"}])
    e = info.value
    assert e.status_code == 400, e
    assert "prompt is too long" in e.body["error"]["message"], f"body: {e.body!r}"
    assert e.body["error"]["type"] == "invalid_request_error", f"body: {e.body!r}"


def test_error_rate_limited_every_account(make_stack, anthropic_factory):
    stack = make_stack("ratelimit", account_kinds=("social", "social"))
    client = anthropic_factory(stack)
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(
            model=MODEL, max_tokens=64,
            messages=[{"role": "user",
                       "content": "[[sim:error service_request_rate_exceeded retry_after=2]] hi"}])
    e = info.value
    assert e.status_code == 429, e
    assert e.body["error"]["type"] == "rate_limit_error", f"body: {e.body!r}"
    retry_after = e.response.headers.get("retry-after")
    assert retry_after is not None, f"no retry-after header: {dict(e.response.headers)}"
    assert 0 < float(retry_after) <= 60, f"retry-after {retry_after!r} is not small"
    tried = {c["account"] for c in stack.sim.chats_since(0)}
    assert tried == {a["account"]["id"] for a in stack.accounts}, \
        "429 must come only after every account was throttled:\n" + stack.sim.summary()


def test_rate_limited_account_fails_over(make_stack, anthropic_factory):
    """One throttled account is invisible to the client: the proxy switches to the other."""
    stack = make_stack("failover", account_kinds=("social", "social"))
    throttled = stack.accounts[0]["account"]["id"]
    stack.sim.queue({"type": "error", "kind": "service_request_rate_exceeded",
                     "retry_after": 30, "account": throttled, "count": 0})
    client = anthropic_factory(stack)
    for i in range(3):
        msg = client.messages.create(
            model=MODEL, max_tokens=64,
            messages=[{"role": "user", "content": f"[[sim:text served {i}]]"}])
        assert text_of(msg) == f"served {i}", f"client got: {dump(msg)}"
    served = [c["account"] for c in stack.sim.chats_since(0) if c.get("status") == 200]
    assert len(served) == 3 and throttled not in served, stack.sim.summary()


def test_error_upstream_overloaded(make_stack, anthropic_factory):
    stack = make_stack("overload")
    client = anthropic_factory(stack)
    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(
            model=MODEL, max_tokens=64,
            messages=[{"role": "user", "content": "[[sim:error insufficient_model_capacity]] hi"}])
    e = info.value
    assert e.status_code in (529, 503), f"status {e.status_code}, body {e.body!r}"
    if e.status_code == 529:
        assert isinstance(e, anthropic.OverloadedError), type(e)
        assert e.body["error"]["type"] == "overloaded_error", f"body: {e.body!r}"


def test_error_mid_stream(make_stack, anthropic_factory):
    stack = make_stack("midstream")
    client = anthropic_factory(stack)
    events = []
    stream = client.messages.create(
        model=MODEL, max_tokens=256, stream=True,
        messages=[{"role": "user", "content":
                   "[[sim:text Partial answer before the fault.]] [[sim:chunk 6]] [[sim:pace 20]] "
                   "[[sim:exception InternalServerException]]"}],
    )
    with pytest.raises(anthropic.APIStatusError) as info:
        for ev in stream:
            events.append(ev)
    types = [e.type for e in events]
    text = "".join(e.delta.text for e in events
                   if e.type == "content_block_delta" and e.delta.type == "text_delta")
    assert text and "Partial answer before the fault.".startswith(text), \
        f"text before the error: {text!r}; events: {types}"
    assert "message_stop" not in types, types
    body = info.value.body
    assert isinstance(body, dict) and body.get("type") == "error", f"error body: {body!r}"
