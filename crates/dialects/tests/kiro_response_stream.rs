//! Upstream event sequences → canonical reply events (spec §7), as reviewed snapshots, plus
//! split-at-every-position loops for the incremental parsers.

mod kiro_response_support;

use dialects::canonical::{StopReason, StreamEvent, Usage};
use dialects::kiro::response::{ReplyContext, ReplyMapper, ThinkingMode, ToolNameMap, UsageSource};
use insta::assert_snapshot;
use kiro_response_support::*;
use kiro_wire::event::TokenUsage;
use kiro_wire::{Event, decode_all};

fn tail() -> Vec<Event> {
    vec![
        metadata(token_usage(12, 3000, 40, 7)),
        metering(0.0169543708291874),
        context(61.49),
    ]
}

#[test]
fn plain_text() {
    let mut events = vec![text("Hel"), text("lo, "), text("world.")];
    events.extend(tail());
    let (out, mapper) = run(ReplyContext::default(), &events);
    assert_snapshot!(render(&out));
    assert!((mapper.credits() - 0.0169543708291874).abs() < 1e-12);
    assert!(mapper.has_visible_output());
    assert!(mapper.is_done());
}

/// Spec §6.5: frame C (the real opening frame of a Claude Code `Write` call, no `input`, no
/// `stop`), then fragments repeating name and id, then `stop`.
#[test]
fn frame_c_tool_call() {
    let frame_c = hex::decode(concat!(
        "0000009f00000052b3115f700b3a6576656e742d7479706507000c746f6f6c5573654576656e740d3a",
        "636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d",
        "747970650700056576656e747b226e616d65223a225772697465222c22746f6f6c5573654964223a22",
        "746f6f6c7573655f314443717949434d522d436654533336554e4e697741227dc306fe47"
    ))
    .expect("hex");
    let frames = decode_all(&frame_c).expect("frame C decodes");
    assert_eq!(frames.len(), 1);
    let id = "tooluse_1DCqyICMR-CfTS36UNNiwA";
    let mut mapper = ReplyMapper::new(ReplyContext::default());
    let mut out = Vec::new();
    mapper
        .on_event(&text("I'll write the file."), &mut out)
        .expect("text");
    mapper.on_frame(&frames[0], &mut out).expect("frame C");
    for ev in [
        tool(id, "Write", Some(""), false),
        tool(id, "Write", Some("{\"file_path\": \"/tmp/a.txt\", "), false),
        tool(id, "Write", Some("\"content\": \"hi\\n\"}"), false),
        tool(id, "Write", None, true),
    ] {
        mapper.on_event(&ev, &mut out).expect("tool frame");
    }
    mapper.finish(&mut out);
    assert_snapshot!(render(&out));
    let input: serde_json::Value = serde_json::from_str(&tool_input(&out, 0)).expect("json");
    assert_eq!(input["content"], "hi\n");
    assert_eq!(mapper.stats().invalid_tool_inputs, 0);
}

