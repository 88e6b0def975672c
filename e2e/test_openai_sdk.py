"""The official OpenAI Python SDK (openai==3.57.0) against kiro-proxy's Chat Completions API."""

from __future__ import annotations

import json

import openai
import pytest

from harness import current_message, history, result_text, tool_results
from support import (MODEL, THINKING_MODEL, UNKNOWN_MODEL, UPSTREAM_MODEL, dump, png_base64,
                     sim_default_reply)

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
            "required": ["city"],
        },
    },
}
TOOL_INPUT = {"city": "Paris", "unit": "c", "note": "brackets ]] and ünïcode"}
TOOL_PROMPT = f"Weather? [[sim:tool get_weather {json.dumps(TOOL_INPUT)}]]"


def one_chat(stack, since: int) -> dict:
    chats = stack.sim.chats_since(since)
    assert len(chats) == 1, f"expected one upstream chat request, the sim logged {len(chats)}:\n" \
        + stack.sim.summary(since)
    return chats[0]


def extra(obj, name: str):
    """A field the SDK's types do not declare (e.g. `reasoning_content`)."""
    value = getattr(obj, name, None)
    if value is None and getattr(obj, "model_extra", None):
        value = obj.model_extra.get(name)
    return value


# --- text -----------------------------------------------------------------------------------


def test_non_stream_default_answer(stack, openai_client):
    prompt = "What is the capital of Italy?"
    since = stack.sim.last_request_id()
    resp = openai_client.chat.completions.create(
        model=MODEL, messages=[{"role": "system", "content": "Be brief."},
                               {"role": "user", "content": prompt}],
    )
    assert len(resp.choices) == 1, dump(resp)
    choice = resp.choices[0]
    assert choice.message.content == sim_default_reply(prompt), f"client got: {dump(resp)}"
    assert choice.message.role == "assistant" and choice.finish_reason == "stop", dump(resp)
    assert resp.object == "chat.completion" and resp.id, dump(resp)
    assert resp.usage and resp.usage.prompt_tokens > 0 and resp.usage.completion_tokens > 0, \
        dump(resp)
    cur = current_message(one_chat(stack, since))
    assert cur.get("content") == prompt and cur.get("modelId") == UPSTREAM_MODEL, dump(cur)


def test_request_id_header(stack, openai_client):
    raw = openai_client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "[[sim:text ok]]"}]
    )
    assert raw.headers.get("x-request-id"), f"no x-request-id header: {dict(raw.headers)}"
    assert raw.parse().choices[0].message.content == "ok"


def test_stream_with_usage(stack, openai_client):
    prompt = "Stream me something, please."
    chunks = list(openai_client.chat.completions.create(
        model=MODEL, stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": prompt}],
    ))
    assert chunks, "no chunks"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == sim_default_reply(prompt), f"joined deltas: {text!r}"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"], f"finish reasons: {finish}"
    last = chunks[-1]
    assert last.usage is not None, f"last chunk has no usage: {dump(last)}"
    assert last.usage.completion_tokens > 0 and last.usage.prompt_tokens > 0, dump(last)
    details = last.usage.prompt_tokens_details
    assert details is not None and isinstance(details.cached_tokens, int), dump(last)
    out_details = last.usage.completion_tokens_details
    assert out_details is not None and isinstance(out_details.reasoning_tokens, int), dump(last)
    assert last.choices == [], f"the usage chunk should have no choices: {dump(last)}"
    assert all(c.usage is None for c in chunks[:-1]), "usage before the last chunk"


def test_stream_helper(stack, openai_client):
    with openai_client.chat.completions.stream(
        model=MODEL, messages=[{"role": "user", "content": "[[sim:text helper ok]] [[sim:chunk 3]]"}],
    ) as s:
        for _ in s:
            pass
        final = s.get_final_completion()
    assert final.choices[0].message.content == "helper ok", dump(final)
    assert final.choices[0].finish_reason == "stop", dump(final)


def test_max_tokens_length(stack, openai_client):
    resp = openai_client.chat.completions.create(
        model=MODEL, max_completion_tokens=20,
        messages=[{"role": "user", "content": "[[sim:long 400]]"}],
    )
    choice = resp.choices[0]
    assert choice.finish_reason == "length", f"client got: {dump(resp)}"
    assert len((choice.message.content or "").split()) < 100, dump(resp)
    assert 0 < resp.usage.completion_tokens <= 40, dump(resp.usage)


def test_stop_sequence(stack, openai_client):
    chunks = list(openai_client.chat.completions.create(
        model=MODEL, stop=["HALT"], stream=True,
        messages=[{"role": "user", "content": "[[sim:text before HALT after]] [[sim:chunk 3]]"}],
    ))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "before ", f"content deltas joined: {text!r}"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"], finish


# --- tools ----------------------------------------------------------------------------------


