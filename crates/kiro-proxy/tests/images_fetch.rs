//! Remote image fetching behind the SSRF guards, against a local server.
//!
//! Loopback is refused in production, so these tests use the test-only switches: plain http,
//! and an address policy with exactly 127.0.0.1 allowed.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use dialects::canonical::{
    ErrorKind, Image, Message, Part, Request, Role, ToolResult, ToolResultContent,
};
use kiro_proxy::config::ImagesConfig;
use kiro_proxy::images::{
    AddressPolicy, BlockedRange, FetchError, ImageFetcher, MAX_REMOTE_IMAGES, resolve_remote_images,
};

/// PNG magic followed by filler: the fetcher sniffs only the leading bytes.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR-test-image";
const MAX: usize = 1024;

#[derive(Clone, Default)]
struct Hits(Arc<AtomicUsize>);

async fn png(State(hits): State<Hits>) -> Response {
    hits.0.fetch_add(1, Ordering::SeqCst);
    ([(header::CONTENT_TYPE, "image/png")], PNG).into_response()
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_owned())]).into_response()
}

/// A PNG-looking body one byte over the cap, with or without a Content-Length.
fn oversize() -> Vec<u8> {
    let mut body = PNG.to_vec();
    body.resize(MAX + 1, b'x');
    body
}

async fn server() -> (SocketAddr, Hits) {
    let hits = Hits::default();
    let app = Router::new()
        .route("/red.png", get(png))
        .route("/big", get(|| async { oversize() }))
        .route(
            "/big-stream",
            get(|| async {
                let chunks = oversize()
                    .chunks(100)
                    .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                    .collect::<Vec<_>>();
                Body::from_stream(futures::stream::iter(chunks))
            }),
        )
        .route(
            "/slow-headers",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                PNG
            }),
        )
        .route(
            "/slow-body",
            get(|| async {
                let first = futures::stream::once(async { Ok::<_, std::io::Error>(PNG.to_vec()) });
                let stall = futures::stream::once(async {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    Ok::<_, std::io::Error>(b"rest".to_vec())
                });
                Body::from_stream(futures::StreamExt::chain(first, stall))
            }),
        )
        .route("/hop", get(|| async { redirect("/red.png") }))
        .route("/loop", get(|| async { redirect("/loop") }))
        .route(
            "/to-private",
            get(|| async { redirect("http://10.0.0.1/x.png") }),
        )
        .route(
            "/to-metadata",
            get(|| async { redirect("http://169.254.169.254/latest/meta-data/") }),
        )
        .route(
            "/to-v6-loopback",
            get(|| async { redirect("http://[::1]/x.png") }),
        )
        .route("/no-location", get(|| async { StatusCode::FOUND }))
        .route(
            "/text",
            get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<html>hi</html>") }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .with_state(hits.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("local_addr: {e}"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, hits)
}

fn test_fetcher() -> ImageFetcher {
    ImageFetcher::with_policy(
        AddressPolicy::public_only().allow_address_for_tests([127, 0, 0, 1].into()),
    )
    .allow_http_for_tests()
}

fn config(remote_fetch: bool) -> ImagesConfig {
    ImagesConfig {
        remote_fetch,
        max_bytes: MAX,
        fetch_timeout: Duration::from_millis(500),
    }
}

async fn fetch(addr: SocketAddr, path: &str) -> Result<Vec<u8>, FetchError> {
    let cfg = config(true);
    test_fetcher()
        .fetch(
            &format!("http://{addr}{path}"),
            cfg.max_bytes,
            cfg.fetch_timeout,
        )
        .await
        .map(|image| image.bytes)
}

fn user(content: Vec<Part>) -> Message {
    Message {
        role: Role::User,
        content,
    }
}

fn request(messages: Vec<Message>) -> Request {
    Request {
        model: "claude-sonnet-4-5".into(),
        messages,
        ..Request::default()
    }
}

