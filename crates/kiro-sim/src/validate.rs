//! Request validation rules V1–V13 (spec §4.5), pure: raw `generateAssistantResponse` bytes in,
//! a summary of the request or the exact error kind out.
//!
//! The simulator judges the raw JSON shape, as the service does, so this never goes through the
//! proxy's types. Rules run in this order; the first failure wins:
//!
//! | Rule | Checks | Kind |
//! |---|---|---|
//! | V10 | body above `max_body_bytes` | `ImproperlyFormed` |
//! | json | body is not JSON | `ImproperlyFormed` |
//! | V1 | every shape/type error: root, `conversationState`, a *user* `currentMessage` with string `content` and `modelId`; history entries with exactly one of the two keys; `toolUses` `{toolUseId, name, input: object}`; `toolResults` `{toolUseId, status?: success/error, content: [{text}/{json}]}`; `tools` entries `toolSpecification` or `cachePoint`; optional fields may be absent or `null` | `ImproperlyFormed` |
//! | V11 | `chatTriggerType` present and `MANUAL` | `ImproperlyFormed` |
//! | `api-key-profile-arn` | an API-key account sent a root `profileArn` | `ImproperlyFormedValidation` (the `__type …#ValidationException` variant: the service answers credential/ARN mix-ups with `ValidationException`, §2.1) |
//! | V2 | history starts with a user turn, alternates, ends with an assistant turn | `ImproperlyFormed` |
//! | V3 | tool pairing between adjacent turns (current message included); duplicate ids in one `toolResults` or one `toolUses` list | `ImproperlyFormed` |
//! | V5 | (each tool in order, V5 then V6 then V7) tool name present, ≤ `max_tool_name_len` chars, `[A-Za-z0-9_-]`, unique in `tools` | `ImproperlyFormed` |
//! | V6 | description present, not blank, ≤ `max_tool_description_chars` chars | `ImproperlyFormed` |
//! | V7 | `inputSchema.json` object with `type: "object"`, `properties` object (required), `required` absent or an array of strings (explicit `null` is invalid). Top level only | `ImproperlyFormed` |
//! | V4 | history tool names declared in the current `tools` (case-insensitive) | `ImproperlyFormed` |
//! | V8 | every image (any user turn): format png/jpeg/gif/webp, standard padded base64, magic bytes match the format | `ImproperlyFormed` |
//! | V12 | blank (whitespace-only) user content needs tool results or images; blank assistant content needs tool uses (unverified upstream; the simulator is strict so the proxy's N11 is exercised) | `ImproperlyFormed` |
//! | V9 | current `modelId` known (hidden models included) and available to the tier | `InvalidModelId` |
//! | V13 | `additionalModelRequestFields` (current message, or the root where it is also reported accepted) conforms to the model schema; `reasoningContent` is one object with exactly one of `reasoningText {text, signature}` / `redactedContent` | `ImproperlyFormed` |
//! | V13 | the `reasoningText.signature` does not verify for the request's model, or `redactedContent` is not base64 | `ThinkingSignatureInvalid` |
//! | `context` | token estimate above the ceiling (default: the model's window) | `ContentLengthExceeded` |
//!
//! "More than one `reasoningContent` per turn" can only be written as an array, which is a shape
//! error, so it gets the generic 400 (rule V13), not `THINKING_SIGNATURE_INVALID`.
//! `origin`, `agentTaskType`, `agentContinuationId`, history `modelId` values and `envState` are
//! not validated. Unknown keys are ignored, except inside `additionalModelRequestFields`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use crate::errors::ErrorKind;
use crate::models::{self, Tier};
use crate::signature;

/// Hidden system prompt the service adds to every request (§5: about 2,000 tokens).
pub const HIDDEN_PROMPT_TOKENS: u64 = 2_000;
/// Tokens charged per image in the estimate, instead of its base64 length (a typical
/// ~1,000×1,000 px image costs about 1,300–1,600 tokens on Claude).
pub const IMAGE_TOKENS: u64 = 1_600;

/// Limits the validator enforces.
#[derive(Debug, Clone)]
pub struct ValidationConfig {
    /// V10 ceiling on the serialized body, in bytes.
    pub max_body_bytes: usize,
    /// Context ceiling in estimated tokens; `None` = the model's window.
    pub context_token_ceiling: Option<u64>,
    /// V5, in characters.
    pub max_tool_name_len: usize,
    /// V6, in Unicode scalar values.
    pub max_tool_description_chars: usize,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 600_000,
            context_token_ceiling: None,
            max_tool_name_len: 64,
            max_tool_description_chars: 10_000,
        }
    }
}

