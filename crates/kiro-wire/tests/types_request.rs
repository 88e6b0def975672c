//! The `generateAssistantResponse` body (spec §4).

mod types_common;

use kiro_wire::types::*;
use serde_json::{Value, json};
use types_common::{parse, parse_lenient};

/// Spec §4.1, verbatim.
const SPEC_4_1: &str = r#"{
  "conversationState": {
    "conversationId": "f6b0789a-75d8-44ae-99d3-f1ab57b89ca5", "agentContinuationId": "98f46eab-3f14-46cb-ba52-0d42afffc718",
    "agentTaskType": "vibe", "chatTriggerType": "MANUAL",
    "history": [
      {"userInputMessage": {"content": "<system prompt>", "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR"}},
      {"assistantResponseMessage": {"content": "I will follow these instructions."}},
      {"userInputMessage": {"content": "weather in Paris?", "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR",
        "images": [{"format": "png", "source": {"bytes": "iVBORw0KGgo..."}}]}},
      {"assistantResponseMessage": {"content": "",
        "toolUses": [{"toolUseId": "tooluse_hp_3M9xpRCiPkaT8QW777w", "name": "get_weather", "input": {"city": "Paris"}}]}}
    ],
    "currentMessage": {"userInputMessage": {
      "content": "", "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR",
      "userInputMessageContext": {
        "tools": [{"toolSpecification": {"name": "get_weather", "description": "Current weather for a city.",
          "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}}],
        "toolResults": [{"toolUseId": "tooluse_hp_3M9xpRCiPkaT8QW777w", "status": "success", "content": [{"text": "18C, clear"}]}]
      }}}
  },
  "profileArn": "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
}"#;

fn round_trip(json: &str) {
    let body: GenerateAssistantResponseRequest = parse_lenient(json);
    let back = serde_json::to_value(&body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, parse::<Value>(json));
}

#[test]
fn spec_example_round_trips_exactly() {
    round_trip(SPEC_4_1);
}

#[test]
fn spec_example_parses_into_the_expected_shape() {
    let body: GenerateAssistantResponseRequest = parse(SPEC_4_1);
    let state = &body.conversation_state;
    assert_eq!(state.chat_trigger_type, CHAT_TRIGGER_MANUAL);
    assert_eq!(state.agent_task_type.as_deref(), Some(AGENT_TASK_VIBE));
    assert_eq!(state.history.len(), 4);
    assert!(state.history[0].is_user() && state.history[1].is_assistant());

    let HistoryEntry::User(user) = &state.history[2] else {
        panic!("expected a user turn")
    };
    let images = user.images.as_ref().unwrap();
    assert_eq!(images[0].format, ImageFormat::Png);
    assert_eq!(images[0].source.bytes, "iVBORw0KGgo...");

    let HistoryEntry::Assistant(assistant) = &state.history[3] else {
        panic!("expected an assistant turn")
    };
    let uses = assistant.tool_uses.as_ref().unwrap();
    assert_eq!(uses[0].name, "get_weather");
    assert_eq!(uses[0].input, json!({"city": "Paris"}));

    let current = &state.current_message.user_input_message;
    assert_eq!(current.origin, ORIGIN_AI_EDITOR);
    let ctx = current.user_input_message_context.as_ref().unwrap();
    let Tool::Specification(spec) = &ctx.tools.as_ref().unwrap()[0] else {
        panic!("expected a tool specification")
    };
    assert_eq!(spec.input_schema.json["required"], json!(["city"]));
    let result = &ctx.tool_results.as_ref().unwrap()[0];
    assert_eq!(result.status, ToolResultStatus::Success);
    assert_eq!(
        result.content,
        vec![ToolResultContent::Text("18C, clear".into())]
    );
}

#[test]
fn every_optional_shape_round_trips() {
    let body = json!({
      "conversationState": {
        "conversationId": "c",
        "chatTriggerType": "MANUAL",
        "history": [
          {"userInputMessage": {"content": "hi", "modelId": "claude-opus-4.7", "origin": "AI_EDITOR", "images": []}},
          {"assistantResponseMessage": {"content": "x", "toolUses": [], "messageId": "m-1",
            "reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig=="}},
            "cachePoint": {"type": "default"}}},
          {"userInputMessage": {"content": "again", "modelId": "claude-opus-4.7", "origin": "AI_EDITOR"}},
          {"assistantResponseMessage": {"content": "y", "reasoningContent": {"redactedContent": "b64=="}}}
        ],
        "currentMessage": {"userInputMessage": {
          "content": "", "modelId": "claude-opus-4.7", "origin": "AI_EDITOR",
          "images": [{"format": "webp", "source": {"bytes": "UklGRg=="}}],
          "userInputMessageContext": {
            "tools": [{"cachePoint": {"type": "default"}}],
            "toolResults": [{"toolUseId": "t", "status": "error",
              "content": [{"json": {"rows": [1, 2]}}, {"text": "boom"}]}],
            "envState": {"operatingSystem": "linux", "currentWorkingDirectory": "/work"}
          },
          "additionalModelRequestFields": {"thinking": {"type": "disabled", "display": "omitted"}}
        }}
      }
    });
    round_trip(&body.to_string());

    let parsed: GenerateAssistantResponseRequest = serde_json::from_value(body).unwrap();
    let HistoryEntry::Assistant(a) = &parsed.conversation_state.history[1] else {
        panic!("expected an assistant turn")
    };
    assert_eq!(
        a.reasoning_content,
        Some(ReasoningContent::Text(ReasoningText {
            text: "hmm".into(),
            signature: Some("sig==".into())
        }))
    );
    assert_eq!(a.cache_point, Some(CachePoint::default()));
}

