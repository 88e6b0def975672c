//! Canonical request → `generateAssistantResponse` body (spec §4), applying the normalisation
//! rules N1–N15 of §4.6 in order, deterministically.
//!
//! | Rule | Where |
//! |---|---|
//! | N1 convert, N2 system pair, N3 merge, N4 leading turn, N5 prefill, N11 empty content | `turns`, `body` |
//! | N6 tool pairing, N7 placeholder specs, `tool_choice` | `tools` |
//! | N8 schema repair | `schema` |
//! | N9 descriptions, N10 names | `names` |
//! | N12 reasoning replay, native fields, thinking tags | `reasoning` |
//! | N13 images | `images` |
//! | N14 model id, origin, server tools | `body`, here |
//! | N15 size guard | `budget`, here |
//!
//! Deviations from the literal order, all idempotent: N2's system pair is kept apart from the
//! client turns so N3/N4 never merge the `I will follow these instructions.` turn with a client
//! assistant turn; N11 runs again after N13 (a dropped history image may leave a turn empty);
//! N7–N10 are computed when the body is built, so N15 can re-run them after trimming.
//!
//! `tool_choice`: the upstream has no such field. `none` offers no client tools (only those
//! history needs, V4); `any` and a named tool append one sentence to the current message
//! ("Respond by calling one or more of the available tools." / "Respond by calling the X
//! tool."); a named tool missing from `tools` is a 400.

mod body;
mod budget;
mod images;
mod names;
mod reasoning;
mod schema;
mod tools;
mod turns;

use std::collections::BTreeMap;

use kiro_wire::types::request::GenerateAssistantResponseRequest;

use crate::canonical::{ClientError, ErrorKind, Request};
use crate::models::ModelSpec;
use crate::tokens;

pub use images::MAX_IMAGE_BYTES;
pub use reasoning::DEFAULT_THINKING_BUDGET;

/// V10 default budget for the serialized body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 600_000;
/// V6 default description limit, in Unicode scalar values.
pub const DEFAULT_DESCRIPTION_LIMIT: usize = 10_000;

/// How to map one request.
#[derive(Debug, Clone)]
pub struct MappingOptions {
    /// The resolved upstream model id (`modelId` of every user message).
    pub upstream_model: String,
    pub spec: ModelSpec,
    /// A stable id from the service. Without one it is derived: the client's session id, else a
    /// hash of the system prompt and the first user message.
    pub conversation_id: Option<String>,
    /// The account's profile ARN (never with API keys).
    pub profile_arn: Option<String>,
    /// N15 budget for the serialized body.
    pub max_body_bytes: usize,
    /// N9 limit, in Unicode scalar values.
    pub description_limit: usize,
    /// N13 limit on one decoded image.
    pub max_image_bytes: usize,
    /// N15: over budget, drop the oldest user/assistant pairs (`true`) or fail with
    /// `ContextLengthExceeded` (`false`).
    pub trim_history: bool,
    /// The client used a `-thinking` model alias.
    pub thinking_forced: bool,
    /// The upstream model that issued the thinking signatures echoed in this conversation, when
    /// the service knows it (N12: replayed only when it equals `upstream_model`).
    pub signature_model: Option<String>,
}

impl MappingOptions {
    /// Defaults: no conversation id or ARN, 600,000-byte budget, 10,000-character descriptions,
    /// 5 MB images, fail rather than trim, no forced thinking, no trusted signatures.
    pub fn new(upstream_model: impl Into<String>, spec: ModelSpec) -> Self {
        MappingOptions {
            upstream_model: upstream_model.into(),
            spec,
            conversation_id: None,
            profile_arn: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            description_limit: DEFAULT_DESCRIPTION_LIMIT,
            max_image_bytes: MAX_IMAGE_BYTES,
            trim_history: false,
            thinking_forced: false,
            signature_model: None,
        }
    }
}

/// Upstream tool name → client tool name, for names N10 changed; the reply side restores
/// `toolUseEvent.name` with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolNameMap {
    to_client: BTreeMap<String, String>,
}

impl ToolNameMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the client's `client` tool is sent upstream as `upstream`.
    pub fn insert(&mut self, upstream: impl Into<String>, client: impl Into<String>) {
        self.to_client.insert(upstream.into(), client.into());
    }

    /// The client's name for an upstream tool name (the name itself when N10 left it alone).
    pub fn client_name<'a>(&'a self, upstream: &'a str) -> &'a str {
        self.to_client
            .get(upstream)
            .map_or(upstream, String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.to_client.is_empty()
    }

    pub fn len(&self) -> usize {
        self.to_client.len()
    }

    /// `(upstream, client)` pairs of the renamed tools.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.to_client.iter().map(|(u, c)| (u.as_str(), c.as_str()))
    }
}

