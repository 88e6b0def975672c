//! `GET /v1/models` in OpenAI's shape.

use serde_json::{Value, json};

/// One model the proxy offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelListing {
    /// The id clients send as `model`.
    pub id: String,
    /// A human name (not part of OpenAI's shape; kept for the other dialects and the console).
    pub display_name: String,
    /// Unix seconds.
    pub created: i64,
}

/// `{"object":"list","data":[{id, object:"model", created, owned_by}]}`. `owned_by` is
/// `anthropic` for Claude models and `kiro` for the rest (e.g. `auto`); clients only display it.
pub fn models_response(models: &[ModelListing]) -> Value {
    let data: Vec<Value> = models
        .iter()
        .map(|m| {
            let owned_by = if m.id.starts_with("claude") {
                "anthropic"
            } else {
                "kiro"
            };
            json!({
                "id": m.id,
                "object": "model",
                "created": m.created,
                "owned_by": owned_by,
            })
        })
        .collect();
    json!({"object": "list", "data": data})
}
