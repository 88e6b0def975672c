//! V1–V13 (spec §4.5): one violating body per rule, plus bodies that must pass.

use kiro_sim::errors::ErrorKind;
use kiro_sim::models::Tier;
use kiro_sim::signature;
use kiro_sim::validate::{AccountView, Rejection, ValidatedRequest, ValidationConfig, validate};
use serde_json::{Value, json};

/// A 1×1 PNG.
const PNG_B64: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
/// JPEG magic followed by padding bytes.
const JPEG_B64: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/";

const PRO: AccountView = AccountView {
    tier: Tier::Pro,
    is_api_key: false,
};
const FREE: AccountView = AccountView {
    tier: Tier::Free,
    is_api_key: false,
};

fn check_as(body: &Value, account: AccountView) -> Result<ValidatedRequest, Rejection> {
    validate(
        body.to_string().as_bytes(),
        &ValidationConfig::default(),
        account,
    )
}

fn check(body: &Value) -> Result<ValidatedRequest, Rejection> {
    check_as(body, PRO)
}

#[track_caller]
fn assert_rejected(body: &Value, kind: ErrorKind, rule: &str) {
    match check(body) {
        Ok(ok) => panic!("accepted, expected {kind:?}/{rule}: {ok:?}"),
        Err(r) => assert_eq!((r.kind, r.rule), (kind, rule), "{}", r.detail),
    }
}

#[track_caller]
fn assert_generic(body: &Value, rule: &str) {
    assert_rejected(body, ErrorKind::ImproperlyFormed, rule);
}

fn user(content: &str) -> Value {
    json!({"userInputMessage": {"content": content, "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR"}})
}

fn assistant(content: &str) -> Value {
    json!({"assistantResponseMessage": {"content": content}})
}

