//! N13 images (spec §4.3, §4.6, V8): base64 checked, format sniffed from the bytes, size
//! capped. A bad image in the current turn is a client error; in history it is dropped with a
//! note. Remote URLs are an error anywhere: the service fetches them (behind SSRF guards) before
//! the mapping runs.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use kiro_wire::types::request::ImageFormat;

use super::turns::{PendingImage, ReadyImage, Turn};
use crate::canonical::{ClientError, Image};

/// Largest decoded image accepted (§4.3: about 5 MB).
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug)]
enum Problem {
    Url,
    BadBase64,
    Unsupported(Option<String>),
    TooLarge(usize),
    ModelTextOnly,
}

impl Problem {
    fn message(&self, model: &str, max: usize) -> String {
        match self {
            Problem::Url => "image URLs must be fetched before mapping; send the image as base64 \
                             data"
                .to_owned(),
            Problem::BadBase64 => "image data is not valid base64".to_owned(),
            Problem::Unsupported(claimed) => format!(
                "unsupported image format{}; use png, jpeg, gif or webp",
                claimed
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            ),
            Problem::TooLarge(n) => {
                format!("image is {n} bytes decoded, over the {max}-byte limit")
            }
            Problem::ModelTextOnly => format!("model {model} does not accept images"),
        }
    }
}

/// Checks every pending image of every turn; the last turn is the current message.
pub(crate) fn resolve<'a>(
    turns: &mut [Turn<'a>],
    model: &str,
    model_takes_images: bool,
    max_bytes: usize,
    notes: &mut Vec<String>,
) -> Result<(), ClientError> {
    let last = turns.len().saturating_sub(1);
    for (i, turn) in turns.iter_mut().enumerate() {
        for pending in std::mem::take(&mut turn.pending_images) {
            let checked = if model_takes_images {
                convert(&pending, max_bytes)
            } else if matches!(pending.image, Image::Url(_)) {
                Err(Problem::Url)
            } else {
                Err(Problem::ModelTextOnly)
            };
            match checked {
                Ok(image) => turn.images.push(image),
                Err(problem @ Problem::Url) => {
                    return Err(error(&pending, &problem, model, max_bytes));
                }
                Err(problem) if i == last => {
                    return Err(error(&pending, &problem, model, max_bytes));
                }
                Err(problem) => notes.push(format!(
                    "N13: {} dropped from history: {}",
                    pending.param,
                    problem.message(model, max_bytes)
                )),
            }
        }
    }
    Ok(())
}

fn error(pending: &PendingImage<'_>, problem: &Problem, model: &str, max: usize) -> ClientError {
    let field = match problem {
        Problem::Url => "source.url",
        Problem::ModelTextOnly => "",
        _ => "source.data",
    };
    let param = if field.is_empty() {
        pending.param.clone()
    } else {
        format!("{}.{field}", pending.param)
    };
    ClientError::invalid_param(param, problem.message(model, max))
}

fn convert<'a>(pending: &PendingImage<'a>, max_bytes: usize) -> Result<ReadyImage<'a>, Problem> {
    let (media_type, data) = match pending.image {
        Image::Url(_) => return Err(Problem::Url),
        Image::Base64 { media_type, data } => (media_type, data.as_str()),
    };
    // Tolerate a stray `data:` prefix.
    let data = match data.strip_prefix("data:") {
        Some(rest) => rest.split_once(',').map_or(rest, |(_, d)| d),
        None => data,
    };
    // Decoded size from the length alone (exact for padded base64, an upper bound otherwise),
    // so an oversize image is refused before it is decoded.
    let padding = data.bytes().rev().take_while(|b| *b == b'=').count();
    let approx = (data.len() / 4 * 3).saturating_sub(padding);
    if approx > max_bytes + 3 {
        return Err(Problem::TooLarge(approx));
    }
    let (bytes, canonical) = decode(data).ok_or(Problem::BadBase64)?;
    if bytes.len() > max_bytes {
        return Err(Problem::TooLarge(bytes.len()));
    }
    let format =
        ImageFormat::sniff(&bytes).ok_or_else(|| Problem::Unsupported(media_type.clone()))?;
    let base64 = if canonical {
        Cow::Borrowed(data)
    } else {
        Cow::Owned(STANDARD.encode(&bytes))
    };
    Ok(ReadyImage { format, base64 })
}

/// Decodes standard base64, or failing that the lenient forms clients send (line breaks,
/// missing padding, URL-safe alphabet). The flag says whether `data` was already the standard
/// padded form the upstream wants.
fn decode(data: &str) -> Option<(Vec<u8>, bool)> {
    if let Ok(bytes) = STANDARD.decode(data) {
        return Some((bytes, true));
    }
    let compact: String = data
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && *c != '=')
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(compact).ok().map(|b| (b, false))
}
