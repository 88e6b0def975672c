//! Thinking (spec §4.4): N12 history replay, native `additionalModelRequestFields`, and tag
//! emulation for models without a schema.
//!
//! Native fields are built in full, then pruned to what the model's schema lists explicitly: a
//! key the schema does not name is never sent (stricter than JSON Schema, which would allow it
//! where `additionalProperties` is unset), so Sonnet 4.6 never receives `thinking.display`.

use kiro_wire::types::request::{ReasoningContent, ReasoningText};
use serde_json::{Map, Value, json};

use super::ThinkingMode;
use super::turns::{ThinkingBlock, Turn};
use crate::canonical::{Effort, Request, Role, ThinkingConfig};
use crate::models::{ModelSpec, ThinkingSupport};

/// `max_thinking_length` for tag emulation when the client gave no budget.
pub const DEFAULT_THINKING_BUDGET: u64 = 16_000;

/// N12: an assistant turn keeps at most one replayed thinking block, and only when the
/// signatures were issued by this upstream for this model (`signature_model`); the first signed
/// (or redacted) block wins. Everything else is stripped.
pub(crate) fn replay(
    turns: &mut [Turn<'_>],
    upstream_model: &str,
    signature_model: Option<&str>,
    notes: &mut Vec<String>,
) {
    let trusted = signature_model == Some(upstream_model);
    for turn in turns.iter_mut() {
        let blocks = std::mem::take(&mut turn.thinking);
        if blocks.is_empty() || turn.role != Role::Assistant {
            continue;
        }
        if trusted {
            turn.reasoning = blocks.iter().find_map(|block| match *block {
                ThinkingBlock::Text {
                    text,
                    signature: Some(sig),
                } if !sig.is_empty() => Some(ReasoningContent::Text(ReasoningText {
                    text: text.to_owned(),
                    signature: Some(sig.to_owned()),
                })),
                ThinkingBlock::Redacted(data) if !data.is_empty() => {
                    Some(ReasoningContent::Redacted(data.to_owned()))
                }
                _ => None,
            });
        }
        let stripped = blocks.len() - usize::from(turn.reasoning.is_some());
        if stripped > 0 {
            let why = if trusted {
                "unsigned or beyond the first"
            } else {
                "signatures not known to come from this model"
            };
            notes.push(format!(
                "N12: stripped {stripped} thinking block(s) from history ({why})"
            ));
        }
    }
}

/// How thinking is requested upstream for this request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ThinkingPlan {
    pub mode: ThinkingMode,
    /// `additionalModelRequestFields` of the current message.
    pub fields: Option<Value>,
    /// Tags to put before the first user turn's text.
    pub tags: Option<String>,
}

pub(crate) fn plan(
    req: &Request,
    spec: &ModelSpec,
    forced: bool,
    notes: &mut Vec<String>,
) -> ThinkingPlan {
    let wanted = forced
        || matches!(
            req.thinking,
            ThinkingConfig::Enabled { .. } | ThinkingConfig::Adaptive
        );
    match &spec.thinking {
        ThinkingSupport::Native { schema } => {
            let disable =
                !wanted && (req.thinking == ThinkingConfig::Disabled || spec.thinking_by_default);
            let mut candidate = Map::new();
            if wanted {
                candidate.insert(
                    "thinking".into(),
                    json!({"type": "adaptive", "display": "summarized"}),
                );
            } else if disable {
                candidate.insert(
                    "thinking".into(),
                    json!({"type": "disabled", "display": "omitted"}),
                );
            }
            if let Some(effort) = req.effort {
                let claude = allowed_effort(
                    schema,
                    "/properties/output_config/properties/effort",
                    effort,
                );
                if let Some(e) = claude {
                    candidate.insert("output_config".into(), json!({ "effort": e }));
                }
                let gpt = allowed_effort(schema, "/properties/reasoning/properties/effort", effort);
                if let Some(e) = gpt {
                    candidate.insert("reasoning".into(), json!({ "effort": e }));
                }
            }
            let fields = prune(&Value::Object(candidate), schema)
                .filter(|f| f.as_object().is_some_and(|m| !m.is_empty()));
            let thinking_type = fields
                .as_ref()
                .and_then(|f| f.pointer("/thinking/type"))
                .and_then(Value::as_str);
            let mode = match thinking_type {
                Some("disabled") => ThinkingMode::Off,
                Some(_) => ThinkingMode::Native,
                None if wanted || spec.thinking_by_default => ThinkingMode::Native,
                None => ThinkingMode::Off,
            };
            ThinkingPlan {
                mode,
                fields,
                tags: None,
            }
        }
        ThinkingSupport::Tags if wanted => {
            let budget = match req.thinking {
                ThinkingConfig::Enabled {
                    budget_tokens: Some(b),
                } if b > 0 => b,
                _ => DEFAULT_THINKING_BUDGET,
            };
            ThinkingPlan {
                mode: ThinkingMode::Tags,
                fields: None,
                tags: Some(format!(
                    "<thinking_mode>enabled</thinking_mode><max_thinking_length>{budget}</max_thinking_length>"
                )),
            }
        }
        ThinkingSupport::Tags | ThinkingSupport::None => {
            if wanted && spec.thinking == ThinkingSupport::None {
                notes.push(format!(
                    "thinking asked for, but {} has no thinking support; ignored",
                    spec.id
                ));
            }
            ThinkingPlan {
                mode: ThinkingMode::Off,
                fields: None,
                tags: None,
            }
        }
    }
}