/// What the validator needs to know about the calling account.
#[derive(Debug, Clone, Copy)]
pub struct AccountView {
    pub tier: Tier,
    pub is_api_key: bool,
}

/// A summary of an accepted request, for scripting and assertions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidatedRequest {
    pub model_id: String,
    pub conversation_id: Option<String>,
    /// `currentMessage.userInputMessage.content`.
    pub last_user_text: String,
    /// See [`estimate_tokens`]; images count [`IMAGE_TOKENS`] each instead of their bytes.
    pub estimated_input_tokens: u64,
    /// Names of the current message's `toolSpecification`s, in order.
    pub tool_names: Vec<String>,
    /// `toolUseId`s of the current message's `toolResults`, in order.
    pub tool_result_ids: Vec<String>,
    pub history_len: usize,
    /// Images in the whole request (history and current message).
    pub image_count: usize,
    /// `additionalModelRequestFields.thinking.type`.
    pub thinking: Option<String>,
    /// A root `profileArn` was sent.
    pub has_profile_arn: bool,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub kind: ErrorKind,
    /// "V1".."V13", "json", "api-key-profile-arn" or "context".
    pub rule: &'static str,
    /// For the simulator's log only; never sent to the client.
    pub detail: String,
}

/// Local input-token estimate (§7.6 item 3): one token per 4 bytes of serialized payload,
/// rounded up, plus [`HIDDEN_PROMPT_TOKENS`].
pub fn estimate_tokens(text_len_bytes: usize) -> u64 {
    (text_len_bytes as u64).div_ceil(4) + HIDDEN_PROMPT_TOKENS
}

fn reject(kind: ErrorKind, rule: &'static str, detail: impl Into<String>) -> Rejection {
    Rejection {
        kind,
        rule,
        detail: detail.into(),
    }
}

fn improper(rule: &'static str, detail: impl Into<String>) -> Rejection {
    reject(ErrorKind::ImproperlyFormed, rule, detail)
}

fn shape(detail: impl Into<String>) -> Rejection {
    improper("V1", detail)
}

/// Validates one request body.
pub fn validate(
    raw: &[u8],
    cfg: &ValidationConfig,
    account: AccountView,
) -> Result<ValidatedRequest, Rejection> {
    if raw.len() > cfg.max_body_bytes {
        return Err(improper(
            "V10",
            format!(
                "body is {} bytes, ceiling {}",
                raw.len(),
                cfg.max_body_bytes
            ),
        ));
    }
    let root: Value =
        serde_json::from_slice(raw).map_err(|e| improper("json", format!("not JSON: {e}")))?;
    let req = Parsed::read(&root)?;

    if req.trigger != Some("MANUAL") {
        return Err(improper(
            "V11",
            format!("chatTriggerType is {:?}, not MANUAL", req.trigger),
        ));
    }
    if account.is_api_key && req.has_profile_arn {
        return Err(reject(
            ErrorKind::ImproperlyFormedValidation,
            "api-key-profile-arn",
            "profileArn sent with an API key",
        ));
    }
    check_alternation(&req.turns)?;
    check_tool_pairing(&req.turns)?;
    let tool_names = check_tools(&req, cfg)?;
    let image_bytes = check_images(&req.turns)?;
    check_blank_content(&req.turns)?;

    let current = &req.current;
    let model_id = current.model_id.unwrap_or_default();
    let model = models::find(model_id).ok_or_else(|| {
        reject(
            ErrorKind::InvalidModelId,
            "V9",
            format!("unknown model {model_id:?}"),
        )
    })?;
    if !model.available_to(account.tier) {
        return Err(reject(
            ErrorKind::InvalidModelId,
            "V9",
            format!(
                "{model_id} needs {:?}, account is {:?}",
                model.min_tier, account.tier
            ),
        ));
    }

    let mut thinking = None;
    for fields in [req.root_fields, current.fields].into_iter().flatten() {
        model
            .check_request_fields(fields)
            .map_err(|e| improper("V13", e))?;
        if let Some(t) = fields.pointer("/thinking/type").and_then(Value::as_str) {
            thinking = Some(t.to_owned());
        }
    }
    check_reasoning(&req.turns, model_id)?;

    let image_count: usize = req.turns.iter().map(|t| t.images().len()).sum();
    let estimated_input_tokens =
        estimate_tokens(raw.len().saturating_sub(image_bytes)) + IMAGE_TOKENS * image_count as u64;
    let ceiling = cfg.context_token_ceiling.unwrap_or(model.context_window);
    if estimated_input_tokens > ceiling {
        return Err(reject(
            ErrorKind::ContentLengthExceeded,
            "context",
            format!("estimated {estimated_input_tokens} tokens, ceiling {ceiling}"),
        ));
    }

    Ok(ValidatedRequest {
        model_id: model_id.to_owned(),
        conversation_id: req.conversation_id.map(str::to_owned),
        last_user_text: current.content.to_owned(),
        estimated_input_tokens,
        tool_names,
        tool_result_ids: current.results.iter().map(|r| (*r).to_owned()).collect(),
        history_len: req.turns.len() - 1,
        image_count,
        thinking,
        has_profile_arn: req.has_profile_arn,
    })
}

