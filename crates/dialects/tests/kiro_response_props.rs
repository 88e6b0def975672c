//! Properties of [`ReplyMapper`] over arbitrary upstream event sequences: it never panics, the
//! reply always ends with `Usage` then one `Stop`, tool blocks balance, guards hold, and text
//! cut anywhere between UTF-16 units comes out intact.

mod kiro_response_support;

use std::collections::BTreeMap;

use dialects::canonical::StreamEvent;
use dialects::kiro::response::{ReplyContext, ReplyMapper, ThinkingMode};
use kiro_response_support::*;
use kiro_wire::Event;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Text(String),
    Thinking(String),
    Signature,
    Tool {
        id: u8,
        fragment: Option<String>,
        stop: bool,
    },
    Metering,
    Context(f64),
    Legacy,
}

fn chunk() -> impl Strategy<Value = String> {
    prop_oneof![
        "[abc 我😀\n]{0,5}",
        Just("<thinking>".to_owned()),
        Just("</thinking>".to_owned()),
        Just("<thin".to_owned()),
        Just("king>".to_owned()),
        Just("ST".to_owned()),
        Just("OP".to_owned()),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => chunk().prop_map(Op::Text),
        2 => chunk().prop_map(Op::Thinking),
        1 => Just(Op::Signature),
        3 => (0u8..3, proptest::option::of("[{}\":a1]{0,4}"), any::<bool>())
            .prop_map(|(id, fragment, stop)| Op::Tool { id, fragment, stop }),
        1 => Just(Op::Metering),
        1 => (0.0f64..120.0).prop_map(Op::Context),
        1 => Just(Op::Legacy),
    ]
}

fn ctx() -> impl Strategy<Value = ReplyContext> {
    (
        prop_oneof![
            Just(ThinkingMode::Native),
            Just(ThinkingMode::Tags),
            Just(ThinkingMode::Off)
        ],
        proptest::sample::subsequence(vec!["STOP", "c我", "</"], 0..=3),
        proptest::option::of(0u64..12),
        any::<bool>(),
    )
        .prop_map(|(thinking, stops, max_tokens, dedupe)| ReplyContext {
            thinking,
            stop_sequences: stops.into_iter().map(str::to_owned).collect(),
            max_tokens,
            dedupe_repeated_chunks: dedupe,
            ..ReplyContext::default()
        })
}

fn to_event(op: &Op) -> Event {
    match op {
        Op::Text(s) => text(s),
        Op::Thinking(s) => thinking(s),
        Op::Signature => thinking_signed("", "sig"),
        Op::Tool { id, fragment, stop } => tool(&format!("t{id}"), "f", fragment.as_deref(), *stop),
        Op::Metering => metering(0.01),
        Op::Context(p) => context(*p),
        Op::Legacy => legacy("codeEvent"),
    }
}

fn delta_chars(ev: &StreamEvent) -> usize {
    match ev {
        StreamEvent::TextDelta(s) | StreamEvent::ThinkingDelta(s) => s.chars().count(),
        StreamEvent::ToolInputDelta { fragment, .. } => fragment.chars().count(),
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_sequences_keep_the_reply_well_formed(ctx in ctx(), ops in proptest::collection::vec(op(), 0..24)) {
        let stops = ctx.stop_sequences.clone();
        let max_tokens = ctx.max_tokens;
        let mode = ctx.thinking;
        let mut mapper = ReplyMapper::new(ctx);
        let mut out = Vec::new();
        for op in &ops {
            prop_assert!(mapper.on_event(&to_event(op), &mut out).is_ok());
        }
        mapper.finish(&mut out);
        prop_assert!(mapper.is_done());

        // Usage then Stop, last and only once; never Start or Error.
        let n = out.len();
        prop_assert!(n >= 2);
        prop_assert!(matches!(out[n - 1], StreamEvent::Stop(_)));
        prop_assert!(matches!(out[n - 2], StreamEvent::Usage(_)));
        for ev in &out[..n - 2] {
            let terminal = matches!(
                ev,
                StreamEvent::Stop(_) | StreamEvent::Usage(_) | StreamEvent::Start(_) | StreamEvent::Error(_)
            );
            prop_assert!(!terminal, "unexpected {:?}", ev);
        }

        // No empty deltas, no U+FFFD.
        for ev in &out {
            match ev {
                StreamEvent::TextDelta(s) | StreamEvent::ThinkingDelta(s) => {
                    prop_assert!(!s.is_empty());
                    prop_assert!(!s.contains(char::REPLACEMENT_CHARACTER), "U+FFFD in {:?}", s);
                }
                StreamEvent::ToolInputDelta { fragment, .. } => prop_assert!(!fragment.is_empty()),
                _ => {}
            }
        }

        // Tool blocks: started once, deltas only while open, ended exactly once.
        let mut state: BTreeMap<usize, bool> = BTreeMap::new(); // index → open
        for ev in &out {
            match ev {
                StreamEvent::ToolUseStart { index, .. } => {
                    prop_assert!(state.insert(*index, true).is_none());
                }
                StreamEvent::ToolInputDelta { index, .. } => {
                    prop_assert_eq!(state.get(index), Some(&true));
                }
                StreamEvent::ToolUseEnd { index } => {
                    prop_assert_eq!(state.insert(*index, false), Some(true));
                }
                _ => {}
            }
        }
        prop_assert!(state.values().all(|open| !open));

        // The output budget.
        if let Some(m) = max_tokens {
            let total: usize = out.iter().map(delta_chars).sum();
            prop_assert!(total as u64 <= m * 4, "{} chars over {} tokens", total, m);
        }

        // No stop sequence inside a run of consecutive text deltas.
        let mut run = String::new();
        for ev in &out {
            if let StreamEvent::TextDelta(s) = ev {
                run.push_str(s);
                continue;
            }
            for seq in &stops {
                prop_assert!(!run.contains(seq.as_str()), "{:?} in {:?}", seq, run);
            }
            run.clear();
        }

        if mode == ThinkingMode::Off {
            prop_assert!(!out.iter().any(|e| matches!(e, StreamEvent::ThinkingDelta(_) | StreamEvent::ThinkingSignature(_))));
        }
    }

    /// Any text, sent as `\uXXXX` escapes cut at arbitrary UTF-16 unit boundaries (so surrogate
    /// pairs are split between frames), comes out exactly.
    #[test]
    fn text_cut_between_utf16_units_is_intact(
        s in "\\PC{0,12}",
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
    ) {
        let units: Vec<u16> = s.encode_utf16().collect();
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(units.len() + 1)).collect();
        points.push(0);
        points.push(units.len());
        points.sort_unstable();
        let mut mapper = ReplyMapper::new(ReplyContext::default());
        let mut out = Vec::new();
        for w in points.windows(2) {
            let escaped: String = units[w[0]..w[1]].iter().map(|u| format!("\\u{u:04X}")).collect();
            let payload = format!(r#"{{"content":"{escaped}"}}"#);
            let frame = raw_event_frame("assistantResponseEvent", payload.as_bytes());
            prop_assert!(mapper.on_frame(&frame, &mut out).is_ok());
        }
        mapper.finish(&mut out);
        prop_assert_eq!(all_text(&out), s);
        prop_assert_eq!(mapper.stats().dropped_invalid_sequences, 0);
    }
}
