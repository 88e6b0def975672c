//! Decoding Anthropic request bodies: every real capture, golden views of a representative set,
//! and one test per feature.

#[cfg(test)]
#[path = "anthropic_support/fixtures.rs"]
mod fixtures;

use dialects::anthropic::{decode_count_tokens, decode_request};
use dialects::canonical::{
    Effort, Image, Part, Role, ServerTool, ThinkingConfig, ToolChoice, ToolResultContent,
};
use fixtures::{fixture, fixture_names, view};
use serde_json::json;

#[cfg(test)]
fn decode_json(body: serde_json::Value) -> dialects::canonical::Request {
    decode_request(body.to_string().as_bytes()).expect("decodes")
}

fn is_count_tokens(name: &str) -> bool {
    name.contains("count_tokens")
}

#[test]
fn every_capture_decodes() {
    let names = fixture_names();
    assert_eq!(names.len(), 22, "{names:?}");
    for name in names {
        let body = fixture(&name);
        let req = if is_count_tokens(&name) {
            decode_count_tokens(&body)
        } else {
            decode_request(&body)
        };
        let req = req.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(!req.model.is_empty(), "{name}");
        assert!(!req.messages.is_empty(), "{name}");
        if name.starts_with("cc_") && !is_count_tokens(&name) && !name.contains("max_tokens_1") {
            // Claude Code main and sub-agent turns: its tools, its system blocks, its session.
            assert!(req.tools.len() >= 21, "{name}: {} tools", req.tools.len());
            assert!(req.system.len() >= 2, "{name}");
            assert!(req.metadata.session_id.is_some(), "{name}");
            assert!(req.messages.iter().all(|m| !m.content.is_empty()), "{name}");
        }
    }
}

#[test]
fn count_tokens_bodies_do_not_need_max_tokens() {
    for name in [
        "cc_08_count_tokens_simple",
        "cc_09_count_tokens_with_16_tools",
        "sdk_07_count_tokens",
    ] {
        let body = fixture(name);
        let err = decode_request(&body).expect_err("messages needs max_tokens");
        assert_eq!(err.param.as_deref(), Some("max_tokens"));
        let req = decode_count_tokens(&body).expect("count_tokens decodes");
        assert_eq!(req.max_tokens, None);
    }
}

macro_rules! golden {
    ($($test:ident => $name:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            let body = fixture($name);
            let req = if is_count_tokens($name) { decode_count_tokens(&body) } else { decode_request(&body) }
                .expect("decodes");
            insta::assert_json_snapshot!($name, view(&req));
        }
    )*};
}

golden! {
    golden_sdk_nonstream_system => "sdk_01_messages_nonstream_system",
    golden_sdk_system_blocks => "sdk_02_messages_system_blocks_cache_control_extra_body",
    golden_sdk_stream => "sdk_03_messages_stream_helper",
    golden_sdk_tool_result => "sdk_04_tools_turn2_tool_result",
    golden_sdk_image => "sdk_05_image_base64",
    golden_sdk_thinking => "sdk_06_thinking_enabled_stream",
    golden_sdk_count_tokens => "sdk_07_count_tokens",
    golden_cc_say_hi => "cc_02_messages_say_hi_default_opus",
    golden_cc_bash_turn2 => "cc_04_bash_turn2_with_tool_result",
    golden_cc_png_tool_result => "cc_05_read_png_turn2_tool_result_image",
    golden_cc_thinking_echo => "cc_06_thinking_block_echoed_back_turn2",
    golden_cc_nonstream_fallback => "cc_07_nonstreaming_fallback_after_stream_error",
    golden_cc_count_tokens => "cc_08_count_tokens_simple",
    golden_cc_count_fallback => "cc_10_count_fallback_messages_max_tokens_1",
    golden_cc_haiku_budget => "cc_11_model_haiku_thinking_enabled_budget",
    golden_cc_subagent => "cc_13_subagent_request_thinking_disabled",
}

#[test]
fn system_as_string() {
    let req = decode_json(json!({
        "model": "m", "max_tokens": 10, "system": "Be terse.",
        "messages": [{"role": "user", "content": "hi"}],
    }));
    assert_eq!(req.system, ["Be terse."]);
    assert_eq!(req.messages[0].content, [Part::Text("hi".into())]);
}

