//! Message content: a string or a list of blocks (`text`, `image`, `tool_use`, `tool_result`,
//! `thinking`, `redacted_thinking`, text `document`s). `cache_control`, `citations` and other
//! unknown keys on a block are ignored.

use serde_json::Value;

use super::loc::{
    Loc, Object, into_object, opt_bool, opt_object, opt_string, req_nonempty, req_string, take,
};
use crate::canonical::{ClientError, Image, Part, ToolResult, ToolResultContent, ToolUse};

/// Content of a `user` or `assistant` message.
pub(super) fn decode_content(value: Value, loc: &Loc<'_>) -> Result<Vec<Part>, ClientError> {
    match value {
        Value::String(text) => Ok(vec![Part::Text(text)]),
        Value::Array(blocks) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (i, block) in blocks.into_iter().enumerate() {
                parts.push(decode_block(block, &loc.index(i))?);
            }
            Ok(parts)
        }
        other => Err(loc.wrong_type("a string or an array of content blocks", &other)),
    }
}

/// System text: a string or a list of `text` blocks, appended to `out` as segments. Empty
/// segments are skipped: the mapping joins segments with blank lines.
pub(super) fn decode_system(
    value: Value,
    loc: &Loc<'_>,
    out: &mut Vec<String>,
) -> Result<(), ClientError> {
    match value {
        Value::String(text) => {
            if !text.is_empty() {
                out.push(text);
            }
            Ok(())
        }
        Value::Array(blocks) => {
            for (i, block) in blocks.into_iter().enumerate() {
                let here = loc.index(i);
                let mut obj = into_object(block, &here)?;
                let ty = req_string(&mut obj, "type", &here)?;
                if ty != "text" {
                    return Err(here
                        .key("type")
                        .invalid(format_args!("system blocks must be `text`, got `{ty}`")));
                }
                let text = req_string(&mut obj, "text", &here)?;
                if !text.is_empty() && !is_billing_header(&text) {
                    out.push(text);
                }
            }
            Ok(())
        }
        other => Err(loc.wrong_type("a string or an array of text blocks", &other)),
    }
}

/// Claude Code's first system block, `x-anthropic-billing-header: cc_version=…;
/// cc_entrypoint=…;`, is metadata for Anthropic's billing, not instructions. Its value changes
/// between conversations, so forwarding it would spend tokens and defeat upstream prompt caching.
fn is_billing_header(text: &str) -> bool {
    text.starts_with("x-anthropic-billing-header:") && !text.contains('\n')
}

fn decode_block(value: Value, loc: &Loc<'_>) -> Result<Part, ClientError> {
    let mut obj = into_object(value, loc)?;
    let ty = req_string(&mut obj, "type", loc)?;
    Ok(match ty.as_str() {
        "text" => Part::Text(req_string(&mut obj, "text", loc)?),
        "image" => Part::Image(decode_image(&mut obj, loc)?),
        "tool_use" => Part::ToolUse(decode_tool_use(&mut obj, loc)?),
        "tool_result" => Part::ToolResult(decode_tool_result(&mut obj, loc)?),
        "thinking" => Part::Thinking {
            text: req_string(&mut obj, "thinking", loc)?,
            signature: opt_string(&mut obj, "signature", loc)?.filter(|s| !s.is_empty()),
        },
        "redacted_thinking" => Part::RedactedThinking {
            data: req_string(&mut obj, "data", loc)?,
        },
        "document" => Part::Text(document_text(&mut obj, loc)?),
        other => return Err(unsupported_block(other, loc)),
    })
}

fn unsupported_block(ty: &str, loc: &Loc<'_>) -> ClientError {
    loc.key("type")
        .invalid(format_args!("unsupported content block type `{ty}`"))
}

fn decode_tool_use(obj: &mut Object, loc: &Loc<'_>) -> Result<ToolUse, ClientError> {
    let id = req_nonempty(obj, "id", loc)?;
    let name = req_nonempty(obj, "name", loc)?;
    let input = match take(obj, "input") {
        None => Value::Object(Object::new()),
        Some(Value::Object(map)) => Value::Object(map),
        // Some clients echo the input as the JSON text they streamed.
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Value::Object(map),
            _ => return Err(loc.key("input").invalid("expected an object")),
        },
        Some(other) => return Err(loc.key("input").wrong_type("an object", &other)),
    };
    Ok(ToolUse { id, name, input })
}

fn decode_tool_result(obj: &mut Object, loc: &Loc<'_>) -> Result<ToolResult, ClientError> {
    let tool_use_id = req_nonempty(obj, "tool_use_id", loc)?;
    let is_error = opt_bool(obj, "is_error", loc)?.unwrap_or(false);
    let content_loc = loc.key("content");
    let content = match take(obj, "content") {
        None => Vec::new(),
        Some(Value::String(text)) => vec![ToolResultContent::Text(text)],
        Some(Value::Array(blocks)) => {
            let mut out = Vec::with_capacity(blocks.len());
            for (i, block) in blocks.into_iter().enumerate() {
                out.push(decode_tool_result_block(block, &content_loc.index(i))?);
            }
            out
        }
        Some(other) => {
            return Err(content_loc.wrong_type("a string or an array of content blocks", &other));
        }
    };
    Ok(ToolResult {
        tool_use_id,
        content,
        is_error,
    })
}

