//! Whole requests: the spec §4.1 example reproduced, and real Claude Code captures (decoded by
//! the Anthropic dialect) mapped and checked against the simulator's V1–V13.

mod kiro_request_support;

use std::collections::BTreeMap;
use std::time::Instant;

use dialects::anthropic::decode_request;
use dialects::canonical::{Image, Part, Request};
use dialects::kiro::request::{MappedRequest, MappingOptions, ThinkingMode, map_request};
use dialects::{models, tokens};
use kiro_request_support::*;
use kiro_sim::models::Tier;
use kiro_sim::validate::{AccountView, ValidationConfig, validate};
use serde_json::{Value, json};

#[test]
fn spec_4_1_example_shape() {
    let mut req = request(
        SONNET,
        vec![
            user(vec![
                text("weather in Paris?"),
                Part::Image(Image::Base64 {
                    media_type: Some("image/png".into()),
                    data: PNG_1X1.into(),
                }),
            ]),
            assistant(vec![tool_use(
                "tooluse_hp_3M9xpRCiPkaT8QW777w",
                "get_weather",
                json!({"city": "Paris"}),
            )]),
            user(vec![tool_result(
                "tooluse_hp_3M9xpRCiPkaT8QW777w",
                "18C, clear",
            )]),
        ],
    );
    req.system = vec!["<system prompt>".into()];
    req.tools = vec![tool(
        "get_weather",
        "Current weather for a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )];
    let mut opts = options(SONNET);
    opts.profile_arn =
        Some("arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK".into());
    let mapped = map(&req, &opts);
    let mut body = body_json(&mapped);
    // The two values the spec example does not pin: our continuation id, and real image bytes.
    body["conversationState"]["agentContinuationId"] =
        json!("98f46eab-3f14-46cb-ba52-0d42afffc718");
    body["conversationState"]["history"][2]["userInputMessage"]["images"][0]["source"]["bytes"] =
        json!("iVBORw0KGgo...");
    let spec_example = json!({
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
    });
    assert_eq!(body, spec_example);
    assert!(mapped.notes.is_empty(), "{:?}", mapped.notes);
    sim_accepts(&mapped);
}

/// Maps a Claude Code capture the way the service will: decode, resolve the model, map.
fn claude_code(name: &str, signature_model: Option<&str>) -> (Request, MappedRequest) {
    let req = decode_request(&capture(name)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let resolved =
        models::resolve(&req.model, &BTreeMap::new()).unwrap_or_else(|e| panic!("{e:?}"));
    let spec = models::spec(&resolved.upstream_id)
        .cloned()
        .unwrap_or_else(|| panic!("no spec"));
    let mut opts = MappingOptions::new(resolved.upstream_id.clone(), spec);
    opts.thinking_forced = resolved.thinking_suffix;
    opts.signature_model = signature_model.map(str::to_owned);
    let mapped = map_request(&req, &opts).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    (req, mapped)
}

fn clip(s: &str) -> String {
    let n = s.chars().count();
    if n <= 80 {
        s.to_owned()
    } else {
        format!("{}… ({n} chars)", s.chars().take(80).collect::<String>())
    }
}

fn user_view(u: &Value) -> Value {
    let ctx = &u["userInputMessageContext"];
    json!({
        "content": clip(u["content"].as_str().unwrap_or_default()),
        "modelId": u["modelId"],
        "images": u["images"].as_array().map(|i| i.iter().map(|x| x["format"].clone()).collect::<Vec<_>>()),
        "toolResults": ctx["toolResults"].as_array().map(|rs| rs.iter().map(|r| json!({
            "toolUseId": r["toolUseId"], "status": r["status"],
            "content": r["content"].as_array().map(|c| c.iter().map(|b| clip(&b.to_string())).collect::<Vec<_>>()),
        })).collect::<Vec<_>>()),
        "tools": ctx["tools"].as_array().map(|ts| ts.iter().map(|t| t["toolSpecification"]["name"].clone()).collect::<Vec<_>>()),
        "additionalModelRequestFields": u.get("additionalModelRequestFields"),
    })
}

/// A reviewable summary of a ~80 KB body.
fn summary(mapped: &MappedRequest) -> Value {
    let body = body_json(mapped);
    let turns: Vec<Value> = history(&body)
        .iter()
        .map(|e| match (e.get("userInputMessage"), e.get("assistantResponseMessage")) {
            (Some(u), _) => json!({"user": user_view(u)}),
            (_, Some(a)) => json!({"assistant": {
                "content": clip(a["content"].as_str().unwrap_or_default()),
                "toolUses": a["toolUses"].as_array().map(|us| us.iter().map(|u| json!({"toolUseId": u["toolUseId"], "name": u["name"], "input": u["input"]})).collect::<Vec<_>>()),
                "reasoningContent": a.get("reasoningContent").is_some(),
            }}),
            _ => json!("?"),
        })
        .collect();
    json!({
        "conversationId": body["conversationState"]["conversationId"],
        "bytes": mapped.json.len(),
        "estimated_input_tokens": mapped.estimated_input_tokens,
        "thinking": format!("{:?}", mapped.thinking),
        "notes": mapped.notes,
        "history": turns,
        "current": user_view(current(&body)),
    })
}

#[test]
fn claude_code_turn_1_bash() {
    let (req, mapped) = claude_code("cc_03_bash_turn1_request", None);
    sim_accepts(&mapped);
    let body = body_json(&mapped);
    // Opus 4.8 is not in the catalogue: its family's newest, with native adaptive thinking.
    assert_eq!(current(&body)["modelId"], "claude-opus-4.7");
    assert_eq!(mapped.thinking, ThinkingMode::Native);
    // The session UUID in metadata.user_id is the conversation id.
    assert_eq!(
        body["conversationState"]["conversationId"],
        "0e463f51-faea-4060-8080-5baa47c641fe"
    );
    // System blocks and the role:"system" message form the system pair; 24 tools declared.
    assert_eq!(history(&body).len(), 2);
    let tools = current(&body)["userInputMessageContext"]["tools"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(tools, req.tools.len());
    assert_eq!(tools, 24);
    insta::assert_json_snapshot!(summary(&mapped));
}

#[test]
fn claude_code_turn_2_tool_result() {
    let (_, mapped) = claude_code("cc_04_bash_turn2_with_tool_result", None);
    let validated = sim_accepts(&mapped);
    assert_eq!(
        validated.tool_result_ids,
        ["toolu_01a417f2578f864085ab3f7f50"]
    );
    let body = body_json(&mapped);
    let h = history(&body);
    assert_eq!(
        h[3]["assistantResponseMessage"]["toolUses"][0]["name"],
        "Bash"
    );
    assert_eq!(current(&body)["content"], "");
    insta::assert_json_snapshot!(summary(&mapped));
}

#[test]
fn claude_code_tool_result_image() {
    let (_, mapped) = claude_code("cc_05_read_png_turn2_tool_result_image", None);
    let validated = sim_accepts(&mapped);
    assert_eq!(validated.image_count, 1);
    let body = body_json(&mapped);
    assert_eq!(current(&body)["images"][0]["format"], "png");
    insta::assert_json_snapshot!(summary(&mapped));
}

#[test]
fn claude_code_thinking_echoed_back() {
    // Signatures of unknown origin are stripped (N12), and the body is valid.
    let (_, stripped) = claude_code("cc_06_thinking_block_echoed_back_turn2", None);
    sim_accepts(&stripped);
    assert!(!String::from_utf8_lossy(&stripped.json).contains("reasoningContent"));

    // Trusting them forwards one per turn; this capture's fake signature is then refused with
    // THINKING_SIGNATURE_INVALID, the case the service answers by stripping and retrying once.
    let (_, trusted) = claude_code(
        "cc_06_thinking_block_echoed_back_turn2",
        Some("claude-opus-4.7"),
    );
    let body = body_json(&trusted);
    assert_eq!(
        history(&body)[3]["assistantResponseMessage"]["reasoningContent"],
        json!({"reasoningText": {"text": "I should run echo.", "signature": "sig_0f2c153d702c4ee1989f8214d0551d3c"}})
    );
    let rejection = validate(
        &trusted.json,
        &ValidationConfig::default(),
        AccountView {
            tier: Tier::Pro,
            is_api_key: false,
        },
    )
    .unwrap_err();
    assert_eq!(
        rejection.kind,
        kiro_sim::errors::ErrorKind::ThinkingSignatureInvalid
    );

    insta::assert_json_snapshot!(summary(&stripped));
}

#[test]
fn every_claude_code_message_capture_maps_and_validates() {
    for name in [
        "cc_02_messages_say_hi_default_opus",
        "cc_03_bash_turn1_request",
        "cc_04_bash_turn2_with_tool_result",
        "cc_05_read_png_turn2_tool_result_image",
        "cc_06_thinking_block_echoed_back_turn2",
        "cc_07_nonstreaming_fallback_after_stream_error",
        "cc_10_count_fallback_messages_max_tokens_1",
        "cc_11_model_haiku_thinking_enabled_budget",
        "cc_12_model_sonnet_alias",
        "cc_13_subagent_request_thinking_disabled",
        "cc_14_continue_second_prompt_history",
        "cc_15_auth_token_bearer",
    ] {
        let (req, mapped) = claude_code(name, None);
        let validated = sim_accepts(&mapped);
        // Every tool survives (names valid, descriptions within limits, schemas repaired).
        assert_eq!(validated.tool_names.len(), req.tools.len(), "{name}");
        // count_tokens and the usage fallback agree with the body's own estimate.
        let from_body = tokens::estimate_body(&mapped.json);
        let from_request = tokens::estimate_request(&req);
        let diff = from_body.abs_diff(from_request);
        assert!(
            diff <= from_request / 50 + 50,
            "{name}: body {from_body} vs request {from_request}"
        );
    }
}

#[test]
fn haiku_with_a_budget_uses_tags() {
    let (_, mapped) = claude_code("cc_11_model_haiku_thinking_enabled_budget", None);
    assert_eq!(mapped.thinking, ThinkingMode::Tags);
    let body = body_json(&mapped);
    assert_eq!(current(&body)["modelId"], "claude-haiku-4.5");
    assert!(
        history(&body)[0]["userInputMessage"]["content"]
            .as_str()
            .unwrap()
            .starts_with("<thinking_mode>enabled</thinking_mode><max_thinking_length>31999</max_thinking_length>\n")
    );
}

/// Not an assertion: prints how long mapping and estimating a ~100 KB Claude Code request take
/// (run with `--nocapture`). Debug builds are several times slower than release.
#[test]
fn timing_of_a_100_kb_request() {
    let raw = capture("cc_12_model_sonnet_alias");
    let req = decode_request(&raw).unwrap();
    let t = Instant::now();
    let _ = tokens::count_text("warm up the tokenizer");
    let init = t.elapsed();
    let t = Instant::now();
    let cold = tokens::estimate_request(&req);
    let cold_time = t.elapsed();
    let t = Instant::now();
    let warm = tokens::estimate_request(&req);
    let warm_time = t.elapsed();
    assert_eq!(cold, warm);
    let resolved = models::resolve(&req.model, &BTreeMap::new()).unwrap();
    let opts = MappingOptions::new(
        resolved.upstream_id.clone(),
        models::spec(&resolved.upstream_id).cloned().unwrap(),
    );
    let t = Instant::now();
    let runs = 20;
    let mut bytes = 0;
    for _ in 0..runs {
        bytes = map_request(&req, &opts).unwrap().json.len();
    }
    let map_time = t.elapsed() / runs;
    println!(
        "request {} bytes → body {bytes} bytes, {cold} tokens; tokenizer init {init:?}, \
         estimate cold {cold_time:?}, warm {warm_time:?}; map_request (warm) {map_time:?}",
        raw.len()
    );
}