#[test]
fn system_blocks_and_role_system_messages_merge_in_order() {
    let req = decode_json(json!({
        "model": "m", "max_tokens": 10,
        "system": [
            {"type": "text", "text": "first"},
            {"type": "text", "text": "", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "second", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        ],
        "messages": [
            {"role": "system", "content": "third"},
            {"role": "user", "content": "hi"},
            {"role": "system", "content": [{"type": "text", "text": "fourth"}]},
            {"role": "assistant", "content": "hello"},
        ],
    }));
    assert_eq!(req.system, ["first", "second", "third", "fourth"]);
    let roles: Vec<Role> = req.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant]);
}

#[test]
fn images_base64_and_url() {
    let req = decode_json(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
            {"type": "image", "source": {"type": "url", "url": "data:image/gif;base64,R0lGODlh"}},
            {"type": "image", "source": {"type": "base64", "data": "data:image/webp;base64,UklGRg=="}},
        ]}],
    }));
    assert_eq!(
        req.messages[0].content,
        [
            Part::Image(Image::Base64 {
                media_type: Some("image/png".into()),
                data: "iVBORw0KGgo=".into()
            }),
            Part::Image(Image::Url("https://example.com/cat.jpg".into())),
            Part::Image(Image::Base64 {
                media_type: Some("image/gif".into()),
                data: "R0lGODlh".into()
            }),
            Part::Image(Image::Base64 {
                media_type: Some("image/webp".into()),
                data: "UklGRg==".into()
            }),
        ]
    );
}

#[test]
fn tool_use_and_tool_result_with_image() {
    let req = decode_request(&fixture("cc_05_read_png_turn2_tool_result_image")).expect("decodes");
    // messages[1] was the role:system message, now in `system`.
    let Part::ToolUse(tu) = &req.messages[1].content[0] else {
        panic!("tool_use expected")
    };
    assert_eq!(tu.name, "Read");
    assert_eq!(tu.input, json!({"file_path": "/home/dev/project/pic.png"}));
    let Part::ToolResult(tr) = &req.messages[2].content[0] else {
        panic!("tool_result expected")
    };
    assert_eq!(tr.tool_use_id, tu.id);
    assert!(!tr.is_error);
    assert!(matches!(
        &tr.content[..],
        [ToolResultContent::Image(Image::Base64 { media_type: Some(mt), .. })] if mt == "image/png"
    ));
}

#[test]
fn tool_result_variants() {
    let req = decode_json(json!({
        "model": "m", "max_tokens": 10,
        "messages": [
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": 1}},
                {"type": "tool_use", "id": "t2", "name": "g"},
                {"type": "tool_use", "id": "t3", "name": "h", "input": "{\"x\":true}"},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "ok", "is_error": true},
                {"type": "tool_result", "tool_use_id": "t2"},
                {"type": "tool_result", "tool_use_id": "t3", "content": [
                    {"type": "text", "text": "line", "cache_control": {"type": "ephemeral"}},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}},
                    {"type": "search_result", "source": "https://x", "title": "X", "content": [{"type": "text", "text": "t"}]},
                ]},
            ]},
        ],
    }));
    let Part::ToolUse(t2) = &req.messages[0].content[1] else {
        panic!()
    };
    assert_eq!(t2.input, json!({}));
    let Part::ToolUse(t3) = &req.messages[0].content[2] else {
        panic!()
    };
    assert_eq!(t3.input, json!({"x": true}));
    let results: Vec<_> = req.messages[1]
        .content
        .iter()
        .map(|p| match p {
            Part::ToolResult(tr) => tr.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(results[0].is_error);
    assert_eq!(results[0].content, [ToolResultContent::Text("ok".into())]);
    assert!(results[1].content.is_empty());
    assert_eq!(
        results[2].content[0],
        ToolResultContent::Text("line".into())
    );
    assert_eq!(results[2].content[1], ToolResultContent::Text("doc".into()));
    assert_eq!(
        results[2].content[2],
        ToolResultContent::Json(
            json!({"type": "search_result", "source": "https://x", "title": "X", "content": [{"type": "text", "text": "t"}]})
        )
    );
}

#[test]
fn thinking_blocks_echoed_back_keep_signatures() {
    let req = decode_request(&fixture("cc_06_thinking_block_echoed_back_turn2")).expect("decodes");
    assert_eq!(
        req.messages[1].content[0],
        Part::Thinking {
            text: "I should run echo.".into(),
            signature: Some("sig_0f2c153d702c4ee1989f8214d0551d3c".into()),
        }
    );
    let req = decode_json(json!({
        "model": "m", "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": [
                {"type": "redacted_thinking", "data": "EmwKAhgB"},
                {"type": "thinking", "thinking": "t", "signature": ""},
                {"type": "text", "text": "a"},
            ]},
            {"role": "user", "content": "q2"},
        ],
    }));
    assert_eq!(
        req.messages[1].content,
        [
            Part::RedactedThinking {
                data: "EmwKAhgB".into()
            },
            Part::Thinking {
                text: "t".into(),
                signature: None
            },
            Part::Text("a".into()),
        ]
    );
}

