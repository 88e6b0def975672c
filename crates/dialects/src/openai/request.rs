//! `POST /v1/chat/completions` request bodies → canonical [`Request`].
//!
//! Accepted and ignored (the upstream has no equivalent, and rejecting them would break clients
//! that always send them): `temperature`, `top_p`, `presence_penalty`, `frequency_penalty`,
//! `seed`, `logit_bias`, `logprobs`, `top_logprobs` (replies carry `logprobs: null`),
//! `response_format` (`json_object` / `json_schema` are not enforced; the model only sees the
//! prompt), `parallel_tool_calls`, `metadata`, `store`, `service_tier`, `modalities`,
//! `prediction`, `verbosity` and any unknown key. Their types are still checked, as OpenAI does,
//! so a client bug surfaces as a 400 with the right `param`.
//!
//! Mapped: `user` (else `safety_identifier`) → `Metadata.user_id`; `prompt_cache_key` →
//! `Metadata.session_id` (a stable per-conversation key, the best hint Chat clients give).
//!
//! Rejected: `n` > 1 (one choice only), more than 4 `stop` sequences, `max_tokens` of 0.

use serde_json::{Map, Value};

use super::messages::decode_messages;
use super::param::{self, Expected, Path};
use crate::canonical::{ClientError, Effort, Metadata, Request, ThinkingConfig, Tool, ToolChoice};

const MAX_STOP_SEQUENCES: usize = 4;

/// Decodes a Chat Completions request body. Every failure is a 400 naming the field at fault.
pub fn decode_request(body: &[u8]) -> Result<Request, ClientError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ClientError::invalid(format!(
            "We could not parse the JSON body of your request ({e}). \
             The API expects a JSON object."
        ))
    })?;
    let Value::Object(mut map) = value else {
        return Err(ClientError::invalid(
            "The request body must be a JSON object.",
        ));
    };

    let model = param::required_string(&mut map, Path::Field("model"))?;
    if model.is_empty() {
        return Err(param::invalid(
            Path::Field("model"),
            "You must provide a model parameter.",
        ));
    }
    let conversation = decode_messages(param::require(&mut map, Path::Field("messages"))?)?;

    let mut tools = Vec::new();
    if let Some(value) = param::take(&mut map, "tools") {
        decode_tools(value, &mut tools)?;
    }
    if let Some(value) = param::take(&mut map, "functions") {
        decode_functions(value, &mut tools)?;
    }
    let tool_choice = match param::take(&mut map, "tool_choice") {
        Some(value) => decode_tool_choice(value)?,
        None => match param::take(&mut map, "function_call") {
            Some(value) => decode_function_call_choice(value)?,
            None => ToolChoice::Auto,
        },
    };

    check_choice_count(param::take(&mut map, "n"))?;
    let max_completion = param::opt_u64(
        param::take(&mut map, "max_completion_tokens"),
        Path::Field("max_completion_tokens"),
    )?;
    let max_tokens = param::opt_u64(
        param::take(&mut map, "max_tokens"),
        Path::Field("max_tokens"),
    )?;
    let max_tokens = check_max_tokens(max_completion, "max_completion_tokens")?
        .or(check_max_tokens(max_tokens, "max_tokens")?);

    let stream =
        param::opt_bool(param::take(&mut map, "stream"), Path::Field("stream"))?.unwrap_or(false);
    let include_usage = decode_stream_options(param::take(&mut map, "stream_options"))?;
    let (thinking, effort) = decode_reasoning_effort(param::take(&mut map, "reasoning_effort"))?;
    let stop_sequences = decode_stop(param::take(&mut map, "stop"))?;
    let metadata = decode_metadata(&mut map)?;
    check_ignored(&map)?;

    Ok(Request {
        model,
        system: conversation.system,
        messages: conversation.messages,
        tools,
        server_tools: Vec::new(),
        tool_choice,
        max_tokens,
        stop_sequences,
        stream,
        include_usage,
        thinking,
        effort,
        metadata,
    })
}