// ---- V1: reading the shape -------------------------------------------------------------------

#[derive(Debug, Clone)]
struct UserView<'a> {
    path: String,
    content: &'a str,
    model_id: Option<&'a str>,
    /// `toolResults[].toolUseId`.
    results: Vec<&'a str>,
    images: &'a [Value],
    tools: &'a [Value],
    fields: Option<&'a Value>,
}

#[derive(Debug)]
struct AssistantView<'a> {
    path: String,
    content: &'a str,
    /// `(toolUseId, name)`.
    uses: Vec<(&'a str, &'a str)>,
    reasoning: Option<&'a Value>,
}

#[derive(Debug)]
enum Turn<'a> {
    User(UserView<'a>),
    Assistant(AssistantView<'a>),
}

impl Turn<'_> {
    fn images(&self) -> &[Value] {
        match self {
            Turn::User(u) => u.images,
            Turn::Assistant(_) => &[],
        }
    }
}

#[derive(Debug)]
struct Parsed<'a> {
    conversation_id: Option<&'a str>,
    trigger: Option<&'a str>,
    has_profile_arn: bool,
    root_fields: Option<&'a Value>,
    current: UserView<'a>,
    /// History, oldest first, then the current message.
    turns: Vec<Turn<'a>>,
}

/// A present, non-null field (the service treats `null` optionals as absent).
fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn as_object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Rejection> {
    v.as_object()
        .ok_or_else(|| shape(format!("{path}: not an object")))
}

fn required_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a Map<String, Value>, Rejection> {
    match obj.get(key) {
        Some(v) => as_object(v, &format!("{path}.{key}")),
        None => Err(shape(format!("{path}.{key}: missing"))),
    }
}

fn required_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a str, Rejection> {
    obj.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| shape(format!("{path}.{key}: missing or not a string")))
}

fn optional_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, Rejection> {
    match field(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(shape(format!("{path}.{key}: not a string"))),
    }
}

fn optional_array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<&'a [Value], Rejection> {
    match field(obj, key) {
        None => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(shape(format!("{path}.{key}: not an array"))),
    }
}

impl<'a> Parsed<'a> {
    fn read(root: &'a Value) -> Result<Self, Rejection> {
        let root_obj = as_object(root, "body")?;
        let state = required_object(root_obj, "conversationState", "body")?;
        let sp = "conversationState";
        let current_msg = required_object(state, "currentMessage", sp)?;
        if current_msg.contains_key("assistantResponseMessage") {
            return Err(shape("currentMessage is an assistant message"));
        }
        let cur_path = format!("{sp}.currentMessage.userInputMessage");
        let cur_obj = required_object(
            current_msg,
            "userInputMessage",
            &format!("{sp}.currentMessage"),
        )?;
        let current = read_user(cur_obj, cur_path)?;
        if current.model_id.is_none() {
            return Err(shape("currentMessage.userInputMessage.modelId: missing"));
        }

        let mut turns = Vec::new();
        for (i, entry) in optional_array(state, "history", sp)?.iter().enumerate() {
            let path = format!("history[{i}]");
            let entry = as_object(entry, &path)?;
            let user = field(entry, "userInputMessage");
            let assistant = field(entry, "assistantResponseMessage");
            let turn = match (user, assistant) {
                (Some(u), None) => {
                    let p = format!("{path}.userInputMessage");
                    Turn::User(read_user(as_object(u, &p)?, p)?)
                }
                (None, Some(a)) => {
                    let p = format!("{path}.assistantResponseMessage");
                    Turn::Assistant(read_assistant(as_object(a, &p)?, p)?)
                }
                _ => {
                    return Err(shape(format!(
                        "{path}: needs exactly one of userInputMessage, assistantResponseMessage"
                    )));
                }
            };
            turns.push(turn);
        }
        turns.push(Turn::User(current.clone()));

        let has_profile_arn = optional_str(root_obj, "profileArn", "body")?.is_some();
        let root_fields = field(root_obj, "additionalModelRequestFields");
        Ok(Self {
            conversation_id: optional_str(state, "conversationId", sp)?,
            trigger: optional_str(state, "chatTriggerType", sp)?,
            has_profile_arn,
            root_fields,
            current,
            turns,
        })
    }
}

