//! The simulated model catalogue (spec §3.7, §5): ids, windows, credit multipliers, tiers,
//! and the `additionalModelRequestFieldsSchema` each model accepts.
//!
//! Choices the spec leaves open (all deliberate, change them here only):
//! - `glm-5` has no published window or multiplier: 200,000 tokens and 0.25 credits, text only,
//!   like the other open-weight models of the table.
//! - `maxOutputTokens` is 64,000 for every listed model (the only value the spec reports).
//! - Native thinking schemas: `claude-opus-4.7` advertises the full §3.7 schema (`thinking.type`,
//!   `thinking.display`, `output_config.effort` with `xhigh`); `claude-opus-4.6` and
//!   `claude-sonnet-4.6` are the "older models" of §4.4 that advertise only `thinking.type` and
//!   `output_config.effort` (without `xhigh`). The 4.5 and 4.0 generations advertise no schema
//!   (they predate adaptive thinking; §4.4 says tag emulation is used there).
//! - `gpt-5.6-sol` is an unverified, hidden model (§5 "reported but unverified") carrying the
//!   GPT-style `reasoning` schema, so tests can exercise hidden models and the cross-family 400.
//! - Only Claude models take images (`minimax-m2.5` is "text only"; the other open-weight models
//!   are treated the same way).

use serde_json::{Value, json};

/// A subscription plan; ordered from the smallest to the largest.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Free,
    Pro,
    ProPlus,
    Power,
}

impl Tier {
    /// Every tier, smallest first.
    pub const ALL: [Tier; 4] = [Tier::Free, Tier::Pro, Tier::ProPlus, Tier::Power];

    /// Reported monthly credit caps (§3.6).
    pub fn monthly_credits(self) -> f64 {
        match self {
            Tier::Free => 50.0,
            Tier::Pro => 1000.0,
            Tier::ProPlus => 2000.0,
            Tier::Power => 10000.0,
        }
    }

    /// `subscriptionInfo.subscriptionTitle` of `getUsageLimits`.
    pub fn title(self) -> &'static str {
        match self {
            Tier::Free => "KIRO FREE",
            Tier::Pro => "KIRO PRO",
            Tier::ProPlus => "KIRO PRO+",
            Tier::Power => "KIRO POWER",
        }
    }

    /// `subscriptionInfo.type` of `getUsageLimits` (only the Pro value is in the spec; the others
    /// follow its pattern).
    pub fn subscription_type(self) -> &'static str {
        match self {
            Tier::Free => "Q_DEVELOPER_STANDALONE_FREE",
            Tier::Pro => "Q_DEVELOPER_STANDALONE_PRO",
            Tier::ProPlus => "Q_DEVELOPER_STANDALONE_PRO_PLUS",
            Tier::Power => "Q_DEVELOPER_STANDALONE_POWER",
        }
    }
}

/// Which `additionalModelRequestFieldsSchema` a model advertises (§3.7, §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasoningSchema {
    /// No schema: the model accepts no `additionalModelRequestFields` keys.
    None,
    /// Older Claude: `thinking.type` and `output_config.effort` only.
    ClaudeEffort,
    /// Claude Opus 4.7: `thinking.type`, `thinking.display`, `output_config.effort` incl. `xhigh`.
    ClaudeAdaptive,
    /// GPT family: `reasoning.effort`.
    Gpt,
}

/// The `promptCaching` block of a listing entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PromptCaching {
    pub max_checkpoints: u64,
    pub min_tokens_per_checkpoint: u64,
}

/// One model of the simulated catalogue.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// Upstream id: lower-case and dotted.
    pub id: &'static str,
    pub description: &'static str,
    /// `tokenLimits.maxInputTokens`; the window V13/context checks use.
    pub context_window: u64,
    pub max_output_tokens: u64,
    /// Credit multiplier (`rateMultiplier`).
    pub multiplier: f64,
    /// Smallest tier that may use the model (V9).
    pub min_tier: Tier,
    /// Accepts `IMAGE` input.
    pub images: bool,
    /// Works but is omitted from `ListAvailableModels`.
    pub hidden: bool,
    pub reasoning: ReasoningSchema,
    pub prompt_caching: Option<PromptCaching>,
}

