//! `kiro-proxy`: OpenAI- and Anthropic-compatible gateway to the Kiro backend.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use kiro_proxy::accounts::checks::{self, BUILDER_ID_START_URL, DEFAULT_AUTH_REGION};
use kiro_proxy::accounts::device_login::{DeviceLogin, PollEvent};
use kiro_proxy::accounts::import_formats::Document;
use kiro_proxy::accounts::intake::{self, Saved};
use kiro_proxy::settings::logging::{self, DEFAULT_FILTER, LogControl, LogFormat, LogOptions};
use kiro_proxy::store::{AccountRecord, Store};
use kiro_proxy::upstream::{FingerprintDefaults, UpstreamClient};
use kiro_proxy::{App, Config, ServeArgs};
use kiro_wire::types::ClientRegistrationFile;

mod tools_cli;

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
    /// Log an account in with a device code (AWS Builder ID, or IAM Identity Center with
    /// --start-url) and store it in the data directory. No running server is needed.
    Login {
        /// IAM Identity Center start URL, e.g. https://d-xxxxxxxxxx.awsapps.com/start
        /// [default: AWS Builder ID's].
        #[arg(long)]
        start_url: Option<String>,
        /// Region of the Identity Center instance (its OIDC endpoint) [default: us-east-1].
        #[arg(long)]
        region: Option<String>,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Import accounts from a file: a Kiro IDE token (kiro-auth-token.json), a
    /// kiro-accounts.json, or a kiro-proxy export. Accounts already stored are updated.
    Import {
        /// The file to import.
        file: PathBuf,
        /// The IdC client registration (<clientIdHash>.json) of an IDE token [default: looked
        /// up beside the token file].
        #[arg(long)]
        client_registration: Option<PathBuf>,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Search the web through the upstream's web_search tool, with an account of the data
    /// directory. No running server is needed.
    Search {
        /// What to search for (1–1000 characters).
        query: String,
        /// How many results, 1–50.
        #[arg(long = "max", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=50))]
        max: u32,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// The upstream's MCP tools: `tools list` (the default), or `tools call NAME '{"arg": …}'`,
    /// with an account of the data directory. No running server is needed.
    Tools {
        #[arg(value_enum, default_value = "list")]
        action: tools_cli::ToolsAction,
        /// The tool to call.
        name: Option<String>,
        /// Its arguments, a JSON object [default: {}].
        arguments: Option<String>,
        #[command(flatten)]
        args: ServeArgs,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let log = init_logging();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Serve(args)) => serve(args, log).await,
        Some(Command::AdminToken { reset, args }) => admin_token(reset, args).await,
        Some(Command::Login {
            start_url,
            region,
            args,
        }) => login(start_url, region, args).await,
        Some(Command::Import {
            file,
            client_registration,
            args,
        }) => import(&file, client_registration.as_deref(), args).await,
        Some(Command::Search { query, max, args }) => tools_cli::search(&query, max, args).await,
        Some(Command::Tools {
            action,
            name,
            arguments,
            args,
        }) => tools_cli::tools(action, name.as_deref(), arguments.as_deref(), args).await,
        None => serve(cli.serve, log).await,
    }
}

/// Logs to stderr as `KIRO_LOG_FORMAT` says, filtered by `KIRO_LOG`; a bad value of either is
/// reported and replaced by the default rather than stopping the process. Returns the handle
/// that changes the filter at runtime.
fn init_logging() -> Option<LogControl> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let (format, format_problem) =
        match LogFormat::parse(&env("KIRO_LOG_FORMAT").unwrap_or_default()) {
            Ok(f) => (f, None),
            Err(m) => (LogFormat::Text, Some(m)),
        };
    let (filter, filter_problem) = match env("KIRO_LOG").map(|f| logging::check_filter(&f)) {
        None => (DEFAULT_FILTER.to_owned(), None),
        Some(Ok(f)) => (f, None),
        Some(Err(m)) => (DEFAULT_FILTER.to_owned(), Some(m)),
    };
    let options = LogOptions {
        format,
        filter,
        ansi: format == LogFormat::Text && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let control = logging::install(&options, std::io::stderr).ok();
    if let Some(m) = format_problem {
        tracing::warn!("KIRO_LOG_FORMAT: {m}; logging as text");
    }
    if let Some(m) = filter_problem {
        tracing::warn!("KIRO_LOG: {m}; using \"{DEFAULT_FILTER}\"");
    }
    control
}

async fn serve(args: ServeArgs, log: Option<LogControl>) -> anyhow::Result<()> {
    let config = Config::load(&args).context("invalid configuration")?;
    if args.check_config {
        writeln!(std::io::stderr(), "configuration OK:\n{config:#?}")?;
        return Ok(());
    }
    let addr = format!("{}:{}", config.host, config.port);
    let grace = config.ops.shutdown_grace;
    let app = App::build(config).await.context("cannot start")?;
    if let Some(log) = log {
        app.settings.install_log_control(log);
    }
    app.spawn_background();
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(
        addr = %listener.local_addr()?,
        accounts = app.pool.len(),
        "kiro-proxy listening"
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(kiro_proxy::serve(listener, app.clone(), async move {
        let _ = stopped.await;
    }));
    tokio::select! {
        ended = &mut server => {
            // The server stopped without being asked: an accept error.
            ended.context("server task failed")?.context("server failed")?;
            app.shutdown().await;
            return Ok(());
        }
        () = shutdown_signal() => {}
    }
    // Graceful shutdown: the listener closes, idle connections end, open replies run on for
    // up to the grace period; a second signal ends them at once.
    tracing::info!(
        open_streams = app.metrics.open_streams(),
        grace_secs = grace.as_secs_f64(),
        "shutting down: no new connections; open replies may finish"
    );
    let _ = stop.send(());
    tokio::select! {
        ended = tokio::time::timeout(grace, &mut server) => match ended {
            Ok(Ok(Ok(()))) => tracing::info!("every open reply finished"),
            Ok(Ok(Err(e))) => tracing::error!(error = %e, "server failed while stopping"),
            Ok(Err(e)) => tracing::error!(error = %e, "server task failed while stopping"),
            Err(_) => {
                tracing::warn!(
                    open_streams = app.metrics.open_streams(),
                    "grace period over; cutting the replies still open"
                );
                server.abort();
            }
        },
        () = shutdown_signal() => {
            tracing::warn!(
                open_streams = app.metrics.open_streams(),
                "second signal; cutting the replies still open"
            );
            server.abort();
        }
    }
    app.shutdown().await;
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

/// The configuration and the store of the data directory, for the offline commands.
async fn open_store(args: &ServeArgs) -> anyhow::Result<(Config, Store)> {
    let config = Config::load(args).context("invalid configuration")?;
    let crypto = kiro_proxy::crypto::Crypto::load(&config.data_dir, config.master_key.as_ref())?;
    let store = Store::open(&config.data_dir, &crypto).await?;
    Ok((config, store))
}

fn upstream_client(config: &Config) -> anyhow::Result<UpstreamClient> {
    Ok(kiro_proxy::app::upstream_client(config)?)
}

/// How the terminal names an account.
fn describe(r: &AccountRecord) -> String {
    let a = &r.account;
    let who = a
        .label
        .as_deref()
        .or(r.email.as_deref())
        .or(r.user_id.as_deref());
    match who {
        Some(who) => format!("{} ({who}, {:?})", a.id, a.auth_method),
        None => format!("{} ({:?})", a.id, a.auth_method),
    }
}

/// The new account reaches a running server only when it reloads (at its next start): say so.
const RUNNING_SERVER_NOTE: &str = "A running kiro-proxy picks the change up at its next start \
                                   (logins and imports through its admin API apply at once).";

async fn login(
    start_url: Option<String>,
    region: Option<String>,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let start_url = start_url.unwrap_or_else(|| BUILDER_ID_START_URL.to_owned());
    if !start_url.starts_with("https://") {
        anyhow::bail!("--start-url must be an https:// URL");
    }
    let region = region.unwrap_or_else(|| DEFAULT_AUTH_REGION.to_owned());
    if !checks::is_region(&region) {
        anyhow::bail!("--region must be an AWS region name such as us-east-1");
    }
    let (config, store) = open_store(&args).await?;
    let upstream = upstream_client(&config)?;
    let mut login = DeviceLogin::start(
        &upstream,
        &region,
        &start_url,
        &FingerprintDefaults::default(),
    )
    .await?;
    let mut err = std::io::stderr();
    let minutes = (login.expires_at() - unix_now()).max(0) / 60;
    writeln!(
        err,
        "To log in, open this link in a browser (a private window keeps other AWS sessions \
         out of it):\n\n    {}\n\nCode: {}\n",
        login.verification_url(),
        login.user_code()
    )?;
    write!(
        err,
        "Waiting for approval (the code expires in {minutes} min) "
    )?;
    err.flush()?;
    let result = login
        .wait(|event| {
            let mut err = std::io::stderr();
            let _ = match event {
                PollEvent::Pending => write!(err, "."),
                PollEvent::SlowDown { interval } => {
                    write!(err, " [slow_down: polling every {} s] ", interval.as_secs())
                }
                PollEvent::Retrying { .. } => write!(err, "!"),
            };
            let _ = err.flush();
        })
        .await;
    writeln!(err)?;
    let saved = match result {
        Ok(tokens) => login.complete(tokens, &store, &config.region).await,
        Err(e) => Err(e),
    };
    store.close().await;
    let saved = saved?;
    let verb = match &saved {
        Saved::Inserted(_) => "added",
        Saved::Updated(_) => "updated (it was already stored)",
    };
    writeln!(
        err,
        "Logged in: account {} {verb}.\n{RUNNING_SERVER_NOTE}",
        describe(saved.record())
    )?;
    Ok(())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Position only: serde_json's message could quote part of a token.
    serde_json::from_slice(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not valid JSON (line {}, column {})",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

fn read_registration(path: &Path) -> anyhow::Result<ClientRegistrationFile> {
    let value = read_json(path)?;
    if !value.is_object() {
        anyhow::bail!("{} is not a client registration file", path.display());
    }
    Ok(serde_json::from_value(value).unwrap_or_default())
}

async fn import(
    file: &Path,
    client_registration: Option<&Path>,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let mut err = std::io::stderr();
    let mut document = Document::detect(read_json(file)?)
        .with_context(|| format!("cannot import {}", file.display()))?;
    if let Some(path) = client_registration {
        document.set_registration(read_registration(path)?);
    } else if let Some(hash) = document.missing_registration() {
        // The IDE keeps the registration beside the token: ~/.aws/sso/cache/<clientIdHash>.json.
        let beside = file
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(format!("{hash}.json"));
        if beside.is_file() {
            writeln!(err, "Using the client registration {}", beside.display())?;
            document.set_registration(read_registration(&beside)?);
        }
    }
    let (config, store) = open_store(&args).await?;
    let report = intake::save_all(&store, document.entries(&config.region)).await;
    store.close().await;
    let report = report?;
    for r in &report.imported {
        writeln!(err, "imported {}", describe(r))?;
    }
    for r in &report.updated {
        writeln!(err, "updated  {}", describe(r))?;
    }
    for s in &report.skipped {
        writeln!(err, "skipped  {}", s.reason)?;
    }
    writeln!(
        err,
        "{} imported, {} updated, {} skipped.",
        report.imported.len(),
        report.updated.len(),
        report.skipped.len()
    )?;
    if report.changed() {
        writeln!(err, "{RUNNING_SERVER_NOTE}")?;
    }
    if !report.skipped.is_empty() {
        anyhow::bail!("{} account(s) not imported", report.skipped.len());
    }
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
