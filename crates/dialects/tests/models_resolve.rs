//! Model catalogue and client model-name resolution (spec §5, §3.7).

use std::collections::BTreeMap;

use dialects::canonical::ErrorKind;
use dialects::models::{
    ModelCatalogue, ModelSpec, ThinkingSupport, default_catalogue, resolve, spec,
};
use kiro_wire::types::models::ListAvailableModelsResponse;
use serde_json::json;

fn up(client: &str) -> String {
    resolve(client, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{client}: {e:?}"))
        .upstream_id
}

#[test]
fn every_alias_row_of_section_5() {
    let rows: &[(&[&str], &str)] = &[
        (
            &[
                "claude-sonnet-4-5",
                "claude-sonnet-4-5-20250929",
                "claude-sonnet-4.5",
            ],
            "claude-sonnet-4.5",
        ),
        (
            &["claude-sonnet-4-0", "claude-sonnet-4-20250514"],
            "claude-sonnet-4",
        ),
        (&["claude-sonnet-4-6"], "claude-sonnet-4.6"),
        (
            &[
                "claude-haiku-4-5",
                "claude-haiku-4-5-20251001",
                "claude-3-5-haiku-20241022",
            ],
            "claude-haiku-4.5",
        ),
        (
            &["claude-opus-4-5", "claude-opus-4-5-20251101"],
            "claude-opus-4.5",
        ),
        (&["claude-opus-4-6"], "claude-opus-4.6"),
        (&["claude-opus-4-7"], "claude-opus-4.7"),
        (
            &[
                "claude-opus-4-1",
                "claude-opus-4-1-20250805",
                "claude-opus-4-20250514",
            ],
            "claude-opus-4.5",
        ),
        (
            &["claude-3-7-sonnet-20250219", "claude-3-5-sonnet-20241022"],
            "claude-sonnet-4.5",
        ),
    ];
    for (clients, upstream) in rows {
        for client in *clients {
            let r = resolve(client, &BTreeMap::new()).unwrap();
            assert_eq!(r.upstream_id, *upstream, "{client}");
            assert!(!r.thinking_suffix && !r.one_m, "{client}");
        }
    }
}

#[test]
fn generic_rule() {
    // Dotted ids pass through when known; every static id resolves to itself.
    for model in default_catalogue() {
        assert_eq!(up(&model.id), model.id);
    }
    // `-` between major and minor becomes `.`.
    assert_eq!(up("deepseek-3-2"), "deepseek-3.2");
    // A date suffix is stripped.
    assert_eq!(up("claude-opus-4-7-20260101"), "claude-opus-4.7");
    assert_eq!(up("claude-sonnet-4.6-20260301"), "claude-sonnet-4.6");
    // Upper case is accepted.
    assert_eq!(up("Claude-Sonnet-4-6"), "claude-sonnet-4.6");

    let r = resolve("claude-sonnet-4-5-thinking", &BTreeMap::new()).unwrap();
    assert_eq!(r.upstream_id, "claude-sonnet-4.5");
    assert!(r.thinking_suffix && !r.one_m);

    let r = resolve("claude-opus-4-7[1m]", &BTreeMap::new()).unwrap();
    assert_eq!(r.upstream_id, "claude-opus-4.7");
    assert!(r.one_m && !r.thinking_suffix);

    let r = resolve("claude-sonnet-4-6-1m", &BTreeMap::new()).unwrap();
    assert_eq!(r.upstream_id, "claude-sonnet-4.6");
    assert!(r.one_m);

    // Suffixes in any order, and a dated alias-table entry behind them.
    let r = resolve("claude-3-7-sonnet-20250219-thinking", &BTreeMap::new()).unwrap();
    assert_eq!(r.upstream_id, "claude-sonnet-4.5");
    assert!(r.thinking_suffix);
    let r = resolve("claude-opus-4-6-thinking[1m]", &BTreeMap::new()).unwrap();
    assert_eq!(r.upstream_id, "claude-opus-4.6");
    assert!(r.thinking_suffix && r.one_m);
}

#[test]
fn claude_code_defaults_fall_back_within_the_family() {
    assert_eq!(up("claude-opus-4-8"), "claude-opus-4.7");
    assert_eq!(up("claude-opus-4-8[1m]"), "claude-opus-4.7");
    assert_eq!(up("claude-sonnet-5"), "claude-sonnet-4.6");
    // Once the upstream lists the model, it is used as is.
    let listing: ListAvailableModelsResponse = serde_json::from_value(json!({
        "models": [{"modelId": "claude-opus-4.8", "tokenLimits": {"maxInputTokens": 1000000}}]
    }))
    .unwrap();
    let catalogue = ModelCatalogue::from_listing(&listing);
    let r = catalogue
        .resolve("claude-opus-4-8", &BTreeMap::new())
        .unwrap();
    assert_eq!(r.upstream_id, "claude-opus-4.8");
}

#[test]
fn overrides_win() {
    let overrides = BTreeMap::from([
        (
            "claude-sonnet-4-5".to_owned(),
            "claude-sonnet-4.6".to_owned(),
        ),
        ("gpt-4o".to_owned(), "claude-haiku-4.5".to_owned()),
        ("my-hidden".to_owned(), "some-hidden-model".to_owned()),
    ]);
    let r = |m: &str| resolve(m, &overrides).unwrap().upstream_id;
    assert_eq!(r("claude-sonnet-4-5"), "claude-sonnet-4.6");
    assert_eq!(r("gpt-4o"), "claude-haiku-4.5");
    // Verbatim, even when the catalogue does not know the target.
    assert_eq!(r("my-hidden"), "some-hidden-model");
    // Exact match only: other spellings go through the table.
    assert_eq!(r("claude-sonnet-4-5-20250929"), "claude-sonnet-4.5");
    assert_eq!(
        ModelSpec::fallback("some-hidden-model").context_window,
        200_000
    );
}

#[test]
fn unknown_models_are_not_found() {
    for model in [
        "gpt-4o",
        "my-custom-model",
        "claude-opus-9-9",
        "",
        "claude-sonnet-4-5-extra",
    ] {
        let err = resolve(model, &BTreeMap::new()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::NotFound, "{model}");
        assert_eq!(err.param.as_deref(), Some("model"));
        assert!(err.message.contains("claude-sonnet-4.5"), "{}", err.message);
    }
}

#[test]
fn static_catalogue_matches_section_5() {
    let rows = [
        ("auto", 1_000_000, 1.0),
        ("claude-sonnet-4", 200_000, 1.3),
        ("claude-sonnet-4.5", 200_000, 1.3),
        ("claude-sonnet-4.6", 1_000_000, 1.3),
        ("claude-haiku-4.5", 200_000, 0.4),
        ("claude-opus-4.5", 200_000, 2.2),
        ("claude-opus-4.6", 1_000_000, 2.2),
        ("claude-opus-4.7", 1_000_000, 2.2),
        ("deepseek-3.2", 164_000, 0.25),
        ("minimax-m2.5", 196_000, 0.25),
        ("minimax-m2.1", 196_000, 0.15),
        ("qwen3-coder-next", 256_000, 0.05),
        ("glm-5", 200_000, 0.25),
    ];
    assert_eq!(default_catalogue().len(), rows.len());
    for (id, window, multiplier) in rows {
        let s = spec(id).unwrap();
        assert_eq!(s.context_window, window, "{id}");
        assert_eq!(s.credit_multiplier, multiplier, "{id}");
        assert_eq!(s.max_output_tokens, 64_000, "{id}");
    }
    let opus = spec("claude-opus-4.7").unwrap();
    assert!(opus.thinking_by_default);
    match &opus.thinking {
        ThinkingSupport::Native { schema } => {
            assert_eq!(
                schema["properties"]["output_config"]["properties"]["effort"]["enum"],
                json!(["low", "medium", "high", "xhigh", "max"])
            );
            assert_eq!(
                schema["properties"]["thinking"]["properties"]["display"]["enum"],
                json!(["summarized", "omitted"])
            );
        }
        other => panic!("{other:?}"),
    }
    for id in ["claude-sonnet-4.6", "claude-opus-4.6"] {
        assert!(
            matches!(spec(id).unwrap().thinking, ThinkingSupport::Native { .. }),
            "{id}"
        );
    }
    for id in [
        "claude-sonnet-4",
        "claude-sonnet-4.5",
        "claude-haiku-4.5",
        "claude-opus-4.5",
    ] {
        assert_eq!(spec(id).unwrap().thinking, ThinkingSupport::Tags, "{id}");
    }
    for id in ["deepseek-3.2", "minimax-m2.5", "glm-5"] {
        assert_eq!(spec(id).unwrap().thinking, ThinkingSupport::None, "{id}");
        assert!(!spec(id).unwrap().images, "{id}");
    }
}

#[test]
fn listing_refreshes_windows_and_thinking() {
    let listing: ListAvailableModelsResponse = serde_json::from_value(json!({
        "defaultModel": {"modelId": "auto"},
        "models": [
            // A stale 200k window for a 1M model is still what the upstream says: it wins.
            {"modelId": "claude-sonnet-4.5", "rateMultiplier": 1.5, "supportedInputTypes": ["TEXT"],
             "tokenLimits": {"maxInputTokens": 172500, "maxOutputTokens": 32000},
             "additionalModelRequestFieldsSchema": {"type": "object", "additionalProperties": false,
               "properties": {"thinking": {"type": "object", "properties": {"type": {"type": "string", "enum": ["adaptive", "disabled"]}}}}}},
            {"modelId": "gpt-5.6-sol", "supportedInputTypes": ["TEXT", "IMAGE"],
             "tokenLimits": {"maxInputTokens": "400000"},
             "additionalModelRequestFieldsSchema": {"type": "object", "properties": {"reasoning": {"type": "object"}}}},
            {"modelId": ""}
        ]
    }))
    .unwrap();
    let mut catalogue = ModelCatalogue::builtin();
    catalogue.refresh(&listing);
    assert_eq!(catalogue.default_model(), Some("auto"));
    let sonnet = catalogue.spec("claude-sonnet-4.5").unwrap();
    assert_eq!(sonnet.context_window, 172_500);
    assert_eq!(sonnet.max_output_tokens, 32_000);
    assert_eq!(sonnet.credit_multiplier, 1.5);
    assert!(!sonnet.images);
    assert!(matches!(sonnet.thinking, ThinkingSupport::Native { .. }));
    let gpt = catalogue.spec("gpt-5.6-sol").unwrap();
    assert_eq!(gpt.context_window, 400_000);
    assert!(gpt.images);
    assert!(matches!(gpt.thinking, ThinkingSupport::Native { .. }));
    assert_eq!(up_in(&catalogue, "gpt-5.6-sol"), "gpt-5.6-sol");
    // Models the listing omits (hidden) stay, with their static values.
    assert_eq!(
        catalogue.spec("claude-opus-4.7").unwrap().context_window,
        1_000_000
    );
    assert_eq!(catalogue.models().len(), default_catalogue().len() + 1);
    // Refreshing again starts from the static table: idempotent.
    let again = catalogue.clone();
    catalogue.refresh(&listing);
    assert_eq!(catalogue, again);
    // The static fallback for an unknown id.
    assert_eq!(
        catalogue.spec_or_fallback("claude-x").thinking,
        ThinkingSupport::Tags
    );
}

fn up_in(catalogue: &ModelCatalogue, client: &str) -> String {
    catalogue
        .resolve(client, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("{e:?}"))
        .upstream_id
}