impl ModelInfo {
    /// The `additionalModelRequestFieldsSchema` the model advertises, if any.
    pub fn request_fields_schema(&self) -> Option<Value> {
        match self.reasoning {
            ReasoningSchema::None => None,
            ReasoningSchema::ClaudeEffort => Some(json!({
                "type": "object", "additionalProperties": false, "properties": {
                    "thinking": {"type": "object", "required": ["type"], "properties": {
                        "type": {"type": "string", "enum": ["adaptive", "disabled"]}}},
                    "output_config": {"type": "object", "properties": {
                        "effort": {"type": "string", "enum": ["low", "medium", "high", "max"]}}}}
            })),
            ReasoningSchema::ClaudeAdaptive => Some(json!({
                "type": "object", "additionalProperties": false, "properties": {
                    "thinking": {"type": "object", "required": ["type"], "properties": {
                        "type": {"type": "string", "enum": ["adaptive", "disabled"]},
                        "display": {"type": "string", "enum": ["summarized", "omitted"]}}},
                    "output_config": {"type": "object", "properties": {
                        "effort": {"type": "string", "enum": ["low", "medium", "high", "xhigh", "max"]}}}}
            })),
            ReasoningSchema::Gpt => Some(json!({
                "type": "object", "additionalProperties": false, "properties": {
                    "reasoning": {"type": "object", "properties": {
                        "effort": {"type": "string", "enum": ["low", "medium", "high"]}}}}
            })),
        }
    }

    /// Whether an account of `tier` may use the model (V9).
    pub fn available_to(&self, tier: Tier) -> bool {
        tier >= self.min_tier
    }

    /// Checks an `additionalModelRequestFields` value against the model's schema (V13).
    /// A model without a schema accepts only an empty object. The error names the offending path.
    pub fn check_request_fields(&self, fields: &Value) -> Result<(), String> {
        match self.request_fields_schema() {
            Some(schema) => conforms(&schema, fields, "additionalModelRequestFields"),
            None => match fields.as_object() {
                Some(map) if map.is_empty() => Ok(()),
                Some(_) => Err(format!(
                    "model {} accepts no additionalModelRequestFields",
                    self.id
                )),
                None => Err("additionalModelRequestFields is not an object".to_owned()),
            },
        }
    }

    /// The model's entry in the `ListAvailableModels` response.
    pub fn listing_entry(&self) -> Value {
        let input_types: &[&str] = if self.images {
            &["TEXT", "IMAGE"]
        } else {
            &["TEXT"]
        };
        let mut entry = json!({
            "modelId": self.id,
            "modelName": self.id,
            "description": self.description,
            "rateMultiplier": self.multiplier,
            "rateUnit": "Credit",
            "supportedInputTypes": input_types,
            "tokenLimits": {"maxInputTokens": self.context_window, "maxOutputTokens": self.max_output_tokens},
        });
        if let Some(obj) = entry.as_object_mut() {
            if let Some(pc) = self.prompt_caching {
                obj.insert(
                    "promptCaching".to_owned(),
                    json!({"supportsPromptCaching": true,
                        "maximumCacheCheckpointsPerRequest": pc.max_checkpoints,
                        "minimumTokensPerCacheCheckpoint": pc.min_tokens_per_checkpoint}),
                );
            }
            if let Some(schema) = self.request_fields_schema() {
                obj.insert("additionalModelRequestFieldsSchema".to_owned(), schema);
            }
        }
        entry
    }
}

/// The subset of JSON Schema the advertised schemas use: `type`, `enum`, `properties`,
/// `required`, `additionalProperties` (boolean or schema). Unknown keywords are ignored, as a
/// JSON Schema validator does.
fn conforms(schema: &Value, value: &Value, path: &str) -> Result<(), String> {
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        let ok = match ty {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "null" => value.is_null(),
            _ => true,
        };
        if !ok {
            return Err(format!("{path}: expected {ty}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            return Err(format!(
                "{path}: {value} is not one of {}",
                Value::Array(allowed.clone())
            ));
        }
    }
    let Some(obj) = value.as_object() else {
        return Ok(());
    };
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for key in required.iter().filter_map(Value::as_str) {
            if !obj.contains_key(key) {
                return Err(format!("{path}: missing required {key}"));
            }
        }
    }
    let props = schema.get("properties").and_then(Value::as_object);
    for (key, item) in obj {
        let item_path = format!("{path}.{key}");
        match props.and_then(|p| p.get(key)) {
            Some(sub) => conforms(sub, item, &item_path)?,
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => return Err(format!("{item_path}: not allowed")),
                Some(sub @ Value::Object(_)) => conforms(sub, item, &item_path)?,
                _ => {}
            },
        }
    }
    Ok(())
}

const CLAUDE_CACHE: Option<PromptCaching> = Some(PromptCaching {
    max_checkpoints: 4,
    min_tokens_per_checkpoint: 1024,
});
const OPUS_CACHE: Option<PromptCaching> = Some(PromptCaching {
    max_checkpoints: 4,
    min_tokens_per_checkpoint: 4096,
});

const fn model(
    id: &'static str,
    description: &'static str,
    context_window: u64,
    multiplier: f64,
) -> ModelInfo {
    ModelInfo {
        id,
        description,
        context_window,
        max_output_tokens: 64_000,
        multiplier,
        min_tier: Tier::Free,
        images: false,
        hidden: false,
        reasoning: ReasoningSchema::None,
        prompt_caching: None,
    }
}

