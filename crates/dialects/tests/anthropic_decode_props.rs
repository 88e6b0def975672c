//! The decoders never panic: random JSON shaped like a request, random bytes, deep nesting.

use dialects::anthropic::{decode_count_tokens, decode_request};
use dialects::canonical::ErrorKind;
use proptest::prelude::*;
use serde_json::{Value, json};

/// Keys the decoder looks at, so random objects reach deep into it.
const KEYS: &[&str] = &[
    "model",
    "max_tokens",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "system",
    "source",
    "data",
    "media_type",
    "url",
    "id",
    "name",
    "input",
    "tool_use_id",
    "is_error",
    "thinking",
    "signature",
    "tools",
    "input_schema",
    "tool_choice",
    "stop_sequences",
    "stream",
    "budget_tokens",
    "metadata",
    "user_id",
    "output_config",
    "effort",
    "description",
];

const WORDS: &[&str] = &[
    "user",
    "assistant",
    "system",
    "text",
    "image",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "document",
    "base64",
    "url",
    "enabled",
    "adaptive",
    "disabled",
    "auto",
    "any",
    "tool",
    "none",
    "custom",
    "web_search_20250305",
    "search_result",
    "content",
    "high",
    "data:image/png;base64,AAAA",
    "",
    "iVBORw0KGgo=",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(WORDS).prop_map(|s| json!(s)),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_json_never_panics(value in arb_json()) {
        let body = value.to_string();
        for result in [decode_request(body.as_bytes()), decode_count_tokens(body.as_bytes())] {
            if let Err(err) = result {
                prop_assert_eq!(err.kind, ErrorKind::InvalidRequest);
                prop_assert!(!err.message.is_empty());
            }
        }
    }

    #[test]
    fn random_requests_never_panic(messages in prop::collection::vec(arb_json(), 0..4), extra in arb_json()) {
        let mut body = json!({"model": "m", "max_tokens": 10, "messages": messages});
        if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
            body.extend(extra);
        }
        let _ = decode_request(body.to_string().as_bytes());
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        prop_assert!(decode_request(&bytes).is_err() || serde_json::from_slice::<Value>(&bytes).is_ok());
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = decode_request(deep.as_bytes()).expect_err("refused");
    assert!(err.message.contains("not valid JSON"), "{}", err.message);
    let deep_input = format!(
        r#"{{"model":"m","max_tokens":1,"messages":[{{"role":"assistant","content":[{{"type":"tool_use","id":"t","name":"f","input":{}1{}}}]}}]}}"#,
        "{\"a\":".repeat(120),
        "}".repeat(120)
    );
    let _ = decode_request(deep_input.as_bytes());
}
