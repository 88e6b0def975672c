//! The web console: a single page served at `/`, its files under `/ui/…`.
//!
//! The files live in `crates/kiro-proxy/console/` and are embedded in release builds (debug builds
//! read them from that folder, so editing the page needs no rebuild). The page is plain ES modules
//! and CSS: no build step, no CDN, nothing fetched from elsewhere, so it works on a machine with no
//! internet. All its data comes from the admin API (`/api/…`), authenticated by the session
//! cookie that `POST /api/session` sets (see `crate::admin::session`).
//!
//! Every answer here carries a strict Content-Security-Policy: scripts and styles only from this
//! origin (no inline script, no `eval`), no framing, no plugins, connections only back to this
//! origin. Together with the page rendering every value as text (never as HTML), a hostile
//! string in an account label, an e-mail or an upstream error cannot run.
//!
//! `GET /` answers the page to browsers (`Accept: text/html`) and the small JSON status object
//! to everything else, so health probes and clients that ping the base URL (Claude Code sends
//! `HEAD /`) are unaffected.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "console/"]
struct Assets;

/// The page's security policy. `style-src 'self'` forbids inline `<style>` and `style=""`
/// attributes written as markup; styles set through the CSSOM (`element.style.x = …`) are not
/// markup and stay allowed, which the charts use for sizes.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Whether the request prefers HTML (a browser navigating to `/`).
pub fn wants_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// `GET /` for a browser: the console page.
pub fn index(headers: &HeaderMap) -> Response {
    asset("index.html", headers)
}

/// `GET /ui/{*path}`: one of the console's files, 404 for anything else.
pub async fn file(
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    asset(&path, &headers)
}

fn asset(path: &str, request_headers: &HeaderMap) -> Response {
    let Some(file) = (!path.contains("..")).then(|| Assets::get(path)).flatten() else {
        let mut response = (StatusCode::NOT_FOUND, "not found").into_response();
        secure(response.headers_mut());
        return response;
    };
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let fresh = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        file.data.into_owned().into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime_of(path)),
    );
    // Revalidate every time (cheap with the ETag): a new binary must never run with an old
    // script cached next to a new page.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    secure(h);
    response
}

/// The headers every console answer carries.
fn secure(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
}

fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_console_file_has_a_known_type() {
        let mut n = 0;
        for path in Assets::iter() {
            n += 1;
            assert_ne!(
                mime_of(&path),
                "application/octet-stream",
                "{path} has no content type"
            );
        }
        assert!(
            n >= 3,
            "the console has index.html, a script and a stylesheet"
        );
        assert!(Assets::get("index.html").is_some());
    }

    #[test]
    fn the_page_loads_no_script_from_elsewhere_and_none_inline() {
        for path in Assets::iter() {
            if !(path.ends_with(".html") || path.ends_with(".js")) {
                continue;
            }
            let Some(file) = Assets::get(&path) else {
                continue;
            };
            let text = String::from_utf8_lossy(&file.data);
            for needle in [
                "http://",
                "https://",
                "//cdn",
                "innerHTML",
                "outerHTML",
                "eval(",
            ] {
                if needle.starts_with("http") {
                    // Links shown to the operator as text are fine; loading from them is not.
                    assert!(
                        !text.contains(&format!("src=\"{needle}"))
                            && !text.contains(&format!("href=\"{needle}"))
                            && !text.contains(&format!("import '{needle}"))
                            && !text.contains(&format!("from '{needle}")),
                        "{path} loads something from another origin"
                    );
                } else {
                    assert!(!text.contains(needle), "{path} uses {needle}");
                }
            }
            if path.ends_with(".html") {
                assert!(
                    !text.contains("<script>") && !text.contains("style=\""),
                    "{path} has inline script or style"
                );
            }
        }
    }

    #[test]
    fn paths_outside_the_folder_are_not_served() {
        let r = asset("../Cargo.toml", &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        let r = asset("nope.js", &HeaderMap::new());
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}
