//! Captured bodies made safe to keep: secrets replaced by `[redacted]`, then the size cap.
//!
//! Runs in the statistics writer, never on the request path. Works on text rather than parsed
//! JSON so that a body already cut at the cap (no longer valid JSON) is redacted just the same.
//! Two passes:
//!
//! - **JSON fields** whose name says they hold a secret (`authorization`, `api_key`,
//!   `x-api-key`, `password`, `secret`, `…token`, `cookie`, `credentials`, …; case, `_` and `-`
//!   ignored): a string value is replaced whole. Numbers stay (`max_tokens` is no secret).
//! - **Shapes of secrets** anywhere in the text (prompts included): client keys `kp_…`, admin
//!   tokens `kpa_…`, `sk-…` keys, `Bearer …` tokens, Kiro refresh and access tokens `aor…` /
//!   `aoa…`, JWTs `eyJ…`, AWS access key ids (`AKIA…`, `ASIA…`) and 40-character AWS secret
//!   keys. The recognisable prefix is kept (`sk-[redacted]`) so the reader sees what was there.
//!
//! Over-redaction is preferred to a leak: a word that merely looks like a key goes too.

/// What a secret is replaced with.
pub const REDACTED: &str = "[redacted]";

/// `text` with every secret it recognises replaced.
pub fn redact(text: &str) -> String {
    redact_patterns(&redact_json_fields(text))
}

/// `text` cut at `max` bytes (on a character boundary) with a marker saying how much was left
/// out, and whether it was cut. `whole`: `text` holds the whole body (else only its
/// beginning was captured); `original_len` is the whole body's length.
pub fn cap(mut text: String, whole: bool, original_len: usize, max: usize) -> (String, bool) {
    if text.len() <= max && whole {
        return (text, false);
    }
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    // Redaction changes lengths a little: the figure is the original's.
    let total = original_len.max(end);
    text.push_str(&format!(
        "\n[… truncated: {} of {total} bytes not stored]",
        total - end
    ));
    (text, true)
}

/// Whether a JSON field of this name holds a secret.
fn sensitive(name: &str) -> bool {
    if name.len() > 64 {
        return false;
    }
    let n: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    [
        "authorization",
        "password",
        "passwd",
        "secret",
        "apikey",
        "accesskey",
        "privatekey",
        "cookie",
        "credential",
    ]
    .iter()
    .any(|s| n.contains(s))
        || n.ends_with("token")
}

/// The index of the closing quote of the JSON string opening at `start`.
fn string_end(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j),
            _ => j += 1,
        }
    }
    None
}

fn skip_space(b: &[u8], mut j: usize) -> usize {
    while j < b.len() && b[j].is_ascii_whitespace() {
        j += 1;
    }
    j
}

