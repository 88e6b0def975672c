//! The embedded (SQLite) store: migrations, reopen, sealing at rest, durable credential saves,
//! keys and settings.
// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

use std::path::Path;

use kiro_proxy::accounts::{Account, AuthMethod, Credentials};
use kiro_proxy::crypto::Crypto;
use kiro_proxy::store::{DATABASE_FILE, NewApiKey, Store, StoreError};
use kiro_wire::types::Secret;

const REFRESH: &str = "aorREFRESHMARKER0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnop";
const ACCESS: &str = "aoaACCESSMARKER0123456789";
const CLIENT_SECRET: &str =
    "CLIENTSECRETMARKER-eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0";

fn crypto() -> Crypto {
    Crypto::from_key(&[42u8; 32])
}

fn idc_account(id: &str) -> Account {
    Account {
        id: id.to_owned(),
        auth_method: AuthMethod::Idc,
        label: Some("work".to_owned()),
        enabled: true,
        api_region: "us-east-1".to_owned(),
        auth_region: "eu-west-1".to_owned(),
        profile_arn: Some("arn:aws:codewhisperer:us-east-1:123456789012:profile/ABC".to_owned()),
        start_url: Some("https://d-123.awsapps.com/start".to_owned()),
        machine_id: "ab".repeat(32),
        proxy: None,
        credentials: Credentials {
            access_token: Some(Secret::from(ACCESS)),
            expires_at: Some(1_900_000_000),
            refresh_token: Some(Secret::from(REFRESH)),
            client_id: Some("client-id-1".to_owned()),
            client_secret: Some(Secret::from(CLIENT_SECRET)),
            client_secret_expires_at: Some(1_950_000_000),
            api_key: None,
        },
    }
}

/// Every byte of every file in the data directory (database, WAL, SHM, key file).
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn open_migrate_reopen_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    assert!(dir.path().join(DATABASE_FILE).exists());
    let info = store.info().await.unwrap();
    assert_eq!(info.journal_mode, "wal");
    assert!(info.synchronous_full);

    let created = store.insert_account(&idc_account("a1")).await.unwrap();
    assert_eq!(created.weight, 1);
    assert_eq!(created.status, "active");
    store.close().await;

    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    let got = store.get_account("a1").await.unwrap().unwrap();
    let a = &got.account;
    assert_eq!(a.auth_method, AuthMethod::Idc);
    assert_eq!(a.label.as_deref(), Some("work"));
    assert_eq!(a.auth_region, "eu-west-1");
    assert_eq!(a.machine_id, "ab".repeat(32));
    assert_eq!(
        a.credentials.refresh_token.as_ref().unwrap().expose(),
        REFRESH
    );
    assert_eq!(
        a.credentials.client_secret.as_ref().unwrap().expose(),
        CLIENT_SECRET
    );
    assert_eq!(a.credentials.client_id.as_deref(), Some("client-id-1"));
    assert_eq!(a.credentials.expires_at, Some(1_900_000_000));
    assert_eq!(a.credentials.client_secret_expires_at, Some(1_950_000_000));
    assert_eq!(got.created_at, created.created_at);
    assert_eq!(store.list_accounts().await.unwrap().len(), 1);
    assert!(store.get_account("nope").await.unwrap().is_none());
}

#[tokio::test]
async fn credentials_are_sealed_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    store.insert_account(&idc_account("a1")).await.unwrap();

    // While open (data possibly still in the WAL) and after close (checkpointed).
    for secret in [REFRESH, ACCESS, CLIENT_SECRET] {
        assert!(
            !contains(&all_bytes(dir.path()), secret),
            "plaintext secret on disk"
        );
    }
    store.close().await;
    let bytes = all_bytes(dir.path());
    for secret in [REFRESH, ACCESS, CLIENT_SECRET] {
        assert!(!contains(&bytes, secret), "plaintext secret on disk");
    }
    // The raw column is the versioned sealed form.
    let raw = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        dir.path().join(DATABASE_FILE).display()
    ))
    .await
    .unwrap();
    let (sealed,): (String,) = sqlx::query_as("SELECT credentials FROM accounts WHERE id = 'a1'")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert!(sealed.starts_with("v1:"), "{sealed}");
    raw.close().await;
}