const fn claude(
    id: &'static str,
    description: &'static str,
    context_window: u64,
    multiplier: f64,
) -> ModelInfo {
    let mut m = model(id, description, context_window, multiplier);
    m.images = true;
    m.prompt_caching = CLAUDE_CACHE;
    m
}

const fn opus(
    id: &'static str,
    description: &'static str,
    context_window: u64,
    reasoning: ReasoningSchema,
) -> ModelInfo {
    let mut m = claude(id, description, context_window, 2.2);
    m.min_tier = Tier::Pro;
    m.prompt_caching = OPUS_CACHE;
    m.reasoning = reasoning;
    m
}

const fn with_reasoning(mut m: ModelInfo, reasoning: ReasoningSchema) -> ModelInfo {
    m.reasoning = reasoning;
    m
}

const fn hidden_gpt(id: &'static str, description: &'static str) -> ModelInfo {
    let mut m = model(id, description, 400_000, 1.0);
    m.images = true;
    m.hidden = true;
    m.reasoning = ReasoningSchema::Gpt;
    m
}

static CATALOGUE: [ModelInfo; 14] = [
    {
        let mut m = model(
            "auto",
            "Models chosen by task for optimal usage and consistent quality",
            1_000_000,
            1.0,
        );
        m.images = true;
        m
    },
    claude(
        "claude-sonnet-4",
        "Claude Sonnet 4 model with 200K context window",
        200_000,
        1.3,
    ),
    claude(
        "claude-sonnet-4.5",
        "Claude Sonnet 4.5 model with 200K context window",
        200_000,
        1.3,
    ),
    with_reasoning(
        claude(
            "claude-sonnet-4.6",
            "Claude Sonnet 4.6 model with 1M context window",
            1_000_000,
            1.3,
        ),
        ReasoningSchema::ClaudeEffort,
    ),
    claude(
        "claude-haiku-4.5",
        "Claude Haiku 4.5 model with 200K context window",
        200_000,
        0.4,
    ),
    opus(
        "claude-opus-4.5",
        "Claude Opus 4.5 model with 200K context window",
        200_000,
        ReasoningSchema::None,
    ),
    opus(
        "claude-opus-4.6",
        "Claude Opus 4.6 model with 1M context window",
        1_000_000,
        ReasoningSchema::ClaudeEffort,
    ),
    opus(
        "claude-opus-4.7",
        "Experimental preview of Claude Opus 4.7 model with 1M context window",
        1_000_000,
        ReasoningSchema::ClaudeAdaptive,
    ),
    model(
        "deepseek-3.2",
        "DeepSeek V3.2 model with 164K context window",
        164_000,
        0.25,
    ),
    model(
        "minimax-m2.5",
        "MiniMax M2.5 model with 196K context window",
        196_000,
        0.25,
    ),
    model(
        "minimax-m2.1",
        "MiniMax M2.1 model with 196K context window",
        196_000,
        0.15,
    ),
    model(
        "qwen3-coder-next",
        "Qwen3 Coder Next model with 256K context window",
        256_000,
        0.05,
    ),
    model(
        "glm-5",
        "GLM-5 model with 200K context window",
        200_000,
        0.25,
    ),
    hidden_gpt("gpt-5.6-sol", "GPT-5.6 Sol (unverified, hidden)"),
];

/// Every model the simulator knows, hidden ones included, in §5 order.
pub fn catalogue() -> &'static [ModelInfo] {
    &CATALOGUE
}

/// Exact, case-sensitive lookup on the upstream id (upper-case legacy ids are unknown).
pub fn find(id: &str) -> Option<&'static ModelInfo> {
    CATALOGUE.iter().find(|m| m.id == id)
}

/// The id of `defaultModel` in the listing.
pub const DEFAULT_MODEL_ID: &str = "auto";

