//! Property: whatever conversation a client sends, the mapping either answers a client error or
//! produces a body the simulator's V1–V13 validator accepts. Never a panic.

mod kiro_request_support;

use dialects::canonical::{
    ErrorKind, Image, Message, Part, Request, Role, ThinkingConfig, ToolChoice, ToolResult,
    ToolResultContent, ToolUse,
};
use dialects::kiro::request::map_request;
use kiro_request_support::*;
use proptest::prelude::*;
use serde_json::{Value, json};

const IDS: &[&str] = &["toolu_a", "toolu_b", "call_c"];
const NAMES: &[&str] = &[
    "Bash",
    "bash",
    "Read",
    "mcp.server/do thing",
    "a_very_long_tool_name_that_goes_on_and_on_past_the_sixty_four_character_limit",
    "",
];
const TEXTS: &[&str] = &["", " ", "hello", "<thinking>x</thinking>", "日本語"];

fn part() -> impl Strategy<Value = Part> {
    prop_oneof![
        (0..TEXTS.len()).prop_map(|i| Part::Text(TEXTS[i].to_owned())),
        (0..IDS.len(), 0..NAMES.len(), any::<bool>()).prop_map(|(i, n, as_string)| {
            Part::ToolUse(ToolUse {
                id: IDS[i].to_owned(),
                name: NAMES[n].to_owned(),
                input: if as_string {
                    json!("not json")
                } else {
                    json!({"k": i})
                },
            })
        }),
        (0..IDS.len(), 0..TEXTS.len(), any::<bool>()).prop_map(|(i, t, is_error)| {
            Part::ToolResult(ToolResult {
                tool_use_id: IDS[i].to_owned(),
                content: vec![ToolResultContent::Text(TEXTS[t].to_owned())],
                is_error,
            })
        }),
        Just(Part::Thinking {
            text: "thought".into(),
            signature: Some("c2ln".into()),
        }),
        Just(Part::RedactedThinking {
            data: "b3BhcXVl".into()
        }),
        Just(Part::Image(Image::Base64 {
            media_type: Some("image/png".into()),
            data: PNG_1X1.into(),
        })),
        Just(Part::Image(Image::Base64 {
            media_type: None,
            data: "%%%".into(),
        })),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    (any::<bool>(), prop::collection::vec(part(), 0..4)).prop_map(|(is_user, content)| Message {
        role: if is_user { Role::User } else { Role::Assistant },
        content,
    })
}

fn schema() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        Just(
            json!({"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x", "y"]})
        ),
        Just(json!({"properties": "bad", "required": "x", "additionalProperties": 3})),
        Just(
            json!({"$ref": "#/$defs/n", "$defs": {"n": {"type": "object", "properties": {"c": {"$ref": "#/$defs/n"}}}}})
        ),
    ]
}

fn req() -> impl Strategy<Value = Request> {
    (
        prop::collection::vec(message(), 0..8),
        prop::collection::vec((0..NAMES.len(), schema(), 0..TEXTS.len()), 0..4),
        any::<bool>(),
        0..4usize,
        0..4usize,
    )
        .prop_map(|(messages, tools, system, choice, thinking)| Request {
            model: SONNET.into(),
            system: if system {
                vec!["Be brief.".into()]
            } else {
                vec![]
            },
            messages,
            tools: tools
                .into_iter()
                .map(|(n, s, d)| tool(NAMES[n], TEXTS[d], s))
                .collect(),
            tool_choice: match choice {
                0 => ToolChoice::Auto,
                1 => ToolChoice::None,
                2 => ToolChoice::Any,
                _ => ToolChoice::Tool("Bash".into()),
            },
            thinking: match thinking {
                0 => ThinkingConfig::Default,
                1 => ThinkingConfig::Disabled,
                2 => ThinkingConfig::Adaptive,
                _ => ThinkingConfig::Enabled {
                    budget_tokens: Some(1024),
                },
            },
            ..Request::default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn mapped_bodies_pass_the_simulator(req in req(), model in 0..4usize) {
        let model = ["claude-sonnet-4.5", "claude-opus-4.7", "claude-sonnet-4.6", "deepseek-3.2"][model];
        let req = Request { model: model.into(), ..req };
        match map_request(&req, &options(model)) {
            Ok(mapped) => {
                sim_accepts(&mapped);
            }
            Err(err) => prop_assert!(
                matches!(err.kind, ErrorKind::InvalidRequest | ErrorKind::ContextLengthExceeded),
                "{err:?}"
            ),
        }
    }
}