/// The schema's allowed value nearest to `effort` on the scale minimal < … < max (ties go to
/// the lower, cheaper one). `None` when the schema has no such property.
fn allowed_effort(schema: &Value, pointer: &str, effort: Effort) -> Option<String> {
    const SCALE: [Effort; 6] = [
        Effort::Minimal,
        Effort::Low,
        Effort::Medium,
        Effort::High,
        Effort::XHigh,
        Effort::Max,
    ];
    let property = schema.pointer(pointer)?;
    let Some(allowed) = property.get("enum").and_then(Value::as_array) else {
        return Some(effort.as_str().to_owned());
    };
    let rank = |e: Effort| SCALE.iter().position(|s| *s == e).unwrap_or(0) as i64;
    let wanted = rank(effort);
    allowed
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|s| Effort::parse(s).map(|e| (s, (rank(e) - wanted).abs(), rank(e))))
        .min_by_key(|(_, distance, r)| (*distance, *r))
        .map(|(s, _, _)| s.to_owned())
}

/// `value` without what `schema` does not explicitly allow: keys missing from `properties`,
/// values outside `enum`, values of the wrong `type`; an object losing a `required` key is
/// dropped whole, and so is an object left empty.
fn prune(value: &Value, schema: &Value) -> Option<Value> {
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        let ok = match ty {
            "object" => value.is_object(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            _ => true,
        };
        if !ok {
            return None;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            return None;
        }
    }
    let Value::Object(obj) = value else {
        return Some(value.clone());
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    let mut out = Map::new();
    for (key, item) in obj {
        let sub = properties
            .and_then(|p| p.get(key))
            .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
        if let Some(kept) = sub.and_then(|s| prune(item, s)) {
            out.insert(key.clone(), kept);
        }
    }
    let required = schema.get("required").and_then(Value::as_array);
    let complete = required
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .all(|k| out.contains_key(k));
    (complete && !out.is_empty()).then_some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models;

    fn schema(id: &str) -> Value {
        match &models::spec(id).map(|s| s.thinking.clone()) {
            Some(ThinkingSupport::Native { schema }) => schema.clone(),
            _ => panic!("{id} is not native"),
        }
    }

    #[test]
    fn effort_snaps_to_the_schema() {
        let s47 = schema("claude-opus-4.7");
        let s46 = schema("claude-sonnet-4.6");
        let p = "/properties/output_config/properties/effort";
        assert_eq!(
            allowed_effort(&s47, p, Effort::XHigh).as_deref(),
            Some("xhigh")
        );
        assert_eq!(
            allowed_effort(&s46, p, Effort::XHigh).as_deref(),
            Some("high")
        );
        assert_eq!(
            allowed_effort(&s46, p, Effort::Minimal).as_deref(),
            Some("low")
        );
        assert_eq!(
            allowed_effort(&s46, "/properties/reasoning/properties/effort", Effort::Low),
            None
        );
    }

    #[test]
    fn prune_keeps_only_listed_keys() {
        let s46 = schema("claude-sonnet-4.6");
        let v = json!({"thinking": {"type": "adaptive", "display": "summarized"}, "reasoning": {}});
        assert_eq!(
            prune(&v, &s46),
            Some(json!({"thinking": {"type": "adaptive"}}))
        );
        let bad = json!({"thinking": {"type": "enabled"}});
        assert_eq!(prune(&bad, &s46), None);
    }
}
