//! Message `content`: a string or an array of typed parts, with the part types each role allows.

use serde_json::{Map, Value};

use super::image::decode_image_url;
use super::param::{self, Path};
use crate::canonical::{ClientError, Part, ToolResultContent};

/// A content part, once its `type` is known.
enum RawPart {
    Text(String),
    /// The `image_url` value, decoded later with its own path.
    ImageUrl(Value),
    Refusal,
}

/// Which part types a role accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Allowed {
    /// `system`, `developer`: text only.
    Text,
    /// `user`: text and images.
    User,
    /// `tool`: text, and leniently images (some agents return screenshots this way).
    Tool,
    /// `assistant`: text and refusal parts (refusals are dropped).
    Assistant,
}

/// `system` / `developer` content: the text of each part, in order.
pub(super) fn text_content(value: Value, path: Path<'_>) -> Result<Vec<String>, ClientError> {
    let mut texts = Vec::new();
    for_each_part(value, path, Allowed::Text, |part, _| {
        if let RawPart::Text(text) = part {
            texts.push(text);
        }
        Ok(())
    })?;
    Ok(texts)
}

/// `user` content: text and image parts.
pub(super) fn user_content(value: Value, path: Path<'_>) -> Result<Vec<Part>, ClientError> {
    let mut parts = Vec::new();
    for_each_part(value, path, Allowed::User, |part, part_path| {
        match part {
            RawPart::Text(text) => parts.push(Part::Text(text)),
            RawPart::ImageUrl(v) => {
                parts.push(Part::Image(decode_image_url(
                    v,
                    part_path.key("image_url"),
                )?));
            }
            RawPart::Refusal => {}
        }
        Ok(())
    })?;
    Ok(parts)
}

/// `assistant` content (which may be null): its text parts.
pub(super) fn assistant_content(
    value: Option<Value>,
    path: Path<'_>,
) -> Result<Vec<String>, ClientError> {
    let mut texts = Vec::new();
    if let Some(value) = value {
        for_each_part(value, path, Allowed::Assistant, |part, _| {
            if let RawPart::Text(text) = part {
                texts.push(text);
            }
            Ok(())
        })?;
    }
    Ok(texts)
}

/// `tool` / `function` content: text parts, and images when a client sends them.
pub(super) fn tool_content(
    value: Value,
    path: Path<'_>,
) -> Result<Vec<ToolResultContent>, ClientError> {
    let mut content = Vec::new();
    for_each_part(value, path, Allowed::Tool, |part, part_path| {
        match part {
            RawPart::Text(text) => content.push(ToolResultContent::Text(text)),
            RawPart::ImageUrl(v) => content.push(ToolResultContent::Image(decode_image_url(
                v,
                part_path.key("image_url"),
            )?)),
            RawPart::Refusal => {}
        }
        Ok(())
    })?;
    Ok(content)
}

/// Calls `f` with each part of a string-or-parts `content` (a string is one text part).
fn for_each_part(
    value: Value,
    path: Path<'_>,
    allowed: Allowed,
    mut f: impl FnMut(RawPart, Path<'_>) -> Result<(), ClientError>,
) -> Result<(), ClientError> {
    match value {
        Value::String(text) => f(RawPart::Text(text), path),
        Value::Array(items) => {
            for (i, item) in items.into_iter().enumerate() {
                let part_path = path.at(i);
                let map = param::into_object(item, part_path)?;
                let part = raw_part(map, part_path, allowed)?;
                f(part, part_path)?;
            }
            Ok(())
        }
        other => Err(param::invalid_type(
            path,
            "one of a string or array of objects",
            &other,
        )),
    }
}

fn raw_part(
    mut map: Map<String, Value>,
    path: Path<'_>,
    allowed: Allowed,
) -> Result<RawPart, ClientError> {
    let type_path = path.key("type");
    let kind = param::required_string(&mut map, type_path)?;
    match (kind.as_str(), allowed) {
        ("text", _) => Ok(RawPart::Text(param::required_string(
            &mut map,
            path.key("text"),
        )?)),
        ("image_url", Allowed::User | Allowed::Tool) => Ok(RawPart::ImageUrl(param::require(
            &mut map,
            path.key("image_url"),
        )?)),
        ("refusal", Allowed::Assistant) => Ok(RawPart::Refusal),
        ("input_audio" | "file" | "audio", _) => Err(param::invalid(
            type_path,
            format!("Content part type '{kind}' is not supported by this server."),
        )),
        (_, _) => Err(param::invalid_value(type_path, &kind, supported(allowed))),
    }
}

fn supported(allowed: Allowed) -> &'static str {
    match allowed {
        Allowed::Text => "'text'",
        Allowed::User | Allowed::Tool => "'text' and 'image_url'",
        Allowed::Assistant => "'text' and 'refusal'",
    }
}
