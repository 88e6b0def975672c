//! Malformed Chat Completions requests: each class gives a 400 with OpenAI's `param`, and no
//! input ever panics.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail the test on bad fixtures"
)]

use dialects::canonical::ErrorKind;
use dialects::openai::decode_request;
use proptest::prelude::*;
use serde_json::{Value, json};

fn base() -> Value {
    json!({
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "be terse"},
            {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            {"role": "assistant", "content": "ok", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "done"}
        ],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    })
}

/// Applies `edit` to the base request and returns the error's `param` (and checks it is a 400).
fn param_of(edit: impl FnOnce(&mut Value)) -> Option<String> {
    let mut body = base();
    edit(&mut body);
    let err = decode_request(body.to_string().as_bytes())
        .expect_err(&format!("expected an error for {body}"));
    assert_eq!(err.kind, ErrorKind::InvalidRequest, "{err:?}");
    assert_eq!(err.kind.status(), 400);
    assert!(!err.message.is_empty());
    err.param
}

/// Sets the value at a JSON pointer, creating the last key if needed.
fn set(pointer: &'static str, value: Value) -> impl FnOnce(&mut Value) {
    move |body| {
        let (parent, last) = pointer.rsplit_once('/').unwrap();
        let parent = body.pointer_mut(parent).unwrap();
        match parent {
            Value::Array(items) => items[last.parse::<usize>().unwrap()] = value,
            Value::Object(map) => {
                map.insert(last.to_owned(), value);
            }
            other => panic!("cannot set {pointer} in {other}"),
        }
    }
}

fn remove(parent: &'static str, key: &'static str) -> impl FnOnce(&mut Value) {
    move |body| {
        body.pointer_mut(parent)
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove(key);
    }
}

#[test]
fn the_base_request_is_valid() {
    decode_request(base().to_string().as_bytes()).unwrap();
}

#[test]
fn body_level_errors() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    for body in [
        &b"{not json"[..],
        b"",
        b"[]",
        b"\"x\"",
        b"null",
        deep.as_bytes(),
    ] {
        let err = decode_request(body).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidRequest);
        assert_eq!(err.param, None);
    }
}

