//! Configuration: defaults, file < env < flags, unknown keys, URL templates, bad values.
// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use kiro_proxy::config::{Config, ConfigError, ServeArgs, UpstreamService};

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

fn no_env() -> impl Fn(&str) -> Option<String> {
    |_| None
}

fn write_toml(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("kiro.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn with_file(path: &std::path::Path) -> ServeArgs {
    ServeArgs {
        config: Some(path.to_owned()),
        ..ServeArgs::default()
    }
}

#[test]
fn defaults_work_without_any_configuration() {
    let c = Config::load_from(&ServeArgs::default(), no_env()).unwrap();
    assert_eq!(c, Config::default());
    assert_eq!(c.host, "0.0.0.0");
    assert_eq!(c.port, 8080);
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.region, "us-east-1");
    assert!(c.api_keys.is_empty());
    assert!(c.admin_token.is_none());
    assert_eq!(c.upstream.connect_timeout, Duration::from_secs(10));
    assert_eq!(c.upstream.response_header_timeout, Duration::from_secs(30));
    assert_eq!(c.upstream.first_event_timeout, Duration::from_secs(60));
    assert_eq!(c.upstream.idle_timeout, Duration::from_secs(300));
    assert_eq!(c.upstream.max_body_bytes, 600_000);
    assert_eq!(c.limits.max_request_body_bytes, 20 * 1024 * 1024);
    assert!(!c.images.remote_fetch);
    assert!(c.models.mapping.is_empty());
    assert_eq!(c.database_path(), PathBuf::from("./data/kiro-proxy.db"));
}

#[test]
fn url_templates_follow_spec_defaults() {
    let c = Config::default();
    assert_eq!(
        c.upstream_url(UpstreamService::Q, "eu-central-1"),
        "https://q.eu-central-1.amazonaws.com"
    );
    assert_eq!(
        c.upstream_url(UpstreamService::CodeWhisperer, "us-east-1"),
        "https://codewhisperer.us-east-1.amazonaws.com"
    );
    assert_eq!(
        c.upstream_url(UpstreamService::SocialAuth, "us-east-1"),
        "https://prod.us-east-1.auth.desktop.kiro.dev"
    );
    assert_eq!(
        c.upstream_url(UpstreamService::Oidc, "eu-west-1"),
        "https://oidc.eu-west-1.amazonaws.com"
    );
}

#[test]
fn url_overrides_are_trimmed_and_may_be_plain_http() {
    let env = env_of(&[
        ("KIRO_Q_URL", "http://127.0.0.1:9999/"),
        ("KIRO_CODEWHISPERER_URL", "http://127.0.0.1:9999/cw/"),
        ("KIRO_SOCIAL_AUTH_URL", "http://sim.local:{port}/{region}//"),
        ("KIRO_OIDC_URL", "https://oidc.{region}.example.test"),
    ]);
    let c = Config::load_from(&ServeArgs::default(), env).unwrap();
    assert_eq!(
        c.upstream_url(UpstreamService::Q, "eu-central-1"),
        "http://127.0.0.1:9999"
    );
    assert_eq!(
        c.upstream_url(UpstreamService::CodeWhisperer, "us-east-1"),
        "http://127.0.0.1:9999/cw"
    );
    assert_eq!(
        c.upstream_url(UpstreamService::SocialAuth, "us-east-1"),
        "http://sim.local:{port}/us-east-1"
    );
    assert_eq!(
        c.upstream_url(UpstreamService::Oidc, "ap-south-1"),
        "https://oidc.ap-south-1.example.test"
    );

    let err = Config::load_from(
        &ServeArgs::default(),
        env_of(&[("KIRO_Q_URL", "q.amazonaws.com")]),
    )
    .unwrap_err();
    assert!(err.to_string().contains("KIRO_Q_URL"), "{err}");
}

