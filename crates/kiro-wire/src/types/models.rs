//! The `ListAvailableModels` response (§3.7). All fields optional; counts are lenient.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::lenient;
use crate::num;

/// `GET {q}/ListAvailableModels` response.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListAvailableModelsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_model: Option<DefaultModel>,
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub models: Vec<ModelInfo>,
    /// Present when there is another page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl ListAvailableModelsResponse {
    /// The model with this id, compared case-insensitively (upstream ids are lower-case).
    pub fn find(&self, model_id: &str) -> Option<&ModelInfo> {
        self.models
            .iter()
            .find(|m| m.model_id.eq_ignore_ascii_case(model_id))
    }

    /// `defaultModel.modelId` (normally `auto`).
    pub fn default_model_id(&self) -> Option<&str> {
        self.default_model
            .as_ref()
            .map(|m| m.model_id.as_str())
            .filter(|id| !id.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefaultModel {
    #[serde(default)]
    pub model_id: String,
}

/// One catalogue entry. `model_id` defaults to `""` rather than failing the whole list; skip such
/// entries.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelInfo {
    #[serde(default)]
    pub model_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Credits per request relative to the base rate (e.g. `2.2`).
    #[serde(
        default,
        deserialize_with = "num::opt_f64",
        skip_serializing_if = "Option::is_none"
    )]
    pub rate_multiplier: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_unit: Option<String>,
    /// `TEXT`, `IMAGE`, ...
    #[serde(
        default,
        deserialize_with = "lenient::vec_or_null",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub supported_input_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_limits: Option<TokenLimits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_caching: Option<PromptCaching>,
    /// JSON Schema of `additionalModelRequestFields` (§4.4); validate against it before sending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_request_fields_schema: Option<Value>,
}

impl ModelInfo {
    /// Whether `IMAGE` is among the input types (any case).
    pub fn supports_images(&self) -> bool {
        self.supported_input_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case("IMAGE"))
    }

    /// `tokenLimits.maxInputTokens`: the context window, when given.
    pub fn max_input_tokens(&self) -> Option<u64> {
        self.token_limits.as_ref().and_then(|t| t.max_input_tokens)
    }

    pub fn max_output_tokens(&self) -> Option<u64> {
        self.token_limits.as_ref().and_then(|t| t.max_output_tokens)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenLimits {
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_input_tokens: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_output_tokens: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptCaching {
    #[serde(
        default,
        deserialize_with = "lenient::opt_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub supports_prompt_caching: Option<bool>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub maximum_cache_checkpoints_per_request: Option<u64>,
    #[serde(
        default,
        deserialize_with = "num::opt_u64",
        skip_serializing_if = "Option::is_none"
    )]
    pub minimum_tokens_per_cache_checkpoint: Option<u64>,
}