/// How the reply side must read thinking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThinkingMode {
    /// Thinking arrives as `reasoningContentEvent`s.
    Native,
    /// Thinking arrives as `<thinking>…</thinking>` at the start of the text.
    Tags,
    /// No thinking was asked for.
    #[default]
    Off,
}

/// A mapped request, ready to send.
#[derive(Debug, Clone)]
pub struct MappedRequest {
    pub body: GenerateAssistantResponseRequest,
    /// `body` serialized once; send these bytes.
    pub json: Vec<u8>,
    pub tool_names: ToolNameMap,
    pub thinking: ThinkingMode,
    /// [`tokens::estimate_request`] of the client request (what `count_tokens` answers), or of
    /// the body when N15 trimmed history.
    pub estimated_input_tokens: u64,
    /// What was repaired, for one debug log line.
    pub notes: Vec<String>,
}

/// Maps a canonical request to the upstream body.
pub fn map_request(req: &Request, opts: &MappingOptions) -> Result<MappedRequest, ClientError> {
    let mut notes = Vec::new();

    let mut turns = turns::convert(req, &mut notes); // N1
    let system = turns::system_text(req); // N2
    turns = turns::merge(turns); // N3
    turns::lead_with_user(&mut turns, &mut notes); // N4
    turns::drop_prefill(&mut turns, &mut notes); // N5
    if turns.is_empty() {
        if system.is_none() {
            return Err(ClientError::invalid_param(
                "messages",
                "at least one message is required",
            ));
        }
        turns.push(turns::Turn::user_text(turns::CONTINUE)); // N2
    }
    tools::repair_pairing(&mut turns, &mut notes); // N6
    // N7–N10: in the loop below.
    turns::fill_empty(&mut turns); // N11
    reasoning::replay(
        &mut turns,
        &opts.upstream_model,
        opts.signature_model.as_deref(),
        &mut notes,
    ); // N12
    images::resolve(
        &mut turns,
        &opts.upstream_model,
        opts.spec.images,
        opts.max_image_bytes,
        &mut notes,
    )?; // N13
    turns::fill_empty(&mut turns);
    for server_tool in &req.server_tools {
        notes.push(format!(
            "N14: server tool {} ({}) removed",
            server_tool.name, server_tool.kind
        ));
    }
    let thinking = reasoning::plan(req, &opts.spec, opts.thinking_forced, &mut notes);
    let conversation_id = body::conversation_id(req, opts.conversation_id.as_deref());
    let continuation_id = body::derived_uuid("continuation", &conversation_id);

    let mut trimmed = false;
    loop {
        let mut tool_notes = Vec::new();
        let tools::ToolSet {
            declared,
            names,
            instruction,
        } = tools::declare(req, &turns, opts.description_limit, &mut tool_notes)?;
        let frame = body::Frame {
            system: system.as_deref(),
            names: &names,
            instruction: instruction.as_deref(),
            thinking: &thinking,
            model: &opts.upstream_model,
            conversation_id: &conversation_id,
            continuation_id: &continuation_id,
            profile_arn: opts.profile_arn.as_deref(),
        };
        let body = body::build(&frame, &turns, declared);
        let json = serde_json::to_vec(&body).map_err(|e| {
            ClientError::new(
                ErrorKind::Api,
                format!("could not serialize the request: {e}"),
            )
        })?;
        if json.len() <= opts.max_body_bytes {
            notes.extend(tool_notes);
            let estimated_input_tokens = if trimmed {
                tokens::estimate_body(&json)
            } else {
                tokens::estimate_request(req)
            };
            return Ok(MappedRequest {
                body,
                json,
                tool_names: names.map,
                thinking: thinking.mode,
                estimated_input_tokens,
                notes,
            });
        }
        // N15.
        let too_long = || {
            budget::too_long(
                json.len(),
                opts.max_body_bytes,
                tokens::estimate_body(&json),
            )
        };
        if !opts.trim_history {
            return Err(too_long());
        }
        let sizes = budget::turn_sizes(&body, system.is_some());
        let excess = json.len() - opts.max_body_bytes;
        let Some(count) = budget::trim_count(&turns, &sizes, excess) else {
            return Err(too_long());
        };
        turns.drain(..count);
        notes.push(format!(
            "N15: body was {} bytes (limit {}); dropped the {} oldest turns",
            json.len(),
            opts.max_body_bytes,
            count
        ));
        tools::repair_pairing(&mut turns, &mut notes);
        turns::fill_empty(&mut turns);
        trimmed = true;
    }
}
