//! OpenAI Chat Completions request decoding: every fixture decodes, golden snapshots of the
//! canonical result, and one test per feature.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on bad fixtures"
)]

use std::path::PathBuf;

use dialects::canonical::{
    Effort, Image, Message, Part, Request, Role, ThinkingConfig, ToolChoice, ToolResultContent,
    ToolUse,
};
use dialects::openai::decode_request;
use serde_json::{Value, json};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openai")
}

fn fixture(name: &str) -> Request {
    let bytes = std::fs::read(fixture_dir().join(name)).unwrap();
    decode_request(&bytes).unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn decode(body: Value) -> Request {
    decode_request(body.to_string().as_bytes()).unwrap()
}

fn with_messages(messages: Value) -> Value {
    json!({"model": "gpt-4o", "messages": messages})
}

fn user(text: &str) -> Value {
    json!({"role": "user", "content": text})
}

#[test]
fn every_fixture_decodes() {
    let mut count = 0;
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let request = fixture(&name);
            assert!(!request.messages.is_empty(), "{name}");
            count += 1;
        }
    }
    assert!(count >= 9, "expected every fixture, found {count}");
}

#[test]
fn snapshot_sdk_01_nonstream_system() {
    insta::assert_debug_snapshot!(fixture("sdk_01_chat_nonstream_system.json"));
}

#[test]
fn snapshot_sdk_02_developer_reasoning_effort() {
    insta::assert_debug_snapshot!(fixture("sdk_02_chat_developer_role_reasoning_effort.json"));
}

#[test]
fn snapshot_sdk_03_stream_include_usage() {
    insta::assert_debug_snapshot!(fixture("sdk_03_chat_stream_include_usage.json"));
}

#[test]
fn snapshot_sdk_04_tool_turn() {
    insta::assert_debug_snapshot!(fixture("sdk_04_chat_tools_turn2_tool_message.json"));
}

#[test]
fn snapshot_sdk_05_image_data_url() {
    insta::assert_debug_snapshot!(fixture("sdk_05_chat_image_data_url.json"));
}

#[test]
fn snapshot_continue_tools_stream() {
    insta::assert_debug_snapshot!(fixture("continue_tools_stream.json"));
}

#[test]
fn snapshot_aider_trailing_system() {
    insta::assert_debug_snapshot!(fixture("aider_trailing_system.json"));
}

#[test]
fn snapshot_legacy_functions() {
    insta::assert_debug_snapshot!(fixture("legacy_functions.json"));
}

#[test]
fn snapshot_kitchen_sink() {
    insta::assert_debug_snapshot!(fixture("kitchen_sink.json"));
}

#[test]
fn developer_and_system_messages_join_the_system_prompt_in_order() {
    let request = decode(with_messages(json!([
        {"role": "system", "content": "one"},
        {"role": "developer", "content": [{"type": "text", "text": "two"}, {"type": "text", "text": "three"}]},
        user("hi"),
        {"role": "developer", "content": "four"},
        {"role": "system", "content": ""},
    ])));
    assert_eq!(request.system, ["one", "two", "three", "four"]);
    assert_eq!(
        request.messages,
        [Message {
            role: Role::User,
            content: vec![Part::Text("hi".into())]
        }]
    );
}

#[test]
fn image_data_url_becomes_base64() {
    let request = decode(with_messages(json!([{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/webp;base64,UklGRg==", "detail": "auto"}}
    ]}])));
    assert_eq!(
        request.messages[0].content,
        [Part::Image(Image::Base64 {
            media_type: Some("image/webp".into()),
            data: "UklGRg==".into()
        })]
    );
}

#[test]
fn image_remote_url_stays_a_reference() {
    let request = decode(with_messages(json!([{"role": "user", "content": [
        {"type": "text", "text": "what is this"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    ]}])));
    assert_eq!(
        request.messages[0].content,
        [
            Part::Text("what is this".into()),
            Part::Image(Image::Url("https://example.com/a.png".into()))
        ]
    );
}

#[test]
fn tool_turn_results_share_one_user_turn() {
    let request = fixture("continue_tools_stream.json");
    let roles: Vec<Role> = request.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::User, Role::User],
        "two tool messages make one turn; the next user message is its own turn"
    );
    assert_eq!(
        request.messages[1].content.len(),
        2,
        "the empty content string next to the tool calls is dropped"
    );
    let Part::ToolUse(second) = &request.messages[1].content[1] else {
        panic!("expected a tool use: {:?}", request.messages[1])
    };
    assert_eq!(
        second.input,
        json!({}),
        "truncated arguments become {{}} (N1)"
    );
    let ids: Vec<&str> = request.messages[2]
        .content
        .iter()
        .map(|p| match p {
            Part::ToolResult(r) => r.tool_use_id.as_str(),
            other => panic!("expected a tool result, got {other:?}"),
        })
        .collect();
    assert_eq!(ids, ["call_ls_1", "call_read_2"]);
    assert_eq!(
        request.tools[2].input_schema,
        json!({"type": "object", "properties": {}}),
        "a tool without parameters gets an empty object schema"
    );
}

#[test]
fn tool_calls_decode_with_parsed_arguments() {
    let request = fixture("sdk_04_chat_tools_turn2_tool_message.json");
    assert_eq!(
        request.messages[1].content,
        [Part::ToolUse(ToolUse {
            id: "call_ec1c391113da4d0797ee8ef7".into(),
            name: "get_weather".into(),
            input: json!({"city": "Paris"}),
        })]
    );
    let Part::ToolResult(result) = &request.messages[2].content[0] else {
        panic!("expected a tool result")
    };
    assert_eq!(result.content, [ToolResultContent::Text("sunny".into())]);
    assert!(!result.is_error);
}

