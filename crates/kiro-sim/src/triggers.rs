//! In-band triggers: `[[sim:NAME ARGS]]` markers in the last user message, for programs that
//! cannot call the control API (official SDKs, Claude Code). Markers combine into one
//! [`Script`] (or one error). Malformed markers are ignored. Tool markers are ignored when the
//! current message already carries tool results, so an agent's follow-up turn gets text.

use serde_json::Value;

use crate::errors::ErrorKind;
use crate::script::{CutPoint, Part, Script, ScriptBody, StallEnd, Tail, ToolCall};

const OPEN: &str = "[[sim:";
const CLOSE: &str = "]]";

/// One parsed marker.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub name: String,
    /// Everything after the name, trimmed (JSON included for `tool` and `script`).
    pub args: String,
    /// The JSON argument of `tool` / `script`.
    pub json: Option<Value>,
}

/// What the markers ask for.
#[derive(Debug, Clone, PartialEq)]
pub enum TriggerPlan {
    Error {
        kind: ErrorKind,
        status: Option<u16>,
        retry_after: Option<u64>,
    },
    Script(Box<Script>),
}

/// Finds every well-formed marker in `text`, in order.
pub fn parse(text: &str) -> Vec<Marker> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        match parse_one(after) {
            Some((marker, used)) => {
                out.push(marker);
                rest = &after[used..];
            }
            None => rest = after,
        }
    }
    out
}

/// Parses `NAME ARGS]]` at the start of `s`; returns the marker and the bytes consumed.
fn parse_one(s: &str) -> Option<(Marker, usize)> {
    let name_end = s
        .find(|c: char| c.is_whitespace() || c == ']')
        .unwrap_or(s.len());
    let name = &s[..name_end];
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    let after_name = &s[name_end..];
    let trimmed = after_name.trim_start();
    let mut pos = name_end + (after_name.len() - trimmed.len());
    let (args, json) = if name == "tool" || name == "script" {
        // `tool NAME [JSON]` / `script JSON`: the JSON may itself contain `]]`.
        let mut words = String::new();
        let mut body = &s[pos..];
        if name == "tool" {
            let tool_end = body
                .find(|c: char| c.is_whitespace() || c == ']')
                .unwrap_or(body.len());
            words = body[..tool_end].to_owned();
            let rest = &body[tool_end..];
            let rest_trim = rest.trim_start();
            pos += tool_end + (rest.len() - rest_trim.len());
            body = rest_trim;
        }
        let json = if body.starts_with(CLOSE) {
            None
        } else {
            let mut it = serde_json::Deserializer::from_str(body).into_iter::<Value>();
            let value = it.next()?.ok()?;
            let used = it.byte_offset();
            let after = &body[used..];
            let after_trim = after.trim_start();
            pos += used + (after.len() - after_trim.len());
            Some(value)
        };
        (words, json)
    } else {
        let end = s[pos..].find(CLOSE)?;
        let args = s[pos..pos + end].trim().to_owned();
        pos += end;
        (args, None)
    };
    if !s[pos..].starts_with(CLOSE) {
        return None;
    }
    Some((
        Marker {
            name: name.to_owned(),
            args,
            json,
        },
        pos + CLOSE.len(),
    ))
}

fn num<T: std::str::FromStr>(s: &str) -> Option<T> {
    s.split_whitespace().next()?.parse().ok()
}

fn key_value<T: std::str::FromStr>(args: &str, key: &str) -> Option<T> {
    args.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
}

fn tail_from(list: &str) -> Tail {
    let mut t = Tail::none();
    for item in list.split([',', ' ']).map(str::trim) {
        match item {
            "metadata" => t.metadata = true,
            "message-metadata" => t.message_metadata = true,
            "usage-in-message-metadata" => t.usage_in_message_metadata = true,
            "metering" => t.metering = true,
            "context" | "context-usage" => t.context_usage = true,
            _ => {}
        }
    }
    t
}

