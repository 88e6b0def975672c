//! Local token estimates (spec §7.6 item 3): `count_tokens` and the usage fallback.
//!
//! Both go through the same segment counter, so `/v1/messages/count_tokens` agrees with the
//! usage a later reply reports when the upstream gives none. The tokenizer is `cl100k_base`: not
//! Claude's, but within a few percent on English and code, which is what clients need for
//! auto-compaction. What is counted: system text, message text, tool calls (name and JSON input),
//! tool results, tool declarations (name, description as cut by N9, JSON schema),
//! [`IMAGE_TOKENS`] per image and [`HIDDEN_PROMPT_TOKENS`] once. Thinking blocks echoed in history are not counted (the
//! mapping usually strips them, and Anthropic does not count earlier turns' thinking).
//!
//! Speed: a Claude Code turn resends ~100 KB of identical tools and system prompt, so counts of
//! segments are cached by content hash (JSON values by a hash of their structure, without
//! serialising them); only new turns are tokenized.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Mutex, OnceLock, PoisonError};

use serde_json::Value;
use tiktoken_rs::CoreBPE;

use crate::canonical::{Image, Part, Request, ToolResultContent};
use crate::kiro::request::DEFAULT_DESCRIPTION_LIMIT;

/// The prompt Kiro adds to every request, which counts against the window (§5, §7.6).
pub const HIDDEN_PROMPT_TOKENS: u64 = 2_000;
/// Tokens charged per image instead of its bytes (a ~1,000×1,000 px image costs about
/// 1,300–1,600 tokens on Claude).
pub const IMAGE_TOKENS: u64 = 1_600;

/// Every non-empty segment goes through the cache: one tokenizer call costs tens of thousands of
/// instructions even for a tool name (its regex set-up), a hash of a short string a few hundred.
const CACHE_MIN_BYTES: usize = 1;
/// Entries kept before the cache is cleared: a crude bound (about 2.5 MB) where a Claude Code
/// conversation needs about a hundred entries.
const CACHE_CAPACITY: usize = 65_536;

fn bpe() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::cl100k_base().ok()).as_ref()
}

/// Tokens in `text` (`cl100k_base`; about one token per four bytes if the tokenizer could not be
/// built).
pub fn count_text(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    match bpe() {
        Some(bpe) => bpe.encode_ordinary(text).len() as u64,
        None => (text.len() as u64).div_ceil(4),
    }
}

/// Cache key: a content hash and the text's length (0 for a JSON value, whose key hashes its
/// structure instead; a text key has a length of at least [`CACHE_MIN_BYTES`]).
type Key = (u64, usize);

fn cache() -> &'static Mutex<HashMap<Key, u64>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, u64>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// [`count_text`] with a process-wide cache.
fn count_segment(text: &str) -> u64 {
    if text.len() < CACHE_MIN_BYTES {
        return count_text(text);
    }
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    cached((hasher.finish(), text.len()), || count_text(text))
}

/// The cached count under `key`, else `count()` (computed outside the lock), remembered.
fn cached(key: Key, count: impl FnOnce() -> u64) -> u64 {
    let cache = cache();
    if let Some(n) = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return *n;
    }
    // Tokenize outside the lock: parallel count_tokens calls must not queue behind each other.
    let n = count();
    let mut map = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= CACHE_CAPACITY {
        map.clear();
    }
    map.insert(key, n);
    n
}

fn count_json(value: &Value) -> u64 {
    match value {
        Value::String(s) => count_segment(s),
        Value::Null => 0,
        other => {
            // Hashing the tree is far cheaper than serialising it (tool schemas: tens of KB
            // per request); equal values serialise to equal text, so share a count.
            let mut hasher = DefaultHasher::new();
            hash_json(other, &mut hasher);
            cached((hasher.finish(), 0), || count_text(&other.to_string()))
        }
    }
}

/// A structural hash of a JSON value: a tag per kind, lengths before contents, so different
/// values feed different byte sequences.
fn hash_json(value: &Value, h: &mut DefaultHasher) {
    match value {
        Value::Null => h.write_u8(0),
        Value::Bool(b) => {
            h.write_u8(1);
            b.hash(h);
        }
        Value::Number(n) => {
            h.write_u8(2);
            n.hash(h);
        }
        Value::String(s) => {
            h.write_u8(3);
            s.hash(h);
        }
        Value::Array(items) => {
            h.write_u8(4);
            h.write_usize(items.len());
            for item in items {
                hash_json(item, h);
            }
        }
        Value::Object(map) => {
            h.write_u8(5);
            h.write_usize(map.len());
            for (key, item) in map {
                key.hash(h);
                hash_json(item, h);
            }
        }
    }
}

fn count_image(image: &Image) -> u64 {
    match image {
        Image::Base64 { .. } | Image::Url(_) => IMAGE_TOKENS,
    }
}