#[tokio::test]
async fn wrong_master_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    store.insert_account(&idc_account("a1")).await.unwrap();
    store.close().await;
    let err = Store::open(dir.path(), &Crypto::from_key(&[1u8; 32]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::WrongMasterKey), "{err}");
    assert!(err.to_string().contains("KIRO_MASTER_KEY"));
}

#[tokio::test]
async fn save_credentials_is_committed_before_returning() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    store.insert_account(&idc_account("a1")).await.unwrap();

    let rotated = Credentials {
        access_token: Some(Secret::from("aoaNEWACCESS")),
        expires_at: Some(2_000_000_000),
        refresh_token: Some(Secret::from(format!("{REFRESH}-rotated"))),
        ..idc_account("a1").credentials
    };
    store.save_credentials("a1", &rotated).await.unwrap();

    // A second, independent handle sees it immediately: it is committed, not buffered.
    let other = Store::open(dir.path(), &crypto()).await.unwrap();
    let seen = other.get_account("a1").await.unwrap().unwrap();
    assert_eq!(
        seen.account.credentials.refresh_token.unwrap().expose(),
        format!("{REFRESH}-rotated")
    );
    other.close().await;
    drop(store); // no orderly close

    let reopened = Store::open(dir.path(), &crypto()).await.unwrap();
    let back = reopened.get_account("a1").await.unwrap().unwrap();
    assert_eq!(
        back.account.credentials.access_token.unwrap().expose(),
        "aoaNEWACCESS"
    );
    assert_eq!(back.account.credentials.expires_at, Some(2_000_000_000));

    let err = reopened
        .save_credentials("missing", &rotated)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::AccountNotFound(_)));
}

#[tokio::test]
async fn account_updates_status_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    let mut a = idc_account("a1");
    store.insert_account(&a).await.unwrap();
    a.label = None;
    a.enabled = false;
    a.profile_arn = None;
    store.update_account_settings(&a, 1).await.unwrap();
    store
        .set_account_status("a1", "suspended", Some("403 from upstream"))
        .await
        .unwrap();
    store.set_account_weight("a1", 3).await.unwrap();
    store
        .save_profile_arn("a1", "arn:aws:codewhisperer:us-east-1:1:profile/NEW")
        .await
        .unwrap();
    let got = store.get_account("a1").await.unwrap().unwrap();
    assert_eq!(got.account.label, None);
    assert!(!got.account.enabled);
    assert_eq!(
        got.account.profile_arn.as_deref(),
        Some("arn:aws:codewhisperer:us-east-1:1:profile/NEW")
    );
    assert_eq!(got.status, "suspended");
    assert_eq!(got.status_reason.as_deref(), Some("403 from upstream"));
    assert_eq!(got.weight, 3);

    assert!(store.delete_account("a1").await.unwrap());
    assert!(!store.delete_account("a1").await.unwrap());
    assert!(matches!(
        store.update_account_settings(&a, 1).await,
        Err(StoreError::AccountNotFound(_))
    ));
    assert!(store.list_accounts().await.unwrap().is_empty());
}