/// Builds the plan for the markers in `text`. `None` when there are no markers.
pub fn plan(text: &str, has_tool_results: bool, thinking_requested: bool) -> Option<TriggerPlan> {
    if !text.contains(OPEN) {
        return None;
    }
    let markers = parse(text);
    if markers.is_empty() {
        return None;
    }
    let mut script = Script::default();
    let mut before: Vec<Part> = Vec::new();
    let mut thinking: Vec<Part> = Vec::new();
    let mut content: Vec<Part> = Vec::new();
    let mut tools: Vec<Part> = Vec::new();
    let mut after: Vec<Part> = Vec::new();
    let mut chunk: Option<usize> = None;
    let mut repeat = false;
    for m in &markers {
        let a = m.args.as_str();
        match m.name.as_str() {
            "script" => {
                if let Some(s) = m.json.clone().and_then(|v| serde_json::from_value(v).ok()) {
                    return Some(TriggerPlan::Script(Box::new(s)));
                }
            }
            "error" => {
                if let Some(kind) = a.split_whitespace().next().and_then(|k| k.parse().ok()) {
                    return Some(TriggerPlan::Error {
                        kind,
                        status: key_value(a, "status"),
                        retry_after: key_value(a, "retry_after"),
                    });
                }
            }
            "echo" => content.push(Part::Echo { chunk_chars: None }),
            "text" => content.push(Part::Text {
                text: Some(a.to_owned()),
                chunk_chars: None,
                repeat_chunks: Vec::new(),
            }),
            "long" => content.push(Part::Words {
                count: num(a).unwrap_or(1000),
                chunk_chars: None,
            }),
            "thinking" => thinking.push(Part::Thinking {
                text: (!a.is_empty()).then(|| a.to_owned()),
                chunk_chars: None,
                signature: true,
                signature_value: None,
            }),
            "redacted" => thinking.push(Part::RedactedThinking { data: None }),
            "surrogate" => content.push(Part::SurrogateSplit {
                before: "Smile ".to_owned(),
                after: " done.".to_owned(),
            }),
            "graphemes" => content.push(Part::GraphemeSplit { text: None }),
            "repeat" => repeat = true,
            "chunk" => chunk = num(a),
            "tool" if !has_tool_results && !m.args.is_empty() => {
                let input = m
                    .json
                    .clone()
                    .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
                tools.push(Part::Tool(ToolCall::new(&m.args, input)));
            }
            "truncate-tool" => tools.push(Part::TruncatedTool {
                name: "Write".to_owned(),
                bytes: num(a).unwrap_or(40_000),
                fragment_bytes: None,
            }),
            "pace" => script.pace.frame_interval_ms = num(a),
            "tps" => script.pace.tokens_per_second = num(a),
            "first-event" => script.pace.first_event_ms = num(a),
            "headers" => script.pace.headers_ms = num(a),
            "http-chunk" => script.http_chunk_bytes = num(a),
            "noise" => script.noise = true,
            "tail" => script.tail = Some(tail_from(a)),
            "no-tail" => script.tail = Some(Tail::none()),
            "content-type" => {
                script.content_type = Some(match a {
                    "json" => "application/json".to_owned(),
                    "" => crate::render::EVENTSTREAM.to_owned(),
                    other => other.to_owned(),
                });
            }
            "json-body" => {
                let kind = a.parse().unwrap_or(ErrorKind::ImproperlyFormed);
                script.body = Some(ScriptBody::Error(kind));
            }
            "stall" => {
                let then = if a.contains("close") {
                    StallEnd::Close
                } else if a.contains("abort") {
                    StallEnd::Abort
                } else {
                    StallEnd::Continue
                };
                after.push(Part::Stall {
                    ms: num(a).unwrap_or(1000),
                    then,
                });
            }
            "cut" => {
                let at = match a {
                    "prelude" => CutPoint::Prelude,
                    "headers" => CutPoint::Headers,
                    _ => CutPoint::Payload,
                };
                after.push(Part::Cut { at, text: None });
            }
            "reset" => after.push(Part::Reset { flush_ms: None }),
            "exception" | "error-frame" | "invalid-state" => {
                let mut words = a.split_whitespace();
                let first = words.next().unwrap_or("").to_owned();
                let early = a.split_whitespace().any(|w| w == "before");
                let part = match m.name.as_str() {
                    "exception" => Part::Exception {
                        exception_type: if first.is_empty() {
                            "ThrottlingException".to_owned()
                        } else {
                            first
                        },
                        message: None,
                        reason: None,
                    },
                    "error-frame" => Part::ErrorFrame {
                        code: if first.is_empty() {
                            "InternalServerException".to_owned()
                        } else {
                            first
                        },
                        message: "Simulated error frame.".to_owned(),
                    },
                    _ => Part::InvalidState {
                        reason: if first.is_empty() {
                            "INVALID_CONVERSATION_STATE".to_owned()
                        } else {
                            first
                        },
                        message: None,
                    },
                };
                if early {
                    before.push(part)
                } else {
                    after.push(part)
                }
            }
            "bad-crc" => after.push(if a == "prelude" {
                Part::BadPreludeCrc { text: None }
            } else {
                Part::BadMessageCrc { text: None }
            }),
            "bad-length" => after.push(Part::BadLength {
                total_length: num(a).unwrap_or(32 * 1024 * 1024),
            }),
            "extra-headers" => content.push(Part::ExtraHeaders { text: None }),
            _ => {}
        }
    }
    if thinking.is_empty() && thinking_requested {
        thinking.push(Part::Thinking {
            text: None,
            chunk_chars: None,
            signature: true,
            signature_value: None,
        });
    }
    if content.is_empty() && tools.is_empty() {
        content.push(Part::Text {
            text: None,
            chunk_chars: None,
            repeat_chunks: Vec::new(),
        });
    }
    for p in &mut content {
        match p {
            Part::Text {
                chunk_chars,
                repeat_chunks,
                ..
            } => {
                if chunk.is_some() {
                    *chunk_chars = chunk;
                }
                if repeat {
                    repeat_chunks.push(1);
                }
            }
            Part::Words { chunk_chars, .. } | Part::Echo { chunk_chars } if chunk.is_some() => {
                *chunk_chars = chunk;
            }
            _ => {}
        }
    }
    script.parts = before
        .into_iter()
        .chain(thinking)
        .chain(content)
        .chain(tools)
        .chain(after)
        .collect();
    Some(TriggerPlan::Script(Box::new(script)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tool_json_with_brackets() {
        let m = parse(r#"hi [[sim:tool Bash {"command":"echo [[x]]"}]] and [[sim:echo]]"#);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].name, "tool");
        assert_eq!(m[0].args, "Bash");
        assert_eq!(
            m[0].json,
            Some(serde_json::json!({"command": "echo [[x]]"}))
        );
        assert_eq!(m[1].name, "echo");
    }

    #[test]
    fn ignores_malformed() {
        assert!(parse("[[sim:]] [[sim:tool Bash {bad json]] [[sim:long 5").is_empty());
        assert!(plan("no markers here", false, false).is_none());
    }

    #[test]
    fn tool_only_on_first_turn() {
        let p = plan(r#"[[sim:tool Bash {"command":"ls"}]]"#, false, false);
        let Some(TriggerPlan::Script(s)) = p else {
            panic!("script")
        };
        assert!(matches!(&s.parts[..], [Part::Tool(t)] if t.name == "Bash"));
        let p = plan(r#"[[sim:tool Bash {"command":"ls"}]]"#, true, false);
        let Some(TriggerPlan::Script(s)) = p else {
            panic!("script")
        };
        assert!(matches!(&s.parts[..], [Part::Text { text: None, .. }]));
    }

    #[test]
    fn error_with_options() {
        let p = plan(
            "[[sim:error service_request_rate_exceeded retry_after=3]]",
            false,
            false,
        );
        assert_eq!(
            p,
            Some(TriggerPlan::Error {
                kind: ErrorKind::ServiceRequestRateExceeded,
                status: None,
                retry_after: Some(3)
            })
        );
    }

    #[test]
    fn combines_thinking_long_pace() {
        let Some(TriggerPlan::Script(s)) = plan(
            "[[sim:thinking]] [[sim:long 50]] [[sim:pace 20]]",
            false,
            false,
        ) else {
            panic!("script")
        };
        assert_eq!(s.pace.frame_interval_ms, Some(20));
        assert!(matches!(s.parts[0], Part::Thinking { .. }));
        assert!(matches!(s.parts[1], Part::Words { count: 50, .. }));
    }
}