#[test]
fn legacy_functions_become_tools_and_pair_up() {
    let request = fixture("legacy_functions.json");
    assert_eq!(request.tools.len(), 1);
    assert_eq!(request.tools[0].name, "get_weather");
    assert_eq!(request.tool_choice, ToolChoice::Tool("get_weather".into()));
    let Part::ToolUse(call) = &request.messages[1].content[0] else {
        panic!("expected a tool use")
    };
    let Part::ToolResult(result) = &request.messages[2].content[0] else {
        panic!("expected a tool result")
    };
    assert_eq!(call.id, result.tool_use_id);
    assert_eq!(call.input, json!({"city": "Paris"}));
}

#[test]
fn reasoning_effort_enables_thinking_unless_none() {
    for (level, effort) in [
        ("minimal", Effort::Minimal),
        ("low", Effort::Low),
        ("medium", Effort::Medium),
        ("high", Effort::High),
        ("xhigh", Effort::XHigh),
    ] {
        let mut body = with_messages(json!([user("hi")]));
        body["reasoning_effort"] = json!(level);
        let request = decode(body);
        assert_eq!(request.effort, Some(effort), "{level}");
        assert_eq!(
            request.thinking,
            ThinkingConfig::Enabled {
                budget_tokens: None
            }
        );
    }
    let mut body = with_messages(json!([user("hi")]));
    body["reasoning_effort"] = json!("none");
    let request = decode(body);
    assert_eq!(request.effort, None);
    assert_eq!(request.thinking, ThinkingConfig::Disabled);

    let request = decode(with_messages(json!([user("hi")])));
    assert_eq!(request.thinking, ThinkingConfig::Default);
}

#[test]
fn n_of_one_is_accepted_and_two_is_rejected() {
    let mut body = with_messages(json!([user("hi")]));
    body["n"] = json!(1);
    decode(body.clone());
    body["n"] = json!(2);
    let err = decode_request(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(err.param.as_deref(), Some("n"));
    assert_eq!(err.kind.status(), 400);
}

#[test]
fn stop_as_string_or_array() {
    let mut body = with_messages(json!([user("hi")]));
    body["stop"] = json!("END");
    assert_eq!(decode(body.clone()).stop_sequences, ["END"]);
    body["stop"] = json!(["a", "b", "c", "d"]);
    assert_eq!(decode(body.clone()).stop_sequences, ["a", "b", "c", "d"]);
    body["stop"] = json!(null);
    assert!(decode(body).stop_sequences.is_empty());
}

#[test]
fn max_completion_tokens_wins_over_max_tokens() {
    let mut body = with_messages(json!([user("hi")]));
    body["max_tokens"] = json!(10);
    assert_eq!(decode(body.clone()).max_tokens, Some(10));
    body["max_completion_tokens"] = json!(20);
    assert_eq!(decode(body.clone()).max_tokens, Some(20));
    body["max_tokens"] = json!(null);
    assert_eq!(decode(body).max_tokens, Some(20));
}

#[test]
fn tool_choice_forms() {
    for (choice, expected) in [
        (json!("auto"), ToolChoice::Auto),
        (json!("none"), ToolChoice::None),
        (json!("required"), ToolChoice::Any),
        (
            json!({"type": "function", "function": {"name": "f"}}),
            ToolChoice::Tool("f".into()),
        ),
        (
            json!({"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": []}}),
            ToolChoice::Any,
        ),
    ] {
        let mut body = with_messages(json!([user("hi")]));
        body["tool_choice"] = choice.clone();
        assert_eq!(decode(body).tool_choice, expected, "{choice}");
    }
}

#[test]
fn stream_flags_and_metadata() {
    let request = fixture("sdk_03_chat_stream_include_usage.json");
    assert!(request.stream);
    assert!(request.include_usage);

    let request = fixture("kitchen_sink.json");
    assert_eq!(request.metadata.user_id.as_deref(), Some("user-123"));
    assert_eq!(request.metadata.session_id.as_deref(), Some("conv-9"));
    assert_eq!(
        request.stop_sequences,
        ["END", "STOP"],
        "empty stops are dropped"
    );
    assert_eq!(request.max_tokens, Some(200));
}

#[test]
fn assistant_reasoning_content_is_unsigned_thinking() {
    let request = fixture("kitchen_sink.json");
    assert_eq!(
        request.messages[1].content,
        [
            Part::Thinking {
                text: "they look alike".into(),
                signature: None
            },
            Part::Text("Similar.".into())
        ]
    );
}

#[test]
fn assistant_with_null_content_and_no_calls_is_an_empty_turn() {
    let request = decode(with_messages(json!([
        user("hi"),
        {"role": "assistant", "content": null},
        user("again"),
    ])));
    assert!(request.messages[1].content.is_empty());
}

#[test]
fn tool_arguments_given_as_an_object_are_kept() {
    let request = decode(with_messages(json!([
        user("hi"),
        {"role": "assistant", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"x": 1}}}
        ]},
    ])));
    let Part::ToolUse(call) = &request.messages[1].content[0] else {
        panic!("expected a tool use")
    };
    assert_eq!(call.input, json!({"x": 1}));
}