#[test]
fn file_then_env_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_toml(
        &dir,
        r#"
host = "127.0.0.1"
port = 7000
data_dir = "/var/lib/kiro"
region = "eu-central-1"
api_keys = ["file-key-1", "file-key-2"]
admin_token = "file-admin-token-0123"

[upstream]
q_url = "http://file-q/"
idle_timeout = "2m"
connect_timeout = 3
max_body_bytes = 500000

[limits]
max_request_body_bytes = 1048576

[images]
remote_fetch = true
max_bytes = 1000
fetch_timeout = "1500ms"

[accounts]
refresh_margin = "5m"

[models.mapping]
"gpt-4o" = "claude-sonnet-4.5"
"#,
    );

    // File only.
    let c = Config::load_from(&with_file(&path), no_env()).unwrap();
    assert_eq!(c.config_file.as_deref(), Some(path.as_path()));
    assert_eq!(c.host, "127.0.0.1");
    assert_eq!(c.port, 7000);
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/kiro"));
    assert_eq!(c.region, "eu-central-1");
    let keys: Vec<&str> = c.api_keys.iter().map(|k| k.expose()).collect();
    assert_eq!(keys, ["file-key-1", "file-key-2"]);
    assert_eq!(
        c.admin_token.as_ref().unwrap().expose(),
        "file-admin-token-0123"
    );
    assert_eq!(c.upstream.q_url, "http://file-q");
    assert_eq!(c.upstream.idle_timeout, Duration::from_secs(120));
    assert_eq!(c.upstream.connect_timeout, Duration::from_secs(3));
    assert_eq!(c.upstream.max_body_bytes, 500_000);
    assert_eq!(c.limits.max_request_body_bytes, 1_048_576);
    assert!(c.images.remote_fetch);
    assert_eq!(c.images.max_bytes, 1000);
    assert_eq!(c.images.fetch_timeout, Duration::from_millis(1500));
    assert_eq!(c.accounts.refresh_margin, Duration::from_secs(300));
    assert_eq!(c.models.mapping["gpt-4o"], "claude-sonnet-4.5");

    // Env over file.
    let env = env_of(&[
        ("PORT", "7001"),
        ("KIRO_REGION", "us-east-1"),
        ("KIRO_API_KEYS", " env-a , ,env-b "),
        ("KIRO_ADMIN_TOKEN", "env-admin-token-0123"),
        ("KIRO_IDLE_TIMEOUT", "30s"),
        ("KIRO_REMOTE_IMAGES", "off"),
        ("KIRO_MODEL_MAPPING", "o1=claude-opus-4.5"),
        ("KIRO_DATA_DIR", "/env/data"),
        ("HOST", ""), // empty counts as unset
    ]);
    let c = Config::load_from(&with_file(&path), &env).unwrap();
    assert_eq!(c.host, "127.0.0.1");
    assert_eq!(c.port, 7001);
    assert_eq!(c.region, "us-east-1");
    let keys: Vec<&str> = c.api_keys.iter().map(|k| k.expose()).collect();
    assert_eq!(keys, ["env-a", "env-b"]);
    assert_eq!(
        c.admin_token.as_ref().unwrap().expose(),
        "env-admin-token-0123"
    );
    assert_eq!(c.upstream.idle_timeout, Duration::from_secs(30));
    assert_eq!(
        c.upstream.connect_timeout,
        Duration::from_secs(3),
        "file value kept"
    );
    assert!(!c.images.remote_fetch);
    assert_eq!(c.models.mapping.len(), 1);
    assert_eq!(c.models.mapping["o1"], "claude-opus-4.5");
    assert_eq!(c.data_dir, PathBuf::from("/env/data"));

    // Flags over env.
    let args = ServeArgs {
        host: Some("::1".to_owned()),
        port: Some(7002),
        data_dir: Some(PathBuf::from("/flag/data")),
        ..with_file(&path)
    };
    let c = Config::load_from(&args, &env).unwrap();
    assert_eq!(c.host, "::1");
    assert_eq!(c.port, 7002);
    assert_eq!(c.data_dir, PathBuf::from("/flag/data"));
}

#[test]
fn config_file_from_env() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_toml(&dir, "port = 9001\napi_keys = \"k1, k2\"\n");
    let env = env_of(&[("KIRO_CONFIG", path.to_str().unwrap())]);
    let c = Config::load_from(&ServeArgs::default(), env).unwrap();
    assert_eq!(c.port, 9001);
    let keys: Vec<&str> = c.api_keys.iter().map(|k| k.expose()).collect();
    assert_eq!(keys, ["k1", "k2"], "a comma-separated string works too");
    assert_eq!(c.config_file.as_deref(), Some(path.as_path()));
}

