//! A small closed-loop HTTP/1.1 load generator: N workers, each on its own keep-alive connection,
//! sending the same request back to back. Reports latency (request sent → last body byte),
//! time to first body byte, body chunks per response and requests per second, as one JSON line.
//!
//! `loadgen --url http://127.0.0.1:8080/v1/messages --body req.json -H 'x-api-key: k' -c 16 -n 20000`
//!
//! Every worker warms up first; measuring starts for all of them at once (a barrier), so the
//! throughput span and the CPU-time readings of `--cpu-pid` cover exactly the measured requests.
//! `--count PATTERN` counts a byte pattern in every body (events per response) and times its
//! first occurrence (time to first token); it scans every byte, so leave it off in throughput
//! runs and use it in check runs and paced scenarios.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use kiro_bench::{Matcher, percentile};
use tokio::net::TcpStream;
use tokio::sync::Barrier;

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
    /// File of extra headers, one `name: value` a line.
    #[arg(long)]
    headers_file: Option<std::path::PathBuf>,
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
    /// Count this byte pattern in every response body; report matches per response and the
    /// time to its first occurrence.
    #[arg(long)]
    count: Option<String>,
    /// `name=PID` of a process whose CPU time (utime+stime from /proc/PID/stat) over the
    /// measured requests is reported per request (repeatable).
    #[arg(long = "cpu-pid")]
    cpu_pids: Vec<String>,
    /// Clock ticks per second of /proc/PID/stat (`getconf CLK_TCK`).
    #[arg(long, default_value_t = 100)]
    clk_tck: u64,
    /// Spread the workers' first measured requests evenly over this many milliseconds, so
    /// that long paced responses do not all start (and deliver their frames) in lock step.
    #[arg(long, default_value_t = 0)]
    stagger_ms: u64,
}

struct Sample {
    total_us: u64,
    ttfb_us: u64,
    /// Time to the first occurrence of the `--count` pattern.
    ttft_us: Option<u64>,
    chunks: u64,
    bytes: u64,
    matches: u64,
}

/// What every worker sends.
#[derive(Clone)]
struct Target {
    uri: hyper::Uri,
    authority: hyper::http::uri::Authority,
    body: Bytes,
    headers: Arc<Vec<(String, String)>>,
    pattern: Option<Arc<Vec<u8>>>,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let target = target(&args)?;
    let watched = watched_pids(&args.cpu_pids)?;
    let workers = args.concurrency.max(1);
    let per_worker = args.requests.div_ceil(workers);
    let barrier = Arc::new(Barrier::new(workers + 1));
    let mut tasks = Vec::new();
    for i in 0..workers {
        let (target, barrier) = (target.clone(), barrier.clone());
        let warmup = args.warmup;
        let delay = Duration::from_millis(args.stagger_ms) * i as u32 / workers as u32;
        tasks.push(tokio::spawn(async move {
            worker(target, warmup, per_worker, barrier, delay).await
        }));
    }
    // Every worker is connected and warmed up when the barrier opens.
    barrier.wait().await;
    let cpu_before = read_cpu(&watched);
    let started = Instant::now();
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await??);
    }
    let span = started.elapsed();
    let cpu_after = read_cpu(&watched);
    let cpu = watched
        .iter()
        .zip(cpu_before.iter().zip(&cpu_after))
        .map(|((name, _), (b, a))| {
            (
                name.clone(),
                a.0.saturating_sub(b.0),
                a.1.saturating_sub(b.1),
            )
        })
        .collect::<Vec<_>>();
    report(&args, &samples, span, &cpu);
    Ok(())
}

fn target(args: &Args) -> anyhow::Result<Target> {
    let uri: hyper::Uri = args.url.parse().context("bad --url")?;
    let authority = uri.authority().context("--url needs host:port")?.clone();
    let body = match &args.body {
        Some(p) => {
            Bytes::from(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?)
        }
        None => Bytes::new(),
    };
    let mut lines: Vec<String> = args.headers.clone();
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
    Ok(Target {
        uri,
        authority,
        body,
        headers: Arc::new(headers),
        pattern: args.count.as_ref().map(|p| Arc::new(p.as_bytes().to_vec())),
    })
}

fn watched_pids(specs: &[String]) -> anyhow::Result<Vec<(String, u32)>> {
    specs
        .iter()
        .map(|s| {
            let (name, pid) = s.split_once('=').context("--cpu-pid takes name=PID")?;
            Ok((name.to_owned(), pid.parse().context("--cpu-pid: bad PID")?))
        })
        .collect()
}