def test_tool_round_trip(stack, openai_client):
    since = stack.sim.last_request_id()
    resp = openai_client.chat.completions.create(
        model=MODEL, tools=[WEATHER_TOOL], messages=[{"role": "user", "content": TOOL_PROMPT}],
    )
    choice = resp.choices[0]
    calls = choice.message.tool_calls or []
    assert len(calls) == 1, f"client got: {dump(resp)}"
    call = calls[0]
    assert call.type == "function" and call.function.name == "get_weather", dump(call)
    assert json.loads(call.function.arguments) == TOOL_INPUT, dump(call)
    assert call.id, dump(call)
    assert choice.finish_reason == "tool_calls", dump(resp)
    one_chat(stack, since)

    since = stack.sim.last_request_id()
    follow = openai_client.chat.completions.create(
        model=MODEL, tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": TOOL_PROMPT},
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": call.id, "type": "function",
                "function": {"name": call.function.name, "arguments": call.function.arguments}}]},
            {"role": "tool", "tool_call_id": call.id, "content": "18C, clear TOOL_RESULT_MARKER"},
        ],
    )
    second = one_chat(stack, since)
    results = tool_results(second)
    assert len(results) == 1 and results[0]["toolUseId"] == call.id, dump(results)
    assert "TOOL_RESULT_MARKER" in result_text(results[0]), dump(results)
    assistant = [h["assistantResponseMessage"] for h in history(second)
                 if "assistantResponseMessage" in h]
    assert any(u.get("toolUseId") == call.id and u.get("input") == TOOL_INPUT
               for a in assistant for u in a.get("toolUses") or []), dump(history(second))
    assert follow.choices[0].message.content == sim_default_reply("", tool_results=1), \
        f"client got: {dump(follow)}"
    assert follow.choices[0].finish_reason == "stop", dump(follow)


def test_tool_call_streamed(stack, openai_client):
    chunks = list(openai_client.chat.completions.create(
        model=MODEL, tools=[WEATHER_TOOL], stream=True,
        messages=[{"role": "user", "content": TOOL_PROMPT}],
    ))
    deltas = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas, "no tool_call deltas: " + dump([c.model_dump() for c in chunks])
    assert all(d.index == 0 for d in deltas), dump([d.model_dump() for d in deltas])
    assert deltas[0].id and deltas[0].function.name == "get_weather", dump(deltas[0])
    args = "".join(d.function.arguments or "" for d in deltas if d.function)
    assert json.loads(args) == TOOL_INPUT, f"arguments joined: {args!r}"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["tool_calls"], finish
    # The SDK's stream helper needs an index on every tool call delta.
    with openai_client.chat.completions.stream(
        model=MODEL, tools=[WEATHER_TOOL], messages=[{"role": "user", "content": TOOL_PROMPT}],
    ) as s:
        for _ in s:
            pass
        final = s.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert len(calls) == 1 and json.loads(calls[0].function.arguments) == TOOL_INPUT, dump(final)


def test_parallel_tool_calls_streamed(stack, openai_client):
    chunks = list(openai_client.chat.completions.create(
        model=MODEL, tools=[WEATHER_TOOL], stream=True,
        messages=[{"role": "user", "content":
                   'Two cities. [[sim:tool get_weather {"city":"Paris"}]] '
                   '[[sim:tool get_weather {"city":"Oslo"}]]'}],
    ))
    calls: dict[int, dict] = {}
    for c in chunks:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            assert tc.index is not None, dump(tc)
            entry = calls.setdefault(tc.index, {"id": None, "name": None, "args": ""})
            entry["id"] = entry["id"] or tc.id
            if tc.function:
                entry["name"] = entry["name"] or tc.function.name
                entry["args"] += tc.function.arguments or ""
    assert sorted(calls) == [0, 1], f"tool call indexes: {calls}"
    assert [json.loads(calls[i]["args"]) for i in (0, 1)] == [{"city": "Paris"}, {"city": "Oslo"}]
    assert calls[0]["id"] and calls[1]["id"] and calls[0]["id"] != calls[1]["id"], calls
    assert calls[0]["name"] == calls[1]["name"] == "get_weather", calls


# --- images ---------------------------------------------------------------------------------


def test_image_data_url(stack, openai_client):
    data = png_base64()
    since = stack.sim.last_request_id()
    resp = openai_client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": [
            {"type": "text", "text": "What is it? [[sim:text A red square.]]"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}",
                                                 "detail": "low"}},
        ]}],
    )
    assert resp.choices[0].message.content == "A red square.", f"client got: {dump(resp)}"
    cur = current_message(one_chat(stack, since))
    images = cur.get("images") or []
    assert len(images) == 1 and images[0].get("format") == "png", f"upstream: {dump(cur)}"
    assert images[0].get("source", {}).get("bytes") == data, "image bytes changed on the way"


# --- reasoning ------------------------------------------------------------------------------


