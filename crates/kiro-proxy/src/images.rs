//! Remote image URLs in client requests (OpenAI `image_url`, Anthropic `image` with a URL
//! source): refused with a precise 400 unless the operator turned on `images.remote_fetch`,
//! in which case each one is fetched behind SSRF guards ([`ImageFetcher`]) and replaced by
//! inline base64 before the Kiro mapping runs (the upstream takes only inline images).

mod address;
mod fetch;

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use dialects::canonical::{ClientError, Image, Part, Request, ToolResultContent};
use futures::StreamExt as _;

pub use address::{AddressPolicy, BlockedRange, blocked_range};
pub use fetch::{FetchError, FetchedImage, ImageFetcher, MAX_REDIRECTS};

use crate::config::ImagesConfig;

/// Fetches running at once for one request.
pub const MAX_CONCURRENT_FETCHES: usize = 4;
/// Distinct remote URLs fetched for one request; more is refused rather than letting one
/// request make the proxy download without bound.
pub const MAX_REMOTE_IMAGES: usize = 20;

/// Replaces every `Image::Url` of `req` (in messages and in tool results) by the fetched image
/// as base64, or refuses the request with a 400 naming the message at fault.
pub async fn resolve_remote_images(
    req: &mut Request,
    cfg: &ImagesConfig,
    fetcher: &ImageFetcher,
) -> Result<(), ClientError> {
    // Distinct URLs in order of first appearance, with the message that first names each.
    let mut wanted: Vec<(String, usize)> = Vec::new();
    for (i, url) in remote_urls(req) {
        if !cfg.remote_fetch {
            return Err(fetch_disabled(i, url));
        }
        if !wanted.iter().any(|(u, _)| u == url) {
            wanted.push((url.to_owned(), i));
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    if wanted.len() > MAX_REMOTE_IMAGES {
        let (_, i) = &wanted[MAX_REMOTE_IMAGES];
        return Err(ClientError::invalid_param(
            param(*i),
            format!(
                "at most {MAX_REMOTE_IMAGES} distinct remote image URLs are fetched per request; \
                 send the others inline as base64"
            ),
        ));
    }

    let mut fetches = futures::stream::iter(wanted)
        .map(|(url, i)| async move {
            let result = fetcher.fetch(&url, cfg.max_bytes, cfg.fetch_timeout).await;
            (url, i, result)
        })
        .buffer_unordered(MAX_CONCURRENT_FETCHES);
    let mut fetched: HashMap<String, Image> = HashMap::new();
    while let Some((url, i, result)) = fetches.next().await {
        match result {
            Ok(image) => {
                let image = Image::Base64 {
                    media_type: Some(image.format.media_type().to_owned()),
                    data: STANDARD.encode(&image.bytes),
                };
                fetched.insert(url, image);
            }
            Err(e) => {
                tracing::info!(host = host_of(&url), error = %e, "remote image refused");
                // Returning drops the stream, which cancels the fetches still running.
                return Err(ClientError::invalid_param(
                    param(i),
                    format!("could not use the image URL {}: {e}", shown(&url)),
                ));
            }
        }
    }
    for image in images_mut(req) {
        if let Image::Url(url) = image {
            if let Some(found) = fetched.get(url.as_str()) {
                *image = found.clone();
            }
        }
    }
    Ok(())
}

/// The 400 when remote fetching is off: what to send instead.
fn fetch_disabled(i: usize, url: &str) -> ClientError {
    ClientError::invalid_param(
        param(i),
        format!(
            "remote image URLs are not fetched by this proxy ({}); send the image inline as \
             base64 (a data: URL or a base64 source)",
            shown(url)
        ),
    )
}

fn param(i: usize) -> String {
    format!("messages[{i}].content")
}

/// A URL as quoted in an error: bounded, since it comes from the client.
fn shown(url: &str) -> String {
    url.chars().take(80).collect()
}

/// The host of a URL for logs (never the path or query, which may carry signed tokens).
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Every remote image URL with the index of its message, in order.
fn remote_urls(req: &Request) -> impl Iterator<Item = (usize, &str)> {
    req.messages.iter().enumerate().flat_map(|(i, m)| {
        m.content.iter().flat_map(move |part| {
            let urls: Vec<&str> = match part {
                Part::Image(Image::Url(url)) => vec![url.as_str()],
                Part::ToolResult(r) => r
                    .content
                    .iter()
                    .filter_map(|c| match c {
                        ToolResultContent::Image(Image::Url(url)) => Some(url.as_str()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            urls.into_iter().map(move |url| (i, url))
        })
    })
}

/// Every image of `req`, in messages and in tool results.
fn images_mut(req: &mut Request) -> Vec<&mut Image> {
    let mut images = Vec::new();
    for m in &mut req.messages {
        for part in &mut m.content {
            match part {
                Part::Image(image) => images.push(image),
                Part::ToolResult(r) => {
                    for c in &mut r.content {
                        if let ToolResultContent::Image(image) = c {
                            images.push(image);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    images
}