#[test]
fn thinking_modes_and_effort() {
    let cases = [
        (
            json!({"type": "enabled", "budget_tokens": 31999}),
            ThinkingConfig::Enabled {
                budget_tokens: Some(31999),
            },
        ),
        (
            json!({"type": "enabled"}),
            ThinkingConfig::Enabled {
                budget_tokens: None,
            },
        ),
        (json!({"type": "adaptive"}), ThinkingConfig::Adaptive),
        (json!({"type": "disabled"}), ThinkingConfig::Disabled),
        (json!({"type": "some_future_mode"}), ThinkingConfig::Default),
    ];
    for (thinking, expected) in cases {
        let req = decode_json(json!({
            "model": "m", "max_tokens": 10, "thinking": thinking,
            "messages": [{"role": "user", "content": "hi"}],
        }));
        assert_eq!(req.thinking, expected);
    }
    let req = decode_request(&fixture("cc_02_messages_say_hi_default_opus")).expect("decodes");
    assert_eq!(req.thinking, ThinkingConfig::Adaptive);
    assert_eq!(req.effort, Some(Effort::High));
    let req = decode_json(json!({
        "model": "m", "max_tokens": 10, "output_config": {"effort": "ultra", "format": {"type": "json_schema"}},
        "messages": [{"role": "user", "content": "hi"}],
    }));
    assert_eq!(req.effort, None, "unknown effort names are ignored");
}

#[test]
fn metadata_session_extraction() {
    let req = decode_request(&fixture("cc_02_messages_say_hi_default_opus")).expect("decodes");
    assert_eq!(
        req.metadata.session_id.as_deref(),
        Some("279dd0d5-2c0f-45f2-a319-95f1e8dce482")
    );
    assert!(
        req.metadata
            .user_id
            .as_deref()
            .expect("user_id")
            .starts_with("{\"device_id\"")
    );

    let legacy = "user_5f1b7a_account_2d3c9a8e-1111-4c2b-9d3e-aaaaaaaaaaaa_session_6a2f0c1e-2222-4d3c-8e4f-bbbbbbbbbbbb";
    let req = decode_json(json!({
        "model": "m", "max_tokens": 10, "metadata": {"user_id": legacy},
        "messages": [{"role": "user", "content": "hi"}],
    }));
    assert_eq!(req.metadata.user_id.as_deref(), Some(legacy));
    assert_eq!(
        req.metadata.session_id.as_deref(),
        Some("6a2f0c1e-2222-4d3c-8e4f-bbbbbbbbbbbb")
    );

    let req = decode_request(&fixture(
        "sdk_02_messages_system_blocks_cache_control_extra_body",
    ))
    .expect("decodes");
    assert_eq!(req.metadata.user_id.as_deref(), Some("u1"));
    assert_eq!(req.metadata.session_id, None);
}

#[test]
fn server_tools_are_separated() {
    let req = decode_json(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [
            {"name": "f", "description": "d", "input_schema": {"type": "object"}},
            {"type": "custom", "name": "g", "input_schema": {"type": "object"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 5},
            {"type": "bash_20250124", "name": "bash"},
            {"type": "text_editor_20250728", "name": "str_replace_based_edit_tool", "cache_control": {"type": "ephemeral"}},
        ],
        "tool_choice": {"type": "tool", "name": "f", "disable_parallel_tool_use": true},
    }));
    let names: Vec<&str> = req.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["f", "g"]);
    assert_eq!(req.tools[1].description, "");
    assert_eq!(
        req.server_tools,
        [
            ServerTool {
                kind: "web_search_20250305".into(),
                name: "web_search".into(),
                config: json!({"max_uses": 5})
            },
            ServerTool {
                kind: "bash_20250124".into(),
                name: "bash".into(),
                config: json!({})
            },
            ServerTool {
                kind: "text_editor_20250728".into(),
                name: "str_replace_based_edit_tool".into(),
                config: json!({"cache_control": {"type": "ephemeral"}}),
            },
        ]
    );
    assert_eq!(req.tool_choice, ToolChoice::Tool("f".into()));
}