#[test]
fn built_body_serialises_to_the_wire_shape() {
    let mut current = UserInputMessage::new("", "claude-sonnet-4.5");
    current.user_input_message_context = Some(UserInputMessageContext {
        tools: None,
        tool_results: Some(vec![ToolResult {
            tool_use_id: "t1".into(),
            status: ToolResultStatus::Error,
            content: vec![ToolResultContent::Text(
                "Tool call was not executed.".into(),
            )],
        }]),
        env_state: None,
    });
    let mut assistant = AssistantResponseMessage::new("");
    assistant.tool_uses = Some(vec![ToolUse {
        tool_use_id: "t1".into(),
        name: "Bash".into(),
        input: json!({}),
    }]);
    let body = GenerateAssistantResponseRequest {
        conversation_state: ConversationState {
            conversation_id: "c".into(),
            agent_continuation_id: None,
            agent_task_type: None,
            chat_trigger_type: CHAT_TRIGGER_MANUAL.into(),
            history: vec![
                HistoryEntry::User(UserInputMessage::new("go", "claude-sonnet-4.5")),
                HistoryEntry::Assistant(assistant),
            ],
            current_message: CurrentMessage {
                user_input_message: current,
            },
        },
        profile_arn: None,
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({"conversationState": {
            "conversationId": "c", "chatTriggerType": "MANUAL",
            "history": [
                {"userInputMessage": {"content": "go", "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR"}},
                {"assistantResponseMessage": {"content": "", "toolUses": [{"toolUseId": "t1", "name": "Bash", "input": {}}]}}
            ],
            "currentMessage": {"userInputMessage": {"content": "", "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR",
                "userInputMessageContext": {"toolResults": [{"toolUseId": "t1", "status": "error",
                    "content": [{"text": "Tool call was not executed."}]}]}}}
        }})
    );
}

#[test]
fn empty_or_absent_history_is_omitted() {
    let first_turn = r#"{"conversationState": {"conversationId": "c", "chatTriggerType": "MANUAL",
        "history": [], "currentMessage": {"userInputMessage": {"content": "hi", "modelId": "auto", "origin": "AI_EDITOR"}}}}"#;
    let body: GenerateAssistantResponseRequest = parse_lenient(first_turn);
    assert!(body.conversation_state.history.is_empty());
    let out = serde_json::to_value(&body).unwrap();
    assert!(out["conversationState"].get("history").is_none());
    assert!(out.get("profileArn").is_none());
}

#[test]
fn required_fields_are_required() {
    let missing = [
        // no currentMessage (V1)
        r#"{"conversationState": {"conversationId": "c", "chatTriggerType": "MANUAL"}}"#,
        // an assistant current message (V1)
        r#"{"conversationState": {"conversationId": "c", "chatTriggerType": "MANUAL",
            "currentMessage": {"assistantResponseMessage": {"content": "x"}}}}"#,
        // no content
        r#"{"conversationState": {"conversationId": "c", "chatTriggerType": "MANUAL",
            "currentMessage": {"userInputMessage": {"modelId": "auto", "origin": "AI_EDITOR"}}}}"#,
        // a history entry that is neither role
        r#"{"conversationState": {"conversationId": "c", "chatTriggerType": "MANUAL",
            "history": [{"systemMessage": {"content": "x"}}],
            "currentMessage": {"userInputMessage": {"content": "x", "modelId": "auto", "origin": "AI_EDITOR"}}}}"#,
        // an unknown image format
        r#"{"conversationState": {"conversationId": "c", "chatTriggerType": "MANUAL",
            "currentMessage": {"userInputMessage": {"content": "x", "modelId": "auto", "origin": "AI_EDITOR",
              "images": [{"format": "bmp", "source": {"bytes": "Qk0="}}]}}}}"#,
    ];
    for body in missing {
        assert!(
            serde_json::from_str::<GenerateAssistantResponseRequest>(body).is_err(),
            "should not parse: {body}"
        );
    }
}
