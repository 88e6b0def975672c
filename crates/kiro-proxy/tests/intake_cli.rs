//! `kiro-proxy login` and `kiro-proxy import` through the real binary, against kiro-sim, on a
//! temporary data directory (no server running).
#![cfg(test)]

#[expect(
    dead_code,
    reason = "each intake test uses a subset of the shared helpers"
)]
mod intake_support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use intake_support::*;
use kiro_proxy::accounts::AuthMethod;
use kiro_proxy::accounts::backup::BackupFile;
use kiro_sim::AccountKind;
use serde_json::{Value, json};

/// A running `kiro-proxy login` whose stderr lines arrive on a channel.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(mut cmd: std::process::Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            // Progress dots have no newline: read byte-wise up to either.
            let mut reader = BufReader::new(stderr);
            let mut line = Vec::new();
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let _ = tx.send(String::from_utf8_lossy(&line).into_owned());
                    }
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line containing `needle`; returns it. (Never blocks the runtime: the
    /// simulator runs on it.)
    async fn line_with(&mut self, needle: &str) -> String {
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            match self.lines.try_recv() {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
        panic!("no line with {needle:?} in {:?}", self.seen);
    }

    /// Waits for the exit; returns the status and the whole stderr.
    async fn finish(mut self) -> (ExitStatus, String) {
        let until = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < until, "still running: {:?}", self.seen);
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // The reader thread ends with the pipe.
        tokio::time::sleep(Duration::from_millis(100)).await;
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        (status, self.seen.concat())
    }
}

fn login(sim: &kiro_sim::SimHandle, dir: &Path, args: &[&str]) -> Running {
    let mut cmd = binary(sim, dir);
    cmd.arg("login").args(args);
    Running::start(cmd)
}

#[tokio::test]
async fn login_waits_for_approval_and_stores_the_account() {
    let sim = sim().await;
    sim_settings(&sim, json!({"device_auto_approve": false}));
    let dir = tempfile::tempdir().unwrap();
    let mut run = login(
        &sim,
        dir.path(),
        &["--start-url", ENTERPRISE_START_URL, "--region", "us-east-1"],
    );
    let link = run.line_with(ENTERPRISE_START_URL).await;
    assert!(link.contains("/#/device?user_code="), "{link}");
    let code = run.line_with("Code: ").await;
    let code = code.trim().trim_start_matches("Code: ").to_owned();
    // Let it poll (and show progress) a few times before approving.
    let until = Instant::now() + Duration::from_secs(10);
    while token_polls(&sim).len() < 2 {
        assert!(Instant::now() < until);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sim_control(
        &sim,
        "POST",
        &format!("/_sim/device/{code}/approve"),
        json!({}),
    )
    .await;
    let (status, stderr) = run.finish().await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("Waiting for approval"), "{stderr}");
    assert!(stderr.contains(".."), "no progress shown: {stderr}");
    assert!(stderr.contains("Logged in: account"), "{stderr}");

    let store = open_store(dir.path()).await;
    let accounts = store.list_accounts().await.unwrap();
    assert_eq!(accounts.len(), 1);
    let a = &accounts[0];
    assert_eq!(a.account.auth_method, AuthMethod::Idc);
    assert_eq!(a.account.start_url.as_deref(), Some(ENTERPRISE_START_URL));
    assert!(a.account.profile_arn.is_some());
    assert!(a.email.as_deref().unwrap().ends_with("@example.com"));
    assert!(a.account.credentials.refresh_token.is_some());
    assert!(a.account.credentials.client_secret.is_some());
}

#[tokio::test]
async fn login_denied_exits_non_zero() {
    let sim = sim().await;
    sim_settings(&sim, json!({"device_auto_approve": false}));
    let dir = tempfile::tempdir().unwrap();
    let mut run = login(&sim, dir.path(), &[]);
    let link = run.line_with(BUILDER_ID_START_URL).await;
    assert!(link.contains("user_code="), "{link}");
    let code = run.line_with("Code: ").await;
    let code = code.trim().trim_start_matches("Code: ").to_owned();
    sim_control(
        &sim,
        "POST",
        &format!("/_sim/device/{code}/deny"),
        json!({}),
    )
    .await;
    let (status, stderr) = run.finish().await;
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("denied"), "{stderr}");
    let store = open_store(dir.path()).await;
    assert!(store.list_accounts().await.unwrap().is_empty());
}

#[tokio::test]
async fn login_expired_exits_non_zero() {
    let sim = sim().await;
    sim_settings(&sim, json!({"device_auto_approve": false}));
    let dir = tempfile::tempdir().unwrap();
    let mut run = login(&sim, dir.path(), &[]);
    run.line_with("Code: ").await;
    sim.state().advance_clock(601);
    let (status, stderr) = run.finish().await;
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("expired"), "{stderr}");
}

