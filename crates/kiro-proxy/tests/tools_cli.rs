//! `kiro-proxy search` and `kiro-proxy tools` through the real binary, against kiro-sim, over a
//! data directory filled by `kiro-proxy import` (no server running).
#![cfg(test)]

#[expect(
    dead_code,
    reason = "each intake test uses a subset of the shared helpers"
)]
mod intake_support;

use std::path::Path;

use intake_support::*;
use kiro_sim::AccountKind;

/// Exit success, stdout, stderr of `kiro-proxy <args>` (run off the runtime: the simulator
/// answers on it).
async fn run(sim: &kiro_sim::SimHandle, dir: &Path, args: &[&str]) -> (bool, String, String) {
    let mut cmd = binary(sim, dir);
    cmd.args(args).stdin(std::process::Stdio::null());
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn search_and_tools_from_the_terminal() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // No account yet: a clear refusal.
    let (ok, _, err) = run(&sim, &data, &["search", "anything"]).await;
    assert!(!ok);
    assert!(err.contains("no upstream account is configured"), "{err}");

    let token = dir.path().join("kiro-auth-token.json");
    write_json(
        &token,
        &ide_token(&sim_account(&sim, AccountKind::Social), None),
    );
    let (ok, _, err) = run(&sim, &data, &["import", token.to_str().unwrap()]).await;
    assert!(ok, "{err}");

    let (ok, out, err) = run(&sim, &data, &["search", "rust tokio select", "--max", "3"]).await;
    assert!(ok, "{err}");
    assert!(out.starts_with("1. rust tokio select"), "{out}");
    assert!(out.contains("\n3. ") && !out.contains("\n4. "), "{out}");
    assert!(out.contains("   https://site"), "{out}");
    assert!(err.contains("3 result(s)"), "{err}");

    let (ok, out, err) = run(&sim, &data, &["tools"]).await;
    assert!(ok, "{err}");
    assert!(out.starts_with("web_search\n"), "{out}");
    assert!(out.contains("query (string, required)"), "{out}");

    let (ok, out, err) = run(
        &sim,
        &data,
        &[
            "tools",
            "call",
            "web_search",
            r#"{"query": "axum", "maxResults": 2}"#,
        ],
    )
    .await;
    assert!(ok, "{err}");
    // The JSON inside the text content, pretty-printed.
    assert!(out.contains("\"results\": ["), "{out}");

    // Failures exit non-zero with the reason.
    let (ok, _, err) = run(&sim, &data, &["search", "x sim:error"]).await;
    assert!(!ok);
    assert!(
        err.contains("web search failed") && err.contains("unavailable"),
        "{err}"
    );
    let (ok, _, err) = run(&sim, &data, &["search", "x", "--max", "99"]).await;
    assert!(!ok);
    assert!(err.contains("--max"), "{err}");
    let (ok, _, err) = run(&sim, &data, &["tools", "call"]).await;
    assert!(!ok);
    assert!(err.contains("needs a tool name"), "{err}");
    let (ok, _, err) = run(&sim, &data, &["tools", "call", "web_search", "[1]"]).await;
    assert!(!ok);
    assert!(err.contains("JSON object"), "{err}");
    let (ok, _, err) = run(
        &sim,
        &data,
        &["tools", "call", "web_search", r#"{"query": "x sim:error"}"#],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("the tool reported an error"), "{err}");
}