fn decode_tool_result_block(value: Value, loc: &Loc<'_>) -> Result<ToolResultContent, ClientError> {
    let mut obj = into_object(value, loc)?;
    let ty = req_string(&mut obj, "type", loc)?;
    Ok(match ty.as_str() {
        "text" => ToolResultContent::Text(req_string(&mut obj, "text", loc)?),
        "image" => ToolResultContent::Image(decode_image(&mut obj, loc)?),
        "document" => ToolResultContent::Text(document_text(&mut obj, loc)?),
        // Structured results (title, source, text blocks) pass through as JSON for the model.
        "search_result" => {
            obj.remove("cache_control");
            obj.insert("type".to_owned(), Value::String(ty));
            ToolResultContent::Json(Value::Object(obj))
        }
        other => return Err(unsupported_block(other, loc)),
    })
}

/// An `image` block's `source`: `base64` (`media_type`, `data`) or `url`.
fn decode_image(obj: &mut Object, loc: &Loc<'_>) -> Result<Image, ClientError> {
    let source_loc = loc.key("source");
    let mut source = opt_object(obj, "source", loc)?.ok_or_else(|| source_loc.required())?;
    let kind = req_string(&mut source, "type", &source_loc)?;
    match kind.as_str() {
        "base64" => {
            let media_type = opt_string(&mut source, "media_type", &source_loc)?;
            let data = req_string(&mut source, "data", &source_loc)?;
            base64_image(media_type, data, &source_loc.key("data"))
        }
        "url" => {
            let url = req_nonempty(&mut source, "url", &source_loc)?;
            if url.starts_with("data:") {
                let (media_type, data) = split_data_url(&url).ok_or_else(|| {
                    source_loc
                        .key("url")
                        .invalid("malformed data URL (expected `data:<type>;base64,<data>`)")
                })?;
                return base64_image(
                    Some(media_type.to_owned()),
                    data.to_owned(),
                    &source_loc.key("url"),
                );
            }
            Ok(Image::Url(url))
        }
        other => Err(source_loc.key("type").invalid(format_args!(
            "unsupported image source type `{other}` (expected `base64` or `url`)"
        ))),
    }
}

fn base64_image(
    media_type: Option<String>,
    data: String,
    loc: &Loc<'_>,
) -> Result<Image, ClientError> {
    // Tolerate a data URL pasted into `data`; the canonical form has no prefix.
    let (media_type, data) = if data.starts_with("data:") {
        match split_data_url(&data) {
            Some((mt, rest)) => (media_type.or_else(|| Some(mt.to_owned())), rest.to_owned()),
            None => {
                return Err(
                    loc.invalid("malformed data URL (expected `data:<type>;base64,<data>`)")
                );
            }
        }
    } else {
        (media_type, data)
    };
    if data.is_empty() {
        return Err(loc.invalid("image data must not be empty"));
    }
    if let Some(pos) = data.bytes().position(|b| !is_base64_byte(b)) {
        return Err(loc.invalid(format_args!(
            "invalid base64 (unexpected character at byte {pos})"
        )));
    }
    Ok(Image::Base64 { media_type, data })
}

/// Standard and URL-safe alphabets, padding and line breaks; full decoding is left to the
/// mapping, which needs the bytes anyway.
fn is_base64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=' | b'\r' | b'\n')
}

/// `data:image/png;base64,AAAA` → (`image/png`, `AAAA`).
fn split_data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    Some((media_type, data))
}

/// A `document` block becomes text when its source is text; PDFs and files are refused.
fn document_text(obj: &mut Object, loc: &Loc<'_>) -> Result<String, ClientError> {
    let source_loc = loc.key("source");
    let mut source = opt_object(obj, "source", loc)?.ok_or_else(|| source_loc.required())?;
    let kind = req_string(&mut source, "type", &source_loc)?;
    match kind.as_str() {
        "text" => req_string(&mut source, "data", &source_loc),
        "content" => {
            let content_loc = source_loc.key("content");
            match take(&mut source, "content") {
                None => Err(content_loc.required()),
                Some(Value::String(text)) => Ok(text),
                Some(Value::Array(blocks)) => {
                    let mut texts = Vec::with_capacity(blocks.len());
                    for (i, block) in blocks.into_iter().enumerate() {
                        let here = content_loc.index(i);
                        let mut block = into_object(block, &here)?;
                        let ty = req_string(&mut block, "type", &here)?;
                        if ty != "text" {
                            return Err(here.key("type").invalid(format_args!(
                                "document content blocks must be `text`, got `{ty}`"
                            )));
                        }
                        texts.push(req_string(&mut block, "text", &here)?);
                    }
                    Ok(texts.join("\n\n"))
                }
                Some(other) => {
                    Err(content_loc.wrong_type("a string or an array of text blocks", &other))
                }
            }
        }
        other => Err(source_loc.key("type").invalid(format_args!(
            "document source type `{other}` is not supported (only text documents are)"
        ))),
    }
}