fn import(sim: &kiro_sim::SimHandle, dir: &Path, args: &[&Path]) -> (bool, String) {
    let out = binary(sim, dir)
        .arg("import")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn import_each_format_from_files() {
    let sim = sim().await;
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();

    // The IDE's IdC token; its registration sits beside it under its clientIdHash.
    let idc = sim_idc(&sim, ENTERPRISE_START_URL);
    let cache = files.path().join("sso-cache");
    std::fs::create_dir(&cache).unwrap();
    let token_path = cache.join("kiro-auth-token.json");
    write_json(&token_path, &ide_token(&idc, Some(ENTERPRISE_START_URL)));
    let (ok, stderr) = import(&sim, data.path(), &[&token_path]);
    assert!(!ok, "imported without its registration: {stderr}");
    assert!(
        stderr.contains(&client_id_hash(ENTERPRISE_START_URL)),
        "{stderr}"
    );
    write_json(
        &cache.join(format!("{}.json", client_id_hash(ENTERPRISE_START_URL))),
        &ide_registration(&idc),
    );
    let (ok, stderr) = import(&sim, data.path(), &[&token_path]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("Using the client registration"), "{stderr}");
    assert!(
        stderr.contains("1 imported, 0 updated, 0 skipped"),
        "{stderr}"
    );

    // The IDE's social token, and an explicit --client-registration for the IdC one again.
    let social = sim_account(&sim, AccountKind::Social);
    let social_path = files.path().join("social.json");
    write_json(&social_path, &ide_token(&social, None));
    let (ok, stderr) = import(&sim, data.path(), &[&social_path]);
    assert!(ok && stderr.contains("1 imported"), "{stderr}");
    let registration = files.path().join("registration.json");
    write_json(&registration, &ide_registration(&idc));
    let out = binary(&sim, data.path())
        .arg("import")
        .arg(&token_path)
        .arg("--client-registration")
        .arg(&registration)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("0 imported, 1 updated"), "{stderr}");

    // The Go project's kiro-accounts.json, twice.
    let builder = sim_idc(&sim, BUILDER_ID_START_URL);
    let enterprise = sim_idc(&sim, ENTERPRISE_START_URL);
    let seed_path = files.path().join("kiro-accounts.json");
    write_json(&seed_path, &seed_file(&builder, &enterprise));
    let (ok, stderr) = import(&sim, data.path(), &[&seed_path]);
    assert!(ok && stderr.contains("2 imported, 0 updated"), "{stderr}");
    let (ok, stderr) = import(&sim, data.path(), &[&seed_path]);
    assert!(ok && stderr.contains("0 imported, 2 updated"), "{stderr}");

    let store = open_store(data.path()).await;
    let records = store.list_accounts().await.unwrap();
    assert_eq!(records.len(), 4);
    let emails: Vec<_> = records.iter().filter_map(|r| r.email.clone()).collect();
    assert!(
        emails.contains(&"builder@example.com".to_owned()),
        "{emails:?}"
    );

    // Our own export (written from this store) restores into another data directory exactly.
    let export = serde_json::to_value(BackupFile::new(&records, 1_800_000_000)).unwrap();
    store.close().await;
    let export_path = files.path().join("export.json");
    write_json(&export_path, &export);
    let restored = tempfile::tempdir().unwrap();
    let (ok, stderr) = import(&sim, restored.path(), &[&export_path]);
    assert!(ok && stderr.contains("4 imported"), "{stderr}");
    let store = open_store(restored.path()).await;
    let again = serde_json::to_value(BackupFile::new(
        &store.list_accounts().await.unwrap(),
        1_800_000_000,
    ))
    .unwrap();
    assert_eq!(again, export);
}

#[tokio::test]
async fn import_refusals_exit_non_zero() {
    let sim = sim().await;
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let bad = files.path().join("bad.json");
    std::fs::write(&bad, b"{ not json").unwrap();
    let (ok, stderr) = import(&sim, data.path(), &[&bad]);
    assert!(!ok && stderr.contains("not valid JSON"), "{stderr}");
    let other = files.path().join("other.json");
    write_json(&other, &json!({"hello": 1}));
    let (ok, stderr) = import(&sim, data.path(), &[&other]);
    assert!(
        !ok && stderr.contains("not a recognised account file"),
        "{stderr}"
    );

    let social = sim_account(&sim, AccountKind::Social);
    let mut token: Value = ide_token(&social, None);
    token["refreshToken"] = json!("aorTRUNCATED...");
    let truncated = files.path().join("truncated.json");
    write_json(&truncated, &token);
    let (ok, stderr) = import(&sim, data.path(), &[&truncated]);
    assert!(!ok, "{stderr}");
    assert!(
        stderr.contains("the IDE token: the refresh token"),
        "{stderr}"
    );
    assert!(!stderr.contains("aorTRUNCATED"), "{stderr}");
}