#[test]
fn tool_choice_kinds() {
    for (choice, expected) in [
        (json!({"type": "auto"}), ToolChoice::Auto),
        (
            json!({"type": "any", "disable_parallel_tool_use": false}),
            ToolChoice::Any,
        ),
        (json!({"type": "none"}), ToolChoice::None),
        (json!("any"), ToolChoice::Any),
    ] {
        let req = decode_json(json!({
            "model": "m", "max_tokens": 10, "tool_choice": choice,
            "messages": [{"role": "user", "content": "hi"}],
        }));
        assert_eq!(req.tool_choice, expected);
    }
}

#[test]
fn tool_schemas_are_kept_as_sent() {
    let req = decode_request(&fixture("cc_02_messages_say_hi_default_opus")).expect("decodes");
    let raw: serde_json::Value =
        serde_json::from_slice(&fixture("cc_02_messages_say_hi_default_opus")).expect("json");
    assert_eq!(req.tools.len(), 24);
    for (tool, sent) in req
        .tools
        .iter()
        .zip(raw["tools"].as_array().expect("tools"))
    {
        assert_eq!(tool.name, sent["name"]);
        assert_eq!(tool.input_schema, sent["input_schema"], "{}", tool.name);
        assert_eq!(
            tool.input_schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}

#[test]
fn cache_control_and_unknown_fields_are_ignored() {
    let plain = decode_json(json!({
        "model": "m", "max_tokens": 10, "system": [{"type": "text", "text": "s"}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }));
    let decorated = decode_json(json!({
        "model": "m", "max_tokens": 10,
        "system": [{"type": "text", "text": "s", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}, "citations": null}], "extra": 1}],
        "temperature": 0.2, "top_p": 0.9, "top_k": 5, "service_tier": "auto",
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "container": null, "mcp_servers": [], "some_future_field": {"x": [1, 2]},
        "stream": null, "tools": null, "stop_sequences": null, "metadata": {"user_id": null},
    }));
    assert_eq!(plain, decorated);
}

#[test]
fn options() {
    let req = decode_json(json!({
        "model": "claude-sonnet-4-6", "max_tokens": 64000.0, "stream": true,
        "stop_sequences": ["END", "\n\nHuman:"],
        "messages": [{"role": "user", "content": "hi"}],
    }));
    assert_eq!(req.model, "claude-sonnet-4-6");
    assert_eq!(req.max_tokens, Some(64000));
    assert!(req.stream);
    assert!(!req.include_usage);
    assert_eq!(req.stop_sequences, ["END", "\n\nHuman:"]);
    let counted = decode_count_tokens(
        br#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .expect("decodes");
    assert!(!counted.stream, "count_tokens never streams");
}

#[test]
fn text_documents_become_text() {
    let req = decode_json(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": [
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain doc"}, "title": "T"},
            {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}},
        ]}],
    }));
    assert_eq!(
        req.messages[0].content,
        [Part::Text("plain doc".into()), Part::Text("a\n\nb".into())]
    );
}

#[test]
fn claude_code_billing_header_is_not_forwarded_as_instructions() {
    let req = decode_request(&fixture("cc_02_messages_say_hi_default_opus")).expect("decodes");
    assert!(!req.system.is_empty());
    assert!(
        req.system
            .iter()
            .all(|s| !s.starts_with("x-anthropic-billing-header:")),
        "{:?}",
        req.system.first()
    );
    // A system text that merely mentions the header is kept.
    let req = decode_json(json!({
        "model": "m", "max_tokens": 1,
        "system": [{"type": "text", "text": "x-anthropic-billing-header: a\nreal instructions"}],
        "messages": [{"role": "user", "content": "hi"}]
    }));
    assert_eq!(req.system.len(), 1);
}
