//! `image_url` parts: `data:` URLs become inline base64 images, http(s) URLs stay references
//! (the service fetches them behind its SSRF guards or refuses them).

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

use super::param::{self, Path};
use crate::canonical::{ClientError, Image};

/// Standard alphabet; padding optional because some clients strip it.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes the value of an `image_url` part: `{"url", "detail"?}` (or, leniently, a bare URL
/// string). `path` points at the `image_url` field.
pub(super) fn decode_image_url(value: Value, path: Path<'_>) -> Result<Image, ClientError> {
    let url_path = path.key("url");
    let url = match value {
        Value::String(url) => url,
        Value::Object(mut map) => {
            // `detail` only tunes OpenAI's own resizing; it is accepted and ignored.
            param::check_type(
                map.get("detail"),
                path.key("detail"),
                param::Expected::String,
            )?;
            param::required_string(&mut map, url_path)?
        }
        other => return Err(param::invalid_type(path, "an object", &other)),
    };
    image_from_url(url, url_path)
}

fn image_from_url(mut url: String, path: Path<'_>) -> Result<Image, ClientError> {
    if has_prefix_ignore_case(&url, "data:") {
        let Some(comma) = url.find(',') else {
            return Err(param::invalid(
                path,
                "Invalid data URL: missing ',' before the data.",
            ));
        };
        let media_type = base64_media_type(&url[..comma]).ok_or_else(|| {
            param::invalid(
                path,
                "Invalid data URL: only base64 data URLs are supported \
                 (data:<media type>;base64,<data>).",
            )
        })?;
        // Drop the header in place: images can be megabytes, so no second copy.
        url.replace_range(..=comma, "");
        if !is_valid_base64(&url) {
            return Err(param::invalid(
                path,
                "Invalid data URL: the data is not valid base64.",
            ));
        }
        return Ok(Image::Base64 {
            media_type,
            data: url,
        });
    }
    if has_prefix_ignore_case(&url, "https://") || has_prefix_ignore_case(&url, "http://") {
        return Ok(Image::Url(url));
    }
    Err(param::invalid(
        path,
        "Invalid image URL: expected a base64 data URL or an http(s) URL.",
    ))
}

/// Parses the `data:<media type>[;param]*;base64` header. Returns the lower-cased media type
/// (inner `None` when the URL omits it), or `None` overall when the URL is not base64.
fn base64_media_type(header: &str) -> Option<Option<String>> {
    let meta = header.get(5..)?;
    let mut segments = meta.split(';');
    let media_type = segments.next().unwrap_or_default().trim();
    let last = segments.next_back()?;
    if !last.trim().eq_ignore_ascii_case("base64") {
        return None;
    }
    Some((!media_type.is_empty()).then(|| media_type.to_ascii_lowercase()))
}

fn has_prefix_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// Validates base64 without allocating a buffer the size of the image: decodes 4-aligned chunks
/// into a small stack buffer. Each chunk would accept its own padding, so padding is checked
/// first to be at the very end only.
fn is_valid_base64(data: &str) -> bool {
    const CHUNK: usize = 4096;
    let unpadded = data.trim_end_matches('=');
    if unpadded.is_empty() || data.len() - unpadded.len() > 2 || unpadded.contains('=') {
        return false;
    }
    let mut buf = [0u8; CHUNK / 4 * 3];
    data.as_bytes()
        .chunks(CHUNK)
        .all(|chunk| BASE64.decode_slice(chunk, &mut buf).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(url: &str) -> Result<Image, ClientError> {
        image_from_url(url.to_owned(), Path::Field("url"))
    }

    #[test]
    fn data_url_becomes_base64_image() {
        let image = decode("data:image/PNG;base64,iVBORw0KGgo=").unwrap();
        assert_eq!(
            image,
            Image::Base64 {
                media_type: Some("image/png".into()),
                data: "iVBORw0KGgo=".into()
            }
        );
    }

    #[test]
    fn data_url_without_media_type_or_padding() {
        let image = decode("data:;base64,iVBORw0KGgo").unwrap();
        assert_eq!(
            image,
            Image::Base64 {
                media_type: None,
                data: "iVBORw0KGgo".into()
            }
        );
    }

    #[test]
    fn data_url_with_extra_parameters() {
        let image = decode("data:image/jpeg;name=a.jpg;base64,/9j/").unwrap();
        assert!(matches!(image, Image::Base64 { media_type: Some(m), .. } if m == "image/jpeg"));
    }

    #[test]
    fn bad_data_urls_are_rejected() {
        for url in [
            "data:image/png;base64",
            "data:image/png,iVBORw0KGgo=",
            "data:image/png;base64,",
            "data:image/png;base64,not base64!",
            "data:image/png;base64,iVBO=w0K",
        ] {
            let err = decode(url).unwrap_err();
            assert_eq!(err.param.as_deref(), Some("url"), "{url}");
        }
    }

    #[test]
    fn padding_only_at_the_end_of_long_data() {
        let mut long = "A".repeat(8192);
        long.replace_range(4092..4096, "AA==");
        assert!(!is_valid_base64(&long));
        assert!(is_valid_base64(&"QUJD".repeat(3000)));
    }

    #[test]
    fn remote_urls_stay_references() {
        assert_eq!(
            decode("HTTPS://example.com/a.png").unwrap(),
            Image::Url("HTTPS://example.com/a.png".into())
        );
        assert!(decode("file:///etc/passwd").is_err());
        assert!(decode("ftp://x").is_err());
    }
}