fn read_user(obj: &Map<String, Value>, path: String) -> Result<UserView<'_>, Rejection> {
    let content = required_str(obj, "content", &path)?;
    let model_id = optional_str(obj, "modelId", &path)?;
    let images = optional_array(obj, "images", &path)?;
    let mut results = Vec::new();
    let mut tools: &[Value] = &[];
    if let Some(ctx) = field(obj, "userInputMessageContext") {
        let ctx_path = format!("{path}.userInputMessageContext");
        let ctx = as_object(ctx, &ctx_path)?;
        tools = optional_array(ctx, "tools", &ctx_path)?;
        for (i, tool) in tools.iter().enumerate() {
            let tp = format!("{ctx_path}.tools[{i}]");
            let tool = as_object(tool, &tp)?;
            if !tool.contains_key("toolSpecification") && !tool.contains_key("cachePoint") {
                return Err(shape(format!(
                    "{tp}: neither toolSpecification nor cachePoint"
                )));
            }
        }
        for (i, result) in optional_array(ctx, "toolResults", &ctx_path)?
            .iter()
            .enumerate()
        {
            let rp = format!("{ctx_path}.toolResults[{i}]");
            results.push(read_tool_result(as_object(result, &rp)?, &rp)?);
        }
    }
    Ok(UserView {
        content,
        model_id,
        results,
        images,
        tools,
        fields: field(obj, "additionalModelRequestFields"),
        path,
    })
}

fn read_tool_result<'a>(obj: &'a Map<String, Value>, path: &str) -> Result<&'a str, Rejection> {
    let id = required_str(obj, "toolUseId", path)?;
    if let Some(status) = optional_str(obj, "status", path)? {
        if status != "success" && status != "error" {
            return Err(shape(format!("{path}.status: {status:?}")));
        }
    }
    let content = obj
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| shape(format!("{path}.content: missing or not an array")))?;
    for (i, item) in content.iter().enumerate() {
        let ip = format!("{path}.content[{i}]");
        let item = as_object(item, &ip)?;
        let ok = matches!(
            (field(item, "text"), field(item, "json")),
            (Some(Value::String(_)), None) | (None, Some(_))
        );
        if !ok {
            return Err(shape(format!("{ip}: needs a string text or a json value")));
        }
    }
    Ok(id)
}

fn read_assistant(obj: &Map<String, Value>, path: String) -> Result<AssistantView<'_>, Rejection> {
    let content = required_str(obj, "content", &path)?;
    let mut uses = Vec::new();
    for (i, tool_use) in optional_array(obj, "toolUses", &path)?.iter().enumerate() {
        let up = format!("{path}.toolUses[{i}]");
        let tool_use = as_object(tool_use, &up)?;
        let id = required_str(tool_use, "toolUseId", &up)?;
        let name = required_str(tool_use, "name", &up)?;
        if !tool_use.get("input").is_some_and(Value::is_object) {
            return Err(shape(format!("{up}.input: missing or not an object")));
        }
        uses.push((id, name));
    }
    Ok(AssistantView {
        content,
        uses,
        reasoning: field(obj, "reasoningContent"),
        path,
    })
}

// ---- V2, V3, V4 ------------------------------------------------------------------------------

fn check_alternation(turns: &[Turn<'_>]) -> Result<(), Rejection> {
    // The last turn is the current (user) message, so alternation also makes a non-empty
    // history end with an assistant turn.
    for (i, turn) in turns.iter().enumerate() {
        let should_be_user = i % 2 == 0;
        if matches!(turn, Turn::User(_)) != should_be_user {
            let what = if i + 1 == turns.len() {
                "history does not end with an assistant turn".to_owned()
            } else {
                format!("history[{i}] breaks user/assistant alternation")
            };
            return Err(improper("V2", what));
        }
    }
    Ok(())
}

fn first_duplicate<'a>(ids: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::new();
    ids.into_iter().find(|id| !seen.insert(*id))
}

