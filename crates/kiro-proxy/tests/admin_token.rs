//! The admin token: configured, generated once (logged once, stored only as a hash), reset.
// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use kiro_proxy::admin::{AdminTokenOrigin, init_admin_token, reset_admin_token};
use kiro_proxy::crypto::{Crypto, hash_secret};
use kiro_proxy::store::{SETTING_ADMIN_TOKEN_HASH, Store};
use kiro_wire::types::Secret;

/// Collects everything the fmt subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // Thread-local: `#[tokio::test]` runs everything on this thread.
    (captured, tracing::subscriber::set_default(subscriber))
}

fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect()
}

#[tokio::test]
async fn generated_token_is_printed_once_and_stored_only_as_a_hash() {
    let (logs, _guard) = capture_logs();
    let dir = tempfile::tempdir().unwrap();
    let crypto = Crypto::from_key(&[3u8; 32]);
    let store = Store::open(dir.path(), &crypto).await.unwrap();

    let (token, origin) = init_admin_token(&store, None).await.unwrap();
    assert_eq!(origin, AdminTokenOrigin::Generated);
    let first = logs.take();
    let line = first
        .lines()
        .find(|l| l.contains("admin token"))
        .unwrap_or_else(|| panic!("no admin token line in {first:?}"));
    assert!(line.contains("WARN"), "{line}");
    let printed = line
        .split_whitespace()
        .find(|w| w.starts_with("kpa_"))
        .unwrap_or_else(|| panic!("no token in {line}"))
        .to_owned();
    assert_eq!(printed.len(), 4 + 32);
    assert!(printed[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert!(token.verify(&printed));
    assert!(!token.verify("kpa_wrong"));
    assert!(!format!("{token:?}").contains(&printed));

    let stored: String = store
        .get_setting(SETTING_ADMIN_TOKEN_HASH)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, hash_secret(&printed));
    store.close().await;
    let on_disk = all_bytes(dir.path());
    assert!(
        !on_disk
            .windows(printed.len())
            .any(|w| w == printed.as_bytes()),
        "the token itself is on disk"
    );

    // A later start finds the hash and prints nothing.
    let store = Store::open(dir.path(), &crypto).await.unwrap();
    let (again, origin) = init_admin_token(&store, None).await.unwrap();
    assert_eq!(origin, AdminTokenOrigin::Stored);
    assert!(again.verify(&printed));
    let second = logs.take();
    assert!(!second.contains("kpa_"), "{second}");
    assert!(!second.contains("admin token"), "{second}");

    // A configured token wins (and the generated one is not accepted meanwhile).
    let configured = Secret::from("configured-admin-token-42");
    let (cfg, origin) = init_admin_token(&store, Some(&configured)).await.unwrap();
    assert_eq!(origin, AdminTokenOrigin::Configured);
    assert!(cfg.verify("configured-admin-token-42"));
    assert!(!cfg.verify(&printed));
    assert!(logs.take().is_empty());

    // Reset: a new token replaces the stored hash.
    let fresh = reset_admin_token(&store).await.unwrap();
    assert!(fresh.starts_with("kpa_"));
    assert_ne!(fresh, printed);
    let (after, origin) = init_admin_token(&store, None).await.unwrap();
    assert_eq!(origin, AdminTokenOrigin::Stored);
    assert!(after.verify(&fresh));
    assert!(!after.verify(&printed));
    assert!(
        !logs.take().contains(&fresh),
        "reset does not log the token itself"
    );
}
