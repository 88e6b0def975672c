//! Malformed requests: each class gives a 400 naming the field.

use dialects::anthropic::{AnthropicErrors, decode_count_tokens, decode_request};
use dialects::canonical::ErrorKind;
use dialects::encode::ErrorEncoder;
use serde_json::{Value, json};

/// A valid request with `patch` applied (`null` in the patch removes a key).
fn with(patch: Value) -> Vec<u8> {
    let mut body = json!({
        "model": "claude-sonnet-4-6",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
    });
    if let (Value::Object(body), Value::Object(patch)) = (&mut body, patch) {
        for (k, v) in patch {
            if v.is_null() {
                body.remove(&k);
            } else {
                body.insert(k, v);
            }
        }
    }
    body.to_string().into_bytes()
}

fn user(content: Value) -> Value {
    json!({"messages": [{"role": "user", "content": content}]})
}

#[cfg(test)]
fn assert_400(body: &[u8], param: Option<&str>, needle: &str) {
    let err = decode_request(body).expect_err("must be refused");
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err:?}");
    assert_eq!(err.param.as_deref(), param, "{err:?}");
    assert!(
        err.message.contains(needle),
        "{:?} lacks {needle:?}",
        err.message
    );
    if let Some(param) = param {
        assert!(
            err.message.starts_with(param),
            "the message names the field: {:?}",
            err.message
        );
    }
    let (status, json) = AnthropicErrors::error_body(&err);
    assert_eq!(status, 400);
    assert_eq!(json["type"], "error");
    assert_eq!(json["error"]["type"], "invalid_request_error");
    assert_eq!(json["error"]["message"], err.message.as_str());
}

#[test]
fn body_level() {
    assert_400(b"", None, "not valid JSON");
    assert_400(b"{\"model\":", None, "not valid JSON");
    assert_400(b"model=x", None, "not valid JSON");
    assert_400(b"[1,2]", None, "must be a JSON object, got an array");
    assert_400(b"null", None, "must be a JSON object, got null");
}

#[test]
fn top_level_fields() {
    assert_400(
        &with(json!({"model": null})),
        Some("model"),
        "field required",
    );
    assert_400(
        &with(json!({"model": 5})),
        Some("model"),
        "expected a string, got a number",
    );
    assert_400(
        &with(json!({"model": ""})),
        Some("model"),
        "must not be empty",
    );
    assert_400(
        &with(json!({"max_tokens": null})),
        Some("max_tokens"),
        "field required",
    );
    assert_400(
        &with(json!({"max_tokens": "100"})),
        Some("max_tokens"),
        "expected an integer",
    );
    assert_400(
        &with(json!({"max_tokens": -1})),
        Some("max_tokens"),
        "non-negative",
    );
    assert_400(
        &with(json!({"max_tokens": 1.5})),
        Some("max_tokens"),
        "integer",
    );
    assert_400(
        &with(json!({"max_tokens": 0})),
        Some("max_tokens"),
        "at least 1",
    );
    assert_400(
        &with(json!({"messages": null})),
        Some("messages"),
        "field required",
    );
    assert_400(
        &with(json!({"messages": "hi"})),
        Some("messages"),
        "expected an array of messages, got a string",
    );
    assert_400(
        &with(json!({"messages": []})),
        Some("messages"),
        "at least one message",
    );
    assert_400(
        &with(json!({"messages": [{"role": "system", "content": "only system"}]})),
        Some("messages"),
        "at least one user or assistant message",
    );
    assert_400(
        &with(json!({"system": 5})),
        Some("system"),
        "expected a string or an array",
    );
    assert_400(
        &with(json!({"system": [{"type": "image", "source": {}}]})),
        Some("system[0].type"),
        "system blocks must be `text`",
    );
    assert_400(
        &with(json!({"system": [{"type": "text"}]})),
        Some("system[0].text"),
        "field required",
    );
    assert_400(
        &with(json!({"stream": "yes"})),
        Some("stream"),
        "expected a boolean",
    );
    assert_400(
        &with(json!({"stop_sequences": "END"})),
        Some("stop_sequences"),
        "expected an array",
    );
    assert_400(
        &with(json!({"stop_sequences": ["a", 1]})),
        Some("stop_sequences[1]"),
        "expected a string",
    );
    assert_400(
        &with(json!({"thinking": "on"})),
        Some("thinking"),
        "expected an object",
    );
    assert_400(
        &with(json!({"thinking": {}})),
        Some("thinking.type"),
        "field required",
    );
    assert_400(
        &with(json!({"thinking": {"type": "enabled", "budget_tokens": "lots"}})),
        Some("thinking.budget_tokens"),
        "expected an integer",
    );
    assert_400(
        &with(json!({"output_config": []})),
        Some("output_config"),
        "expected an object",
    );
    assert_400(
        &with(json!({"output_config": {"effort": 3}})),
        Some("output_config.effort"),
        "expected a string",
    );
    assert_400(
        &with(json!({"metadata": "x"})),
        Some("metadata"),
        "expected an object",
    );
    assert_400(
        &with(json!({"metadata": {"user_id": 5}})),
        Some("metadata.user_id"),
        "expected a string",
    );
}