#[test]
fn unknown_toml_keys_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    for (text, key) in [
        ("prot = 8080\n", "prot"),
        ("[upstream]\nq_ulr = \"http://x\"\n", "q_ulr"),
        ("[server]\nport = 1\n", "server"),
    ] {
        let path = write_toml(&dir, text);
        let err = Config::load_from(&with_file(&path), no_env()).unwrap_err();
        assert!(matches!(err, ConfigError::ParseFile { .. }), "{err}");
        let msg = err.to_string();
        assert!(msg.contains(key), "{msg}");
        assert!(msg.contains("unknown field"), "{msg}");
        assert!(msg.contains("kiro.toml"), "{msg}");
    }
}

#[test]
fn bad_values_name_their_setting() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[("PORT", "eighty")], "PORT"),
        (&[("KIRO_IDLE_TIMEOUT", "5 days")], "KIRO_IDLE_TIMEOUT"),
        (&[("KIRO_REMOTE_IMAGES", "maybe")], "KIRO_REMOTE_IMAGES"),
        (&[("KIRO_ADMIN_TOKEN", "short")], "KIRO_ADMIN_TOKEN"),
        (&[("KIRO_REGION", "US EAST")], "KIRO_REGION"),
        (&[("KIRO_UPSTREAM_MAX_BODY_BYTES", "0")], "max_body_bytes"),
    ];
    for (env, name) in cases {
        let err = Config::load_from(&ServeArgs::default(), env_of(env)).unwrap_err();
        assert!(err.to_string().contains(name), "{name}: {err}");
        // Secrets are never echoed.
        assert!(!err.to_string().contains("short"), "{err}");
    }
    let path = write_toml(&dir, "port = \"x\"\n");
    assert!(Config::load_from(&with_file(&path), no_env()).is_err());
    let path = write_toml(&dir, "[upstream]\nidle_timeout = \"forever\"\n");
    let err = Config::load_from(&with_file(&path), no_env()).unwrap_err();
    assert!(err.to_string().contains("upstream.idle_timeout"), "{err}");
    let missing = dir.path().join("missing.toml");
    let err = Config::load_from(&with_file(&missing), no_env()).unwrap_err();
    assert!(matches!(err, ConfigError::ReadFile { .. }), "{err}");
}

#[test]
fn debug_output_redacts_secrets() {
    let env = env_of(&[
        ("KIRO_API_KEYS", "sk-very-secret-client-key"),
        ("KIRO_ADMIN_TOKEN", "very-secret-admin-token"),
        (
            "KIRO_MASTER_KEY",
            "bWFzdGVyLWtleS1tYXN0ZXIta2V5LW1hc3Rlci1rZXk=",
        ),
    ]);
    let c = Config::load_from(&ServeArgs::default(), env).unwrap();
    let debug = format!("{c:?}");
    assert!(!debug.contains("very-secret"), "{debug}");
    assert!(!debug.contains("bWFzdGVy"), "{debug}");
}

#[derive(Debug, Parser)]
struct Cli {
    #[command(flatten)]
    serve: ServeArgs,
}

#[test]
fn serve_args_parse_flags() {
    let cli = Cli::try_parse_from([
        "kiro-proxy",
        "--host",
        "127.0.0.1",
        "--port",
        "1234",
        "--data-dir",
        "/tmp/d",
        "--config",
        "/etc/kiro.toml",
        "--check-config",
    ])
    .unwrap();
    assert_eq!(cli.serve.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(cli.serve.port, Some(1234));
    assert_eq!(cli.serve.data_dir, Some(PathBuf::from("/tmp/d")));
    assert_eq!(cli.serve.config, Some(PathBuf::from("/etc/kiro.toml")));
    assert!(cli.serve.check_config);
    assert!(Cli::try_parse_from(["kiro-proxy", "--port", "x"]).is_err());
}
