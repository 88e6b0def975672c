//! Text chunk hygiene (spec §7.5): a character or a surrogate pair split across frames, and
//! repeated identical chunks.
//!
//! Why bytes and not `&str`: `serde_json` refuses a string holding a lone surrogate escape
//! (`"\uD83D"` gives "unexpected end of hex escape", `"\uDE00"` gives "lone leading surrogate in
//! hex escape"), so a frame whose emoji was cut between its two escapes never becomes an
//! [`kiro_wire::Event`]. The lenient payload reader ([`super::payload`]) asks `serde_json` for the
//! string as bytes instead, which it then decodes into WTF-8 (a lone surrogate becomes the three
//! bytes `ED A0..BF xx`). [`Utf8Carry`] turns such WTF-8 back into UTF-8 across chunks: it joins a
//! high surrogate at the end of one chunk with the low surrogate at the start of the next, carries
//! an incomplete multi-byte character, and drops (and counts) anything that cannot be decoded,
//! so a client never sees U+FFFD.

/// Decodes a stream of WTF-8 chunks of one kind (text, thinking, or one tool call's input).
#[derive(Debug, Default)]
pub(crate) struct Utf8Carry {
    pending: Vec<u8>,
}

/// The result of decoding one chunk.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub text: String,
    /// Undecodable sequences dropped (lone surrogates, invalid bytes).
    pub dropped: u64,
}

const SURROGATE_LEAD: u8 = 0xED;

/// The surrogate code unit encoded (WTF-8 style) at the start of `b`, if any.
fn surrogate_at(b: &[u8]) -> Option<u32> {
    match b {
        [SURROGATE_LEAD, b1 @ 0xA0..=0xBF, b2 @ 0x80..=0xBF, ..] => {
            Some(0xD000 | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F))
        }
        _ => None,
    }
}

fn is_high(unit: u32) -> bool {
    (0xD800..=0xDBFF).contains(&unit)
}

fn is_low(unit: u32) -> bool {
    (0xDC00..=0xDFFF).contains(&unit)
}

/// Whether `b` (shorter than a full surrogate) could still become the start of one, or of the
/// `want_low` surrogate when given.
fn could_become_surrogate(b: &[u8], want_low: bool) -> bool {
    let second = if want_low { 0xB0..=0xBF } else { 0xA0..=0xBF };
    match b {
        [] => true,
        [SURROGATE_LEAD] => true,
        [SURROGATE_LEAD, b1] => second.contains(b1),
        [SURROGATE_LEAD, b1, b2, ..] => second.contains(b1) && (0x80..=0xBF).contains(b2),
        _ => false,
    }
}

impl Utf8Carry {
    /// [`Utf8Carry::push`] of text already decoded (a parsed frame's `String`): with nothing
    /// carried it is passed through without a copy.
    pub fn push_owned(&mut self, text: String) -> Decoded {
        if self.pending.is_empty() {
            return Decoded { text, dropped: 0 };
        }
        self.push(text.as_bytes())
    }

    /// Decodes `bytes` after whatever was carried from the previous chunk. An incomplete tail
    /// (at most five bytes: a high surrogate plus part of its low half) is kept for the next call.
    pub fn push(&mut self, bytes: &[u8]) -> Decoded {
        if self.pending.is_empty() {
            if let Ok(s) = std::str::from_utf8(bytes) {
                return Decoded {
                    text: s.to_owned(),
                    dropped: 0,
                };
            }
        }
        let mut buf = std::mem::take(&mut self.pending);
        buf.extend_from_slice(bytes);
        let mut out = Decoded {
            text: String::with_capacity(buf.len()),
            dropped: 0,
        };
        let mut i = 0;
        while i < buf.len() {
            let err = match std::str::from_utf8(&buf[i..]) {
                Ok(s) => {
                    out.text.push_str(s);
                    break;
                }
                Err(err) => err,
            };
            let valid = err.valid_up_to();
            if let Ok(s) = std::str::from_utf8(&buf[i..i + valid]) {
                out.text.push_str(s);
            }
            i += valid;
            let rest = &buf[i..];
            if let Some(unit) = surrogate_at(rest) {
                if is_high(unit) {
                    let after = &rest[3..];
                    if let Some(low) = surrogate_at(after).filter(|u| is_low(*u)) {
                        let cp = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                        match char::from_u32(cp) {
                            Some(c) => out.text.push(c),
                            None => out.dropped += 1,
                        }
                        i += 6;
                        continue;
                    }
                    if after.len() < 3 && could_become_surrogate(after, true) {
                        self.pending.extend_from_slice(rest);
                        break;
                    }
                }
                // A lone surrogate: a low half with no high half before it, or a high half
                // followed by something else.
                out.dropped += 1;
                i += 3;
                continue;
            }
            if rest.len() < 3 && could_become_surrogate(rest, false) {
                self.pending.extend_from_slice(rest);
                break;
            }
            match err.error_len() {
                // A multi-byte character cut at the end of the chunk.
                None => {
                    self.pending.extend_from_slice(rest);
                    break;
                }
                Some(n) => {
                    out.dropped += 1;
                    i += n;
                }
            }
        }
        out
    }

