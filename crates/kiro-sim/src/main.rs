//! `kiro-sim`: runs the Kiro upstream simulator on one port.

use std::net::{IpAddr, SocketAddr};

use anyhow::Context as _;
use clap::Parser;
use kiro_sim::accounts::{AccountKind, CreateAccount};
use kiro_sim::{Settings, SimConfig};

/// A simulator of the Kiro upstream (chat, auth, quota, models, MCP) on one local port.
#[derive(Debug, Parser)]
#[command(name = "kiro-sim", version)]
struct Args {
    /// Port to listen on (0 = any free port).
    #[arg(long, default_value_t = 8787, env = "KIRO_SIM_PORT")]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1", env = "KIRO_SIM_HOST")]
    host: IpAddr,
    /// Delay between frames, in milliseconds (0 = full speed).
    #[arg(long, default_value_t = 0)]
    pace_ms: u64,
    /// Delay before the first frame, in milliseconds.
    #[arg(long, default_value_t = 0)]
    first_event_ms: u64,
    /// Delay before the response headers, in milliseconds.
    #[arg(long, default_value_t = 0)]
    headers_ms: u64,
    /// Pace text by tokens per second instead of a fixed frame interval.
    #[arg(long)]
    tokens_per_second: Option<f64>,
    /// Seed for issued secrets and tool ids (reproducible runs).
    #[arg(long)]
    seed: Option<u64>,
    /// Credits per chat before the model multiplier.
    #[arg(long)]
    base_credit: Option<f64>,
    /// V10 body-size ceiling in bytes.
    #[arg(long)]
    max_body_bytes: Option<usize>,
    /// Token estimate above which chat answers CONTENT_LENGTH_EXCEEDS_THRESHOLD.
    #[arg(long)]
    token_ceiling: Option<u64>,
    /// Requests kept in the log (0 disables logging, e.g. for benchmarks).
    #[arg(long)]
    log_capacity: Option<usize>,
    /// Ignore `[[sim:…]]` markers in user messages.
    #[arg(long)]
    no_triggers: bool,
    /// Create one account of each kind at start and log their credentials.
    #[arg(long)]
    demo: bool,
}

fn settings(a: &Args) -> Settings {
    let mut s = Settings::default();
    s.pace.frame_interval_ms = a.pace_ms;
    s.pace.first_event_ms = a.first_event_ms;
    s.pace.headers_ms = a.headers_ms;
    s.pace.tokens_per_second = a.tokens_per_second;
    if let Some(v) = a.base_credit {
        s.base_credit = v;
    }
    if let Some(v) = a.max_body_bytes {
        s.max_body_bytes = v;
    }
    s.context_token_ceiling = a.token_ceiling.or(s.context_token_ceiling);
    if let Some(v) = a.log_capacity {
        s.request_log_capacity = v;
        s.record_requests = v > 0;
    }
    s.triggers = !a.no_triggers;
    s
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let config = SimConfig {
        addr: SocketAddr::new(args.host, args.port),
        seed: args.seed,
        settings: settings(&args),
    };
    let handle = kiro_sim::start(config)
        .await
        .with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let url = handle.base_url();
    tracing::info!(%url, "kiro-sim listening");
    tracing::info!(
        "point the proxy here: KIRO_Q_URL={url} KIRO_CODEWHISPERER_URL={url} \
         KIRO_SOCIAL_AUTH_URL={url} KIRO_OIDC_URL={url}"
    );
    tracing::info!("control API: {url}/_sim/ (see crates/kiro-sim/README.md)");
    if args.demo {
        for kind in [AccountKind::Social, AccountKind::Idc, AccountKind::ApiKey] {
            let req = CreateAccount {
                kind: Some(kind),
                ..CreateAccount::default()
            };
            match handle.state().create_account(&req) {
                Ok(s) => tracing::info!(
                    account = %s.account.id,
                    kind = ?kind,
                    access_token = s.access_token.as_deref().unwrap_or("-"),
                    refresh_token = s.refresh_token.as_deref().unwrap_or("-"),
                    api_key = s.api_key.as_deref().unwrap_or("-"),
                    client_id = s.client_id.as_deref().unwrap_or("-"),
                    profile_arn = s.account.profile_arn.as_deref().unwrap_or("-"),
                    "demo account (test credentials of the simulator only)"
                ),
                Err(e) => tracing::warn!(error = %e, "demo account not created"),
            }
        }
    }
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    tracing::info!("shutting down");
    handle.shutdown().await;
    Ok(())
}