#[tokio::test]
async fn a_png_is_fetched_and_a_relative_redirect_followed() {
    let (addr, hits) = server().await;
    assert_eq!(fetch(addr, "/red.png").await.unwrap(), PNG);
    assert_eq!(fetch(addr, "/hop").await.unwrap(), PNG);
    assert_eq!(hits.0.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn oversize_bodies_are_refused_with_and_without_content_length() {
    let (addr, _) = server().await;
    let declared = fetch(addr, "/big").await.unwrap_err();
    assert!(
        matches!(declared, FetchError::DeclaredTooLarge { limit: MAX, declared } if declared == MAX as u64 + 1),
        "{declared:?}"
    );
    let streamed = fetch(addr, "/big-stream").await.unwrap_err();
    assert!(
        matches!(streamed, FetchError::TooLarge { limit: MAX }),
        "{streamed:?}"
    );
}

#[tokio::test]
async fn slow_servers_time_out() {
    let (addr, _) = server().await;
    for path in ["/slow-headers", "/slow-body"] {
        let started = std::time::Instant::now();
        let err = fetch(addr, path).await.unwrap_err();
        assert!(matches!(err, FetchError::Timeout(_)), "{path}: {err:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "{path}");
    }
}

#[tokio::test]
async fn redirects_to_forbidden_addresses_are_refused() {
    let (addr, _) = server().await;
    for (path, range) in [
        ("/to-private", BlockedRange::Private),
        ("/to-metadata", BlockedRange::CloudMetadata),
        ("/to-v6-loopback", BlockedRange::Loopback),
    ] {
        match fetch(addr, path).await {
            Err(FetchError::Blocked { range: r, .. }) => assert_eq!(r, range, "{path}"),
            other => panic!("{path}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn redirect_loops_and_broken_redirects_are_refused() {
    let (addr, _) = server().await;
    assert!(matches!(
        fetch(addr, "/loop").await,
        Err(FetchError::TooManyRedirects)
    ));
    assert!(matches!(
        fetch(addr, "/no-location").await,
        Err(FetchError::BadRedirect)
    ));
}

#[tokio::test]
async fn non_images_and_error_statuses_are_refused() {
    let (addr, _) = server().await;
    match fetch(addr, "/text").await {
        Err(FetchError::NotAnImage { content_type }) => {
            assert_eq!(content_type.as_deref(), Some("text/html"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        fetch(addr, "/missing").await,
        Err(FetchError::Status(404))
    ));
}

#[tokio::test]
async fn the_production_fetcher_wants_https_and_public_addresses() {
    let fetcher = ImageFetcher::new();
    let go = |url: &'static str| {
        let fetcher = fetcher.clone();
        async move {
            fetcher
                .fetch(url, MAX, Duration::from_secs(5))
                .await
                .unwrap_err()
        }
    };
    assert!(matches!(
        go("http://127.0.0.1/a.png").await,
        FetchError::Scheme(s) if s == "http"
    ));
    assert!(matches!(
        go("ftp://example.com/a.png").await,
        FetchError::Scheme(_)
    ));
    assert!(matches!(go("not a url").await, FetchError::InvalidUrl(_)));
    for (url, range) in [
        ("https://127.0.0.1/a.png", BlockedRange::Loopback),
        ("https://2130706433/a.png", BlockedRange::Loopback),
        ("https://0x7f.1/a.png", BlockedRange::Loopback),
        ("https://[::1]/a.png", BlockedRange::Loopback),
        ("https://[::ffff:127.0.0.1]/a.png", BlockedRange::Loopback),
        (
            "https://[::ffff:a9fe:a9fe]/a.png",
            BlockedRange::CloudMetadata,
        ),
        (
            "https://169.254.169.254/latest/meta-data/",
            BlockedRange::CloudMetadata,
        ),
        ("https://10.1.2.3:8443/a.png", BlockedRange::Private),
        ("https://[fd00:ec2::254]/", BlockedRange::CloudMetadata),
        // A name resolved by us (from /etc/hosts, no network needed).
        ("https://localhost/a.png", BlockedRange::Loopback),
    ] {
        match go(url).await {
            FetchError::Blocked { range: r, .. } => assert_eq!(r, range, "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    // Even the test policy keeps refusing plain http without the explicit switch.
    let no_http = ImageFetcher::with_policy(
        AddressPolicy::public_only().allow_address_for_tests([127, 0, 0, 1].into()),
    );
    assert!(matches!(
        no_http
            .fetch("http://127.0.0.1:9/a.png", MAX, Duration::from_secs(5))
            .await,
        Err(FetchError::Scheme(_))
    ));
}

#[tokio::test]
async fn remote_images_are_refused_precisely_when_fetching_is_off() {
    let url = "https://example.com/cat.png";
    let mut req = request(vec![
        user(vec![Part::Text("hi".into())]),
        user(vec![Part::Image(Image::Url(url.into()))]),
    ]);
    let before = req.clone();
    let err = resolve_remote_images(&mut req, &config(false), &test_fetcher())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidRequest);
    assert_eq!(err.kind.status(), 400);
    assert_eq!(err.param.as_deref(), Some("messages[1].content"));
    assert_eq!(
        err.message,
        "remote image URLs are not fetched by this proxy (https://example.com/cat.png); send \
         the image inline as base64 (a data: URL or a base64 source)"
    );
    assert_eq!(req, before);
}

#[tokio::test]
async fn fetched_images_replace_urls_everywhere_as_base64() {
    let (addr, hits) = server().await;
    let url = format!("http://{addr}/red.png");
    let inline = Image::Base64 {
        media_type: Some("image/gif".into()),
        data: "R0lGODlh".into(),
    };
    let mut req = request(vec![
        user(vec![
            Part::Text("look".into()),
            Part::Image(Image::Url(url.clone())),
            Part::Image(inline.clone()),
        ]),
        user(vec![Part::ToolResult(ToolResult {
            tool_use_id: "t1".into(),
            content: vec![
                ToolResultContent::Text("screenshot".into()),
                ToolResultContent::Image(Image::Url(url.clone())),
            ],
            is_error: false,
        })]),
    ]);
    resolve_remote_images(&mut req, &config(true), &test_fetcher())
        .await
        .unwrap();
    let expected = Image::Base64 {
        media_type: Some("image/png".into()),
        data: base64::engine::general_purpose::STANDARD.encode(PNG),
    };
    assert_eq!(req.messages[0].content[1], Part::Image(expected.clone()));
    assert_eq!(req.messages[0].content[2], Part::Image(inline));
    let Part::ToolResult(result) = &req.messages[1].content[0] else {
        panic!("tool result expected");
    };
    assert_eq!(result.content[1], ToolResultContent::Image(expected));
    // The same URL twice is fetched once.
    assert_eq!(hits.0.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_fetch_is_a_400_naming_the_message_and_the_rule() {
    let (addr, _) = server().await;
    for (path, words) in [
        ("/text", "not a PNG, JPEG, GIF or WebP image"),
        ("/to-metadata", "metadata"),
        ("/missing", "HTTP 404"),
        ("/big", "limit"),
    ] {
        let mut req = request(vec![
            user(vec![Part::Text("hi".into())]),
            user(vec![Part::ToolResult(ToolResult {
                tool_use_id: "t1".into(),
                content: vec![ToolResultContent::Image(Image::Url(format!(
                    "http://{addr}{path}"
                )))],
                is_error: false,
            })]),
        ]);
        let err = resolve_remote_images(&mut req, &config(true), &test_fetcher())
            .await
            .unwrap_err();
        assert_eq!(err.kind.status(), 400, "{path}");
        assert_eq!(err.param.as_deref(), Some("messages[1].content"), "{path}");
        assert!(err.message.contains(words), "{path}: {}", err.message);
        assert!(err.message.contains(path), "{path}: {}", err.message);
    }
}

#[tokio::test]
async fn too_many_distinct_urls_are_refused_before_fetching() {
    let parts = (0..=MAX_REMOTE_IMAGES)
        .map(|n| Part::Image(Image::Url(format!("https://example.com/{n}.png"))))
        .collect();
    let mut req = request(vec![user(parts)]);
    let err = resolve_remote_images(&mut req, &config(true), &ImageFetcher::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind.status(), 400);
    assert!(err.message.contains("at most"), "{}", err.message);
}

#[tokio::test]
async fn requests_without_remote_images_are_untouched() {
    let mut req = request(vec![user(vec![
        Part::Text("hi".into()),
        Part::Image(Image::Base64 {
            media_type: None,
            data: "iVBORw0KGgo=".into(),
        }),
    ])]);
    let before = req.clone();
    resolve_remote_images(&mut req, &config(false), &ImageFetcher::new())
        .await
        .unwrap();
    assert_eq!(req, before);
}

#[tokio::test]
async fn a_host_name_is_resolved_checked_and_pinned() {
    let (addr, hits) = server().await;
    // `localhost` may resolve to both loopback addresses; allow exactly those two.
    let fetcher = ImageFetcher::with_policy(
        AddressPolicy::public_only()
            .allow_address_for_tests([127, 0, 0, 1].into())
            .allow_address_for_tests("::1".parse().unwrap()),
    )
    .allow_http_for_tests();
    let url = format!("http://localhost:{}/red.png", addr.port());
    let image = fetcher
        .fetch(&url, MAX, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(image.bytes, PNG);
    assert_eq!(hits.0.load(Ordering::SeqCst), 1);
    // With only one of them allowed, a name that also resolves elsewhere would be refused;
    // with neither, it certainly is.
    let err = ImageFetcher::new()
        .allow_http_for_tests()
        .fetch(&url, MAX, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::Blocked {
                range: BlockedRange::Loopback,
                ..
            }
        ),
        "{err:?}"
    );
}
