//! Thinking (native fields and tags), `tool_choice`, conversation ids and other mapping options.

mod kiro_request_support;

use dialects::canonical::{Effort, ErrorKind, Metadata, ThinkingConfig, ToolChoice};
use dialects::kiro::request::{ThinkingMode, map_request};
use kiro_request_support::*;
use serde_json::{Value, json};

fn fields(body: &Value) -> Option<&Value> {
    current(body).get("additionalModelRequestFields")
}

#[test]
fn native_adaptive_with_effort_on_opus_47() {
    let mut req = request(OPUS, vec![user_text("think hard")]);
    req.thinking = ThinkingConfig::Adaptive;
    req.effort = Some(Effort::High);
    let mapped = map(&req, &options(OPUS));
    let body = body_json(&mapped);
    assert_eq!(
        fields(&body),
        Some(&json!({
            "thinking": {"type": "adaptive", "display": "summarized"},
            "output_config": {"effort": "high"}
        }))
    );
    assert_eq!(mapped.thinking, ThinkingMode::Native);
    assert_eq!(sim_accepts(&mapped).thinking.as_deref(), Some("adaptive"));
}

#[test]
fn opus_47_thinks_by_default_so_default_disables_it() {
    let req = request(OPUS, vec![user_text("hi")]);
    let mapped = map(&req, &options(OPUS));
    let body = body_json(&mapped);
    assert_eq!(
        fields(&body),
        Some(&json!({"thinking": {"type": "disabled", "display": "omitted"}}))
    );
    assert_eq!(mapped.thinking, ThinkingMode::Off);
    sim_accepts(&mapped);
}

#[test]
fn sonnet_46_gets_only_what_its_schema_lists() {
    let model = "claude-sonnet-4.6";
    let mut req = request(model, vec![user_text("hi")]);
    req.thinking = ThinkingConfig::Enabled {
        budget_tokens: Some(8_000),
    };
    // xhigh is not in this schema: the nearest lower value is sent.
    req.effort = Some(Effort::XHigh);
    let mapped = map(&req, &options(model));
    let body = body_json(&mapped);
    assert_eq!(
        fields(&body),
        Some(&json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}}))
    );
    assert_eq!(mapped.thinking, ThinkingMode::Native);
    sim_accepts(&mapped);

    // Not asked for, on a model that does not think by default: nothing is sent.
    let plain = map(&request(model, vec![user_text("hi")]), &options(model));
    assert_eq!(fields(&body_json(&plain)), None);
    assert_eq!(plain.thinking, ThinkingMode::Off);

    // Explicitly disabled: sent disabled (without `display`, which the schema does not list).
    let mut off = request(model, vec![user_text("hi")]);
    off.thinking = ThinkingConfig::Disabled;
    let off = map(&off, &options(model));
    assert_eq!(
        fields(&body_json(&off)),
        Some(&json!({"thinking": {"type": "disabled"}}))
    );
    sim_accepts(&off);
}

#[test]
fn tags_prefix_the_system_turn() {
    let mut req = request(SONNET, vec![user_text("why?")]);
    req.system = vec!["Be brief.".into()];
    req.thinking = ThinkingConfig::Enabled {
        budget_tokens: Some(31_999),
    };
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    assert_eq!(mapped.thinking, ThinkingMode::Tags);
    assert_eq!(
        history(&body)[0]["userInputMessage"]["content"],
        "<thinking_mode>enabled</thinking_mode><max_thinking_length>31999</max_thinking_length>\nBe brief."
    );
    assert_eq!(current(&body)["content"], "why?");
    assert_eq!(fields(&body), None);
    sim_accepts(&mapped);
    insta::assert_json_snapshot!(body);
}

#[test]
fn tags_prefix_the_first_user_turn_without_system() {
    let mut req = request(
        SONNET,
        vec![user_text("one"), assistant_text("two"), user_text("three")],
    );
    req.thinking = ThinkingConfig::Adaptive;
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    assert_eq!(
        history(&body)[0]["userInputMessage"]["content"],
        "<thinking_mode>enabled</thinking_mode><max_thinking_length>16000</max_thinking_length>\none"
    );
    assert_eq!(current(&body)["content"], "three");

    // A first-turn request: the current message is the first user turn.
    let single = map(&request(SONNET, vec![user_text("only")]), &{
        let mut o = options(SONNET);
        o.thinking_forced = true;
        o
    });
    assert!(
        current(&body_json(&single))["content"]
            .as_str()
            .unwrap()
            .starts_with("<thinking_mode>enabled</thinking_mode>")
    );
    assert_eq!(single.thinking, ThinkingMode::Tags);
}

#[test]
fn non_claude_models_get_no_thinking() {
    let model = "deepseek-3.2";
    let mut req = request(model, vec![user_text("hi")]);
    req.thinking = ThinkingConfig::Adaptive;
    req.effort = Some(Effort::High);
    let mapped = map(&req, &options(model));
    let body = body_json(&mapped);
    assert_eq!(fields(&body), None);
    assert_eq!(current(&body)["content"], "hi");
    assert_eq!(mapped.thinking, ThinkingMode::Off);
    sim_accepts(&mapped);
}