def test_reasoning_non_stream(stack, openai_client):
    resp = openai_client.chat.completions.create(
        model=THINKING_MODEL, reasoning_effort="high",
        messages=[{"role": "user", "content": "[[sim:thinking weighing options]] [[sim:text 42]]"}],
    )
    msg = resp.choices[0].message
    assert msg.content == "42", f"client got: {dump(resp)}"
    assert extra(msg, "reasoning_content") == "weighing options", f"client got: {dump(resp)}"
    details = resp.usage.completion_tokens_details
    assert details is not None and details.reasoning_tokens > 0, f"usage: {dump(resp.usage)}"


def test_reasoning_stream(stack, openai_client):
    since = stack.sim.last_request_id()
    chunks = list(openai_client.chat.completions.create(
        model=THINKING_MODEL, reasoning_effort="high", stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "[[sim:thinking step by step]] [[sim:text 42]]"}],
    ))
    reasoning = "".join(extra(c.choices[0].delta, "reasoning_content") or ""
                        for c in chunks if c.choices)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert reasoning == "step by step", f"reasoning deltas joined: {reasoning!r}"
    assert text == "42", f"content deltas joined: {text!r}"
    cur = current_message(one_chat(stack, since))
    fields = cur.get("additionalModelRequestFields") or {}
    assert (fields.get("thinking") or {}).get("type") not in (None, "disabled"), \
        f"reasoning_effort did not ask the upstream for thinking: {dump(cur)}"


# --- models ---------------------------------------------------------------------------------


def test_models_list(stack, openai_client):
    models = openai_client.models.list()
    ids = [m.id for m in models.data]
    assert ids, f"empty model list: {dump(models)}"
    assert all(m.object == "model" for m in models.data), dump(models)


# --- errors ---------------------------------------------------------------------------------


def test_error_invalid_request(stack, openai_client):
    since = stack.sim.last_request_id()
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(model=MODEL, messages=[])
    e = info.value
    assert e.status_code == 400, e
    assert isinstance(e.body, dict) and e.body.get("message"), f"body: {e.body!r}"
    assert e.type == "invalid_request_error", f"body: {e.body!r}"
    assert stack.sim.chats_since(since) == [], "an invalid request reached the upstream"


def test_error_n_greater_than_one(stack, openai_client):
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(
            model=MODEL, n=2, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 400, info.value


def test_error_bad_key(stack, openai_factory):
    client = openai_factory(stack, api_key="not-a-valid-key")
    with pytest.raises(openai.AuthenticationError) as info:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    e = info.value
    assert e.status_code == 401, e
    assert isinstance(e.body, dict) and e.body.get("message"), f"body: {e.body!r}"


def test_error_unknown_model(stack, openai_client):
    since = stack.sim.last_request_id()
    with pytest.raises(openai.NotFoundError) as info:
        openai_client.chat.completions.create(
            model=UNKNOWN_MODEL, messages=[{"role": "user", "content": "hi"}])
    assert info.value.status_code == 404, info.value
    assert stack.sim.chats_since(since) == [], "an unknown model caused an upstream round trip"


def test_error_context_length_exceeded(stack, openai_client):
    with pytest.raises(openai.BadRequestError) as info:
        openai_client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "[[sim:error content_length_exceeded]] long"}])
    e = info.value
    assert e.status_code == 400, e
    assert e.code == "context_length_exceeded", f"body: {e.body!r}"


def test_error_rate_limited_every_account(make_stack, openai_factory):
    stack = make_stack("ratelimit-openai", account_kinds=("social", "social"))
    client = openai_factory(stack)
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content":
                                    "[[sim:error service_request_rate_exceeded retry_after=2]] hi"}])
    e = info.value
    assert e.status_code == 429, e
    retry_after = e.response.headers.get("retry-after")
    assert retry_after is not None, f"no retry-after header: {dict(e.response.headers)}"
    assert 0 < float(retry_after) <= 60, f"retry-after {retry_after!r} is not small"
    tried = {c["account"] for c in stack.sim.chats_since(0)}
    assert tried == {a["account"]["id"] for a in stack.accounts}, \
        "429 must come only after every account was throttled:\n" + stack.sim.summary()


def test_error_upstream_overloaded(make_stack, openai_factory):
    stack = make_stack("overload-openai")
    client = openai_factory(stack)
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content":
                                    "[[sim:error insufficient_model_capacity]] hi"}])
    assert info.value.status_code == 503, f"status {info.value.status_code}, body {info.value.body!r}"


def test_error_mid_stream(make_stack, openai_factory):
    stack = make_stack("midstream-openai")
    client = openai_factory(stack)
    chunks = []
    stream = client.chat.completions.create(
        model=MODEL, stream=True,
        messages=[{"role": "user", "content":
                   "[[sim:text Partial answer before the fault.]] [[sim:chunk 6]] [[sim:pace 20]] "
                   "[[sim:exception InternalServerException]]"}],
    )
    with pytest.raises(openai.APIError) as info:
        for c in stream:
            chunks.append(c)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and "Partial answer before the fault.".startswith(text), \
        f"text before the error: {text!r}"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == [], f"a failed stream must not finish normally: {finish}"
    assert isinstance(info.value.body, dict) and info.value.body.get("message"), \
        f"error body: {info.value.body!r}"