/// `tools`: `[{type:"function", function:{name, description?, parameters?, strict?}}]`.
fn decode_tools(value: Value, tools: &mut Vec<Tool>) -> Result<(), ClientError> {
    let path = Path::Field("tools");
    for (i, item) in param::into_array(value, path)?.into_iter().enumerate() {
        let tool_path = path.at(i);
        let mut map = param::into_object(item, tool_path)?;
        let type_path = tool_path.key("type");
        let kind = param::required_string(&mut map, type_path)?;
        if kind != "function" {
            // Custom (free-text) tools have no upstream equivalent; failing loudly beats a
            // model that silently cannot call them.
            return Err(param::invalid(
                type_path,
                format!("Tool type '{kind}' is not supported; only 'function' tools are."),
            ));
        }
        let function_path = tool_path.key("function");
        let function = param::require(&mut map, function_path)?;
        tools.push(function_tool(function, function_path)?);
    }
    Ok(())
}

/// Legacy `functions`: `[{name, description?, parameters?}]`.
fn decode_functions(value: Value, tools: &mut Vec<Tool>) -> Result<(), ClientError> {
    let path = Path::Field("functions");
    for (i, item) in param::into_array(value, path)?.into_iter().enumerate() {
        tools.push(function_tool(item, path.at(i))?);
    }
    Ok(())
}

fn function_tool(value: Value, path: Path<'_>) -> Result<Tool, ClientError> {
    let mut map = param::into_object(value, path)?;
    let name = param::required_string(&mut map, path.key("name"))?;
    let description = param::opt_string(&mut map, path, "description")?.unwrap_or_default();
    param::check_type(map.get("strict"), path.key("strict"), Expected::Bool)?;
    let input_schema = match param::take(&mut map, "parameters") {
        Some(Value::Object(schema)) => Value::Object(schema),
        Some(other) => {
            return Err(param::invalid_type(
                path.key("parameters"),
                "an object",
                &other,
            ));
        }
        // OpenAI documents a missing `parameters` as a function with no arguments.
        None => serde_json::json!({"type": "object", "properties": {}}),
    };
    Ok(Tool {
        name,
        description,
        input_schema,
    })
}

/// `tool_choice`: `"auto" | "none" | "required"`, `{type:"function", function:{name}}`, or
/// `{type:"allowed_tools", allowed_tools:{mode}}` (the tool subset is not enforced).
fn decode_tool_choice(value: Value) -> Result<ToolChoice, ClientError> {
    let path = Path::Field("tool_choice");
    match value {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Any),
            other => Err(param::invalid_value(
                path,
                other,
                "'auto', 'none' and 'required'",
            )),
        },
        Value::Object(mut map) => {
            let type_path = path.key("type");
            let kind = param::required_string(&mut map, type_path)?;
            match kind.as_str() {
                "function" => {
                    let function_path = path.key("function");
                    let mut function = param::into_object(
                        param::require(&mut map, function_path)?,
                        function_path,
                    )?;
                    let name = param::required_string(&mut function, function_path.key("name"))?;
                    Ok(ToolChoice::Tool(name))
                }
                "allowed_tools" => {
                    let allowed_path = path.key("allowed_tools");
                    let mut allowed =
                        param::into_object(param::require(&mut map, allowed_path)?, allowed_path)?;
                    let mode_path = allowed_path.key("mode");
                    match param::required_string(&mut allowed, mode_path)?.as_str() {
                        "auto" => Ok(ToolChoice::Auto),
                        "required" => Ok(ToolChoice::Any),
                        other => Err(param::invalid_value(
                            mode_path,
                            other,
                            "'auto' and 'required'",
                        )),
                    }
                }
                other => Err(param::invalid_value(
                    type_path,
                    other,
                    "'function' and 'allowed_tools'",
                )),
            }
        }
        other => Err(param::invalid_type(path, "a string or an object", &other)),
    }
}

/// Legacy `function_call`: `"auto" | "none"` or `{name}`.
fn decode_function_call_choice(value: Value) -> Result<ToolChoice, ClientError> {
    let path = Path::Field("function_call");
    match value {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            other => Err(param::invalid_value(path, other, "'auto' and 'none'")),
        },
        Value::Object(mut map) => Ok(ToolChoice::Tool(param::required_string(
            &mut map,
            path.key("name"),
        )?)),
        other => Err(param::invalid_type(path, "a string or an object", &other)),
    }
}