#[test]
fn wrong_types_and_missing_fields_name_the_param() {
    type Edit = Box<dyn FnOnce(&mut Value)>;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(remove("", "model")), "model"),
        (Box::new(set("/model", json!(4))), "model"),
        (Box::new(set("/model", json!(""))), "model"),
        (Box::new(remove("", "messages")), "messages"),
        (Box::new(set("/messages", json!({}))), "messages"),
        (Box::new(set("/messages", json!([]))), "messages"),
        (Box::new(set("/messages/1", json!("hi"))), "messages[1]"),
        (Box::new(remove("/messages/1", "role")), "messages[1].role"),
        (
            Box::new(set("/messages/1/role", json!("robot"))),
            "messages[1].role",
        ),
        (
            Box::new(set("/messages/1/content", json!(5))),
            "messages[1].content",
        ),
        (
            Box::new(set("/messages/1/content", json!(null))),
            "messages[1].content",
        ),
        (
            Box::new(set("/messages/1/content/0", json!("x"))),
            "messages[1].content[0]",
        ),
        (
            Box::new(set("/messages/1/content/0", json!({"text": "x"}))),
            "messages[1].content[0].type",
        ),
        (
            Box::new(set("/messages/1/content/0/type", json!("video"))),
            "messages[1].content[0].type",
        ),
        (
            Box::new(set("/messages/1/content/0/text", json!(1))),
            "messages[1].content[0].text",
        ),
        (
            Box::new(set(
                "/messages/1/content/0",
                json!({"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}),
            )),
            "messages[1].content[0].type",
        ),
        (
            Box::new(set(
                "/messages/1/content/0",
                json!({"type": "file", "file": {"file_id": "f"}}),
            )),
            "messages[1].content[0].type",
        ),
        (
            Box::new(set("/messages/1/content/0", json!({"type": "image_url"}))),
            "messages[1].content[0].image_url",
        ),
        (
            Box::new(set(
                "/messages/1/content/0",
                json!({"type": "image_url", "image_url": {}}),
            )),
            "messages[1].content[0].image_url.url",
        ),
        (
            Box::new(set(
                "/messages/1/content/0",
                json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}),
            )),
            "messages[1].content[0].image_url.url",
        ),
        (
            Box::new(set(
                "/messages/1/content/0",
                json!({"type": "image_url", "image_url": {"url": "data:text/plain,hello"}}),
            )),
            "messages[1].content[0].image_url.url",
        ),
        (
            Box::new(set(
                "/messages/1/content/0",
                json!({"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}),
            )),
            "messages[1].content[0].image_url.url",
        ),
        (
            Box::new(set(
                "/messages/1/content/0",
                json!({"type": "image_url", "image_url": 3}),
            )),
            "messages[1].content[0].image_url",
        ),
        (
            Box::new(set(
                "/messages/0/content",
                json!([{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]),
            )),
            "messages[0].content[0].type",
        ),
        (
            Box::new(set("/messages/1/name", json!(7))),
            "messages[1].name",
        ),
        (
            Box::new(set("/messages/2/content", json!(true))),
            "messages[2].content",
        ),
        (
            Box::new(set("/messages/2/tool_calls", json!({}))),
            "messages[2].tool_calls",
        ),
        (
            Box::new(remove("/messages/2/tool_calls/0", "id")),
            "messages[2].tool_calls[0].id",
        ),
        (
            Box::new(set("/messages/2/tool_calls/0/type", json!("custom"))),
            "messages[2].tool_calls[0].type",
        ),
        (
            Box::new(remove("/messages/2/tool_calls/0", "function")),
            "messages[2].tool_calls[0].function",
        ),
        (
            Box::new(remove("/messages/2/tool_calls/0/function", "name")),
            "messages[2].tool_calls[0].function.name",
        ),
        (
            Box::new(set(
                "/messages/2/tool_calls/0/function/arguments",
                json!(12),
            )),
            "messages[2].tool_calls[0].function.arguments",
        ),
        (
            Box::new(set("/messages/2/reasoning_content", json!([]))),
            "messages[2].reasoning_content",
        ),
        (
            Box::new(remove("/messages/3", "tool_call_id")),
            "messages[3].tool_call_id",
        ),
        (
            Box::new(remove("/messages/3", "content")),
            "messages[3].content",
        ),
        (Box::new(set("/tools", json!({}))), "tools"),
        (
            Box::new(set("/tools/0/type", json!("custom"))),
            "tools[0].type",
        ),
        (
            Box::new(remove("/tools/0", "function")),
            "tools[0].function",
        ),
        (
            Box::new(remove("/tools/0/function", "name")),
            "tools[0].function.name",
        ),
        (
            Box::new(set("/tools/0/function/parameters", json!("x"))),
            "tools[0].function.parameters",
        ),
        (
            Box::new(set("/tools/0/function/description", json!(1))),
            "tools[0].function.description",
        ),
        (
            Box::new(set("/tools/0/function/strict", json!("yes"))),
            "tools[0].function.strict",
        ),
    ];
    for (edit, expected) in cases {
        assert_eq!(param_of(edit).as_deref(), Some(expected));
    }
}

#[test]
fn bad_options_name_the_param() {
    let cases: Vec<(&str, Value)> = vec![
        ("tool_choice", json!("sometimes")),
        ("tool_choice", json!(1)),
        ("tool_choice", json!({"type": "function"})),
        (
            "tool_choice",
            json!({"type": "custom", "custom": {"name": "x"}}),
        ),
        ("function_call", json!("required")),
        ("functions", json!("f")),
        ("n", json!(2)),
        ("n", json!(0)),
        ("n", json!("1")),
        ("max_tokens", json!(0)),
        ("max_tokens", json!(-1)),
        ("max_tokens", json!(1.5)),
        ("max_completion_tokens", json!("100")),
        ("stop", json!(["a", "b", "c", "d", "e"])),
        ("stop", json!(5)),
        ("stream", json!("true")),
        ("stream_options", json!(true)),
        ("reasoning_effort", json!("extreme")),
        ("reasoning_effort", json!(1)),
        ("temperature", json!("0.2")),
        ("top_p", json!([])),
        ("seed", json!(1.5)),
        ("logprobs", json!(1)),
        ("logit_bias", json!([])),
        ("response_format", json!("json")),
        ("parallel_tool_calls", json!("no")),
        ("user", json!(5)),
        ("metadata", json!("x")),
    ];
    for (key, value) in cases {
        let param = param_of(|body| {
            body[key] = value.clone();
        });
        let param = param.unwrap_or_else(|| panic!("{key} = {value}: no param"));
        assert!(
            param == key
                || param.starts_with(&format!("{key}."))
                || param.starts_with(&format!("{key}[")),
            "{key} = {value}: param {param}"
        );
    }
}

#[test]
fn nested_stream_options_and_stop_params() {
    assert_eq!(
        param_of(|b| b["stream_options"] = json!({"include_usage": "yes"})).as_deref(),
        Some("stream_options.include_usage")
    );
    assert_eq!(
        param_of(|b| b["stop"] = json!(["a", 1])).as_deref(),
        Some("stop[1]")
    );
    assert_eq!(
        param_of(|b| b["tool_choice"] = json!({"type": "function", "function": {}})).as_deref(),
        Some("tool_choice.function.name")
    );
}

#[test]
fn messages_use_openai_wording() {
    let err = decode_request(
        json!({"model": "m", "messages": [{"role": "user", "content": 5}]})
            .to_string()
            .as_bytes(),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "Invalid type for 'messages[0].content': expected one of a string or array of objects, \
         but got an integer instead."
    );
    let err = decode_request(
        json!({"model": "m", "messages": [{"content": "x"}]})
            .to_string()
            .as_bytes(),
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "Missing required parameter: 'messages[0].role'."
    );
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("user".to_owned()),
            Just("assistant".to_owned()),
            Just("tool".to_owned()),
            Just("function".to_owned()),
            Just("text".to_owned()),
            Just("image_url".to_owned()),
            Just("data:image/png;base64,iVBORw0KGgo=".to_owned()),
            ".{0,12}",
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let keys = prop_oneof![
            Just("role".to_owned()),
            Just("content".to_owned()),
            Just("type".to_owned()),
            Just("text".to_owned()),
            Just("image_url".to_owned()),
            Just("url".to_owned()),
            Just("tool_calls".to_owned()),
            Just("tool_call_id".to_owned()),
            Just("function".to_owned()),
            Just("name".to_owned()),
            Just("arguments".to_owned()),
            "[a-z_]{1,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const FIELDS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "functions",
    "tool_choice",
    "function_call",
    "n",
    "max_tokens",
    "max_completion_tokens",
    "stop",
    "stream",
    "stream_options",
    "reasoning_effort",
    "user",
    "temperature",
    "response_format",
    "prompt_cache_key",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_request(&bytes);
    }

    #[test]
    fn random_json_never_panics(value in arb_json()) {
        let _ = decode_request(value.to_string().as_bytes());
    }

    #[test]
    fn random_messages_never_panic(messages in prop::collection::vec(arb_json(), 0..6)) {
        let body = json!({"model": "m", "messages": messages});
        if let Err(err) = decode_request(body.to_string().as_bytes()) {
            prop_assert_eq!(err.kind, ErrorKind::InvalidRequest);
        }
    }

    #[test]
    fn any_field_replaced_gives_a_request_or_a_400(
        field in prop::sample::select(FIELDS),
        value in arb_json(),
    ) {
        let mut body = base();
        body[field] = value;
        if let Err(err) = decode_request(body.to_string().as_bytes()) {
            prop_assert_eq!(err.kind, ErrorKind::InvalidRequest);
            prop_assert!(err.param.is_some(), "{:?}", err);
        }
    }
}