#[tokio::test]
async fn store_is_the_pools_credential_sink() {
    use kiro_proxy::accounts::CredentialSink;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    store.insert_account(&idc_account("a1")).await.unwrap();
    let creds = Credentials {
        refresh_token: Some(Secret::from("rotated")),
        ..Credentials::default()
    };
    CredentialSink::save_credentials(&store, "a1", &creds)
        .await
        .unwrap();
    CredentialSink::save_profile_arn(
        &store,
        "a1",
        "arn:aws:codewhisperer:eu-central-1:1:profile/P",
    )
    .await
    .unwrap();
    let got = store.get_account("a1").await.unwrap().unwrap().account;
    assert_eq!(got.credentials.refresh_token.unwrap().expose(), "rotated");
    assert_eq!(
        got.profile_arn.as_deref(),
        Some("arn:aws:codewhisperer:eu-central-1:1:profile/P")
    );
    assert!(
        CredentialSink::save_credentials(&store, "nope", &creds)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn api_keys_and_settings() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    let k = store
        .insert_key(&NewApiKey {
            name: "laptop".to_owned(),
            prefix: "kp_abcde".to_owned(),
            key_hash: "f".repeat(64),
        })
        .await
        .unwrap();
    assert!(k.enabled);
    assert_eq!(k.last_used_at, None);
    let found = store
        .find_key_by_hash(&"f".repeat(64))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, k);
    assert!(
        store
            .find_key_by_hash(&"0".repeat(64))
            .await
            .unwrap()
            .is_none()
    );
    store.touch_key(&k.id, 1_800_000_000).await.unwrap();
    let listed = store.list_keys().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(1_800_000_000));
    // The hash is unique.
    assert!(
        store
            .insert_key(&NewApiKey {
                name: "dup".to_owned(),
                prefix: "kp_zzzzz".to_owned(),
                key_hash: "f".repeat(64),
            })
            .await
            .is_err()
    );
    assert!(store.delete_key(&k.id).await.unwrap());
    assert!(!store.delete_key(&k.id).await.unwrap());

    assert_eq!(store.get_setting::<String>("x").await.unwrap(), None);
    store.put_setting("x", &vec![1, 2, 3]).await.unwrap();
    store.put_setting("x", &vec![4]).await.unwrap();
    store.close().await;
    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    assert_eq!(
        store.get_setting::<Vec<i32>>("x").await.unwrap(),
        Some(vec![4])
    );
    assert!(
        store.get_setting::<String>("x").await.is_err(),
        "type mismatch is an error"
    );
    assert!(store.delete_setting("x").await.unwrap());
    assert_eq!(store.get_setting::<Vec<i32>>("x").await.unwrap(), None);
}

#[cfg(unix)]
#[tokio::test]
async fn database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested").join("data");
    let store = Store::open(&data, &crypto()).await.unwrap();
    store.close().await;
    let mode = std::fs::metadata(data.join(DATABASE_FILE))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "database readable by others: {mode:o}");
}

/// An admin edit reads an account, changes a setting and writes it back; a refresh that rotated
/// the refresh token in between must survive it.
#[tokio::test]
async fn settings_updates_never_write_back_stale_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &crypto()).await.unwrap();
    store.insert_account(&idc_account("a1")).await.unwrap();

    // The admin handler's copy, read before the refresh.
    let mut stale = store.get_account("a1").await.unwrap().unwrap();

    let rotated = Credentials {
        access_token: Some(Secret::from("aoaNEWACCESS")),
        expires_at: Some(2_000_000_000),
        refresh_token: Some(Secret::from(format!("{REFRESH}-rotated"))),
        ..idc_account("a1").credentials
    };
    store.save_credentials("a1", &rotated).await.unwrap();

    stale.account.label = Some("renamed".into());
    stale.account.enabled = false;
    store
        .update_account_settings(&stale.account, 3)
        .await
        .unwrap();

    let back = store.get_account("a1").await.unwrap().unwrap();
    assert_eq!(back.account.label.as_deref(), Some("renamed"));
    assert!(!back.account.enabled);
    assert_eq!(back.weight, 3);
    assert_eq!(
        back.account.credentials.refresh_token.unwrap().expose(),
        format!("{REFRESH}-rotated")
    );
    assert_eq!(back.account.credentials.expires_at, Some(2_000_000_000));
}