fn tool_spec(name: &str) -> Value {
    json!({"toolSpecification": {"name": name, "description": "Current weather for a city.",
        "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}})
}

fn minimal() -> Value {
    json!({"conversationState": {
        "conversationId": "f6b0789a-75d8-44ae-99d3-f1ab57b89ca5", "chatTriggerType": "MANUAL",
        "currentMessage": {"userInputMessage": {"content": "hello", "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR"}}}})
}

fn with_history(history: Value) -> Value {
    let mut body = minimal();
    body["conversationState"]["history"] = history;
    body
}

fn current(body: &mut Value) -> &mut Value {
    &mut body["conversationState"]["currentMessage"]["userInputMessage"]
}

/// The §4.1 example; its elided image bytes (`iVBORw0KGgo...`) replaced by a whole PNG.
fn spec_example() -> Value {
    json!({
      "conversationState": {
        "conversationId": "f6b0789a-75d8-44ae-99d3-f1ab57b89ca5", "agentContinuationId": "98f46eab-3f14-46cb-ba52-0d42afffc718",
        "agentTaskType": "vibe", "chatTriggerType": "MANUAL",
        "history": [
          {"userInputMessage": {"content": "<system prompt>", "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR"}},
          {"assistantResponseMessage": {"content": "I will follow these instructions."}},
          {"userInputMessage": {"content": "weather in Paris?", "modelId": "claude-sonnet-4.5", "origin": "AI_EDITOR",
            "images": [{"format": "png", "source": {"bytes": PNG_B64}}]}},
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
    })
}

/// One tool-use round trip in history, the current message answering a second call.
fn tool_turns(use_name: &str, result_ids: &[&str]) -> Value {
    let mut body = with_history(json!([
        user("weather?"),
        {"assistantResponseMessage": {"content": "", "toolUses": [
            {"toolUseId": "t1", "name": use_name, "input": {"city": "Paris"}}]}},
    ]));
    let results: Vec<Value> = result_ids
        .iter()
        .map(|id| json!({"toolUseId": id, "status": "success", "content": [{"text": "18C"}]}))
        .collect();
    current(&mut body)["content"] = json!("");
    current(&mut body)["userInputMessageContext"] =
        json!({"tools": [tool_spec("get_weather")], "toolResults": results});
    body
}

// ---- accepted --------------------------------------------------------------------------------

#[test]
fn minimal_body_is_accepted() {
    let ok = check(&minimal()).unwrap();
    assert_eq!(ok.model_id, "claude-sonnet-4.5");
    assert_eq!(ok.last_user_text, "hello");
    assert_eq!(ok.history_len, 0);
    assert_eq!(
        ok.conversation_id.as_deref(),
        Some("f6b0789a-75d8-44ae-99d3-f1ab57b89ca5")
    );
    assert!(!ok.has_profile_arn);
    assert!(ok.estimated_input_tokens > 2_000);
}

#[test]
fn spec_example_is_accepted() {
    let ok = check_as(&spec_example(), FREE).unwrap();
    assert_eq!(ok.history_len, 4);
    assert_eq!(ok.tool_names, ["get_weather"]);
    assert_eq!(ok.tool_result_ids, ["tooluse_hp_3M9xpRCiPkaT8QW777w"]);
    assert_eq!(ok.image_count, 1);
    assert!(ok.has_profile_arn);
    assert_eq!(ok.thinking, None);
}

#[test]
fn tool_names_match_case_insensitively_and_nulls_count_as_absent() {
    assert!(check(&tool_turns("GET_WEATHER", &["t1"])).is_ok());
    let mut body = minimal();
    body["conversationState"]["history"] = Value::Null;
    current(&mut body)["images"] = json!([]);
    body["profileArn"] = Value::Null;
    assert!(check(&body).is_ok());
}

// ---- one test per rule -----------------------------------------------------------------------

#[test]
fn json_unparseable_body() {
    let err = validate(
        b"{\"conversationState\":",
        &ValidationConfig::default(),
        PRO,
    )
    .unwrap_err();
    assert_eq!((err.kind, err.rule), (ErrorKind::ImproperlyFormed, "json"));
}

#[test]
fn v1_current_message_must_be_a_user_message_with_model_id() {
    let mut body = minimal();
    body["conversationState"]["currentMessage"] = assistant("hi");
    assert_generic(&body, "V1");

    let mut body = minimal();
    current(&mut body)
        .as_object_mut()
        .unwrap()
        .remove("modelId");
    assert_generic(&body, "V1");

    assert_generic(&json!(["not", "an", "object"]), "V1");
    assert_generic(&with_history(json!([{"toolUses": []}])), "V1");
    // toolUses input must be an object, not a JSON string.
    let mut body = tool_turns("get_weather", &["t1"]);
    body["conversationState"]["history"][1]["assistantResponseMessage"]["toolUses"][0]["input"] =
        json!("{\"city\":\"Paris\"}");
    assert_generic(&body, "V1");
}

#[test]
fn v2_history_alternates_and_ends_with_assistant() {
    assert_generic(
        &with_history(json!([user("a"), assistant("b"), assistant("c")])),
        "V2",
    );
    assert_generic(&with_history(json!([assistant("a")])), "V2");
    assert_generic(
        &with_history(json!([user("a"), assistant("b"), user("c")])),
        "V2",
    );
    assert!(check(&with_history(json!([user("a"), assistant("b")]))).is_ok());
}

#[test]
fn v3_tool_uses_and_results_pair_up() {
    // A tool use with no result in the next turn.
    assert_generic(&tool_turns("get_weather", &[]), "V3");
    // A result with no tool use in the previous turn.
    assert_generic(&tool_turns("get_weather", &["t1", "t2"]), "V3");
    // Duplicate result ids.
    assert_generic(&tool_turns("get_weather", &["t1", "t1"]), "V3");
}

#[test]
fn v4_history_tools_are_declared() {
    assert_generic(&tool_turns("get_time", &["t1"]), "V4");
    let mut body = tool_turns("get_weather", &["t1"]);
    current(&mut body)["userInputMessageContext"]
        .as_object_mut()
        .unwrap()
        .remove("tools");
    assert_generic(&body, "V4");
}

fn with_tool(spec: Value) -> Value {
    let mut body = minimal();
    current(&mut body)["userInputMessageContext"] = json!({"tools": [spec]});
    body
}

#[test]
fn v5_tool_names() {
    assert!(check(&with_tool(tool_spec(&"a".repeat(64)))).is_ok());
    assert_generic(&with_tool(tool_spec(&"a".repeat(65))), "V5");
    assert_generic(&with_tool(tool_spec("mcp.server/tool")), "V5");
    let mut body = minimal();
    current(&mut body)["userInputMessageContext"] =
        json!({"tools": [tool_spec("x"), tool_spec("x")]});
    assert_generic(&body, "V5");
}

#[test]
fn v6_tool_descriptions() {
    let mut spec = tool_spec("bash");
    spec["toolSpecification"]["description"] = json!("é".repeat(10_000));
    assert!(check(&with_tool(spec.clone())).is_ok());
    spec["toolSpecification"]["description"] = json!("d".repeat(10_001));
    assert_generic(&with_tool(spec.clone()), "V6");
    spec["toolSpecification"]["description"] = json!("");
    assert_generic(&with_tool(spec), "V6");
}

#[test]
fn v7_tool_schemas() {
    let schema = |s: Value| {
        let mut spec = tool_spec("t");
        spec["toolSpecification"]["inputSchema"]["json"] = s;
        with_tool(spec)
    };
    assert!(check(&schema(json!({"type": "object", "properties": {}}))).is_ok());
    assert_generic(
        &schema(json!({"type": "object", "properties": {}, "required": null})),
        "V7",
    );
    assert_generic(&schema(json!({"type": "object", "properties": null})), "V7");
    assert_generic(&schema(json!({"type": "object"})), "V7");
    assert_generic(&schema(json!({"type": "string", "properties": {}})), "V7");
    assert_generic(
        &schema(json!({"type": "object", "properties": {}, "required": [1]})),
        "V7",
    );
}

fn with_image(format: &str, bytes: &str) -> Value {
    let mut body = minimal();
    current(&mut body)["images"] = json!([{"format": format, "source": {"bytes": bytes}}]);
    body
}

#[test]
fn v8_images() {
    assert!(check(&with_image("png", PNG_B64)).is_ok());
    assert!(check(&with_image("jpeg", JPEG_B64)).is_ok());
    assert_generic(&with_image("jpg", JPEG_B64), "V8");
    assert_generic(&with_image("jpeg", PNG_B64), "V8");
    assert_generic(&with_image("png", "iVBORw0KGgo..."), "V8");
    assert_generic(&with_image("bmp", "Qk0="), "V8");
}

#[test]
fn v9_model_known_and_on_the_tier() {
    let mut body = minimal();
    current(&mut body)["modelId"] = json!("gpt-4o");
    assert_rejected(&body, ErrorKind::InvalidModelId, "V9");
    current(&mut body)["modelId"] = json!("CLAUDE_SONNET_4_20250514_V1_0");
    assert_rejected(&body, ErrorKind::InvalidModelId, "V9");

    current(&mut body)["modelId"] = json!("claude-opus-4.7");
    let err = check_as(&body, FREE).unwrap_err();
    assert_eq!((err.kind, err.rule), (ErrorKind::InvalidModelId, "V9"));
    assert!(check_as(&body, PRO).is_ok());
    // Hidden models work although they are not listed.
    current(&mut body)["modelId"] = json!("gpt-5.6-sol");
    assert!(check_as(&body, FREE).is_ok());
}

#[test]
fn v10_body_byte_ceiling() {
    let body = serde_json::to_vec(&minimal()).unwrap();
    let tight = ValidationConfig {
        max_body_bytes: body.len() - 1,
        ..ValidationConfig::default()
    };
    let err = validate(&body, &tight, PRO).unwrap_err();
    assert_eq!((err.kind, err.rule), (ErrorKind::ImproperlyFormed, "V10"));
    let exact = ValidationConfig {
        max_body_bytes: body.len(),
        ..ValidationConfig::default()
    };
    assert!(validate(&body, &exact, PRO).is_ok());
    let mut big = minimal();
    current(&mut big)["content"] = json!("x".repeat(600_000));
    assert_generic(&big, "V10");
}

#[test]
fn v11_chat_trigger_type_manual() {
    let mut body = minimal();
    body["conversationState"]["chatTriggerType"] = json!("AUTO");
    assert_generic(&body, "V11");
    body["conversationState"]
        .as_object_mut()
        .unwrap()
        .remove("chatTriggerType");
    assert_generic(&body, "V11");
}

#[test]
fn v12_blank_content() {
    let mut body = minimal();
    current(&mut body)["content"] = json!("  ");
    assert_generic(&body, "V12");
    assert_generic(&with_history(json!([user("a"), assistant("")])), "V12");
    // Blank content is fine with tool results (current) or images.
    assert!(check(&tool_turns("get_weather", &["t1"])).is_ok());
    let mut body = with_image("png", PNG_B64);
    current(&mut body)["content"] = json!("");
    assert!(check(&body).is_ok());
}

fn opus_with_fields(fields: Value) -> Value {
    let mut body = minimal();
    current(&mut body)["modelId"] = json!("claude-opus-4.7");
    current(&mut body)["additionalModelRequestFields"] = fields;
    body
}

#[test]
fn v13_request_fields_follow_the_model_schema() {
    let ok = check(&opus_with_fields(
        json!({"thinking": {"type": "disabled", "display": "omitted"}}),
    ))
    .unwrap();
    assert_eq!(ok.thinking.as_deref(), Some("disabled"));
    assert_generic(
        &opus_with_fields(json!({"reasoning": {"effort": "high"}})),
        "V13",
    );
    assert_generic(
        &opus_with_fields(json!({"output_config": {"effort": "extreme"}})),
        "V13",
    );
    // A model without a schema takes no fields at all.
    let mut body = minimal();
    current(&mut body)["additionalModelRequestFields"] = json!({"thinking": {"type": "adaptive"}});
    assert_generic(&body, "V13");
}

fn replayed_thinking(model: &str, reasoning: Value) -> Value {
    let mut body = with_history(json!([
        user("why?"),
        {"assistantResponseMessage": {"content": "Because.", "reasoningContent": reasoning}},
    ]));
    current(&mut body)["modelId"] = json!(model);
    body
}

#[test]
fn v13_replayed_thinking_signatures() {
    let sig = signature::sign("claude-opus-4.7", "Let me think.");
    let good = json!({"reasoningText": {"text": "Let me think.", "signature": sig}});
    assert!(check(&replayed_thinking("claude-opus-4.7", good.clone())).is_ok());
    // Signed for another model, tampered text, missing signature.
    assert_rejected(
        &replayed_thinking("claude-opus-4.6", good.clone()),
        ErrorKind::ThinkingSignatureInvalid,
        "V13",
    );
    let tampered = json!({"reasoningText": {"text": "Let me think!", "signature": sig}});
    assert_rejected(
        &replayed_thinking("claude-opus-4.7", tampered),
        ErrorKind::ThinkingSignatureInvalid,
        "V13",
    );
    let unsigned = json!({"reasoningText": {"text": "Let me think."}});
    assert_rejected(
        &replayed_thinking("claude-opus-4.7", unsigned),
        ErrorKind::ThinkingSignatureInvalid,
        "V13",
    );
    // Redacted content passes when it is base64.
    assert!(
        check(&replayed_thinking(
            "claude-opus-4.7",
            json!({"redactedContent": "AAEC"})
        ))
        .is_ok()
    );
    // More than one per turn is a shape error: the generic 400.
    assert_generic(
        &replayed_thinking("claude-opus-4.7", json!([good.clone(), good])),
        "V13",
    );
}

#[test]
fn api_key_with_profile_arn_is_a_validation_exception() {
    let mut body = minimal();
    body["profileArn"] = json!("arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK");
    let key = AccountView {
        tier: Tier::Pro,
        is_api_key: true,
    };
    let err = check_as(&body, key).unwrap_err();
    assert_eq!(
        (err.kind, err.rule),
        (ErrorKind::ImproperlyFormedValidation, "api-key-profile-arn")
    );
    assert!(check_as(&minimal(), key).is_ok());
}

#[test]
fn context_ceiling_gives_content_length_exceeded() {
    let body = serde_json::to_vec(&minimal()).unwrap();
    let cfg = ValidationConfig {
        context_token_ceiling: Some(2_010),
        ..ValidationConfig::default()
    };
    let err = validate(&body, &cfg, PRO).unwrap_err();
    assert_eq!(
        (err.kind, err.rule),
        (ErrorKind::ContentLengthExceeded, "context")
    );
    // The default ceiling is the model window: ~150k estimated tokens fit sonnet 4.5's 200k.
    let mut big = minimal();
    current(&mut big)["content"] = json!("x".repeat(590_000));
    assert!(check(&big).is_ok());
    let roomy = ValidationConfig {
        max_body_bytes: 2_000_000,
        ..ValidationConfig::default()
    };
    let mut huge = minimal();
    current(&mut huge)["content"] = json!("x".repeat(800_000));
    let err = validate(&serde_json::to_vec(&huge).unwrap(), &roomy, PRO).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ContentLengthExceeded);
    current(&mut huge)["modelId"] = json!("claude-sonnet-4.6");
    assert!(validate(&serde_json::to_vec(&huge).unwrap(), &roomy, PRO).is_ok());
}
