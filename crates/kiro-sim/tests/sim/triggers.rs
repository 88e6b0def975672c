//! In-band `[[sim:…]]` markers, for clients that cannot call the control API.

use kiro_sim::accounts::AccountKind;
use kiro_wire::Event;
use kiro_wire::event::ToolInput;
use serde_json::{Value, json};

use crate::common::*;

#[tokio::test]
async fn echo_long_thinking_and_error_markers() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);

    let text = "[[sim:echo]] Exact text: naïve 日本 🙂 \"quoted\"\n";
    let (_, _, bytes) = sim.chat(&a, text).await;
    assert_eq!(text_of(&events(&bytes)), text);

    let (_, _, bytes) = sim.chat(&a, "[[sim:long 300]]").await;
    let ev = events(&bytes);
    assert_eq!(text_of(&ev).split_whitespace().count(), 300);

    let (_, _, bytes) = sim.chat(&a, "[[sim:thinking]] hi").await;
    let ev = events(&bytes);
    assert!(matches!(&ev[0], Event::Reasoning(_)));
    assert!(
        ev.iter()
            .any(|e| matches!(e, Event::Reasoning(r) if r.signature.is_some()))
    );

    let (s, _, body) = sim
        .chat(&a, "[[sim:error service_request_rate_exceeded]]")
        .await;
    assert_eq!(s, 429);
    assert!(String::from_utf8_lossy(&body).contains("SERVICE_REQUEST_RATE_EXCEEDED"));
    let resp = sim
        .chat_request(
            &a,
            &chat_body(
                "[[sim:error throttling status=400 retry_after=9]]",
                "claude-sonnet-4.5",
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.headers()["retry-after"], "9");
}

#[tokio::test]
async fn tool_marker_fires_on_the_first_turn_only() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);
    let (_, _, bytes) = sim
        .chat(
            &a,
            r#"Please [[sim:tool Bash {"command":"echo MARKER_1"}]]"#,
        )
        .await;
    let ev = events(&bytes);
    let mut input = String::new();
    let mut name = None;
    for e in &ev {
        if let Event::ToolUse(t) = e {
            name = Some(t.name.clone());
            if let Some(ToolInput::Fragment(f)) = &t.input {
                input.push_str(f);
            }
        }
    }
    assert_eq!(name.as_deref(), Some("Bash"));
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"command": "echo MARKER_1"})
    );
    assert!(text_of(&ev).is_empty());

    // The follow-up turn carries the tool result: the marker is ignored, text comes back.
    let body = tool_result_body(r#"[[sim:tool Bash {"command":"echo MARKER_1"}]]"#);
    let (s, _, bytes) = sim.chat_body(&a, &body).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&bytes));
    let ev = events(&bytes);
    assert!(!ev.iter().any(|e| matches!(e, Event::ToolUse(_))));
    assert!(!text_of(&ev).is_empty());
    // Without text in the tool-result turn the default answer acknowledges the results.
    let (_, _, bytes) = sim.chat_body(&a, &tool_result_body("")).await;
    assert!(text_of(&events(&bytes)).contains("1 tool result"));
}

#[tokio::test]
async fn fault_and_shape_markers() {
    let sim = Sim::start().await;
    let a = sim.account(AccountKind::Social);

    let (_, _, bytes) = sim.chat(&a, "[[sim:truncate-tool 5000]]").await;
    let types = event_types(&events(&bytes));
    assert!(!types.contains(&"contextUsageEvent".to_owned()));

    let t = std::time::Instant::now();
    let (_, _, bytes) = sim.chat(&a, "[[sim:pace 5]] [[sim:chunk 20]]").await;
    let frames_n = frames(&bytes).len();
    assert!(t.elapsed() >= std::time::Duration::from_millis(5 * (frames_n as u64 - 2)));

    let (_, _, bytes) = sim
        .chat(&a, "[[sim:exception ContentLengthExceededException]]")
        .await;
    assert!(
        event_types(&events(&bytes))
            .contains(&"exception:ContentLengthExceededException".to_owned())
    );

    let (_, ct, bytes) = sim.chat(&a, "[[sim:json-body throttling]]").await;
    assert_eq!(ct, "application/json");
    assert!(String::from_utf8_lossy(&bytes).contains("ThrottlingException"));

    let (_, _, bytes) = sim.chat(&a, "[[sim:tail metering]]").await;
    let types = event_types(&events(&bytes));
    assert_eq!(types.last().unwrap(), "meteringEvent");
    assert_eq!(
        types.iter().filter(|t| !t.starts_with("assistant")).count(),
        1
    );

    let (_, _, bytes) = sim.chat(&a, "[[sim:surrogate]]").await;
    assert!(String::from_utf8_lossy(&bytes).contains(r"\uD83D"));

    // A whole script inline.
    let (_, _, bytes) = sim
        .chat(&a, r#"[[sim:script {"parts":[{"type":"text","text":"scripted [[inline]]"}],"tail":{"metering":false}}]]"#)
        .await;
    let ev = events(&bytes);
    assert_eq!(text_of(&ev), "scripted [[inline]]");
    assert!(!event_types(&ev).contains(&"meteringEvent".to_owned()));

    // Markers can be switched off.
    sim.control(
        reqwest::Method::PATCH,
        "/settings",
        json!({"triggers": false}),
    )
    .await;
    let (s, _, bytes) = sim.chat(&a, "[[sim:error throttling]]").await;
    assert_eq!(s, 200);
    assert!(text_of(&events(&bytes)).starts_with("Simulated reply to: «[[sim:error throttling]]»"));
}