/// Estimated input tokens of a canonical request, as the upstream will see it.
pub fn estimate_request(req: &Request) -> u64 {
    let mut total = HIDDEN_PROMPT_TOKENS;
    total += req.system.iter().map(|s| count_segment(s)).sum::<u64>();
    for message in &req.messages {
        for part in &message.content {
            total += match part {
                Part::Text(text) => count_segment(text),
                Part::Image(image) => count_image(image),
                Part::ToolUse(tool_use) => {
                    count_segment(&tool_use.name) + count_json(&tool_use.input)
                }
                Part::ToolResult(result) => result
                    .content
                    .iter()
                    .map(|c| match c {
                        ToolResultContent::Text(text) => count_segment(text),
                        ToolResultContent::Image(image) => count_image(image),
                        ToolResultContent::Json(value) => count_json(value),
                    })
                    .sum(),
                Part::Thinking { .. } | Part::RedactedThinking { .. } => 0,
            };
        }
    }
    for tool in &req.tools {
        total += count_segment(&tool.name)
            + count_segment(upstream_description(&tool.description))
            + count_json(&tool.input_schema);
    }
    total
}

/// The part of a tool description the upstream sees (N9 cuts at the default limit).
fn upstream_description(description: &str) -> &str {
    // At most `limit` bytes means at most `limit` characters: nothing to count.
    if description.len() <= DEFAULT_DESCRIPTION_LIMIT {
        return description;
    }
    match description.char_indices().nth(DEFAULT_DESCRIPTION_LIMIT) {
        Some((at, _)) => &description[..at],
        None => description,
    }
}

/// Estimated input tokens of a serialized `generateAssistantResponse` body, counting the same
/// things as [`estimate_request`] (so the two agree up to the turns the mapping adds). A body
/// that is not such JSON is counted as plain text.
pub fn estimate_body(json: &[u8]) -> u64 {
    let Ok(root) = serde_json::from_slice::<Value>(json) else {
        return HIDDEN_PROMPT_TOKENS + count_segment(&String::from_utf8_lossy(json));
    };
    let Some(state) = root.get("conversationState") else {
        return HIDDEN_PROMPT_TOKENS + count_segment(&String::from_utf8_lossy(json));
    };
    let mut total = HIDDEN_PROMPT_TOKENS;
    let history = state.get("history").and_then(Value::as_array);
    for entry in history.into_iter().flatten() {
        if let Some(user) = entry.get("userInputMessage") {
            total += count_user(user);
        } else if let Some(assistant) = entry.get("assistantResponseMessage") {
            total += count_str(assistant.get("content"));
            for tool_use in array(assistant.get("toolUses")) {
                total +=
                    count_str(tool_use.get("name")) + tool_use.get("input").map_or(0, count_json);
            }
        }
    }
    if let Some(current) = state.pointer("/currentMessage/userInputMessage") {
        total += count_user(current);
    }
    total
}

fn array(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

fn count_str(value: Option<&Value>) -> u64 {
    value.and_then(Value::as_str).map_or(0, count_segment)
}

fn count_user(user: &Value) -> u64 {
    let mut total = count_str(user.get("content"));
    total += IMAGE_TOKENS * array(user.get("images")).count() as u64;
    let ctx = user.get("userInputMessageContext");
    for result in array(ctx.and_then(|c| c.get("toolResults"))) {
        for block in array(result.get("content")) {
            total += count_str(block.get("text")) + block.get("json").map_or(0, count_json);
        }
    }
    for tool in array(ctx.and_then(|c| c.get("tools"))) {
        if let Some(spec) = tool.get("toolSpecification") {
            total += count_str(spec.get("name"))
                + count_str(spec.get("description"))
                + spec.pointer("/inputSchema/json").map_or(0, count_json);
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_known_strings() {
        assert_eq!(count_text(""), 0);
        assert_eq!(count_text("hello world"), 2);
        let long = "the quick brown fox ".repeat(100);
        assert_eq!(count_segment(&long), count_text(&long));
        // Cached path gives the same answer twice.
        assert_eq!(count_segment(&long), count_text(&long));
        assert_eq!(count_segment("hi"), count_text("hi"));
        assert_eq!(count_segment("hi"), count_text("hi"));
    }

    #[test]
    fn json_counts_are_those_of_the_serialised_text() {
        let values = [
            serde_json::json!({"type": "object", "properties": {"a": {"type": "string"}}}),
            serde_json::json!({"type": "object", "properties": {"a": {"type": "number"}}}),
            serde_json::json!([1, 2.5, "x", true, null, {"k": []}]),
            serde_json::json!([1, 2.5, "x", true, null, {"k": [[]]}]),
            serde_json::json!(42),
            serde_json::json!(false),
        ];
        for _ in 0..2 {
            for v in &values {
                assert_eq!(count_json(v), count_text(&v.to_string()), "{v}");
            }
        }
    }

    #[test]
    fn structurally_different_values_hash_differently() {
        let hash = |v: &Value| {
            let mut h = DefaultHasher::new();
            hash_json(v, &mut h);
            h.finish()
        };
        let pairs = [
            (serde_json::json!(["ab"]), serde_json::json!(["a", "b"])),
            (serde_json::json!({"a": 1}), serde_json::json!({"a": "1"})),
            (serde_json::json!([[]]), serde_json::json!([])),
            (serde_json::json!({"a": {}}), serde_json::json!({"a": []})),
        ];
        for (a, b) in pairs {
            assert_ne!(hash(&a), hash(&b), "{a} vs {b}");
        }
    }

    #[test]
    fn bad_body_is_counted_as_text() {
        assert!(estimate_body(b"not json at all") > HIDDEN_PROMPT_TOKENS);
        assert_eq!(estimate_body(b"{}"), HIDDEN_PROMPT_TOKENS + 1);
    }
}
