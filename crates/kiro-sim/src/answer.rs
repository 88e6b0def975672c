//! Deterministic generated content: the default answer (derived from the last user message),
//! long answers of N words, thinking text, tool-use ids, and the chunking of text into frames
//! of a few characters like the service's.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const SENTENCES: &[&str] = &[
    "This answer comes from kiro-sim, the Kiro upstream simulator.",
    "Nothing here was produced by a language model.",
    "The text is chosen by a hash of your message, so the same question gets the same answer.",
    "Frames arrive in small chunks, as they do from the real service.",
    "Token usage and credits are reported in the tail events.",
    "Ask again with different words to get a different reply.",
    "Multi-byte text such as naïve café, 日本語 and emoji 🙂 is part of the stream.",
    "Tool calls, thinking and faults can be scripted through the control API.",
    "Markers like [[sim:echo]] in a message change how the simulator answers.",
    "Streams are encoded once and written without per-frame locking.",
    "Every request is recorded for tests to inspect.",
    "The clock can be advanced to expire tokens or reach the monthly reset.",
];

const WORDS: &[&str] = &[
    "alpha",
    "bravo",
    "charlie",
    "delta",
    "echo",
    "foxtrot",
    "golf",
    "hotel",
    "india",
    "juliet",
    "kilo",
    "lima",
    "mike",
    "november",
    "oscar",
    "papa",
    "quebec",
    "romeo",
    "sierra",
    "tango",
    "uniform",
    "victor",
    "whiskey",
    "xray",
    "yankee",
    "zulu",
    "stream",
    "frame",
    "token",
    "credit",
    "region",
    "profile",
    "simulator",
    "upstream",
    "proxy",
    "event",
    "chunk",
    "header",
    "payload",
    "signature",
];

/// Varied chunk sizes (characters) cycled through when no fixed size is set.
const VARIED_SIZES: &[usize] = &[5, 9, 3, 12, 7, 4, 10, 6, 8, 11];

/// FNV-1a, 64-bit: a stable, dependency-free hash for choosing content.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The first `n` characters of `s`.
fn prefix_chars(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The default answer to `user_text`; after a tool-result turn it acknowledges the results.
pub fn default_reply(user_text: &str, tool_results: usize) -> String {
    let h = fnv1a(user_text.as_bytes());
    let mut out = if user_text.trim().is_empty() && tool_results > 0 {
        format!("Simulated reply after {tool_results} tool result(s).")
    } else {
        let head: String = prefix_chars(user_text.trim(), 80)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        format!("Simulated reply to: «{head}»")
    };
    let count = 2 + (h % 3) as usize;
    for i in 0..count {
        let pick = (h.rotate_left(i as u32 * 13) as usize).wrapping_add(i * 5) % SENTENCES.len();
        out.push(' ');
        out.push_str(SENTENCES[pick]);
    }
    out
}

/// A long answer of exactly `words` words, in paragraphs of about 60 words.
pub fn long_reply(words: usize, seed_text: &str) -> String {
    let mut h = fnv1a(seed_text.as_bytes()) | 1;
    let mut out = String::with_capacity(words * 8);
    for i in 0..words {
        h ^= h << 13;
        h ^= h >> 7;
        h ^= h << 17;
        if i > 0 {
            out.push_str(if i % 60 == 0 { ".\n\n" } else { " " });
        }
        out.push_str(WORDS[(h % WORDS.len() as u64) as usize]);
    }
    if words > 0 {
        out.push('.');
    }
    out
}

/// Thinking text for a request.
pub fn default_thinking(user_text: &str) -> String {
    let head = prefix_chars(user_text.trim(), 60);
    format!(
        "The user wrote «{head}». I should answer briefly and accurately. Let me put the reply together."
    )
}

/// Splits `text` into chunks of `chunk_chars` characters (0 = varied sizes 3–12, starting at a
/// point chosen by `seed`). Never splits a character.
pub fn chunks(text: &str, chunk_chars: usize, seed: u64) -> Vec<&str> {
    let mut out = Vec::with_capacity(text.len() / 6 + 1);
    let mut size_idx = (seed % VARIED_SIZES.len() as u64) as usize;
    let mut rest = text;
    while !rest.is_empty() {
        let n = if chunk_chars > 0 {
            chunk_chars
        } else {
            size_idx += 1;
            VARIED_SIZES[size_idx % VARIED_SIZES.len()]
        };
        let cut = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

/// Splits `s` into pieces of at most `max_bytes` bytes (at least one character each).
pub fn byte_pieces(s: &str, max_bytes: usize) -> Vec<&str> {
    let max = max_bytes.max(1);
    let mut out = Vec::with_capacity(s.len() / max + 1);
    let mut rest = s;
    while !rest.is_empty() {
        let mut cut = rest.len().min(max);
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut == 0 {
            cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

/// A `tooluse_` id of 22 base64url characters derived from the request and the call's index.
pub fn tool_use_id(seed: u64, conversation_id: &str, user_text: &str, index: usize) -> String {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(conversation_id.as_bytes());
    h.update([0]);
    h.update(user_text.as_bytes());
    h.update((index as u64).to_be_bytes());
    let digest = h.finalize();
    let mut id = String::from("tooluse_");
    id.push_str(&URL_SAFE_NO_PAD.encode(&digest[..17])[..22]);
    id
}

/// A large `Write` input of about `bytes` bytes (for truncated tool calls).
pub fn large_write_input(bytes: usize) -> String {
    let mut content = String::with_capacity(bytes + 64);
    let mut line = 1;
    while content.len() < bytes {
        content.push_str(&format!(
            "line {line}: the quick brown fox jumps over the lazy dog\n"
        ));
        line += 1;
    }
    let input = serde_json::json!({"file_path": "/tmp/kiro-sim-large.txt", "content": content});
    let mut s = input.to_string();
    let mut cut = bytes.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_reply_is_deterministic_and_quotes() {
        let a = default_reply("What is the capital of France?", 0);
        assert_eq!(a, default_reply("What is the capital of France?", 0));
        assert!(a.starts_with("Simulated reply to: «What is the capital of France?»"));
        assert_ne!(a, default_reply("Something else entirely", 0));
        assert!(default_reply("", 2).contains("2 tool result"));
    }

    #[test]
    fn chunking_keeps_text_and_chars() {
        let t = "héllo wörld 日本語 🙂 done";
        let c = chunks(t, 0, 3);
        assert_eq!(c.concat(), t);
        assert!(c.len() > 2);
        let c1 = chunks(t, 1, 0);
        assert_eq!(c1.len(), t.chars().count());
        assert_eq!(byte_pieces(t, 2).concat(), t);
    }

    #[test]
    fn long_reply_has_n_words() {
        assert_eq!(long_reply(500, "x").split_whitespace().count(), 500);
    }

    #[test]
    fn tool_ids_look_real() {
        let id = tool_use_id(0, "c", "t", 0);
        assert!(id.starts_with("tooluse_") && id.len() == 30);
        assert_ne!(id, tool_use_id(0, "c", "t", 1));
    }

    #[test]
    fn large_input_is_near_size() {
        let s = large_write_input(40_000);
        assert!(s.len() <= 40_000 && s.len() > 39_000);
    }
}