#[test]
fn messages() {
    assert_400(
        &with(json!({"messages": ["hi"]})),
        Some("messages[0]"),
        "expected an object, got a string",
    );
    assert_400(
        &with(json!({"messages": [{"content": "hi"}]})),
        Some("messages[0].role"),
        "field required",
    );
    assert_400(
        &with(json!({"messages": [{"role": "robot", "content": "hi"}]})),
        Some("messages[0].role"),
        "unexpected role `robot`",
    );
    assert_400(
        &with(json!({"messages": [{"role": "user"}]})),
        Some("messages[0].content"),
        "field required",
    );
    assert_400(
        &with(user(json!(5))),
        Some("messages[0].content"),
        "expected a string or an array",
    );
    assert_400(
        &with(user(json!([5]))),
        Some("messages[0].content[0]"),
        "expected an object",
    );
    assert_400(
        &with(user(json!([{"text": "x"}]))),
        Some("messages[0].content[0].type"),
        "field required",
    );
    assert_400(
        &with(user(
            json!([{"type": "text", "text": "ok"}, {"type": "video", "url": "x"}]),
        )),
        Some("messages[0].content[1].type"),
        "unsupported content block type `video`",
    );
    assert_400(
        &with(user(
            json!([{"type": "server_tool_use", "id": "x", "name": "web_search", "input": {}}]),
        )),
        Some("messages[0].content[0].type"),
        "unsupported content block type `server_tool_use`",
    );
    assert_400(
        &with(user(json!([{"type": "text"}]))),
        Some("messages[0].content[0].text"),
        "field required",
    );
    assert_400(
        &with(
            json!({"messages": [{"role": "user", "content": "hi"}, {"role": "system", "content": [{"type": "image"}]}]}),
        ),
        Some("messages[1].content[0].type"),
        "system blocks must be `text`",
    );
}

