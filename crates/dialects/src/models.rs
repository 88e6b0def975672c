//! Upstream model catalogue and client model-name resolution (spec §5, §3.7).
//!
//! The static table is the fallback; [`ModelCatalogue::refresh`] folds in the upstream's
//! `ListAvailableModels` answer, which is authoritative for windows and thinking schemas.
//! Resolution turns whatever the client sent (`claude-sonnet-4-5-20250929`, `claude-opus-4-7[1m]`,
//! `claude-sonnet-4-5-thinking`) into a lower-case dotted upstream id, or a 404 client error
//! before any upstream round trip.
//!
//! Choices made here (the spec leaves them open):
//! - `glm-5` has no published window or multiplier: 200,000 tokens and 0.25 credits, like the
//!   simulator. `maxOutputTokens` is 64,000 for every model (the only value reported).
//! - Images: every Claude model and `auto`; the open-weight models are text only.
//! - `claude-opus-4-8` and `claude-sonnet-5` (what Claude Code 2.1.197 sends by default and for
//!   `--model sonnet`) fall back to the newest known model of the same family when the catalogue
//!   does not know them: Claude Code would otherwise fail out of the box.
//! - A few Anthropic `-latest` / `-0` aliases are added to the §5 table.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use kiro_wire::types::models::{ListAvailableModelsResponse, ModelInfo};
use serde_json::{Value, json};

use crate::canonical::{ClientError, ErrorKind};

/// How a model takes thinking instructions (spec §4.4).
#[derive(Debug, Clone, PartialEq)]
pub enum ThinkingSupport {
    /// Accepts `additionalModelRequestFields` conforming to this JSON Schema.
    Native { schema: Value },
    /// No schema; thinking is emulated with `<thinking_mode>` tags in the prompt.
    Tags,
    /// No thinking at all.
    None,
}

/// One upstream model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Upstream id: lower-case and dotted.
    pub id: String,
    /// Input window in tokens (`tokenLimits.maxInputTokens`).
    pub context_window: u64,
    /// Credits per request relative to the base rate.
    pub credit_multiplier: f64,
    pub max_output_tokens: u64,
    /// Accepts image input.
    pub images: bool,
    pub thinking: ThinkingSupport,
    /// Thinks unless told not to (Opus 4.7, §4.4): the mapping then disables thinking explicitly
    /// when the client did not ask for it.
    pub thinking_by_default: bool,
}

impl ModelSpec {
    /// A conservative spec for an id the catalogue does not know (an operator override to a
    /// hidden model): a 200,000-token window, tag thinking for Claude ids.
    pub fn fallback(id: &str) -> ModelSpec {
        let claude = id.starts_with("claude-");
        ModelSpec {
            id: id.to_owned(),
            context_window: 200_000,
            credit_multiplier: 1.0,
            max_output_tokens: DEFAULT_MAX_OUTPUT,
            images: claude,
            thinking: if claude {
                ThinkingSupport::Tags
            } else {
                ThinkingSupport::None
            },
            thinking_by_default: false,
        }
    }
}

/// A client model name resolved to an upstream id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedModel {
    pub upstream_id: String,
    /// The client used a `-thinking` suffix: thinking is forced on.
    pub thinking_suffix: bool,
    /// The client used `[1m]` / `-1m`.
    pub one_m: bool,
}

const DEFAULT_MAX_OUTPUT: u64 = 64_000;

fn entry(
    id: &str,
    context_window: u64,
    credit_multiplier: f64,
    images: bool,
    thinking: ThinkingSupport,
) -> ModelSpec {
    ModelSpec {
        id: id.to_owned(),
        context_window,
        credit_multiplier,
        max_output_tokens: DEFAULT_MAX_OUTPUT,
        images,
        thinking,
        thinking_by_default: false,
    }
}

/// The full schema Opus 4.7 advertises (§3.7).
fn opus_47_schema() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {
        "thinking": {"type": "object", "required": ["type"], "properties": {
            "type": {"type": "string", "enum": ["adaptive", "disabled"]},
            "display": {"type": "string", "enum": ["summarized", "omitted"]}}},
        "output_config": {"type": "object", "properties": {
            "effort": {"type": "string", "enum": ["low", "medium", "high", "xhigh", "max"]}}}}})
}

