//! Second reading of text-bearing payloads that [`kiro_wire::Event::from_frame`] rejected.
//!
//! `serde_json` refuses strings holding a lone surrogate escape, which is exactly what a frame
//! carries when the upstream cut a `\uD83D\uDE00` pair between two frames (spec §7.5). Read
//! through `deserialize_bytes`, the same strings come back as WTF-8 bytes (lone surrogates as
//! `ED A0..BF xx`, everything else as UTF-8), which [`super::text::Utf8Carry`] then repairs across
//! chunks. Only the three text-bearing event types are read this way; anything else still fails.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A JSON string kept as the WTF-8 bytes `serde_json` decodes it to.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Wtf8(pub Vec<u8>);

impl<'de> Deserialize<'de> for Wtf8 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl Visitor<'_> for BytesVisitor {
            type Value = Wtf8;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Wtf8, E> {
                Ok(Wtf8(v.to_vec()))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Wtf8, E> {
                Ok(Wtf8(v.as_bytes().to_vec()))
            }
        }
        d.deserialize_bytes(BytesVisitor)
    }
}

/// `assistantResponseEvent`, leniently.
#[derive(Debug, Deserialize)]
pub(crate) struct TextPayload {
    #[serde(default)]
    pub content: Wtf8,
}

/// `reasoningContentEvent`, leniently (only `text` may hold free-form model output).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReasoningPayload {
    #[serde(default)]
    pub text: Option<Wtf8>,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub redacted_content: Option<String>,
}

/// `toolUseEvent`, leniently: `input` as a string fragment (the object variant never needs this
/// path unless it holds a lone surrogate itself, which is not recovered).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUsePayload {
    #[serde(default)]
    pub tool_use_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub input: Option<Wtf8>,
    #[serde(default)]
    pub stop: Option<bool>,
}

/// A text-bearing payload read leniently.
#[derive(Debug)]
pub(crate) enum Recovered {
    Text(TextPayload),
    Reasoning(ReasoningPayload),
    ToolUse(ToolUsePayload),
}

/// Reads `payload` of an `event_type` frame leniently; `None` when the type is not text-bearing
/// or the payload is broken beyond surrogates.
pub(crate) fn recover(event_type: &str, payload: &[u8]) -> Option<Recovered> {
    match event_type {
        "assistantResponseEvent" => serde_json::from_slice(payload).ok().map(Recovered::Text),
        "reasoningContentEvent" => serde_json::from_slice(payload)
            .ok()
            .map(Recovered::Reasoning),
        "toolUseEvent" => serde_json::from_slice(payload).ok().map(Recovered::ToolUse),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins what `serde_json` does with lone surrogates, since the recovery path relies on it.
    #[test]
    fn serde_json_rejects_lone_surrogates_as_str_but_gives_wtf8_bytes() {
        let high = br#"{"content":"a\uD83D"}"#;
        let low = br#"{"content":"\uDE00b"}"#;
        assert!(serde_json::from_slice::<serde_json::Value>(high).is_err());
        assert!(serde_json::from_slice::<serde_json::Value>(low).is_err());
        let Some(Recovered::Text(t)) = recover("assistantResponseEvent", high) else {
            panic!("not recovered");
        };
        assert_eq!(t.content.0, b"a\xED\xA0\xBD");
        let Some(Recovered::Text(t)) = recover("assistantResponseEvent", low) else {
            panic!("not recovered");
        };
        assert_eq!(t.content.0, b"\xED\xB8\x80b");
    }

    #[test]
    fn only_text_bearing_types_are_recovered() {
        assert!(recover("meteringEvent", br#"{"usage":"\uD83D"}"#).is_none());
        assert!(recover("assistantResponseEvent", b"{not json").is_none());
    }
}
