//! `UpstreamClient::chat` against the simulator: decoding, sniffing, HTTP errors, broken
//! streams, timeouts and cancellation.

pub mod upstream_support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kiro_proxy::upstream::{
    AccountAuth, ChatStream, TransportKind, UpstreamClient, UpstreamConfig, UpstreamError,
    UpstreamUrls,
};
use kiro_sim::AccountKind;
use kiro_wire::{DecodeError, Event};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use upstream_support::*;

/// Every item of a stream, in order.
async fn drain(mut s: ChatStream) -> Vec<Result<Event, UpstreamError>> {
    let mut out = Vec::new();
    while let Some(item) = s.next_event().await {
        out.push(item);
    }
    out
}

fn text_of(items: &[Result<Event, UpstreamError>]) -> String {
    items
        .iter()
        .filter_map(|i| match i {
            Ok(Event::AssistantResponse(e)) => Some(e.content.as_str()),
            _ => None,
        })
        .collect()
}

fn script(sim: &kiro_sim::SimHandle, script: serde_json::Value) {
    queue(sim, json!({"type": "script", "script": script}));
}

type Setup = (kiro_sim::SimHandle, UpstreamClient, AccountAuth);

async fn setup(config: UpstreamConfig) -> Setup {
    let sim = sim().await;
    let client = client_with(&sim, config);
    let acct = create_kind(&sim, AccountKind::Social);
    let auth = auth(&acct);
    (sim, client, auth)
}

#[tokio::test]
async fn default_answer_decodes_to_events() {
    let (sim, client, auth) = setup(UpstreamConfig::default()).await;
    let stream = client.chat(&auth, chat_body("hello"), 1).await.unwrap();
    let request_id = stream.request_id().map(str::to_owned);
    assert!(request_id.as_deref().is_some_and(|id| !id.is_empty()));
    let items = drain(stream).await;
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    assert!(
        text_of(&items).starts_with("Simulated reply to: «hello"),
        "{}",
        text_of(&items)
    );
    assert!(items.iter().any(|i| matches!(i, Ok(Event::Metering(_)))));
    assert!(items.iter().any(|i| matches!(i, Ok(Event::Metadata(_)))));
    assert!(matches!(items.last(), Some(Ok(Event::ContextUsage(_)))));
    assert_eq!(sim.state().requests().len(), 1);
}

#[tokio::test]
async fn small_http_chunks_and_a_json_label_still_decode() {
    let (sim, client, auth) = setup(UpstreamConfig::default()).await;
    script(
        &sim,
        json!({"content_type": "application/json", "http_chunk_bytes": 7,
               "parts": [{"type": "text", "text": "chunked 我 text", "chunk_chars": 3},
                         {"type": "exception", "exception_type": "ThrottlingException",
                          "message": "slow down"}],
               "tail": {"metadata": false, "metering": false, "context_usage": false}}),
    );
    let stream = client.chat(&auth, chat_body("hi"), 1).await.unwrap();
    assert_eq!(stream.content_type(), Some("application/json"));
    let items = drain(stream).await;
    assert_eq!(text_of(&items), "chunked 我 text");
    match items.last() {
        Some(Ok(Event::Exception(e))) => {
            assert_eq!(e.exception_type, "ThrottlingException");
            assert_eq!(e.message.as_deref(), Some("slow down"));
        }
        other => panic!("expected an exception frame, got {other:?}"),
    }
}