fn check_tool_pairing(turns: &[Turn<'_>]) -> Result<(), Rejection> {
    for (i, turn) in turns.iter().enumerate() {
        match turn {
            Turn::User(user) => {
                if let Some(dup) = first_duplicate(user.results.iter().copied()) {
                    return Err(improper(
                        "V3",
                        format!("{}: duplicate toolResult {dup}", user.path),
                    ));
                }
                let previous = match i.checked_sub(1).and_then(|p| turns.get(p)) {
                    Some(Turn::Assistant(a)) => a.uses.as_slice(),
                    _ => &[],
                };
                if let Some(orphan) = user
                    .results
                    .iter()
                    .find(|id| !previous.iter().any(|(u, _)| u == *id))
                {
                    return Err(improper(
                        "V3",
                        format!(
                            "{}: toolResult {orphan} has no toolUse in the previous turn",
                            user.path
                        ),
                    ));
                }
            }
            Turn::Assistant(assistant) => {
                if let Some(dup) = first_duplicate(assistant.uses.iter().map(|(id, _)| *id)) {
                    return Err(improper(
                        "V3",
                        format!("{}: duplicate toolUseId {dup}", assistant.path),
                    ));
                }
                let next = match turns.get(i + 1) {
                    Some(Turn::User(u)) => u.results.as_slice(),
                    _ => &[],
                };
                if let Some((missing, _)) = assistant.uses.iter().find(|(id, _)| !next.contains(id))
                {
                    return Err(improper(
                        "V3",
                        format!(
                            "{}: toolUse {missing} has no toolResult in the next turn",
                            assistant.path
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// V4–V7 over the current message's tools; returns the declared names.
fn check_tools(req: &Parsed<'_>, cfg: &ValidationConfig) -> Result<Vec<String>, Rejection> {
    let mut names = Vec::new();
    for (i, tool) in req.current.tools.iter().enumerate() {
        if let Some(spec) = tool.get("toolSpecification") {
            let path = format!("tools[{i}].toolSpecification");
            names.push(check_tool_spec(spec, &path, cfg, &names)?);
        }
    }
    for turn in &req.turns {
        if let Turn::Assistant(a) = turn {
            for (_, used) in &a.uses {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(used)) {
                    return Err(improper(
                        "V4",
                        format!(
                            "{}: tool {used:?} is not declared in currentMessage tools",
                            a.path
                        ),
                    ));
                }
            }
        }
    }
    Ok(names)
}

fn check_tool_spec(
    spec: &Value,
    path: &str,
    cfg: &ValidationConfig,
    earlier: &[String],
) -> Result<String, Rejection> {
    let Some(spec) = spec.as_object() else {
        return Err(shape(format!("{path}: not an object")));
    };
    let name = match spec.get("name").and_then(Value::as_str) {
        Some(n) => n,
        None => {
            return Err(improper(
                "V5",
                format!("{path}.name: missing or not a string"),
            ));
        }
    };
    let len = name.chars().count();
    if len == 0 || len > cfg.max_tool_name_len {
        return Err(improper("V5", format!("{path}.name: {len} characters")));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(improper(
            "V5",
            format!("{path}.name: {name:?} has characters outside [A-Za-z0-9_-]"),
        ));
    }
    if earlier.iter().any(|n| n == name) {
        return Err(improper(
            "V5",
            format!("{path}.name: duplicate tool {name:?}"),
        ));
    }
    let description = match spec.get("description").and_then(Value::as_str) {
        Some(d) => d,
        None => {
            return Err(improper(
                "V6",
                format!("{path}.description: missing or not a string"),
            ));
        }
    };
    let chars = description.chars().count();
    if description.trim().is_empty() || chars > cfg.max_tool_description_chars {
        return Err(improper(
            "V6",
            format!("{path}.description: {chars} characters"),
        ));
    }
    let schema = spec
        .get("inputSchema")
        .and_then(|s| s.get("json"))
        .and_then(Value::as_object)
        .ok_or_else(|| {
            improper(
                "V7",
                format!("{path}.inputSchema.json: missing or not an object"),
            )
        })?;
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err(improper(
            "V7",
            format!("{path}.inputSchema.json.type: not \"object\""),
        ));
    }
    if !schema.get("properties").is_some_and(Value::is_object) {
        return Err(improper(
            "V7",
            format!("{path}.inputSchema.json.properties: missing or not an object"),
        ));
    }
    if let Some(required) = schema.get("required") {
        let ok = required
            .as_array()
            .is_some_and(|items| items.iter().all(Value::is_string));
        if !ok {
            return Err(improper(
                "V7",
                format!("{path}.inputSchema.json.required: not an array of strings"),
            ));
        }
    }
    Ok(name.to_owned())
}

// ---- V8, V12 ---------------------------------------------------------------------------------

/// The format the magic bytes announce (§4.3).
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some("png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpeg")
    } else if bytes.starts_with(b"GIF8") {
        Some("gif")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

/// Checks every image; returns the total base64 length (left out of the token estimate).
fn check_images(turns: &[Turn<'_>]) -> Result<usize, Rejection> {
    let mut total = 0;
    for turn in turns {
        let Turn::User(user) = turn else { continue };
        for (i, image) in user.images.iter().enumerate() {
            let path = format!("{}.images[{i}]", user.path);
            let format = image
                .get("format")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !matches!(format, "png" | "jpeg" | "gif" | "webp") {
                return Err(improper("V8", format!("{path}.format: {format:?}")));
            }
            let b64 = image
                .pointer("/source/bytes")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    improper(
                        "V8",
                        format!("{path}.source.bytes: missing or not a string"),
                    )
                })?;
            let bytes = STANDARD
                .decode(b64)
                .map_err(|e| improper("V8", format!("{path}.source.bytes: bad base64: {e}")))?;
            let sniffed = sniff(&bytes);
            if sniffed != Some(format) {
                return Err(improper(
                    "V8",
                    format!("{path}: format {format} but bytes look like {sniffed:?}"),
                ));
            }
            total += b64.len();
        }
    }
    Ok(total)
}

fn check_blank_content(turns: &[Turn<'_>]) -> Result<(), Rejection> {
    for turn in turns {
        match turn {
            Turn::User(u)
                if u.content.trim().is_empty() && u.results.is_empty() && u.images.is_empty() =>
            {
                return Err(improper(
                    "V12",
                    format!("{}: blank content without tool results or images", u.path),
                ));
            }
            Turn::Assistant(a) if a.content.trim().is_empty() && a.uses.is_empty() => {
                return Err(improper(
                    "V12",
                    format!("{}: blank content without tool uses", a.path),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

// ---- V13: replayed reasoning -----------------------------------------------------------------

fn check_reasoning(turns: &[Turn<'_>], model_id: &str) -> Result<(), Rejection> {
    for (i, turn) in turns.iter().enumerate() {
        let Turn::Assistant(a) = turn else { continue };
        let Some(reasoning) = a.reasoning else {
            continue;
        };
        let path = format!("{}.reasoningContent", a.path);
        let obj = match reasoning {
            Value::Object(obj) => obj,
            Value::Array(items) => {
                return Err(improper(
                    "V13",
                    format!("{path}: {} entries; one object allowed", items.len()),
                ));
            }
            _ => return Err(improper("V13", format!("{path}: not an object"))),
        };
        let bad_signature = |why: &str| {
            reject(
                ErrorKind::ThinkingSignatureInvalid,
                "V13",
                format!("messages.{i}.content.0 ({path}): {why}"),
            )
        };
        match (field(obj, "reasoningText"), field(obj, "redactedContent")) {
            (Some(text_block), None) => {
                let text = text_block
                    .get("text")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        improper(
                            "V13",
                            format!("{path}.reasoningText.text: missing or not a string"),
                        )
                    })?;
                let sig = text_block
                    .get("signature")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if !signature::verify(model_id, text, sig) {
                    return Err(bad_signature("signature does not verify for this model"));
                }
            }
            (None, Some(redacted)) => {
                let ok = redacted
                    .as_str()
                    .is_some_and(|s| !s.is_empty() && STANDARD.decode(s).is_ok());
                if !ok {
                    return Err(bad_signature("redactedContent is not base64"));
                }
            }
            _ => {
                return Err(improper(
                    "V13",
                    format!("{path}: needs exactly one of reasoningText, redactedContent"),
                ));
            }
        }
    }
    Ok(())
}
