//! `kiro-proxy`: OpenAI- and Anthropic-compatible gateway to the Kiro backend.

use std::io::Write;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kiro_proxy::{App, Config, ServeArgs};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(name = "kiro-proxy", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the proxy (the default).
    Serve(ServeArgs),
    /// Manage the admin token.
    AdminToken {
        /// Replace the stored admin token with a new one and print it (applies from the next
        /// start, while KIRO_ADMIN_TOKEN is unset).
        #[arg(long)]
        reset: bool,
        #[command(flatten)]
        args: ServeArgs,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("KIRO_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::AdminToken { reset, args }) => admin_token(reset, args).await,
        None => serve(cli.serve).await,
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = Config::load(&args).context("invalid configuration")?;
    if args.check_config {
        writeln!(std::io::stderr(), "configuration OK:\n{config:#?}")?;
        return Ok(());
    }
    let addr = format!("{}:{}", config.host, config.port);
    let app = App::build(config).await.context("cannot start")?;
    app.spawn_background();
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(
        addr = %listener.local_addr()?,
        accounts = app.pool.len(),
        "kiro-proxy listening"
    );
    kiro_proxy::serve(listener, app.clone(), shutdown_signal()).await?;
    app.store.close().await;
    tracing::info!("kiro-proxy stopped");
    Ok(())
}

async fn admin_token(reset: bool, args: ServeArgs) -> anyhow::Result<()> {
    if !reset {
        anyhow::bail!("nothing to do: pass --reset to replace the admin token");
    }
    let config = Config::load(&args).context("invalid configuration")?;
    let crypto = kiro_proxy::crypto::Crypto::load(&config.data_dir, config.master_key.as_ref())?;
    let store = kiro_proxy::store::Store::open(&config.data_dir, &crypto).await?;
    let token = kiro_proxy::admin::reset_admin_token(&store).await?;
    store.close().await;
    // The one place the token is shown: on the operator's terminal, on request.
    writeln!(
        std::io::stderr(),
        "New admin token (takes effect at the next start): {token}"
    )?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