fn check_choice_count(value: Option<Value>) -> Result<(), ClientError> {
    let path = Path::Field("n");
    match param::opt_u64(value, path)? {
        None | Some(1) => Ok(()),
        Some(0) => Err(param::invalid(
            path,
            "Invalid 'n': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        )),
        Some(n) => Err(param::invalid(
            path,
            format!("Invalid 'n': only one choice per request is supported, but got {n}."),
        )),
    }
}

fn check_max_tokens(value: Option<u64>, field: &'static str) -> Result<Option<u64>, ClientError> {
    match value {
        Some(0) => Err(param::invalid(
            Path::Field(field),
            format!(
                "Invalid '{field}': integer below minimum value. Expected a value >= 1, but got 0 instead."
            ),
        )),
        other => Ok(other),
    }
}

fn decode_stream_options(value: Option<Value>) -> Result<bool, ClientError> {
    let path = Path::Field("stream_options");
    let Some(value) = value else { return Ok(false) };
    let mut map = param::into_object(value, path)?;
    param::check_type(
        map.get("include_obfuscation"),
        path.key("include_obfuscation"),
        Expected::Bool,
    )?;
    Ok(param::opt_bool(
        param::take(&mut map, "include_usage"),
        path.key("include_usage"),
    )?
    .unwrap_or(false))
}

/// `reasoning_effort`: `none` turns thinking off; any other level turns it on at that effort.
fn decode_reasoning_effort(
    value: Option<Value>,
) -> Result<(ThinkingConfig, Option<Effort>), ClientError> {
    let path = Path::Field("reasoning_effort");
    let Some(value) = value else {
        return Ok((ThinkingConfig::Default, None));
    };
    let level = param::into_string(value, path)?;
    if level == "none" {
        return Ok((ThinkingConfig::Disabled, None));
    }
    match Effort::parse(&level) {
        Some(effort) => Ok((
            ThinkingConfig::Enabled {
                budget_tokens: None,
            },
            Some(effort),
        )),
        None => Err(param::invalid_value(
            path,
            &level,
            "'none', 'minimal', 'low', 'medium', 'high' and 'xhigh'",
        )),
    }
}

/// `stop`: a string or an array of up to 4 strings. Empty strings can never match and are
/// dropped.
fn decode_stop(value: Option<Value>) -> Result<Vec<String>, ClientError> {
    let path = Path::Field("stop");
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(if s.is_empty() { Vec::new() } else { vec![s] }),
        Some(Value::Array(items)) => {
            if items.len() > MAX_STOP_SEQUENCES {
                return Err(param::invalid(
                    path,
                    format!(
                        "Invalid 'stop': array too long. Expected an array with maximum length \
                         {MAX_STOP_SEQUENCES}, but got an array with length {} instead.",
                        items.len()
                    ),
                ));
            }
            let mut stops = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                let s = param::into_string(item, path.at(i))?;
                if !s.is_empty() {
                    stops.push(s);
                }
            }
            Ok(stops)
        }
        Some(other) => Err(param::invalid_type(
            path,
            "a string or an array of strings",
            &other,
        )),
    }
}

fn decode_metadata(map: &mut Map<String, Value>) -> Result<Metadata, ClientError> {
    let user = param::take(map, "user")
        .map(|v| param::into_string(v, Path::Field("user")))
        .transpose()?;
    let safety = param::take(map, "safety_identifier")
        .map(|v| param::into_string(v, Path::Field("safety_identifier")))
        .transpose()?;
    let session = param::take(map, "prompt_cache_key")
        .map(|v| param::into_string(v, Path::Field("prompt_cache_key")))
        .transpose()?;
    Ok(Metadata {
        user_id: user.or(safety).filter(|s| !s.is_empty()),
        session_id: session.filter(|s| !s.is_empty()),
    })
}

/// Type checks for the parameters that are accepted and ignored.
fn check_ignored(map: &Map<String, Value>) -> Result<(), ClientError> {
    const CHECKS: &[(&str, Expected)] = &[
        ("temperature", Expected::Number),
        ("top_p", Expected::Number),
        ("presence_penalty", Expected::Number),
        ("frequency_penalty", Expected::Number),
        ("seed", Expected::Integer),
        ("logit_bias", Expected::Object),
        ("logprobs", Expected::Bool),
        ("top_logprobs", Expected::Integer),
        ("response_format", Expected::Object),
        ("parallel_tool_calls", Expected::Bool),
        ("metadata", Expected::Object),
        ("store", Expected::Bool),
        ("service_tier", Expected::String),
    ];
    for &(key, expected) in CHECKS {
        param::check_type(map.get(key), Path::Field(key), expected)?;
    }
    Ok(())
}
