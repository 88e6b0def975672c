//! A small closed-loop HTTP/1.1 load generator: N workers, each on its own keep-alive connection,
//! sending the same request back to back. Reports latency (request sent → last body byte),
//! time to first body byte, body chunks per response and requests per second, as one JSON line.
//!
//! `loadgen --url http://127.0.0.1:8080/v1/messages --body req.json -H 'x-api-key: k' -c 16 -n 20000`

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Debug, Parser)]
struct Args {
    /// Target URL (http only).
    #[arg(long)]
    url: String,
    /// File with the request body (POST); without it, GET.
    #[arg(long)]
    body: Option<std::path::PathBuf>,
    /// Extra header, `name: value` (repeatable).
    #[arg(short = 'H', long = "header")]
    headers: Vec<String>,
    /// Concurrent connections.
    #[arg(short = 'c', long, default_value_t = 1)]
    concurrency: usize,
    /// Measured requests in total.
    #[arg(short = 'n', long, default_value_t = 1000)]
    requests: usize,
    /// Unmeasured requests per worker before measuring.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Label echoed in the output line.
    #[arg(long, default_value = "")]
    label: String,
}

struct Sample {
    total_us: u64,
    ttfb_us: u64,
    chunks: u64,
    bytes: u64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let uri: hyper::Uri = args.url.parse().context("bad --url")?;
    let authority = uri.authority().context("--url needs host:port")?.clone();
    let body = match &args.body {
        Some(p) => {
            Bytes::from(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => Bytes::new(),
    };
    let mut headers = Vec::new();
    for h in &args.headers {
        let (k, v) = h.split_once(':').context("header must be `name: value`")?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let per_worker = args.requests.div_ceil(args.concurrency.max(1));
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let (uri, authority, body, headers) = (
            uri.clone(),
            authority.clone(),
            body.clone(),
            headers.clone(),
        );
        let warmup = args.warmup;
        tasks.push(tokio::spawn(async move {
            worker(uri, authority, body, headers, warmup, per_worker).await
        }));
    }
    // Throughput is measured over the longest worker's measured span (after its warm-up).
    let mut samples = Vec::new();
    let mut span = Duration::ZERO;
    for t in tasks {
        let (s, d) = t.await??;
        samples.extend(s);
        span = span.max(d);
    }
    report(&args.label, &samples, span, args.concurrency);
    Ok(())
}

async fn worker(
    uri: hyper::Uri,
    authority: hyper::http::uri::Authority,
    body: Bytes,
    headers: Vec<(String, String)>,
    warmup: usize,
    n: usize,
) -> anyhow::Result<(Vec<Sample>, Duration)> {
    let stream = TcpStream::connect(authority.as_str()).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut samples = Vec::with_capacity(n);
    let mut measured_from = Instant::now();
    for i in 0..warmup + n {
        if i == warmup {
            measured_from = Instant::now();
        }
        let mut req = Request::builder()
            .method(if body.is_empty() { "GET" } else { "POST" })
            .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header("host", authority.as_str())
            .header("content-type", "application/json");
        for (k, v) in &headers {
            req = req.header(k, v);
        }
        let req = req.body(Full::new(body.clone()))?;
        sender.ready().await?;
        let t0 = Instant::now();
        let resp = sender.send_request(req).await?;
        let status = resp.status();
        let mut body = resp.into_body();
        let mut ttfb = None;
        let (mut chunks, mut bytes) = (0u64, 0u64);
        while let Some(frame) = body.frame().await {
            let frame = frame?;
            if let Some(d) = frame.data_ref() {
                if ttfb.is_none() {
                    ttfb = Some(t0.elapsed());
                }
                chunks += 1;
                bytes += d.len() as u64;
            }
        }
        let total = t0.elapsed();
        if !status.is_success() {
            bail!("HTTP {status} from {uri}");
        }
        if i >= warmup {
            samples.push(Sample {
                total_us: total.as_micros() as u64,
                ttfb_us: ttfb.unwrap_or(total).as_micros() as u64,
                chunks,
                bytes,
            });
        }
    }
    Ok((samples, measured_from.elapsed()))
}

fn report(label: &str, samples: &[Sample], span: Duration, concurrency: usize) {
    use kiro_bench::percentile;
    let mut total: Vec<u64> = samples.iter().map(|s| s.total_us).collect();
    let mut ttfb: Vec<u64> = samples.iter().map(|s| s.ttfb_us).collect();
    total.sort_unstable();
    ttfb.sort_unstable();
    let n = samples.len().max(1) as f64;
    let line = serde_json::json!({
        "label": label,
        "concurrency": concurrency,
        "requests": samples.len(),
        "rps": (samples.len() as f64 / span.as_secs_f64().max(1e-9)).round(),
        "p50_us": percentile(&total, 50.0),
        "p90_us": percentile(&total, 90.0),
        "p99_us": percentile(&total, 99.0),
        "max_us": total.last().copied().unwrap_or(0),
        "ttfb_p50_us": percentile(&ttfb, 50.0),
        "ttfb_p99_us": percentile(&ttfb, 99.0),
        "chunks_per_response": samples.iter().map(|s| s.chunks).sum::<u64>() as f64 / n,
        "bytes_per_response": samples.iter().map(|s| s.bytes).sum::<u64>() as f64 / n,
    });
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}
