//! N9 tool descriptions and N10 tool names (spec §4.6).

use std::collections::{BTreeMap, HashSet};

use sha2::{Digest, Sha256};

use super::ToolNameMap;

/// V5: the longest tool name the upstream takes.
pub(crate) const MAX_NAME_LEN: usize = 64;
/// Hex digits of SHA-256 appended to a shortened or colliding name.
const HASH_HEX: usize = 8;

/// N9: the description cut to `limit` Unicode scalar values, the last one being `…`, never
/// splitting a character. A blank description becomes the tool's name, or `tool` (V6: send a
/// non-empty one). Returns whether it was truncated.
pub(crate) fn description(text: &str, name: &str, limit: usize) -> (String, bool) {
    let text = match (text.trim().is_empty(), name.trim().is_empty()) {
        (false, _) => text,
        (true, false) => name,
        (true, true) => "tool",
    };
    let limit = limit.max(1);
    // A text of at most `limit` bytes has at most `limit` characters: no need to count them
    // (the common case, and Claude Code sends ~25 long descriptions per request).
    if text.len() <= limit {
        return (text.to_owned(), false);
    }
    // Longer in bytes: count characters with std's word-at-a-time counter, and walk the text
    // character by character only when it is really cut.
    if text.chars().count() <= limit {
        return (text.to_owned(), false);
    }
    let keep = text
        .char_indices()
        .nth(limit - 1)
        .map_or(text.len(), |(at, _)| at);
    (format!("{}…", &text[..keep]), true)
}

fn is_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn sanitize(name: &str) -> String {
    let out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        "tool".to_owned()
    } else {
        out
    }
}

fn hash8(input: &str) -> String {
    let digest = Sha256::digest(input.as_bytes());
    let mut hex = hex::encode(digest);
    hex.truncate(HASH_HEX);
    hex
}

/// `prefix + "_" + 8 hex of SHA-256(seed)`, 64 characters at most. `sanitized` is ASCII.
fn hashed(sanitized: &str, seed: &str) -> String {
    let keep = sanitized.len().min(MAX_NAME_LEN - HASH_HEX - 1);
    format!("{}_{}", &sanitized[..keep], hash8(seed))
}

/// Client name → upstream name for one request, and its reverse for the reply side.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameAssignment {
    to_upstream: BTreeMap<String, String>,
    /// Upstream → client, changed names only.
    pub map: ToolNameMap,
}

impl NameAssignment {
    /// The upstream name of a client name (itself when unchanged).
    pub fn upstream<'a>(&'a self, client: &'a str) -> &'a str {
        self.to_upstream.get(client).map_or(client, String::as_str)
    }
}

/// N10: names already valid keep themselves; every other name gets its characters outside
/// `[A-Za-z0-9_-]` replaced by `_`, and is shortened to `prefix_<8 hex of SHA-256(original)>`
/// when over 64 characters or when the result collides with a name already taken.
/// Deterministic: names are taken in the order given (declared tools first).
pub(crate) fn assign<'a>(names: impl IntoIterator<Item = &'a str>) -> NameAssignment {
    let mut ordered: Vec<&str> = Vec::new();
    let mut distinct = HashSet::new();
    for name in names {
        if distinct.insert(name) {
            ordered.push(name);
        }
    }
    let mut taken: HashSet<String> = ordered
        .iter()
        .filter(|n| is_valid(n))
        .map(|n| (*n).to_owned())
        .collect();
    let mut out = NameAssignment::default();
    for original in ordered.into_iter().filter(|n| !is_valid(n)) {
        let clean = sanitize(original);
        let mut candidate = if clean.len() > MAX_NAME_LEN {
            hashed(&clean, original)
        } else {
            clean.clone()
        };
        let mut round = 0u32;
        while taken.contains(&candidate) {
            let seed = if round == 0 {
                original.to_owned()
            } else {
                format!("{original}#{round}")
            };
            candidate = hashed(&clean, &seed);
            round += 1;
        }
        taken.insert(candidate.clone());
        out.map.insert(candidate.clone(), original.to_owned());
        out.to_upstream.insert(original.to_owned(), candidate);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_limits_in_scalar_values() {
        assert_eq!(description("abc", "t", 3), ("abc".to_owned(), false));
        assert_eq!(description("abcd", "t", 3), ("ab…".to_owned(), true));
        let (cut, truncated) = description("ééééé", "t", 4);
        assert!(truncated);
        assert_eq!(cut, "ééé…");
        assert_eq!(cut.chars().count(), 4);
        assert_eq!(description("  ", "Bash", 10), ("Bash".to_owned(), false));
    }

    #[test]
    fn names_are_sanitised_shortened_and_unique() {
        let long = "x".repeat(70);
        let a = assign([
            "ok_name",
            "a.b",
            "a_b",
            long.as_str(),
            "",
            "mcp__srv__do it",
        ]);
        assert_eq!(a.upstream("ok_name"), "ok_name");
        assert_eq!(a.upstream("a_b"), "a_b");
        let ab = a.upstream("a.b");
        assert_eq!(ab.len(), 3 + 1 + HASH_HEX);
        assert!(ab.starts_with("a_b_"));
        let short = a.upstream(&long);
        assert_eq!(short.len(), MAX_NAME_LEN);
        assert_eq!(a.upstream(""), "tool");
        assert_eq!(a.upstream("mcp__srv__do it"), "mcp__srv__do_it");
        assert_eq!(a.map.client_name(ab), "a.b");
        assert_eq!(a.map.client_name("ok_name"), "ok_name");
    }
}
