//! Token estimates (spec §7.6 item 3): `count_text`, `estimate_request`, `estimate_body`.

mod kiro_request_support;

use dialects::canonical::{Part, ToolResult, ToolResultContent};
use dialects::tokens::{
    HIDDEN_PROMPT_TOKENS, IMAGE_TOKENS, count_text, estimate_body, estimate_request,
};
use kiro_request_support::*;
use serde_json::json;

#[test]
fn count_text_sanity() {
    assert_eq!(count_text(""), 0);
    assert_eq!(count_text("hello"), 1);
    assert_eq!(count_text("hello world"), 2);
    let english = "The quick brown fox jumps over the lazy dog. ".repeat(50);
    let n = count_text(&english);
    // About four characters per token on English prose.
    assert!(
        (english.len() as u64 / 6..english.len() as u64 / 3).contains(&n),
        "{n}"
    );
    // Multi-byte text never panics and counts something.
    assert!(count_text("日本語のテキスト 🎉") > 0);
}

#[test]
fn estimate_grows_with_every_kind_of_content() {
    let base = request(SONNET, vec![user_text("hi")]);
    let e0 = estimate_request(&base);
    assert!(e0 > HIDDEN_PROMPT_TOKENS);

    let mut more_text = base.clone();
    more_text
        .messages
        .push(assistant_text("a longer answer with several words"));
    more_text
        .messages
        .push(user_text("and a follow-up question"));
    let e1 = estimate_request(&more_text);
    assert!(e1 > e0);

    let mut with_system = more_text.clone();
    with_system.system = vec!["You are a careful assistant.".into()];
    let e2 = estimate_request(&with_system);
    assert!(e2 > e1);

    let mut with_tools = with_system.clone();
    with_tools.tools = vec![simple_tool("lookup")];
    let e3 = estimate_request(&with_tools);
    assert!(e3 > e2);

    let mut with_tool_turns = with_tools.clone();
    with_tool_turns.messages.push(assistant(vec![tool_use(
        "t1",
        "lookup",
        json!({"x": "paris"}),
    )]));
    with_tool_turns
        .messages
        .push(user(vec![Part::ToolResult(ToolResult {
            tool_use_id: "t1".into(),
            content: vec![
                ToolResultContent::Text("18C".into()),
                ToolResultContent::Json(json!({"wind": 3})),
            ],
            is_error: false,
        })]));
    let e4 = estimate_request(&with_tool_turns);
    assert!(e4 > e3);
}

#[test]
fn images_count_a_fixed_amount() {
    let plain = request(SONNET, vec![user(vec![text("look")])]);
    let one = request(
        SONNET,
        vec![user(vec![text("look"), Part::Image(png("image/png"))])],
    );
    let in_result = request(
        SONNET,
        vec![user(vec![
            text("look"),
            Part::ToolResult(ToolResult {
                tool_use_id: "t".into(),
                content: vec![ToolResultContent::Image(png("image/png"))],
                is_error: false,
            }),
        ])],
    );
    assert_eq!(
        estimate_request(&one) - estimate_request(&plain),
        IMAGE_TOKENS
    );
    assert_eq!(
        estimate_request(&in_result) - estimate_request(&plain),
        IMAGE_TOKENS
    );

    // The body estimate charges the same per image, not the base64 length.
    let mapped = map(&one, &options(SONNET));
    let plain_mapped = map(&plain, &options(SONNET));
    assert_eq!(
        estimate_body(&mapped.json) - estimate_body(&plain_mapped.json),
        IMAGE_TOKENS
    );
}

#[test]
fn request_and_body_estimates_agree() {
    let mut req = request(
        SONNET,
        vec![
            user_text("What is the weather in Paris and in Rome today?"),
            assistant(vec![
                text("Let me check."),
                tool_use("t1", "get_weather", json!({"city": "Paris"})),
            ]),
            user(vec![tool_result("t1", "18C, clear")]),
        ],
    );
    req.system = vec!["You answer weather questions.".into()];
    req.tools = vec![simple_tool("get_weather")];
    let mapped = map(&req, &options(SONNET));
    assert_eq!(mapped.estimated_input_tokens, estimate_request(&req));
    let body = estimate_body(&mapped.json);
    // The body adds only the system pair's acknowledgement.
    let ack = count_text("I will follow these instructions.");
    assert_eq!(body, mapped.estimated_input_tokens + ack);
}
