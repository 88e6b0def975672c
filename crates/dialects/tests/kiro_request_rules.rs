//! One golden test per normalisation rule N1–N15 (spec §4.6): canonical request → Kiro body,
//! reviewed as a snapshot, with the rule's key property asserted in code and every accepted
//! body checked by the simulator's independent V1–V13 validator.

mod kiro_request_support;

use dialects::canonical::{ErrorKind, Image, Part, ServerTool, ToolResult, ToolResultContent};
use dialects::kiro::request::map_request;
use kiro_request_support::*;
use serde_json::{Value, json};

fn golden(mapped: &dialects::kiro::request::MappedRequest) -> Value {
    sim_accepts(mapped);
    json!({"notes": mapped.notes, "body": body_json(mapped)})
}

fn has_note(mapped: &dialects::kiro::request::MappedRequest, prefix: &str) -> bool {
    mapped.notes.iter().any(|n| n.starts_with(prefix))
}

#[test]
fn n01_convert() {
    let mut req = request(
        SONNET,
        vec![
            user(vec![text("first block"), text(""), text("second block")]),
            assistant(vec![
                Part::Thinking {
                    text: "hmm".into(),
                    signature: Some("sig".into()),
                },
                text("Let me look."),
                // An OpenAI `arguments` string that parses, and one that is not an object.
                tool_use("toolu_1", "lookup", json!("{\"q\":\"paris\"}")),
                tool_use("toolu_2", "lookup", json!([1, 2])),
            ]),
            user(vec![
                Part::ToolResult(ToolResult {
                    tool_use_id: "toolu_1".into(),
                    content: vec![
                        ToolResultContent::Text("line 1".into()),
                        ToolResultContent::Text("line 2".into()),
                        ToolResultContent::Json(json!({"temp": 18})),
                    ],
                    is_error: true,
                }),
                tool_result("toolu_2", "ok"),
                text("thanks"),
            ]),
        ],
    );
    req.tools = vec![simple_tool("lookup")];
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    let h = history(&body);
    assert_eq!(
        h[0]["userInputMessage"]["content"],
        "first block\n\nsecond block"
    );
    let uses = &h[1]["assistantResponseMessage"]["toolUses"];
    assert_eq!(uses[0]["input"], json!({"q": "paris"}));
    assert_eq!(uses[1]["input"], json!({}));
    assert!(
        h[1]["assistantResponseMessage"]
            .get("reasoningContent")
            .is_none()
    );
    let results = &current(&body)["userInputMessageContext"]["toolResults"];
    assert_eq!(results[0]["status"], "error");
    assert_eq!(
        results[0]["content"],
        json!([{"text": "line 1\n\nline 2"}, {"json": {"temp": 18}}])
    );
    assert_eq!(results[1]["status"], "success");
    assert_eq!(current(&body)["content"], "thanks");
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n02_system_pair() {
    let mut req = request(SONNET, vec![user_text("hi")]);
    req.system = vec![
        "You are terse.".into(),
        "".into(),
        "Answer in French.".into(),
    ];
    let with_messages = map(&req, &options(SONNET));
    let body = body_json(&with_messages);
    let h = history(&body);
    assert_eq!(h.len(), 2);
    assert_eq!(
        h[0]["userInputMessage"]["content"],
        "You are terse.\n\nAnswer in French."
    );
    assert_eq!(
        h[1]["assistantResponseMessage"]["content"],
        "I will follow these instructions."
    );
    assert_eq!(current(&body)["content"], "hi");

    req.messages.clear();
    let system_only = map(&req, &options(SONNET));
    let body = body_json(&system_only);
    assert_eq!(history(&body).len(), 2);
    assert_eq!(current(&body)["content"], "Continue");

    insta::assert_json_snapshot!(json!({
        "with_messages": golden(&with_messages),
        "system_only": golden(&system_only),
    }));
}

#[test]
fn n03_merge_adjacent_turns() {
    let mut req = request(
        SONNET,
        vec![
            user_text("a"),
            user(vec![text("b"), Part::Image(png("image/png"))]),
            assistant(vec![text("c"), tool_use("t1", "lookup", json!({"x": "1"}))]),
            assistant(vec![tool_use("t2", "lookup", json!({"x": "2"}))]),
            user(vec![tool_result("t1", "one")]),
            user(vec![tool_result("t2", "two"), text("next")]),
        ],
    );
    req.tools = vec![simple_tool("lookup")];
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    let h = history(&body);
    assert_eq!(h.len(), 2);
    assert_eq!(h[0]["userInputMessage"]["content"], "a\n\nb");
    assert_eq!(
        h[0]["userInputMessage"]["images"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(h[1]["assistantResponseMessage"]["content"], "c");
    assert_eq!(
        h[1]["assistantResponseMessage"]["toolUses"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let results = &current(&body)["userInputMessageContext"]["toolResults"];
    assert_eq!(results.as_array().map(Vec::len), Some(2));
    assert_eq!(current(&body)["content"], "next");
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n04_leading_assistant_turn() {
    let req = request(SONNET, vec![assistant_text("I am ready."), user_text("go")]);
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    let h = history(&body);
    assert_eq!(h[0]["userInputMessage"]["content"], ".");
    assert_eq!(h[1]["assistantResponseMessage"]["content"], "I am ready.");
    assert!(has_note(&mapped, "N4"));
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n05_trailing_assistant_prefill_dropped() {
    let req = request(
        SONNET,
        vec![
            user_text("q1"),
            assistant_text("a1"),
            user_text("q2"),
            assistant_text("{\"partial\": "),
        ],
    );
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    assert_eq!(history(&body).len(), 2);
    assert_eq!(current(&body)["content"], "q2");
    assert!(has_note(&mapped, "N5"));
    assert!(!String::from_utf8_lossy(&mapped.json).contains("partial"));
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n06_tool_pairing_repair() {
    let mut req = request(
        SONNET,
        vec![
            // A result with no tool call before it: kept as text.
            user(vec![
                text("start"),
                tool_result("toolu_orphan", "stray output"),
            ]),
            assistant(vec![
                tool_use("t1", "lookup", json!({"x": "1"})),
                tool_use("t2", "lookup", json!({"x": "2"})),
                tool_use("t1", "lookup", json!({"x": "1 again"})),
            ]),
            // t1 answered twice (the last wins), t2 never.
            user(vec![
                tool_result("t1", "first"),
                tool_result("t1", "second"),
            ]),
            assistant(vec![
                text("done"),
                tool_use("t3", "lookup", json!({"x": "3"})),
            ]),
            // t3 never answered.
            user_text("next"),
        ],
    );
    req.tools = vec![simple_tool("lookup")];
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    let h = history(&body);
    assert_eq!(h[0]["userInputMessage"]["content"], "start\n\nstray output");
    assert!(
        h[0]["userInputMessage"]
            .get("userInputMessageContext")
            .is_none()
    );
    let ids: Vec<&str> = h[1]["assistantResponseMessage"]["toolUses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["toolUseId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["t1", "t2"]);
    let results = &h[2]["userInputMessage"]["userInputMessageContext"]["toolResults"];
    assert_eq!(
        results,
        &json!([
            {"toolUseId": "t1", "status": "success", "content": [{"text": "second"}]},
            {"toolUseId": "t2", "status": "error", "content": [{"text": "Tool call was not executed."}]}
        ])
    );
    assert_eq!(
        current(&body)["userInputMessageContext"]["toolResults"],
        json!([{"toolUseId": "t3", "status": "error", "content": [{"text": "Tool call was not executed."}]}])
    );
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n07_placeholder_tool_specs() {
    let mut req = request(
        SONNET,
        vec![
            user_text("list files"),
            assistant(vec![
                tool_use("t1", "Bash", json!({"x": "ls"})),
                tool_use("t2", "Read", json!({"file_path": "/a"})),
            ]),
            user(vec![tool_result("t1", "a"), tool_result("t2", "contents")]),
        ],
    );
    // Declared in another case: no placeholder (V4 is case-insensitive).
    req.tools = vec![simple_tool("bash")];
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    let tools = current(&body)["userInputMessageContext"]["tools"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(tools.len(), 2);
    assert_eq!(tools[0]["toolSpecification"]["name"], "bash");
    assert_eq!(
        tools[1],
        json!({"toolSpecification": {
            "name": "Read",
            "description": "Tool used earlier in this conversation.",
            "inputSchema": {"json": {"type": "object", "properties": {}, "additionalProperties": true}}
        }})
    );
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n08_schema_repair() {
    let messy = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "properties": {
            "mode": {"anyOf": [{"const": "fast"}, {"const": "slow", "description": "careful"}]},
            "node": {"$ref": "#/$defs/node"},
            "point": {"$ref": "#/definitions/point", "description": "where"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "bad": {"properties": ["not", "an", "object"]},
            "loose": {"type": "object", "properties": {}, "additionalProperties": "yes"},
            "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}]}
        },
        "required": ["mode", "mode", "ghost", 5],
        "$defs": {"node": {"type": "object", "properties": {
            "value": {"type": "string"}, "child": {"$ref": "#/$defs/node"}}}},
        "definitions": {"point": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}}
    });
    let mut req = request(SONNET, vec![user_text("go")]);
    req.tools = vec![
        tool("messy", "A messy schema.", messy),
        tool("no_schema", "Null schema.", Value::Null),
        tool(
            "bad_required",
            "Required is a string.",
            json!({"type": "object", "properties": {"x": {}}, "required": "x"}),
        ),
    ];
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    let tools = &current(&body)["userInputMessageContext"]["tools"];
    let s = &tools[0]["toolSpecification"]["inputSchema"]["json"];
    assert_eq!(s["type"], "object");
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert_eq!(s["required"], json!(["mode"]));
    assert_eq!(s["properties"]["mode"]["enum"], json!(["fast", "slow"]));
    assert_eq!(s["properties"]["mode"]["type"], "string");
    assert!(s["properties"]["mode"].get("anyOf").is_none());
    assert_eq!(s["properties"]["point"]["description"], "where");
    assert_eq!(
        s["properties"]["point"]["properties"]["x"]["type"],
        "number"
    );
    assert_eq!(
        s["properties"]["node"]["properties"]["child"]["properties"]["value"]["type"],
        "string"
    );
    assert_eq!(
        s["properties"]["bad"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(s["properties"]["loose"]["additionalProperties"], true);
    // A nullable anyOf is not all consts: left alone.
    assert_eq!(
        s["properties"]["maybe"],
        json!({"anyOf": [{"type": "string"}, {"type": "null"}]})
    );
    let text = s.to_string();
    assert!(!text.contains("$ref") && !text.contains("$defs") && !text.contains("definitions"));
    assert_eq!(
        tools[1]["toolSpecification"]["inputSchema"]["json"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(
        tools[2]["toolSpecification"]["inputSchema"]["json"]["required"],
        json!([])
    );
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n09_descriptions() {
    let mut req = request(SONNET, vec![user_text("go")]);
    req.tools = vec![
        tool(
            "long",
            "Résumé of everything: é é é é é é é é é é é é é é é é é é é é é é é é é.",
            json!({"type": "object", "properties": {}}),
        ),
        tool("blank", "   ", json!({"type": "object", "properties": {}})),
    ];
    let mut opts = options(SONNET);
    opts.description_limit = 40;
    let mapped = map(&req, &opts);
    let body = body_json(&mapped);
    let tools = &current(&body)["userInputMessageContext"]["tools"];
    let long = tools[0]["toolSpecification"]["description"]
        .as_str()
        .unwrap();
    assert_eq!(long.chars().count(), 40);
    assert!(long.ends_with('…'));
    assert!(long.starts_with("Résumé of everything: é"));
    assert_eq!(tools[1]["toolSpecification"]["description"], "blank");
    assert!(has_note(&mapped, "N9"));

    // The default limit: 10,000 scalar values, accepted by the simulator's V6.
    let mut req = request(SONNET, vec![user_text("go")]);
    req.tools = vec![tool(
        "huge",
        &"é".repeat(10_050),
        json!({"type": "object", "properties": {}}),
    )];
    let huge = map(&req, &options(SONNET));
    let hb = body_json(&huge);
    let d = hb["conversationState"]["currentMessage"]["userInputMessage"]["userInputMessageContext"]
        ["tools"][0]["toolSpecification"]["description"]
        .as_str()
        .unwrap();
    assert_eq!(d.chars().count(), 10_000);
    assert!(d.ends_with("é…"));
    sim_accepts(&huge);

    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n10_tool_names() {
    let weird = "mcp.server/search files";
    let long = format!("mcp__{}", "very_long_server_name_".repeat(4));
    let mut req = request(
        SONNET,
        vec![
            user_text("search"),
            assistant(vec![tool_use("t1", weird, json!({"x": "q"}))]),
            user(vec![tool_result("t1", "found")]),
        ],
    );
    req.tools = vec![
        simple_tool(weird),
        simple_tool(&long),
        simple_tool("a.b"),
        simple_tool("a_b"),
    ];
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    let names: Vec<String> = current(&body)["userInputMessageContext"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toolSpecification"]["name"].as_str().unwrap().to_owned())
        .collect();
    for name in &names {
        assert!(name.len() <= 64, "{name}");
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        );
    }
    assert_eq!(names[0], "mcp_server_search_files");
    assert_eq!(names[1].len(), 64);
    assert_eq!(names[3], "a_b");
    assert_ne!(names[2], "a_b");
    // History uses the same upstream name, and the reverse map restores every client name.
    assert_eq!(
        history(&body)[1]["assistantResponseMessage"]["toolUses"][0]["name"],
        names[0]
    );
    let clients: Vec<&str> = names
        .iter()
        .map(|n| mapped.tool_names.client_name(n))
        .collect();
    assert_eq!(clients, [weird, long.as_str(), "a.b", "a_b"]);
    assert_eq!(mapped.tool_names.len(), 3);
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n11_empty_content() {
    let mut req = request(
        SONNET,
        vec![
            user(vec![text("   ")]),
            assistant(vec![]),
            user_text("go on"),
            assistant(vec![tool_use("t1", "lookup", json!({"x": "1"}))]),
            user(vec![tool_result("t1", "")]),
        ],
    );
    req.tools = vec![simple_tool("lookup")];
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    let h = history(&body);
    assert_eq!(h[0]["userInputMessage"]["content"], ".");
    assert_eq!(h[1]["assistantResponseMessage"]["content"], ".");
    assert_eq!(h[3]["assistantResponseMessage"]["content"], "");
    assert_eq!(current(&body)["content"], "");
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n12_reasoning_history() {
    let thought = "I should run echo.";
    let signature = kiro_sim::signature::sign(OPUS, thought);
    let mut req = request(
        OPUS,
        vec![
            user_text("run echo"),
            assistant(vec![
                Part::Thinking {
                    text: thought.into(),
                    signature: Some(signature.clone()),
                },
                Part::Thinking {
                    text: "A second block.".into(),
                    signature: Some("c2Vjb25k".into()),
                },
                tool_use("t1", "Bash", json!({"x": "echo hi"})),
            ]),
            user(vec![tool_result("t1", "hi")]),
            assistant(vec![
                Part::RedactedThinking {
                    data: b64(b"opaque"),
                },
                text("Done."),
            ]),
            user_text("again"),
        ],
    );
    req.tools = vec![simple_tool("Bash")];

    let mut trusted = options(OPUS);
    trusted.signature_model = Some(OPUS.into());
    let replayed = map(&req, &trusted);
    let body = body_json(&replayed);
    let h = history(&body);
    assert_eq!(
        h[1]["assistantResponseMessage"]["reasoningContent"],
        json!({"reasoningText": {"text": thought, "signature": signature}})
    );
    assert_eq!(
        h[3]["assistantResponseMessage"]["reasoningContent"],
        json!({"redactedContent": b64(b"opaque")})
    );

    // Signatures from another model (or of unknown origin) are stripped.
    let mut other = options(OPUS);
    other.signature_model = Some("claude-sonnet-4.6".into());
    let stripped = map(&req, &other);
    assert!(!String::from_utf8_lossy(&stripped.json).contains("reasoningContent"));
    let unknown = map(&req, &options(OPUS));
    assert_eq!(unknown.json, stripped.json);

    insta::assert_json_snapshot!(json!({
        "trusted": golden(&replayed),
        "other_model": golden(&stripped),
    }));
}

#[test]
fn n13_images() {
    // 200 bytes of "PNG": valid but over the 100-byte limit set below.
    let mut big = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    big.resize(200, 0);
    let wrapped = {
        let s = PNG_1X1;
        format!("{}\n{}", &s[..40], &s[40..])
    };
    let req = request(
        SONNET,
        vec![
            user(vec![
                text("old picture"),
                Part::Image(Image::Base64 {
                    media_type: Some("image/png".into()),
                    data: b64(&big),
                }),
            ]),
            assistant(vec![tool_use("t1", "Read", json!({"file_path": "/p.png"}))]),
            user(vec![
                Part::ToolResult(ToolResult {
                    tool_use_id: "t1".into(),
                    content: vec![ToolResultContent::Image(png("image/png"))],
                    is_error: false,
                }),
                // The client claims JPEG; the bytes say PNG. Line-wrapped base64 is re-encoded.
                Part::Image(Image::Base64 {
                    media_type: Some("image/jpeg".into()),
                    data: wrapped,
                }),
            ]),
        ],
    );
    let mut opts = options(SONNET);
    opts.max_image_bytes = 100;
    let mapped = map(&req, &opts);
    let body = body_json(&mapped);
    let h = history(&body);
    assert!(h[0]["userInputMessage"].get("images").is_none());
    assert!(has_note(&mapped, "N13: messages[0].content[1]"));
    let images = current(&body)["images"].as_array().unwrap().clone();
    assert_eq!(images.len(), 2);
    for image in &images {
        assert_eq!(image["format"], "png");
        assert_eq!(image["source"]["bytes"], PNG_1X1);
    }
    // The tool result keeps an (empty) text block; the image moved to the message.
    assert_eq!(
        current(&body)["userInputMessageContext"]["toolResults"][0]["content"],
        json!([{"text": ""}])
    );

    // The same problems in the current turn are client errors naming the field.
    let bad = |image: Image| {
        let req = request(SONNET, vec![user(vec![text("look"), Part::Image(image)])]);
        map_request(&req, &opts).unwrap_err()
    };
    let err = bad(Image::Base64 {
        media_type: Some("image/png".into()),
        data: b64(&big),
    });
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(
        err.param.as_deref(),
        Some("messages[0].content[1].source.data")
    );
    let err = bad(Image::Base64 {
        media_type: None,
        data: "not base64!!".into(),
    });
    assert!(err.message.contains("base64"), "{err:?}");
    let err = bad(Image::Base64 {
        media_type: Some("image/bmp".into()),
        data: b64(b"BM\x00\x00\x00\x00"),
    });
    assert!(err.message.contains("unsupported image format"), "{err:?}");
    let err = bad(Image::Url("https://example.com/a.png".into()));
    assert_eq!(
        err.param.as_deref(),
        Some("messages[0].content[1].source.url")
    );
    // A text-only model refuses images in the current turn.
    let req = request(
        "deepseek-3.2",
        vec![user(vec![text("look"), Part::Image(png("image/png"))])],
    );
    let err = map_request(&req, &options("deepseek-3.2")).unwrap_err();
    assert!(err.message.contains("does not accept images"), "{err:?}");

    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n14_model_id_origin_and_server_tools() {
    let mut req = request(
        SONNET,
        vec![user_text("one"), assistant_text("two"), user_text("three")],
    );
    req.system = vec!["sys".into()];
    req.server_tools = vec![ServerTool {
        kind: "web_search_20250305".into(),
        name: "web_search".into(),
        config: json!({"max_uses": 5}),
    }];
    let mapped = map(&req, &options(SONNET));
    let body = body_json(&mapped);
    let mut users: Vec<&Value> = history(&body)
        .iter()
        .filter_map(|e| e.get("userInputMessage"))
        .collect();
    users.push(current(&body));
    assert_eq!(users.len(), 3);
    for u in users {
        assert_eq!(u["modelId"], SONNET);
        assert_eq!(u["origin"], "AI_EDITOR");
    }
    assert!(!String::from_utf8_lossy(&mapped.json).contains("web_search"));
    assert!(has_note(&mapped, "N14: server tool web_search"));
    let state = &body["conversationState"];
    assert_eq!(state["chatTriggerType"], "MANUAL");
    assert_eq!(state["agentTaskType"], "vibe");
    assert!(body.get("profileArn").is_none());
    insta::assert_json_snapshot!(golden(&mapped));
}

#[test]
fn n15_size_guard() {
    let filler = |tag: &str| format!("{tag} {}", "x".repeat(400));
    let mut req = request(
        SONNET,
        vec![
            user_text(&filler("u0")),
            assistant(vec![tool_use("t0", "lookup", json!({"x": "0"}))]),
            user(vec![tool_result("t0", &filler("r0")), text("and then")]),
            assistant_text(&filler("a1")),
            user_text(&filler("u2")),
            assistant_text(&filler("a2")),
            user_text("latest question"),
        ],
    );
    req.system = vec!["Be brief.".into()];
    req.tools = vec![simple_tool("lookup")];
    let mut opts = options(SONNET);
    opts.max_body_bytes = 2_600;

    let err = map_request(&req, &opts).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ContextLengthExceeded);
    assert!(
        err.message.starts_with("prompt is too long: "),
        "{}",
        err.message
    );

    opts.trim_history = true;
    let mapped = map(&req, &opts);
    assert!(mapped.json.len() <= 2_600);
    let body = body_json(&mapped);
    let h = history(&body);
    // The system pair stays; dropping (u0, a0) alone would orphan r0, so (u1, a1) went too.
    assert_eq!(h[0]["userInputMessage"]["content"], "Be brief.");
    assert!(
        h[2]["userInputMessage"]["content"]
            .as_str()
            .unwrap()
            .starts_with("u2 ")
    );
    assert_eq!(h.len(), 4);
    assert!(has_note(&mapped, "N15"));

    // Even an empty history does not fit: a client error either way.
    opts.max_body_bytes = 500;
    let err = map_request(&req, &opts).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ContextLengthExceeded);

    insta::assert_json_snapshot!(golden(&mapped));
}