/// The "older models" schema of §4.4: `thinking.type` and `output_config.effort` only.
fn claude_effort_schema() -> Value {
    json!({"type": "object", "additionalProperties": false, "properties": {
        "thinking": {"type": "object", "required": ["type"], "properties": {
            "type": {"type": "string", "enum": ["adaptive", "disabled"]}}},
        "output_config": {"type": "object", "properties": {
            "effort": {"type": "string", "enum": ["low", "medium", "high", "max"]}}}}})
}

fn build_static() -> Vec<ModelSpec> {
    use ThinkingSupport::{None as NoThinking, Tags};
    let native = |schema: Value| ThinkingSupport::Native { schema };
    let mut opus_47 = entry(
        "claude-opus-4.7",
        1_000_000,
        2.2,
        true,
        native(opus_47_schema()),
    );
    opus_47.thinking_by_default = true;
    vec![
        entry("auto", 1_000_000, 1.0, true, NoThinking),
        entry("claude-sonnet-4", 200_000, 1.3, true, Tags),
        entry("claude-sonnet-4.5", 200_000, 1.3, true, Tags),
        entry(
            "claude-sonnet-4.6",
            1_000_000,
            1.3,
            true,
            native(claude_effort_schema()),
        ),
        entry("claude-haiku-4.5", 200_000, 0.4, true, Tags),
        entry("claude-opus-4.5", 200_000, 2.2, true, Tags),
        entry(
            "claude-opus-4.6",
            1_000_000,
            2.2,
            true,
            native(claude_effort_schema()),
        ),
        opus_47,
        entry("deepseek-3.2", 164_000, 0.25, false, NoThinking),
        entry("minimax-m2.5", 196_000, 0.25, false, NoThinking),
        entry("minimax-m2.1", 196_000, 0.15, false, NoThinking),
        entry("qwen3-coder-next", 256_000, 0.05, false, NoThinking),
        entry("glm-5", 200_000, 0.25, false, NoThinking),
    ]
}

/// The static §5 table, in the spec's order (for `/v1/models` when no listing is cached).
pub fn default_catalogue() -> &'static [ModelSpec] {
    static TABLE: OnceLock<Vec<ModelSpec>> = OnceLock::new();
    TABLE.get_or_init(build_static)
}

/// The static spec of an upstream id.
pub fn spec(id: &str) -> Option<&'static ModelSpec> {
    default_catalogue().iter().find(|m| m.id == id)
}

/// The §5 alias table (client name, lower-case → upstream id), checked before the generic rule.
const ALIASES: &[(&str, &str)] = &[
    ("claude-sonnet-4-5", "claude-sonnet-4.5"),
    ("claude-sonnet-4-5-20250929", "claude-sonnet-4.5"),
    ("claude-sonnet-4.5", "claude-sonnet-4.5"),
    ("claude-sonnet-4-0", "claude-sonnet-4"),
    ("claude-sonnet-4-20250514", "claude-sonnet-4"),
    ("claude-sonnet-4-6", "claude-sonnet-4.6"),
    ("claude-haiku-4-5", "claude-haiku-4.5"),
    ("claude-haiku-4-5-20251001", "claude-haiku-4.5"),
    ("claude-3-5-haiku-20241022", "claude-haiku-4.5"),
    ("claude-3-5-haiku-latest", "claude-haiku-4.5"),
    ("claude-opus-4-5", "claude-opus-4.5"),
    ("claude-opus-4-5-20251101", "claude-opus-4.5"),
    ("claude-opus-4-6", "claude-opus-4.6"),
    ("claude-opus-4-7", "claude-opus-4.7"),
    ("claude-opus-4-1", "claude-opus-4.5"),
    ("claude-opus-4-1-20250805", "claude-opus-4.5"),
    ("claude-opus-4-20250514", "claude-opus-4.5"),
    ("claude-opus-4-0", "claude-opus-4.5"),
    ("claude-3-7-sonnet-20250219", "claude-sonnet-4.5"),
    ("claude-3-7-sonnet-latest", "claude-sonnet-4.5"),
    ("claude-3-5-sonnet-20241022", "claude-sonnet-4.5"),
    ("claude-3-5-sonnet-latest", "claude-sonnet-4.5"),
];