/// (utime, stime) of each process, in clock ticks (every thread, live or exited).
fn read_cpu(pids: &[(String, u32)]) -> Vec<(u64, u64)> {
    pids.iter()
        .map(|(_, pid)| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let f: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime are fields 14 and 15 of the line, 12 and 13 after `(comm)`.
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            (num(11), num(12))
        })
        .collect()
}

fn request(t: &Target) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut req = Request::builder()
        .method(if t.body.is_empty() { "GET" } else { "POST" })
        .uri(t.uri.path_and_query().map_or("/", |p| p.as_str()))
        .header("host", t.authority.as_str())
        .header("content-type", "application/json");
    for (k, v) in t.headers.iter() {
        req = req.header(k, v);
    }
    Ok(req.body(Full::new(t.body.clone()))?)
}

async fn worker(
    t: Target,
    warmup: usize,
    n: usize,
    barrier: Arc<Barrier>,
    delay: Duration,
) -> anyhow::Result<Vec<Sample>> {
    let stream = TcpStream::connect(t.authority.as_str()).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut samples = Vec::with_capacity(n);
    // A worker that fails during warm-up must still reach the barrier, or the others wait
    // forever; it reports its error after.
    let mut warm_error = None;
    for _ in 0..warmup {
        if let Err(e) = one(&t, &mut sender).await {
            warm_error = Some(e);
            break;
        }
    }
    barrier.wait().await;
    if let Some(e) = warm_error {
        return Err(e);
    }
    tokio::time::sleep(delay).await;
    for _ in 0..n {
        samples.push(one(&t, &mut sender).await?);
    }
    Ok(samples)
}

async fn one(
    t: &Target,
    sender: &mut hyper::client::conn::http1::SendRequest<Full<Bytes>>,
) -> anyhow::Result<Sample> {
    let req = request(t)?;
    sender.ready().await?;
    let t0 = Instant::now();
    let resp = sender.send_request(req).await?;
    let status = resp.status();
    let mut body = resp.into_body();
    let mut matcher = t.pattern.as_ref().map(|p| Matcher::new(p));
    let (mut ttfb, mut ttft) = (None, None);
    let (mut chunks, mut bytes) = (0u64, 0u64);
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        if let Some(d) = frame.data_ref() {
            if ttfb.is_none() {
                ttfb = Some(t0.elapsed());
            }
            let hit = matcher.as_mut().is_some_and(|m| m.feed(d) > 0);
            if hit && ttft.is_none() {
                ttft = Some(t0.elapsed());
            }
            chunks += 1;
            bytes += d.len() as u64;
        }
    }
    let total = t0.elapsed();
    if !status.is_success() {
        bail!("HTTP {status} from {}", t.uri);
    }
    Ok(Sample {
        total_us: micros(total),
        ttfb_us: micros(ttfb.unwrap_or(total)),
        ttft_us: ttft.map(micros),
        chunks,
        bytes,
        matches: matcher.map_or(0, |m| m.count()),
    })
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn report(args: &Args, samples: &[Sample], span: Duration, cpu: &[(String, u64, u64)]) {
    let mut total: Vec<u64> = samples.iter().map(|s| s.total_us).collect();
    let mut ttfb: Vec<u64> = samples.iter().map(|s| s.ttfb_us).collect();
    let mut ttft: Vec<u64> = samples.iter().filter_map(|s| s.ttft_us).collect();
    total.sort_unstable();
    ttfb.sort_unstable();
    ttft.sort_unstable();
    let n = samples.len().max(1) as f64;
    let mut line = serde_json::json!({
        "label": args.label,
        "concurrency": args.concurrency,
        "requests": samples.len(),
        "span_s": span.as_secs_f64(),
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
    if args.count.is_some() {
        line["matches_per_response"] =
            (samples.iter().map(|s| s.matches).sum::<u64>() as f64 / n).into();
        line["matches_min"] = samples.iter().map(|s| s.matches).min().unwrap_or(0).into();
        line["matches_max"] = samples.iter().map(|s| s.matches).max().unwrap_or(0).into();
        line["ttft_p50_us"] = percentile(&ttft, 50.0).into();
        line["ttft_p99_us"] = percentile(&ttft, 99.0).into();
    }
    let per_req = |ticks: u64| ticks as f64 * 1e6 / args.clk_tck.max(1) as f64 / n;
    for (name, user, sys) in cpu {
        line[format!("cpu_{name}_us_per_req")] = per_req(user + sys).into();
        line[format!("cpu_{name}_user_us_per_req")] = per_req(*user).into();
        line[format!("cpu_{name}_sys_us_per_req")] = per_req(*sys).into();
        line[format!("cpu_{name}_ticks")] = (user + sys).into();
    }
    use std::io::Write;
    let _ = writeln!(std::io::stdout(), "{line}");
}