fn tool_turns() -> dialects::canonical::Request {
    let mut req = request(
        SONNET,
        vec![
            user_text("run it"),
            assistant(vec![tool_use("t1", "Bash", json!({"x": "ls"}))]),
            user(vec![tool_result("t1", "a b")]),
        ],
    );
    req.tools = vec![
        simple_tool("Bash"),
        simple_tool("Read"),
        simple_tool("my.tool"),
    ];
    req
}

fn tool_names(body: &Value) -> Vec<String> {
    current(body)["userInputMessageContext"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            t["toolSpecification"]["name"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[test]
fn tool_choice_none_offers_only_what_history_needs() {
    let mut req = tool_turns();
    req.tool_choice = ToolChoice::None;
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    assert_eq!(tool_names(&body), ["Bash"]);
    assert_eq!(current(&body)["content"], "");
    sim_accepts(&mapped);

    // No history tool use: no tools at all.
    let mut fresh = request(SONNET, vec![user_text("hi")]);
    fresh.tools = vec![simple_tool("Bash")];
    fresh.tool_choice = ToolChoice::None;
    let body = body_json(&map(&fresh, &options(SONNET)));
    assert!(current(&body).get("userInputMessageContext").is_none());
}

#[test]
fn tool_choice_any_and_named_append_one_sentence() {
    let mut req = tool_turns();
    req.tool_choice = ToolChoice::Any;
    let body = body_json(&map(&req, &options(SONNET)));
    assert_eq!(
        current(&body)["content"],
        "Respond by calling one or more of the available tools."
    );
    assert_eq!(tool_names(&body).len(), 3);

    // The named tool is called by its upstream (N10) name.
    req.tool_choice = ToolChoice::Tool("my.tool".into());
    req.messages.push(user_text("now this"));
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    assert_eq!(
        current(&body)["content"],
        "now this\n\nRespond by calling the my_tool tool."
    );
    sim_accepts(&mapped);

    req.tool_choice = ToolChoice::Tool("Missing".into());
    let err = map_request(&req, &options(SONNET)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(err.param.as_deref(), Some("tool_choice"));

    // `any` without tools is ignored.
    let mut bare = request(SONNET, vec![user_text("hi")]);
    bare.tool_choice = ToolChoice::Any;
    assert_eq!(
        current(&body_json(&map(&bare, &options(SONNET))))["content"],
        "hi"
    );
}

#[test]
fn empty_request_is_a_client_error() {
    let err = map_request(&request(SONNET, vec![]), &options(SONNET)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(err.param.as_deref(), Some("messages"));
}

#[test]
fn conversation_ids_are_stable_per_conversation() {
    let mut opts = options(SONNET);
    opts.conversation_id = None;
    let ids = |req: &dialects::canonical::Request,
               opts: &dialects::kiro::request::MappingOptions| {
        let body = body_json(&map(req, opts));
        let state = &body["conversationState"];
        (
            state["conversationId"].as_str().unwrap().to_owned(),
            state["agentContinuationId"].as_str().unwrap().to_owned(),
        )
    };
    let mut turn1 = request(SONNET, vec![user_text("hello")]);
    turn1.system = vec!["sys".into()];
    let mut turn2 = turn1.clone();
    turn2.messages.push(assistant_text("hi"));
    turn2.messages.push(user_text("more"));
    let (c1, a1) = ids(&turn1, &opts);
    let (c2, a2) = ids(&turn2, &opts);
    assert_eq!(c1, c2);
    assert_eq!(a1, a2);
    assert_ne!(c1, a1);
    assert!(uuid::Uuid::parse_str(&c1).is_ok());
    let mut other = turn1.clone();
    other.messages[0] = user_text("a different conversation");
    assert_ne!(ids(&other, &opts).0, c1);

    // A session UUID is used verbatim; another session string is hashed.
    let mut with_session = turn1.clone();
    with_session.metadata = Metadata {
        user_id: None,
        session_id: Some("0E463F51-FAEA-4060-8080-5BAA47C641FE".into()),
    };
    assert_eq!(
        ids(&with_session, &opts).0,
        "0e463f51-faea-4060-8080-5baa47c641fe"
    );
    with_session.metadata.session_id = Some("session-abc".into());
    let hashed = ids(&with_session, &opts).0;
    assert!(uuid::Uuid::parse_str(&hashed).is_ok());
    assert_ne!(hashed, c1);

    // The service's id wins over everything.
    opts.conversation_id = Some(CONVERSATION.into());
    assert_eq!(ids(&with_session, &opts).0, CONVERSATION);
}

#[test]
fn profile_arn_only_when_given_and_output_is_deterministic() {
    let req = tool_turns();
    let mut opts = options(SONNET);
    let first = map(&req, &opts);
    assert!(body_json(&first).get("profileArn").is_none());
    assert_eq!(map(&req, &opts).json, first.json);
    opts.profile_arn =
        Some("arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK".into());
    let with_arn = map(&req, &opts);
    assert_eq!(
        body_json(&with_arn)["profileArn"],
        "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"
    );
}