/// Spec §6.5 frame B: a fragment frame without `:content-type`.
#[test]
fn frame_b_fragment() {
    let bytes = hex::decode(concat!(
        "0000008f00000031074af8100d3a6d6573736167652d747970650700056576656e740b3a6576656e74",
        "2d7479706507000c746f6f6c5573654576656e747b22746f6f6c5573654964223a227431222c226e61",
        "6d65223a226765745f77656174686572222c22696e707574223a227b5c22636974795c223a5c225061",
        "72222c2273746f70223a66616c73657d26b42be3"
    ))
    .expect("hex");
    let frames = decode_all(&bytes).expect("frame B decodes");
    let mut mapper = ReplyMapper::new(ReplyContext::default());
    let mut out = Vec::new();
    mapper.on_frame(&frames[0], &mut out).expect("frame B");
    assert_snapshot!(render(&out), @r#"
    tool_start #0 id=t1 name=get_weather
    tool_input #0 "{\"city\":\"Par"
    "#);
}

#[test]
fn interleaved_tool_calls() {
    let mut names = ToolNameMap::default();
    names.insert("mcp__fs__read_abc123", "mcp__filesystem__read_file");
    let ctx = ReplyContext {
        tool_names: names,
        ..ReplyContext::default()
    };
    let events = [
        text("Reading both."),
        tool("t1", "mcp__fs__read_abc123", None, false),
        tool("t2", "get_weather", None, false),
        tool("t1", "mcp__fs__read_abc123", Some("{\"path\":"), false),
        tool("t2", "get_weather", Some("{\"city\":\"Paris\"}"), false),
        tool("t1", "mcp__fs__read_abc123", Some("\"/etc/hosts\"}"), false),
        tool("t2", "get_weather", None, true),
        tool("t1", "mcp__fs__read_abc123", None, true),
        // A frame after `stop` is late and ignored.
        tool("t1", "mcp__fs__read_abc123", Some("garbage"), false),
    ];
    let (out, mapper) = run(ctx, &events);
    assert_snapshot!(render(&out));
    assert_eq!(tool_input(&out, 0), r#"{"path":"/etc/hosts"}"#);
    assert_eq!(tool_input(&out, 1), r#"{"city":"Paris"}"#);
    assert_eq!(mapper.stats().late_tool_frames, 1);
}

#[test]
fn object_input_and_empty_input() {
    let events = [
        tool_object(
            "t1",
            "get_weather",
            serde_json::json!({"city": "Oslo", "days": 3}),
            true,
        ),
        tool("t2", "get_time", None, false),
        tool("t2", "get_time", None, true),
    ];
    assert_snapshot!(render(&run_default(&events)));
}

#[test]
fn truncated_tool_call_ends_with_max_tokens() {
    let events = [
        text("Writing it."),
        tool("t1", "Write", None, false),
        tool(
            "t1",
            "Write",
            Some("{\"file_path\":\"/a\",\"content\":\"line 1\\n"),
            false,
        ),
        tool("t1", "Write", Some("line 2\\n"), false),
        metering(0.5),
    ];
    let (out, mapper) = run(ReplyContext::default(), &events);
    assert_snapshot!(render(&out));
    assert_eq!(stop_of(&out), Some(&StopReason::MaxTokens));
    assert_eq!(mapper.stats().truncated_tool_calls, 1);
}

#[test]
fn completed_and_truncated_calls_still_max_tokens() {
    let events = [
        tool("t1", "a", Some("{}"), true),
        tool("t2", "b", Some("{\"x\":"), false),
    ];
    assert_eq!(stop_of(&run_default(&events)), Some(&StopReason::MaxTokens));
}

#[test]
fn native_thinking_with_signature_then_text() {
    let ctx = ReplyContext {
        thinking: ThinkingMode::Native,
        ..ReplyContext::default()
    };
    let events = [
        thinking("The user wants "),
        thinking("a greeting."),
        thinking_signed("", "EqQBCkYIBxgCKkDsig=="),
        text("Hello!"),
        metadata(TokenUsage {
            uncached_input_tokens: Some(20),
            output_tokens: Some(15),
            reasoning_tokens: Some(9),
            ..Default::default()
        }),
    ];
    let (out, _) = run(ctx, &events);
    assert_snapshot!(render(&out));
}

#[test]
fn redacted_thinking() {
    let ctx = ReplyContext {
        thinking: ThinkingMode::Native,
        ..ReplyContext::default()
    };
    let events = [redacted("RXJyb3Igb3BhcXVlIGJsb2I="), text("Done.")];
    assert_snapshot!(render(&run(ctx, &events).0));
}

#[test]
fn thinking_off_drops_reasoning() {
    let events = [thinking("hidden"), thinking_signed("", "sig"), text("Hi")];
    let (out, mapper) = run(ReplyContext::default(), &events);
    assert_eq!(all_thinking(&out), "");
    assert!(
        !out.iter()
            .any(|e| matches!(e, StreamEvent::ThinkingSignature(_)))
    );
    assert_eq!(all_text(&out), "Hi");
    assert_eq!(mapper.stats().ignored_reasoning_frames, 2);
}

fn tags_ctx() -> ReplyContext {
    ReplyContext {
        thinking: ThinkingMode::Tags,
        ..ReplyContext::default()
    }
}

#[test]
fn tags_mode_snapshot() {
    let events = [
        text("<think"),
        text("ing>Check the "),
        text("units.</thin"),
        text("king>\n\nIt is 5 km."),
    ];
    assert_snapshot!(render(&run(tags_ctx(), &events).0));
}

/// Every way of cutting the tagged text into three chunks gives the same thinking and text.
#[test]
fn tags_split_at_every_position() {
    let full = "\n<thinking>Plan: use </thinking-like words.</thinking>\n\nAnswer <thinking>x</thinking> ok";
    let boundaries: Vec<usize> = (0..=full.len())
        .filter(|&i| full.is_char_boundary(i))
        .collect();
    for (n, &a) in boundaries.iter().enumerate() {
        for &b in &boundaries[n..] {
            let events = [text(&full[..a]), text(&full[a..b]), text(&full[b..])];
            let (out, mapper) = run(tags_ctx(), &events);
            assert_eq!(
                all_thinking(&out),
                "Plan: use </thinking-like words.",
                "cut at {a},{b}"
            );
            assert_eq!(
                all_text(&out),
                "Answer <thinking>x</thinking> ok",
                "cut at {a},{b}"
            );
            assert!(mapper.has_visible_output());
            assert_eq!(stop_of(&out), Some(&StopReason::EndTurn));
        }
    }
}

#[test]
fn tags_mode_holds_back_only_possible_tags() {
    let mut mapper = ReplyMapper::new(tags_ctx());
    let mut out = Vec::new();
    mapper.on_event(&text("  \n"), &mut out).expect("ok");
    assert!(out.is_empty());
    assert!(
        !mapper.has_visible_output(),
        "whitespace is held, failover stays possible"
    );
    mapper
        .on_event(&text("<thinking>a<"), &mut out)
        .expect("ok");
    assert_eq!(all_thinking(&out), "a");
    mapper.on_event(&text("b"), &mut out).expect("ok");
    assert_eq!(all_thinking(&out), "a<b");
}

#[test]
fn tags_mode_without_tags_is_plain_text() {
    let (out, _) = run(tags_ctx(), &[text("  Just"), text(" text.")]);
    assert_eq!(all_text(&out), "  Just text.");
    assert_eq!(all_thinking(&out), "");
}

#[test]
fn tags_flushed_before_a_tool_call() {
    let events = [
        text("<thinking>unfinished"),
        tool("t1", "ls", Some("{}"), true),
    ];
    assert_snapshot!(render(&run(tags_ctx(), &events).0), @r#"
    thinking "unfinished"
    tool_start #0 id=t1 name=ls
    tool_input #0 "{}"
    tool_end #0
    usage input=0 output=3 cache_read=0 cache_write=0 reasoning=Some(3)
    stop tool_use
    "#);
}

fn stop_ctx(seqs: &[&str]) -> ReplyContext {
    ReplyContext {
        stop_sequences: seqs.iter().map(|s| (*s).to_owned()).collect(),
        ..ReplyContext::default()
    }
}

#[test]
fn stop_sequence_snapshot() {
    let events = [
        text("Count: 1, 2, 3"),
        text(", ST"),
        text("OP, 4, 5"),
        text("never"),
    ];
    let (out, mapper) = run(stop_ctx(&["STOP"]), &events);
    assert_snapshot!(render(&out));
    assert!(mapper.is_done());
}

/// A stop sequence cut at every pair of positions is found, and the text before it is exact.
#[test]
fn stop_sequence_split_at_every_position() {
    let full = "Résumé: 我们 done ### END ### trailing";
    let boundaries: Vec<usize> = (0..=full.len())
        .filter(|&i| full.is_char_boundary(i))
        .collect();
    for (n, &a) in boundaries.iter().enumerate() {
        for &b in &boundaries[n..] {
            let mut mapper = ReplyMapper::new(stop_ctx(&["### END", "zzz"]));
            let mut out = Vec::new();
            for chunk in [&full[..a], &full[a..b], &full[b..]] {
                mapper.on_event(&text(chunk), &mut out).expect("ok");
                if mapper.is_done() {
                    break;
                }
            }
            mapper.finish(&mut out);
            assert_eq!(all_text(&out), "Résumé: 我们 done ", "cut at {a},{b}");
            assert_eq!(
                stop_of(&out),
                Some(&StopReason::StopSequence("### END".into())),
                "cut at {a},{b}"
            );
        }
    }
}

#[test]
fn partial_stop_sequence_at_end_is_released() {
    let (out, _) = run(stop_ctx(&["STOP"]), &[text("almost ST"), text("O")]);
    assert_eq!(all_text(&out), "almost STO");
    assert_eq!(stop_of(&out), Some(&StopReason::EndTurn));
}

#[test]
fn stop_sequences_do_not_apply_to_thinking() {
    let ctx = ReplyContext {
        thinking: ThinkingMode::Native,
        ..stop_ctx(&["STOP"])
    };
    let (out, _) = run(ctx, &[thinking("STOP is a word"), text("fine")]);
    assert_eq!(all_thinking(&out), "STOP is a word");
    assert_eq!(stop_of(&out), Some(&StopReason::EndTurn));
}

#[test]
fn max_tokens_cuts_text() {
    let ctx = ReplyContext {
        max_tokens: Some(3),
        ..ReplyContext::default()
    };
    let events = [text("0123456"), text("789abcdef"), text("never shown")];
    let (out, mapper) = run(ctx, &events);
    assert_snapshot!(render(&out));
    assert!(mapper.is_done());
}

#[test]
fn max_tokens_cuts_thinking_and_tool_input() {
    let ctx = ReplyContext {
        max_tokens: Some(2),
        thinking: ThinkingMode::Native,
        ..ReplyContext::default()
    };
    let events = [
        thinking("abc"),
        tool("t1", "f", None, false),
        tool("t1", "f", Some("{\"a\":1}"), false),
    ];
    assert_snapshot!(render(&run(ctx, &events).0), @r#"
    thinking "abc"
    tool_start #0 id=t1 name=f
    tool_input #0 "{\"a\":"
    tool_end #0
    usage input=0 output=2 cache_read=0 cache_write=0 reasoning=Some(1)
    stop max_tokens
    "#);
}

#[test]
fn reply_ending_exactly_at_max_tokens_is_not_cut() {
    let ctx = ReplyContext {
        max_tokens: Some(1),
        ..ReplyContext::default()
    };
    let (out, _) = run(ctx, &[text("abcd")]);
    assert_eq!(stop_of(&out), Some(&StopReason::EndTurn));
}

/// Tail events in every order give the same usage and credits; missing tails fall back.
#[test]
fn tails_in_any_order() {
    let tails = [
        metadata(token_usage(12, 3000, 40, 7)),
        message_metadata(None),
        metering(0.25),
        metering(0.5),
        context(61.49),
    ];
    // All permutations of the five tail events (120).
    fn permute(prefix: Vec<usize>, rest: Vec<usize>, all: &mut Vec<Vec<usize>>) {
        if rest.is_empty() {
            all.push(prefix);
            return;
        }
        for i in 0..rest.len() {
            let mut p = prefix.clone();
            p.push(rest[i]);
            let mut r = rest.clone();
            r.remove(i);
            permute(p, r, all);
        }
    }
    let mut orders = Vec::new();
    permute(Vec::new(), (0..5).collect(), &mut orders);
    assert_eq!(orders.len(), 120);
    for order in orders {
        let mut events = vec![text("Hi there")];
        events.extend(order.iter().map(|&i| tails[i].clone()));
        let (out, mapper) = run(ReplyContext::default(), &events);
        assert_eq!(
            out[out.len() - 2],
            StreamEvent::Usage(Usage {
                input_tokens: 12,
                output_tokens: 7,
                cache_read_input_tokens: 3000,
                cache_creation_input_tokens: 40,
                reasoning_tokens: None,
            }),
            "order {order:?}"
        );
        assert!((mapper.credits() - 0.75).abs() < 1e-12);
        assert_eq!(stop_of(&out), Some(&StopReason::EndTurn));
    }
}

#[test]
fn tail_missing_falls_back_to_estimate() {
    let ctx = ReplyContext {
        estimated_input_tokens: 1234,
        ..ReplyContext::default()
    };
    let (out, mapper) = run(ctx, &[text("Hi there")]);
    assert_snapshot!(render(&out), @r#"
    text "Hi there"
    usage input=1234 output=2 cache_read=0 cache_write=0 reasoning=None
    stop end_turn
    "#);
    assert_eq!(mapper.usage_with_source().1, UsageSource::Estimate);
    assert_eq!(mapper.credits(), 0.0);
}

/// Spec §7.6 priority: metadataEvent, then messageMetadataEvent, then context %, then estimate.
#[test]
fn usage_priority() {
    let ctx = || ReplyContext {
        context_window: 1_000_000,
        estimated_input_tokens: 999,
        ..ReplyContext::default()
    };
    let cases: Vec<(&str, Vec<Event>, Usage, UsageSource)> = vec![
        (
            "metadata beats message metadata and context",
            vec![
                context(50.0),
                message_metadata(Some(token_usage(1, 2, 3, 4))),
                metadata(token_usage(10, 20, 30, 40)),
            ],
            Usage {
                input_tokens: 10,
                output_tokens: 40,
                cache_read_input_tokens: 20,
                cache_creation_input_tokens: 30,
                reasoning_tokens: None,
            },
            UsageSource::MetadataEvent,
        ),
        (
            "message metadata beats context",
            vec![
                message_metadata(Some(token_usage(1, 2, 3, 4))),
                context(50.0),
            ],
            Usage {
                input_tokens: 1,
                output_tokens: 4,
                cache_read_input_tokens: 2,
                cache_creation_input_tokens: 3,
                reasoning_tokens: None,
            },
            UsageSource::MessageMetadataEvent,
        ),
        (
            "lone inputTokens counts as uncached",
            vec![metadata(TokenUsage {
                input_tokens: Some(77),
                output_tokens: Some(5),
                ..Default::default()
            })],
            Usage {
                input_tokens: 77,
                output_tokens: 5,
                ..Usage::default()
            },
            UsageSource::MetadataEvent,
        ),
        (
            "output only: input from context, output exact",
            vec![
                metadata(TokenUsage {
                    output_tokens: Some(5),
                    ..Default::default()
                }),
                context(12.5),
            ],
            Usage {
                input_tokens: 125_000,
                output_tokens: 5,
                ..Usage::default()
            },
            UsageSource::ContextUsage,
        ),
        (
            "context percent × window",
            vec![context(61.49)],
            Usage {
                input_tokens: 614_900,
                output_tokens: 3,
                ..Usage::default()
            },
            UsageSource::ContextUsage,
        ),
        (
            "empty tokenUsage is ignored",
            vec![metadata(TokenUsage::default()), message_metadata(None)],
            Usage {
                input_tokens: 999,
                output_tokens: 3,
                ..Usage::default()
            },
            UsageSource::Estimate,
        ),
    ];
    for (name, tail, expected, source) in cases {
        let mut events = vec![text("Hello world!")];
        events.extend(tail);
        let (out, mapper) = run(ctx(), &events);
        assert_eq!(out[out.len() - 2], StreamEvent::Usage(expected), "{name}");
        assert_eq!(mapper.usage_with_source().1, source, "{name}");
    }
}

#[test]
fn context_full_is_context_window_exceeded() {
    let out = run_default(&[text("Partial answer"), context(100.0)]);
    assert_eq!(stop_of(&out), Some(&StopReason::ContextWindowExceeded));
    let out = run_default(&[text("x"), context(99.99)]);
    assert_eq!(stop_of(&out), Some(&StopReason::EndTurn));
    let out = run_default(&[tool("t", "f", Some("{}"), true), context(100.4)]);
    assert_eq!(stop_of(&out), Some(&StopReason::ContextWindowExceeded));
}

#[test]
fn legacy_and_unknown_events_are_ignored_and_counted() {
    let events = [
        Event::InitialResponse {
            payload: bytes::Bytes::from_static(br#"{"conversationId":""}"#),
        },
        text("Answer."),
        legacy("followupPromptEvent"),
        legacy("codeReferenceEvent"),
        unknown("shinyNewEvent"),
    ];
    let (out, mapper) = run(ReplyContext::default(), &events);
    assert_eq!(all_text(&out), "Answer.");
    let stats = mapper.stats();
    assert_eq!(stats.legacy_events, 2);
    assert_eq!(stats.unknown_events, 1);
    assert_eq!(stats.initial_response_frames, 1);
    assert_eq!(stats.text_frames, 1);
}

#[test]
fn repeated_chunks_kept_by_default() {
    let events = [text("a"), text("=="), text("=="), text("b")];
    let (out, mapper) = run(ReplyContext::default(), &events);
    assert_eq!(all_text(&out), "a====b");
    assert_eq!(mapper.stats().repeated_chunks, 1);
    assert_eq!(mapper.stats().deduped_chunks, 0);
}

#[test]
fn repeated_chunks_deduped_when_enabled() {
    let ctx = ReplyContext {
        dedupe_repeated_chunks: true,
        thinking: ThinkingMode::Native,
        ..ReplyContext::default()
    };
    let events = [
        thinking("hmm"),
        thinking("hmm"),
        text("Hello"),
        text("Hello"),
        metering(0.1),
        text("Hello"),
    ];
    let (out, mapper) = run(ctx, &events);
    assert_eq!(all_thinking(&out), "hmm");
    assert_eq!(
        all_text(&out),
        "HelloHello",
        "a repeat after another event is kept"
    );
    assert_eq!(mapper.stats().repeated_chunks, 2);
    assert_eq!(mapper.stats().deduped_chunks, 2);
}

#[test]
fn never_emits_start_and_stop_is_last() {
    let mut events = vec![text("x"), tool("t", "f", Some("{}"), true)];
    events.extend(tail());
    let out = run_default(&events);
    assert!(!out.iter().any(|e| matches!(e, StreamEvent::Start(_))));
    assert!(matches!(out.last(), Some(StreamEvent::Stop(_))));
    assert!(matches!(out[out.len() - 2], StreamEvent::Usage(_)));
}

#[test]
fn events_after_done_are_ignored() {
    let mut mapper = ReplyMapper::new(stop_ctx(&["END"]));
    let mut out = Vec::new();
    mapper.on_event(&text("a END b"), &mut out).expect("ok");
    assert!(mapper.is_done());
    let n = out.len();
    mapper.on_event(&text("more"), &mut out).expect("ok");
    mapper
        .on_event(&tool("t", "f", None, false), &mut out)
        .expect("ok");
    mapper.finish(&mut out);
    assert_eq!(out.len(), n);
}