/// Replaces the string values of sensitive fields. Every index compared or sliced at is that
/// of an ASCII quote, so slicing stays on character boundaries.
fn redact_json_fields(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut i) = (0, 0);
    while i < b.len() {
        if b[i] != b'"' {
            i += 1;
            continue;
        }
        let Some(name_end) = string_end(b, i) else {
            break;
        };
        let colon = skip_space(b, name_end + 1);
        if colon < b.len() && b[colon] == b':' && sensitive(&text[i + 1..name_end]) {
            let value = skip_space(b, colon + 1);
            if value < b.len() && b[value] == b'"' {
                out.push_str(&text[copied..=value]);
                out.push_str(REDACTED);
                // A value cut by the capture's cap runs to the end.
                match string_end(b, value) {
                    Some(end) => {
                        out.push('"');
                        copied = end + 1;
                    }
                    None => copied = b.len(),
                }
                i = copied;
                continue;
            }
        }
        i = name_end + 1;
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether a secret may start at `i`: the text starts there, or a non-alphanumeric byte (or
/// a JSON escape such as `\n`) precedes it.
fn boundary(b: &[u8], i: usize) -> bool {
    i == 0
        || !b[i - 1].is_ascii_alphanumeric()
        || (i >= 2 && b[i - 2] == b'\\' && matches!(b[i - 1], b'n' | b't' | b'r' | b'b' | b'f'))
}

/// Length of the run from `i` of bytes satisfying `class`.
fn run(b: &[u8], i: usize, class: impl Fn(u8) -> bool) -> usize {
    b[i.min(b.len())..]
        .iter()
        .take_while(|&&c| class(c))
        .count()
}

fn key_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

fn token_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"._~+/=-:".contains(&c)
}

fn starts_with_ignore_case(b: &[u8], i: usize, prefix: &[u8]) -> bool {
    b.len() >= i + prefix.len() && b[i..i + prefix.len()].eq_ignore_ascii_case(prefix)
}

/// AWS access key id prefixes (the four letters before 16 upper-case letters and digits).
const AWS_KEY_PREFIXES: [&[u8]; 10] = [
    b"AKIA", b"ASIA", b"AGPA", b"AIDA", b"AROA", b"AIPA", b"ANPA", b"ANVA", b"ABIA", b"ACCA",
];

/// A secret starting at `i`: how many of its first bytes to keep visible, and where it ends.
fn secret_at(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let rest = &b[i..];
    // Prefixed keys: kpa_ (admin tokens), kp_ (client keys), sk- (OpenAI/Anthropic style).
    for prefix in [&b"kpa_"[..], b"kp_", b"sk-"] {
        if rest.starts_with(prefix) {
            let n = run(b, i + prefix.len(), key_char);
            if n >= 8 {
                return Some((prefix.len(), i + prefix.len() + n));
            }
        }
    }
    if starts_with_ignore_case(b, i, b"bearer") {
        let spaces = run(b, i + 6, |c| c == b' ');
        let n = run(b, i + 6 + spaces, token_char);
        if spaces > 0 && n >= 8 {
            return Some((6 + spaces, i + 6 + spaces + n));
        }
    }
    // Kiro refresh (`aor…`) and access (`aoa…`) tokens: long, never a word.
    if rest.starts_with(b"aor") || rest.starts_with(b"aoa") {
        let n = run(b, i, token_char);
        let tail = &b[i + 3..i + n];
        if n >= 24
            && tail
                .iter()
                .any(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        {
            return Some((3, i + n));
        }
    }
    if rest.starts_with(b"eyJ") {
        let n = run(b, i, |c| key_char(c) || c == b'.');
        if n >= 20 && b[i..i + n].iter().filter(|&&c| c == b'.').count() >= 2 {
            return Some((3, i + n));
        }
    }
    if AWS_KEY_PREFIXES.iter().any(|p| rest.starts_with(p)) {
        let n = run(b, i + 4, |c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if n == 16 && !b.get(i + 20).is_some_and(u8::is_ascii_alphanumeric) {
            return Some((4, i + 20));
        }
    }
    // An AWS secret access key: exactly 40 base64 characters with all three kinds of
    // alphanumerics (a hex digest has no upper case; base64 data runs far longer).
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'/' || c == b'+';
    let n = run(b, i, b64);
    if n == 40 && !b.get(i + 40).is_some_and(|&c| b64(c) || c == b'=') {
        let s = &b[i..i + 40];
        if s.iter().any(u8::is_ascii_digit)
            && s.iter().any(u8::is_ascii_uppercase)
            && s.iter().any(u8::is_ascii_lowercase)
        {
            return Some((0, i + 40));
        }
    }
    None
}

/// Replaces every secret-shaped token. Secrets start and end at ASCII bytes, so slicing stays
/// on character boundaries.
fn redact_patterns(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut i) = (0, 0);
    while i < b.len() {
        if b[i].is_ascii_alphanumeric()
            && boundary(b, i)
            && let Some((keep, end)) = secret_at(b, i)
        {
            out.push_str(&text[copied..i + keep]);
            out.push_str(REDACTED);
            copied = end;
            i = end;
            continue;
        }
        i += 1;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_keys_and_tokens() {
        let cases = [
            ("use kp_AbCdEf0123456789 now", "use kp_[redacted] now"),
            ("admin kpa_0123456789abcdef.", "admin kpa_[redacted]."),
            ("key=sk-ant-api03-abcdefghijklmnop", "key=sk-[redacted]"),
            (
                "Authorization: Bearer abc.def-ghi_jkl",
                "Authorization: Bearer [redacted]",
            ),
            (
                "refresh aorAAAAAGh0dHBzOi8vZXhhbXBsZS5jb20vdG9rZW4",
                "refresh aor[redacted]",
            ),
            (
                "access aoaAAAAAGhZ1234567890abcdefghij:MGQC",
                "access aoa[redacted]",
            ),
            (
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature",
                "jwt eyJ[redacted]",
            ),
            ("id AKIAIOSFODNN7EXAMPLE end", "id AKIA[redacted] end"),
            (
                "secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY ok",
                "secret [redacted] ok",
            ),
            // After a JSON escape.
            ("line\\nsk-abcdefgh12345", "line\\nsk-[redacted]"),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "{input}");
        }
    }

    #[test]
    fn ordinary_text_stays() {
        for text in [
            "task-abcdefghijkl is a word containing sk-",
            "sk-learn is short",
            "the aorta and aoa are words",
            "sha 3f786850e387550fdab836ed7e6dc881de23001b",
            "bearer of news",
            "naïve café kp_ short",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn sensitive_json_fields() {
        let body = r#"{"api_key": "x1", "Authorization":"anything at all", "max_tokens": 1024,
            "nested": {"refresh_token": "r", "password" : "p\"q", "x-api-key": "k"},
            "content": "hi", "usage": {"input_tokens": 5}}"#;
        let got = redact(body);
        for secret in ["\"x1\"", "anything at all", "\"r\"", "p\\\"q", "\"k\""] {
            assert!(!got.contains(secret), "{secret} in {got}");
        }
        assert!(got.contains(r#""api_key": "[redacted]""#), "{got}");
        assert!(got.contains(r#""max_tokens": 1024"#), "{got}");
        assert!(got.contains(r#""input_tokens": 5"#), "{got}");
        assert!(got.contains(r#""content": "hi""#), "{got}");
        let v: serde_json::Value = serde_json::from_str(&got).unwrap();
        assert_eq!(v["nested"]["password"], REDACTED);
    }

    #[test]
    fn a_value_cut_by_the_cap_is_still_redacted() {
        assert_eq!(
            redact(r#"{"a": 1, "token": "abcdef"#),
            r#"{"a": 1, "token": "[redacted]"#
        );
    }

    #[test]
    fn cap_is_utf8_safe_and_says_how_much_was_cut() {
        let (s, cut) = cap("héllo".to_owned(), true, 6, 100);
        assert_eq!((s.as_str(), cut), ("héllo", false));
        // Redaction made it shorter than the original: still whole.
        let (s, cut) = cap("sk-[redacted]".to_owned(), true, 40, 100);
        assert_eq!((s.as_str(), cut), ("sk-[redacted]", false));
        // 'é' is two bytes: a cap of 2 falls inside it.
        let (s, cut) = cap("héllo".to_owned(), true, 6, 2);
        assert!(cut);
        assert!(s.starts_with("h\n[… truncated: 5 of 6 bytes"), "{s}");
        // The capture kept only a prefix of a larger body.
        let (s, cut) = cap("abc".to_owned(), false, 1000, 10);
        assert!(cut);
        assert!(s.starts_with("abc\n[… truncated: 997 of 1000"), "{s}");
    }
}