    /// Ends the stream of this kind: an incomplete tail can no longer complete, so it is dropped.
    /// Returns how many sequences were dropped (0 or 1).
    pub fn flush(&mut self) -> u64 {
        let dropped = u64::from(!self.pending.is_empty());
        self.pending.clear();
        dropped
    }
}

/// Which stream a chunk belongs to, for repeat detection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChunkKind {
    Text,
    Thinking,
}

/// Spots a chunk identical to the one just before it (spec §7.5: the upstream sometimes sends a
/// chunk twice in a row). Blind deduplication corrupts legitimate repeats (`==`, runs of
/// indentation), so the caller only drops repeats when the operator turned the filter on; it
/// always counts them.
#[derive(Debug, Default)]
pub(crate) struct RepeatFilter {
    last_kind: Option<ChunkKind>,
    last: Vec<u8>,
}

impl RepeatFilter {
    /// Records `chunk` and says whether it repeats the previous chunk of the same kind with
    /// nothing in between.
    pub fn is_repeat(&mut self, kind: ChunkKind, chunk: &[u8]) -> bool {
        let repeat = !chunk.is_empty() && self.last_kind == Some(kind) && self.last == chunk;
        self.last_kind = Some(kind);
        self.last.clear();
        self.last.extend_from_slice(chunk);
        repeat
    }

    /// Something else came between chunks (a tool frame, a tail event).
    pub fn interrupt(&mut self) {
        self.last_kind = None;
        self.last.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wtf8(unit: u32) -> [u8; 3] {
        [
            0xE0 | ((unit >> 12) as u8 & 0x0F),
            0x80 | ((unit >> 6) as u8 & 0x3F),
            0x80 | (unit as u8 & 0x3F),
        ]
    }

    #[test]
    fn valid_chunks_pass_through() {
        let mut c = Utf8Carry::default();
        assert_eq!(c.push("héllo 我".as_bytes()).text, "héllo 我");
        assert_eq!(c.flush(), 0);
    }

    #[test]
    fn surrogate_pair_split_across_chunks_is_joined() {
        let mut c = Utf8Carry::default();
        let mut first = b"a".to_vec();
        first.extend_from_slice(&wtf8(0xD83D));
        let mut second = wtf8(0xDE00).to_vec();
        second.extend_from_slice(b"b");
        assert_eq!(c.push(&first).text, "a");
        assert_eq!(c.push(&second).text, "\u{1F600}b");
        assert_eq!(c.flush(), 0);
    }

    #[test]
    fn surrogate_pair_split_at_every_byte() {
        let mut all = b"x".to_vec();
        all.extend_from_slice(&wtf8(0xD83D));
        all.extend_from_slice(&wtf8(0xDE00));
        all.extend_from_slice("y我".as_bytes());
        for cut in 0..=all.len() {
            let mut c = Utf8Carry::default();
            let mut text = c.push(&all[..cut]).text;
            text.push_str(&c.push(&all[cut..]).text);
            assert_eq!(text, "x\u{1F600}y我", "cut at {cut}");
            assert_eq!(c.flush(), 0);
        }
    }

    #[test]
    fn lone_surrogates_are_dropped_not_replaced() {
        let mut c = Utf8Carry::default();
        let mut bytes = wtf8(0xDE00).to_vec();
        bytes.extend_from_slice(b"ok");
        bytes.extend_from_slice(&wtf8(0xD83D));
        bytes.extend_from_slice(b"!");
        let d = c.push(&bytes);
        assert_eq!(d.text, "ok!");
        assert_eq!(d.dropped, 2);
    }

    #[test]
    fn trailing_high_surrogate_dropped_at_flush() {
        let mut c = Utf8Carry::default();
        assert_eq!(c.push(&wtf8(0xD83D)).text, "");
        assert_eq!(c.flush(), 1);
    }

    #[test]
    fn invalid_bytes_are_dropped() {
        let mut c = Utf8Carry::default();
        let d = c.push(b"a\xFFb");
        assert_eq!(d.text, "ab");
        assert_eq!(d.dropped, 1);
    }

    #[test]
    fn repeats_need_same_kind_and_adjacency() {
        let mut f = RepeatFilter::default();
        assert!(!f.is_repeat(ChunkKind::Text, b"=="));
        assert!(f.is_repeat(ChunkKind::Text, b"=="));
        assert!(!f.is_repeat(ChunkKind::Thinking, b"=="));
        f.interrupt();
        assert!(!f.is_repeat(ChunkKind::Thinking, b"=="));
        assert!(!f.is_repeat(ChunkKind::Thinking, b""));
        assert!(!f.is_repeat(ChunkKind::Thinking, b""));
    }
}