#[tokio::test]
async fn json_error_under_200_is_an_http_error() {
    let (sim, client, auth) = setup(UpstreamConfig::default()).await;
    script(&sim, json!({"body": {"error": "content_length_exceeded"}}));
    let err = client.chat(&auth, chat_body("hi"), 1).await.unwrap_err();
    match &err {
        UpstreamError::Http { status, body, .. } => {
            assert_eq!(*status, 200);
            assert!(String::from_utf8_lossy(body).contains("CONTENT_LENGTH_EXCEEDS_THRESHOLD"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.error_body().unwrap().reason(),
        Some("CONTENT_LENGTH_EXCEEDS_THRESHOLD")
    );
}

#[tokio::test]
async fn http_errors_surface_status_body_and_retry_after() {
    let (sim, client, auth) = setup(UpstreamConfig::default()).await;
    let cases = [
        (
            "service_request_rate_exceeded",
            None,
            Some(7),
            429,
            Some("SERVICE_REQUEST_RATE_EXCEEDED"),
        ),
        (
            "insufficient_model_capacity",
            Some(400),
            None,
            400,
            Some("INSUFFICIENT_MODEL_CAPACITY"),
        ),
        (
            "monthly_request_count",
            None,
            None,
            402,
            Some("MONTHLY_REQUEST_COUNT"),
        ),
        ("bearer_token_invalid", None, None, 403, None),
        ("improperly_formed", None, None, 400, None),
        ("internal_server", None, None, 500, None),
        (
            "model_temporarily_unavailable",
            None,
            None,
            503,
            Some("MODEL_TEMPORARILY_UNAVAILABLE"),
        ),
    ];
    for (kind, status, retry_after, want_status, want_reason) in cases {
        let mut b = json!({"type": "error", "kind": kind});
        if let Some(s) = status {
            b["status"] = json!(s);
        }
        if let Some(r) = retry_after {
            b["retry_after"] = json!(r);
        }
        queue(&sim, b);
        let err = client.chat(&auth, chat_body("hi"), 1).await.unwrap_err();
        let UpstreamError::Http {
            status,
            retry_after: got_retry,
            ref body,
            ..
        } = err
        else {
            panic!("{kind}: {err:?}");
        };
        assert_eq!(status, want_status, "{kind}");
        assert!(!body.is_empty(), "{kind}");
        assert_eq!(got_retry, retry_after.map(Duration::from_secs), "{kind}");
        assert_eq!(err.error_body().unwrap().reason(), want_reason, "{kind}");
    }
    // The exception name travels in `x-amzn-ErrorType` where the service sends one.
    queue(&sim, json!({"type": "error", "kind": "throttling"}));
    let err = client.chat(&auth, chat_body("hi"), 1).await.unwrap_err();
    let UpstreamError::Http {
        error_type_header, ..
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(error_type_header.unwrap().contains("ThrottlingException"));
}

#[tokio::test]
async fn cut_mid_frame_is_truncated() {
    let (sim, client, auth) = setup(UpstreamConfig::default()).await;
    for at in ["prelude", "headers", "payload"] {
        script(
            &sim,
            json!({"parts": [{"type": "text", "text": "before the cut"}, {"type": "cut", "at": at}]}),
        );
        let items = drain(client.chat(&auth, chat_body("hi"), 1).await.unwrap()).await;
        assert_eq!(text_of(&items), "before the cut", "{at}");
        match items.last() {
            Some(Err(UpstreamError::Transport { kind, .. })) => {
                assert_eq!(*kind, TransportKind::Truncated, "{at}: {items:?}")
            }
            other => panic!("{at}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_reset_between_frames_is_a_transport_error() {
    let (sim, client, auth) = setup(UpstreamConfig::default()).await;
    script(
        &sim,
        json!({"parts": [{"type": "text", "text": "x"}, {"type": "reset", "flush_ms": 50}]}),
    );
    let items = drain(client.chat(&auth, chat_body("hi"), 1).await.unwrap()).await;
    assert!(
        matches!(
            items.last(),
            Some(Err(UpstreamError::Transport {
                kind: TransportKind::Reset | TransportKind::Truncated,
                ..
            }))
        ),
        "{items:?}"
    );
}

#[tokio::test]
async fn bad_crcs_and_lengths_are_bad_frames() {
    let (sim, client, auth) = setup(UpstreamConfig::default()).await;
    type Check = fn(&DecodeError) -> bool;
    let cases: [(serde_json::Value, Check); 3] = [
        (json!({"type": "bad_message_crc"}), |e| {
            matches!(e, DecodeError::MessageCrc { .. })
        }),
        (json!({"type": "bad_prelude_crc"}), |e| {
            matches!(e, DecodeError::PreludeCrc { .. })
        }),
        (
            json!({"type": "bad_length", "total_length": 33554432}),
            |e| matches!(e, DecodeError::FrameTooLarge { .. }),
        ),
    ];
    for (part, check) in cases {
        script(
            &sim,
            json!({"parts": [{"type": "text", "text": "ok"}, part]}),
        );
        let items = drain(client.chat(&auth, chat_body("hi"), 1).await.unwrap()).await;
        assert_eq!(text_of(&items), "ok");
        match items.last() {
            Some(Err(UpstreamError::BadFrame(e))) => assert!(check(e), "{e:?}"),
            other => panic!("{part}: {other:?}"),
        }
        // A broken stream ends: nothing after the error.
        assert_eq!(items.iter().filter(|i| i.is_err()).count(), 1);
    }
}

fn short(first_event_ms: u64, idle_ms: u64, headers_ms: u64) -> UpstreamConfig {
    UpstreamConfig {
        first_event_timeout: Duration::from_millis(first_event_ms),
        idle_timeout: Duration::from_millis(idle_ms),
        response_headers_timeout: Duration::from_millis(headers_ms),
        ..UpstreamConfig::default()
    }
}

fn is_timeout(e: &UpstreamError) -> bool {
    matches!(
        e,
        UpstreamError::Transport {
            kind: TransportKind::Timeout,
            ..
        }
    )
}

#[tokio::test]
async fn response_headers_timeout_fires() {
    let (sim, client, auth) = setup(short(5000, 5000, 200)).await;
    queue(
        &sim,
        json!({"type": "script", "script": {}, "delay_ms": 3000}),
    );
    let t = Instant::now();
    let err = client.chat(&auth, chat_body("hi"), 1).await.unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
    assert!(t.elapsed() < Duration::from_millis(2000));
}

#[tokio::test]
async fn first_event_timeout_fires() {
    let (sim, client, auth) = setup(short(200, 5000, 5000)).await;
    script(&sim, json!({"pace": {"first_event_ms": 3000}}));
    let t = Instant::now();
    let err = client.chat(&auth, chat_body("hi"), 1).await.unwrap_err();
    assert!(is_timeout(&err), "{err:?}");
    assert!(t.elapsed() < Duration::from_millis(2000));
}

#[tokio::test]
async fn idle_timeout_fires_between_frames() {
    let (sim, client, auth) = setup(short(5000, 200, 5000)).await;
    script(
        &sim,
        json!({"parts": [{"type": "text", "text": "started"},
                         {"type": "stall", "ms": 3000},
                         {"type": "text", "text": "too late"}]}),
    );
    let t = Instant::now();
    let items = drain(client.chat(&auth, chat_body("hi"), 1).await.unwrap()).await;
    assert_eq!(text_of(&items), "started");
    assert!(
        matches!(items.last(), Some(Err(e)) if is_timeout(e)),
        "{items:?}"
    );
    assert!(t.elapsed() < Duration::from_millis(2000));
}

#[tokio::test]
async fn a_paced_stream_within_the_idle_timeout_completes() {
    let (sim, client, auth) = setup(short(1000, 300, 5000)).await;
    script(
        &sim,
        json!({"pace": {"frame_interval_ms": 50},
               "parts": [{"type": "text", "text": "slow but steady", "chunk_chars": 3}]}),
    );
    let items = drain(client.chat(&auth, chat_body("hi"), 1).await.unwrap()).await;
    assert!(items.iter().all(Result::is_ok), "{items:?}");
    assert_eq!(text_of(&items), "slow but steady");
}

/// A TCP relay in front of the simulator that reports when a relayed connection ends.
#[expect(clippy::unwrap_used, reason = "shared test body: a failure panics")]
async fn relay(target: SocketAddr) -> (SocketAddr, mpsc::UnboundedReceiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut outbound = TcpStream::connect(target).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                let _ = tx.send(());
            });
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn dropping_the_stream_closes_the_upstream_connection() {
    let sim = sim().await;
    let (relay_addr, mut closed) = relay(sim.addr()).await;
    let client = UpstreamClient::new(
        UpstreamUrls::single(format!("http://{relay_addr}")),
        UpstreamConfig::default(),
    )
    .unwrap();
    let acct = create_kind(&sim, AccountKind::Social);
    let auth = auth(&acct);
    // About a minute of output at this pace.
    script(
        &sim,
        json!({"pace": {"frame_interval_ms": 20},
               "parts": [{"type": "words", "count": 3000, "chunk_chars": 4}]}),
    );
    let mut stream = client.chat(&auth, chat_body("hi"), 1).await.unwrap();
    for _ in 0..3 {
        assert!(stream.next().await.unwrap().is_ok());
    }
    assert!(closed.try_recv().is_err(), "still open while reading");
    drop(stream);
    let ended = tokio::time::timeout(Duration::from_secs(2), closed.recv()).await;
    assert!(
        ended.is_ok(),
        "the upstream connection outlived the dropped stream"
    );
}