/// The `ListAvailableModels` response body (§3.7) for an account of `tier`: hidden models and
/// models above the tier are omitted; everything fits one page, so `nextToken` is null.
pub fn list_available_models(tier: Tier) -> Value {
    let models: Vec<Value> = CATALOGUE
        .iter()
        .filter(|m| !m.hidden && m.available_to(tier))
        .map(ModelInfo::listing_entry)
        .collect();
    json!({"defaultModel": {"modelId": DEFAULT_MODEL_ID}, "models": models, "nextToken": null})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed_ids(tier: Tier) -> Vec<String> {
        list_available_models(tier)["models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["modelId"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn free_tier_listing_has_no_opus_and_no_hidden_models() {
        let ids = listed_ids(Tier::Free);
        assert!(ids.iter().all(|id| !id.contains("opus")), "{ids:?}");
        assert!(!ids.contains(&"gpt-5.6-sol".to_owned()));
        assert!(ids.contains(&"claude-sonnet-4.5".to_owned()));
        assert!(ids.contains(&"auto".to_owned()));
    }

    #[test]
    fn paid_tiers_list_opus_but_never_hidden_models() {
        for tier in [Tier::Pro, Tier::ProPlus, Tier::Power] {
            let ids = listed_ids(tier);
            for opus in ["claude-opus-4.5", "claude-opus-4.6", "claude-opus-4.7"] {
                assert!(ids.contains(&opus.to_owned()), "{tier:?} lacks {opus}");
            }
            assert!(!ids.contains(&"gpt-5.6-sol".to_owned()));
            assert_eq!(ids.len(), CATALOGUE.len() - 1);
        }
    }

    #[test]
    fn opus_47_entry_matches_the_spec_sample() {
        let listing = list_available_models(Tier::Pro);
        let entry = listing["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["modelId"] == "claude-opus-4.7")
            .unwrap()
            .clone();
        let expected = json!({"modelId": "claude-opus-4.7", "modelName": "claude-opus-4.7",
           "description": "Experimental preview of Claude Opus 4.7 model with 1M context window",
           "rateMultiplier": 2.2, "rateUnit": "Credit", "supportedInputTypes": ["TEXT", "IMAGE"],
           "tokenLimits": {"maxInputTokens": 1000000, "maxOutputTokens": 64000},
           "promptCaching": {"supportsPromptCaching": true, "maximumCacheCheckpointsPerRequest": 4, "minimumTokensPerCacheCheckpoint": 4096},
           "additionalModelRequestFieldsSchema": {"type": "object", "additionalProperties": false, "properties": {
             "thinking": {"type": "object", "required": ["type"], "properties": {
               "type": {"type": "string", "enum": ["adaptive", "disabled"]}, "display": {"type": "string", "enum": ["summarized", "omitted"]}}},
             "output_config": {"type": "object", "properties": {"effort": {"type": "string", "enum": ["low", "medium", "high", "xhigh", "max"]}}}}}});
        assert_eq!(entry, expected);
        assert_eq!(listing["defaultModel"], json!({"modelId": "auto"}));
        assert_eq!(listing["nextToken"], Value::Null);
    }

    #[test]
    fn table_values_match_section_5() {
        let expect = [
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
        ];
        for (id, window, mult) in expect {
            let m = find(id).unwrap();
            assert_eq!((m.context_window, m.multiplier), (window, mult), "{id}");
        }
        assert!(find("glm-5").is_some());
        assert!(find("CLAUDE_SONNET_4_20250514_V1_0").is_none());
        assert!(find("claude-sonnet-4-5").is_none());
    }

    #[test]
    fn request_fields_follow_each_family_schema() {
        let opus = find("claude-opus-4.7").unwrap();
        let ok = json!({"thinking": {"type": "disabled", "display": "omitted"}, "output_config": {"effort": "xhigh"}});
        assert!(opus.check_request_fields(&ok).is_ok());
        assert!(
            opus.check_request_fields(&json!({"reasoning": {"effort": "low"}}))
                .is_err()
        );
        assert!(
            opus.check_request_fields(&json!({"thinking": {"type": "enabled"}}))
                .is_err()
        );
        assert!(opus.check_request_fields(&json!({"thinking": {}})).is_err());
        let sonnet = find("claude-sonnet-4.6").unwrap();
        assert!(
            sonnet
                .check_request_fields(&json!({"output_config": {"effort": "xhigh"}}))
                .is_err()
        );
        assert!(
            sonnet
                .check_request_fields(&json!({"thinking": {"type": "adaptive"}}))
                .is_ok()
        );
        let gpt = find("gpt-5.6-sol").unwrap();
        assert!(
            gpt.check_request_fields(&json!({"reasoning": {"effort": "high"}}))
                .is_ok()
        );
        assert!(
            gpt.check_request_fields(&json!({"thinking": {"type": "adaptive"}}))
                .is_err()
        );
        let haiku = find("claude-haiku-4.5").unwrap();
        assert!(haiku.check_request_fields(&json!({})).is_ok());
        assert!(
            haiku
                .check_request_fields(&json!({"thinking": {"type": "adaptive"}}))
                .is_err()
        );
    }

    #[test]
    fn tiers_are_ordered_and_named() {
        assert!(Tier::Free < Tier::Pro && Tier::Pro < Tier::ProPlus && Tier::ProPlus < Tier::Power);
        assert_eq!(
            serde_json::to_value(Tier::ProPlus).unwrap(),
            json!("pro_plus")
        );
        assert_eq!(Tier::Pro.title(), "KIRO PRO");
        assert_eq!(Tier::Pro.subscription_type(), "Q_DEVELOPER_STANDALONE_PRO");
        assert_eq!(Tier::Power.monthly_credits(), 10000.0);
    }
}