/// Ids the generic rule produces that the catalogue may not know yet, and the nearest known
/// model of the same family (module docs). Used only when the id itself is unknown.
const FAMILY_FALLBACKS: &[(&str, &str)] = &[
    ("claude-opus-4.8", "claude-opus-4.7"),
    ("claude-sonnet-5", "claude-sonnet-4.6"),
];

/// Resolves a client model name against the static catalogue. See [`ModelCatalogue::resolve`].
pub fn resolve(
    client_model: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<ResolvedModel, ClientError> {
    resolve_in(default_catalogue(), client_model, overrides)
}

fn alias(name: &str) -> Option<&'static str> {
    ALIASES.iter().find(|(a, _)| *a == name).map(|(_, up)| *up)
}

/// A suffix of the generic rule.
enum Suffix {
    Date,
    OneM,
    Thinking,
}

/// Strips one known suffix; returns the rest and what was stripped.
fn strip_suffix(name: &str) -> Option<(&str, Suffix)> {
    if let Some(rest) = name
        .strip_suffix("[1m]")
        .or_else(|| name.strip_suffix("-1m"))
    {
        return Some((rest, Suffix::OneM));
    }
    if let Some(rest) = name.strip_suffix("-thinking") {
        return Some((rest, Suffix::Thinking));
    }
    let (rest, tail) = name.rsplit_once('-')?;
    (tail.len() == 8 && tail.bytes().all(|b| b.is_ascii_digit())).then_some((rest, Suffix::Date))
}

/// `claude-sonnet-4-6` → `claude-sonnet-4.6`: the last `-` between two numbers at the end.
fn dot_version(name: &str) -> String {
    let Some((head, minor)) = name.rsplit_once('-') else {
        return name.to_owned();
    };
    let Some((_, major)) = head.rsplit_once('-') else {
        return name.to_owned();
    };
    let numeric = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if numeric(major) && numeric(minor) {
        format!("{head}.{minor}")
    } else {
        name.to_owned()
    }
}

fn resolve_in(
    models: &[ModelSpec],
    client_model: &str,
    overrides: &BTreeMap<String, String>,
) -> Result<ResolvedModel, ClientError> {
    let plain = |id: &str| ResolvedModel {
        upstream_id: id.to_owned(),
        thinking_suffix: false,
        one_m: false,
    };
    if let Some(up) = overrides.get(client_model) {
        return Ok(plain(up));
    }
    let lower = client_model.trim().to_ascii_lowercase();
    let mut resolved = plain("");
    let mut name = lower.as_str();
    // Strip suffixes one at a time, checking the alias table after each (its dated rows).
    let candidate = loop {
        if let Some(up) = alias(name) {
            break up.to_owned();
        }
        match strip_suffix(name) {
            Some((rest, suffix)) => {
                match suffix {
                    Suffix::Thinking => resolved.thinking_suffix = true,
                    Suffix::OneM => resolved.one_m = true,
                    Suffix::Date => {}
                }
                name = rest;
            }
            None => break dot_version(name),
        }
    };
    let known = |id: &str| models.iter().any(|m| m.id == id);
    let upstream = if known(&candidate) {
        Some(candidate)
    } else {
        FAMILY_FALLBACKS
            .iter()
            .find(|(from, to)| *from == candidate && known(to))
            .map(|(_, to)| (*to).to_owned())
    };
    match upstream {
        Some(id) => {
            resolved.upstream_id = id;
            Ok(resolved)
        }
        None => Err(unknown_model(client_model, models)),
    }
}