#[test]
fn blocks() {
    let assistant = |content: Value| {
        with(
            json!({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": content}]}),
        )
    };
    assert_400(
        &assistant(json!([{"type": "tool_use", "name": "f", "input": {}}])),
        Some("messages[1].content[0].id"),
        "field required",
    );
    assert_400(
        &assistant(json!([{"type": "tool_use", "id": "", "name": "f", "input": {}}])),
        Some("messages[1].content[0].id"),
        "must not be empty",
    );
    assert_400(
        &assistant(json!([{"type": "tool_use", "id": "t", "input": {}}])),
        Some("messages[1].content[0].name"),
        "field required",
    );
    assert_400(
        &assistant(json!([{"type": "tool_use", "id": "t", "name": "f", "input": [1]}])),
        Some("messages[1].content[0].input"),
        "expected an object, got an array",
    );
    assert_400(
        &assistant(json!([{"type": "tool_use", "id": "t", "name": "f", "input": "not json"}])),
        Some("messages[1].content[0].input"),
        "expected an object",
    );
    assert_400(
        &assistant(json!([{"type": "thinking"}])),
        Some("messages[1].content[0].thinking"),
        "field required",
    );
    assert_400(
        &assistant(json!([{"type": "thinking", "thinking": "t", "signature": 5}])),
        Some("messages[1].content[0].signature"),
        "expected a string",
    );
    assert_400(
        &assistant(json!([{"type": "redacted_thinking"}])),
        Some("messages[1].content[0].data"),
        "field required",
    );

    assert_400(
        &with(user(json!([{"type": "image"}]))),
        Some("messages[0].content[0].source"),
        "field required",
    );
    assert_400(
        &with(user(json!([{"type": "image", "source": "abc"}]))),
        Some("messages[0].content[0].source"),
        "expected an object",
    );
    assert_400(
        &with(user(
            json!([{"type": "image", "source": {"type": "base64", "media_type": "image/png"}}]),
        )),
        Some("messages[0].content[0].source.data"),
        "field required",
    );
    assert_400(
        &with(user(
            json!([{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": ""}}]),
        )),
        Some("messages[0].content[0].source.data"),
        "must not be empty",
    );
    assert_400(
        &with(user(
            json!([{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR w0K*"}}]),
        )),
        Some("messages[0].content[0].source.data"),
        "invalid base64",
    );
    assert_400(
        &with(user(
            json!([{"type": "image", "source": {"type": "base64", "media_type": 7, "data": "AAAA"}}]),
        )),
        Some("messages[0].content[0].source.media_type"),
        "expected a string",
    );
    assert_400(
        &with(user(
            json!([{"type": "image", "source": {"type": "file", "file_id": "file_1"}}]),
        )),
        Some("messages[0].content[0].source.type"),
        "unsupported image source type `file`",
    );
    assert_400(
        &with(user(json!([{"type": "image", "source": {"type": "url"}}]))),
        Some("messages[0].content[0].source.url"),
        "field required",
    );
    assert_400(
        &with(user(
            json!([{"type": "image", "source": {"type": "url", "url": "data:image/png,AAAA"}}]),
        )),
        Some("messages[0].content[0].source.url"),
        "malformed data URL",
    );
    assert_400(
        &with(user(
            json!([{"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}}]),
        )),
        Some("messages[0].content[0].source.type"),
        "document source type `base64` is not supported",
    );

    assert_400(
        &with(user(json!([{"type": "tool_result", "content": "x"}]))),
        Some("messages[0].content[0].tool_use_id"),
        "field required",
    );
    assert_400(
        &with(user(
            json!([{"type": "tool_result", "tool_use_id": "t", "content": 5}]),
        )),
        Some("messages[0].content[0].content"),
        "expected a string or an array",
    );
    assert_400(
        &with(user(
            json!([{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}]),
        )),
        Some("messages[0].content[0].is_error"),
        "expected a boolean",
    );
    assert_400(
        &with(user(
            json!([{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "audio"}]}]),
        )),
        Some("messages[0].content[0].content[0].type"),
        "unsupported content block type `audio`",
    );
    assert_400(
        &with(user(
            json!([{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png"}}]}]),
        )),
        Some("messages[0].content[0].content[0].source.data"),
        "field required",
    );
}

#[test]
fn tools_and_tool_choice() {
    assert_400(
        &with(json!({"tools": {"name": "f"}})),
        Some("tools"),
        "expected an array",
    );
    assert_400(
        &with(json!({"tools": ["f"]})),
        Some("tools[0]"),
        "expected an object",
    );
    assert_400(
        &with(json!({"tools": [{"input_schema": {}}]})),
        Some("tools[0].name"),
        "field required",
    );
    assert_400(
        &with(json!({"tools": [{"name": "f"}]})),
        Some("tools[0].input_schema"),
        "field required",
    );
    assert_400(
        &with(json!({"tools": [{"name": "f", "input_schema": "{}"}]})),
        Some("tools[0].input_schema"),
        "expected an object",
    );
    assert_400(
        &with(json!({"tools": [{"name": "f", "description": 1, "input_schema": {}}]})),
        Some("tools[0].description"),
        "expected a string",
    );
    assert_400(
        &with(json!({"tools": [{"type": 5}]})),
        Some("tools[0].type"),
        "expected a string",
    );
    assert_400(
        &with(json!({"tool_choice": 5})),
        Some("tool_choice"),
        "expected an object",
    );
    assert_400(
        &with(json!({"tool_choice": {}})),
        Some("tool_choice.type"),
        "field required",
    );
    assert_400(
        &with(json!({"tool_choice": {"type": "required"}})),
        Some("tool_choice.type"),
        "unknown tool_choice type",
    );
    assert_400(
        &with(json!({"tool_choice": {"type": "tool"}})),
        Some("tool_choice.name"),
        "field required",
    );
}

#[test]
fn count_tokens_validates_the_same_shape() {
    let err = decode_count_tokens(
        br#"{"model":"m","messages":[{"role":"user","content":[{"type":"image"}]}]}"#,
    )
    .expect_err("refused");
    assert_eq!(err.param.as_deref(), Some("messages[0].content[0].source"));
    let err = decode_count_tokens(br#"{"messages":[]}"#).expect_err("refused");
    assert_eq!(err.param.as_deref(), Some("model"));
}
