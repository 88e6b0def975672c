//! Opens N streaming requests, each on its own connection, waits until every one has received
//! its first body bytes, then holds them all open and idle for a while (scenario S5: memory per
//! open idle stream). Prints one JSON line when all streams are open and one when they are
//! closed, so a script can sample the server's memory in between.
//!
//! `hold --url http://127.0.0.1:8080/v1/messages --body idle.json -H 'x-api-key: k' --streams 1000 --hold-secs 10`
//!
//! The request must produce an answer that starts and then goes silent (e.g. a simulator
//! `[[sim:stall MS close]]` after some text).

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};

#[derive(Debug, Parser)]
struct Args {
    /// Target URL (http only).
    #[arg(long)]
    url: String,
    /// File with the request body.
    #[arg(long)]
    body: std::path::PathBuf,
    /// Extra header, `name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// File of extra headers, one `name: value` a line.
    #[arg(long)]
    headers_file: Option<std::path::PathBuf>,
    /// Streams to open and hold.
    #[arg(long, default_value_t = 1000)]
    streams: usize,
    /// Streams being opened at the same time (keeps the listen backlog from overflowing).
    #[arg(long, default_value_t = 64)]
    parallel: usize,
    /// How long to hold them once all are open.
    #[arg(long, default_value_t = 10.0)]
    hold_secs: f64,
    /// Give up opening after this long.
    #[arg(long, default_value_t = 120.0)]
    open_timeout_secs: f64,
    /// Label echoed in the output lines.
    #[arg(long, default_value = "")]
    label: String,
}

fn emit(line: &serde_json::Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let uri: hyper::Uri = args.url.parse().context("bad --url")?;
    let authority = uri.authority().context("--url needs host:port")?.clone();
    let body = Bytes::from(
        std::fs::read(&args.body).with_context(|| format!("reading {}", args.body.display()))?,
    );
    let mut lines = args.headers.clone();
    if let Some(p) = &args.headers_file {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        lines.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_owned),
        );
    }
    let mut headers = Vec::new();
    for h in &lines {
        let (k, v) = h.split_once(':').context("header must be `name: value`")?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let headers = Arc::new(headers);

    let gate = Arc::new(Semaphore::new(args.parallel.max(1)));
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<Result<(), String>>();
    let (close_tx, close_rx) = watch::channel(false);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.streams);
    for _ in 0..args.streams {
        let (uri, authority, body, headers) = (
            uri.clone(),
            authority.clone(),
            body.clone(),
            headers.clone(),
        );
        let (gate, ready_tx, mut close_rx) = (gate.clone(), ready_tx.clone(), close_rx.clone());
        tasks.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let opened = open(&uri, &authority, body, &headers).await;
            drop(permit);
            match opened {
                Ok(held) => {
                    let _ = ready_tx.send(Ok(()));
                    let _ = close_rx.wait_for(|closed| *closed).await;
                    drop(held);
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("{e:#}")));
                }
            }
        }));
    }
    drop(ready_tx);

    let (mut open_ok, mut failed, mut first_error) = (0usize, 0usize, None);
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(args.open_timeout_secs);
    while open_ok + failed < args.streams {
        match tokio::time::timeout_at(deadline, ready_rx.recv()).await {
            Ok(Some(Ok(()))) => open_ok += 1,
            Ok(Some(Err(e))) => {
                failed += 1;
                first_error.get_or_insert(e);
            }
            Ok(None) | Err(_) => break,
        }
    }
    emit(&serde_json::json!({
        "label": args.label,
        "event": "open",
        "streams": open_ok,
        "failed": failed,
        "first_error": first_error,
        "open_s": started.elapsed().as_secs_f64(),
    }));
    tokio::time::sleep(Duration::from_secs_f64(args.hold_secs)).await;
    let _ = close_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    emit(&serde_json::json!({"label": args.label, "event": "closed", "streams": open_ok}));
    if open_ok < args.streams {
        bail!("only {open_ok} of {} streams opened", args.streams);
    }
    Ok(())
}

/// What keeps one stream open: the connection's sender and the unread rest of the body.
struct Held {
    _sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    _body: hyper::body::Incoming,
}

async fn open(
    uri: &hyper::Uri,
    authority: &hyper::http::uri::Authority,
    body: Bytes,
    headers: &[(String, String)],
) -> anyhow::Result<Held> {
    let stream = TcpStream::connect(authority.as_str()).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method("POST")
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header("host", authority.as_str())
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    sender.ready().await?;
    let resp = sender.send_request(req.body(Full::new(body))?).await?;
    if !resp.status().is_success() {
        bail!("HTTP {}", resp.status());
    }
    let mut body = resp.into_body();
    // The stream counts as open once its first bytes are here.
    loop {
        match body.frame().await {
            Some(Ok(f)) if f.data_ref().is_some_and(|d| !d.is_empty()) => break,
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => bail!("the answer ended instead of staying open"),
        }
    }
    Ok(Held {
        _sender: sender,
        _body: body,
    })
}
