//! Helpers shared by the `types_*` integration tests. Every test file uses both public helpers,
//! so none of them is dead code in any test crate.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Keys of single-key union objects (`{"userInputMessage": …}`), which take no extra keys.
const UNION_TAGS: &[&str] = &[
    "userInputMessage",
    "assistantResponseMessage",
    "toolSpecification",
    "cachePoint",
    "text",
    "json",
    "reasoningText",
    "redactedContent",
];

/// Keys whose values are kept verbatim as `serde_json::Value` (tool inputs, schemas, ...):
/// noise added there would be carried, not ignored.
const OPAQUE_KEYS: &[&str] = &[
    "input",
    "json",
    "additionalModelRequestFields",
    "additionalModelRequestFieldsSchema",
    "inputSchema",
    "arguments",
    "params",
    "data",
    "publicDomain",
];

/// Adds unknown fields of several types to every object (except union wrappers), recursively.
fn with_unknown_fields(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .map(|(k, v)| {
                    let v = if OPAQUE_KEYS.contains(&k.as_str()) {
                        v.clone()
                    } else {
                        with_unknown_fields(v)
                    };
                    (k.clone(), v)
                })
                .collect();
            let is_union = map.len() == 1 && map.keys().all(|k| UNION_TAGS.contains(&k.as_str()));
            if !is_union {
                out.insert("zzUnknownString".into(), Value::from("x"));
                out.insert(
                    "zzUnknownObject".into(),
                    serde_json::json!({"a": [1, null]}),
                );
                out.insert("zzUnknownNull".into(), Value::Null);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(with_unknown_fields).collect()),
        other => other.clone(),
    }
}

pub fn parse<T: DeserializeOwned>(json: &str) -> T {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("parse failed: {e}\n{json}"))
}

/// Parses `json` as `T`, checks that the same document with unknown fields everywhere parses to
/// the same value, and returns the parsed value.
pub fn parse_lenient<T: DeserializeOwned + Serialize>(json: &str) -> T {
    let parsed: T = parse(json);
    let noisy = with_unknown_fields(&parse::<Value>(json));
    let noisy: T = serde_json::from_value(noisy.clone())
        .unwrap_or_else(|e| panic!("unknown fields not ignored: {e}\n{noisy}"));
    assert_eq!(
        to_value(&parsed),
        to_value(&noisy),
        "unknown fields changed the parsed value"
    );
    parsed
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or_else(|e| panic!("serialise failed: {e}"))
}