fn unknown_model(client_model: &str, models: &[ModelSpec]) -> ClientError {
    let examples: Vec<&str> = models
        .iter()
        .map(|m| m.id.as_str())
        .filter(|id| id.starts_with("claude-"))
        .take(6)
        .collect();
    let mut err = ClientError::new(
        ErrorKind::NotFound,
        format!(
            "model '{client_model}' is not available; use one of {} (or an Anthropic alias such as \
             claude-sonnet-4-5)",
            examples.join(", ")
        ),
    );
    err.param = Some("model".to_owned());
    err
}

/// The catalogue in use: the static table refreshed from `ListAvailableModels`.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelCatalogue {
    models: Vec<ModelSpec>,
    default_model: Option<String>,
}

impl Default for ModelCatalogue {
    fn default() -> Self {
        Self::builtin()
    }
}

impl ModelCatalogue {
    /// The static §5 table.
    pub fn builtin() -> Self {
        Self {
            models: default_catalogue().to_vec(),
            default_model: None,
        }
    }

    /// The static table with one listing folded in (see [`ModelCatalogue::refresh`]).
    pub fn from_listing(listing: &ListAvailableModelsResponse) -> Self {
        let mut catalogue = Self::builtin();
        catalogue.refresh(listing);
        catalogue
    }

    /// Folds a listing into the catalogue: a listed model's `maxInputTokens`, `maxOutputTokens`,
    /// `rateMultiplier`, input types and `additionalModelRequestFieldsSchema` override the static
    /// values; unknown listed models are added; static models absent from the listing stay (the
    /// listing omits "hidden" models that work, §3.7). Always starts from the static table, so
    /// refreshing twice with the same listing gives the same catalogue.
    pub fn refresh(&mut self, listing: &ListAvailableModelsResponse) {
        let mut models = default_catalogue().to_vec();
        for info in listing.models.iter().filter(|m| !m.model_id.is_empty()) {
            let id = info.model_id.to_ascii_lowercase();
            match models.iter_mut().find(|m| m.id == id) {
                Some(existing) => apply_listing(existing, info),
                None => {
                    let mut new = ModelSpec::fallback(&id);
                    apply_listing(&mut new, info);
                    models.push(new);
                }
            }
        }
        self.models = models;
        self.default_model = listing.default_model_id().map(str::to_owned);
    }

    pub fn models(&self) -> &[ModelSpec] {
        &self.models
    }

    /// `defaultModel.modelId` of the last listing.
    pub fn default_model(&self) -> Option<&str> {
        self.default_model.as_deref()
    }

    pub fn spec(&self, id: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The spec of `id`, or [`ModelSpec::fallback`] for an id only an operator override knows.
    pub fn spec_or_fallback(&self, id: &str) -> ModelSpec {
        self.spec(id)
            .cloned()
            .unwrap_or_else(|| ModelSpec::fallback(id))
    }

    /// Resolves a client model name, in order: the operator `overrides` (exact match, target
    /// used verbatim), the §5 alias table, then the generic rule: strip `-YYYYMMDD`, `[1m]` /
    /// `-1m` and `-thinking` (in any order, checking the alias table after each), turn the `-`
    /// between major and minor into `.`, and accept the result when this catalogue knows it
    /// (falling back within the family for the ids in the module docs). Anything else is a
    /// `NotFound` client error naming a few valid ids.
    pub fn resolve(
        &self,
        client_model: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<ResolvedModel, ClientError> {
        resolve_in(&self.models, client_model, overrides)
    }
}

fn apply_listing(spec: &mut ModelSpec, info: &ModelInfo) {
    if let Some(window) = info.max_input_tokens().filter(|w| *w > 0) {
        spec.context_window = window;
    }
    if let Some(max) = info.max_output_tokens().filter(|m| *m > 0) {
        spec.max_output_tokens = max;
    }
    if let Some(rate) = info.rate_multiplier.filter(|r| r.is_finite() && *r >= 0.0) {
        spec.credit_multiplier = rate;
    }
    if !info.supported_input_types.is_empty() {
        spec.images = info.supports_images();
    }
    if let Some(schema) = info
        .additional_model_request_fields_schema
        .as_ref()
        .filter(|s| s.is_object())
    {
        spec.thinking = ThinkingSupport::Native {
            schema: schema.clone(),
        };
    }
}
