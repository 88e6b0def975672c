//! Persistent storage: accounts (credentials sealed), client API keys (hashed) and settings.
//!
//! One engine today: SQLite in `<data-dir>/kiro-proxy.db`, WAL mode with `synchronous=FULL`, so
//! a committed transaction is on disk before the call returns (a rotated refresh token must be
//! durable before the new access token is used). The schema lives in `migrations/` and is
//! embedded in the binary; it is applied on every open.
//!
//! `Store` is a concrete type with a small async API rather than a trait: when the PostgreSQL
//! engine arrives it can become an enum over engines (or the API below can move into a trait)
//! without touching callers, who only see these methods and [`StoreError`].

mod accounts;
mod keys;
mod sealed;
mod sink;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use accounts::{AccountMeta, AccountRecord, DEFAULT_ACCOUNT_STATUS};
pub use keys::{ApiKeyRecord, KeyPatch, KeySettings, MonthlyKeyUsage, NewApiKey};

use crate::crypto::{Crypto, CryptoError};

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "kiro-proxy.db";
/// Setting: SHA-256 hex of the generated admin token.
pub const SETTING_ADMIN_TOKEN_HASH: &str = "admin_token_hash";
/// Setting: the operator model mapping `{alias: upstreamId}`.
pub const SETTING_MODEL_MAPPING: &str = "model_mapping";
/// Setting: a value sealed with the master key, to detect a wrong key at startup.
const SETTING_KEY_CHECK: &str = "master_key_check";
const KEY_CHECK_PLAINTEXT: &[u8] = b"kiro-proxy master key check";

/// Storage errors. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data directory {}: {source}", .path.display())]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the database {}: {source}", .path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate the database schema: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(
        "the master key is not the one this database was sealed with: set KIRO_MASTER_KEY to the \
         original key or restore the original master.key"
    )]
    WrongMasterKey,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("account {0} not found")]
    AccountNotFound(String),
    #[error("corrupt data in {what}: {message}")]
    Corrupt { what: String, message: String },
}

/// What [`Store::info`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreInfo {
    /// `wal` for the embedded engine.
    pub journal_mode: String,
    /// Whether commits are fsynced (`synchronous=FULL` or stricter).
    pub synchronous_full: bool,
}

/// Handle to the database; cheap to clone (a connection pool and a key).
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    crypto: Crypto,
}

impl Store {
    /// Opens (creating if needed) `<data_dir>/kiro-proxy.db`, applies migrations and checks that
    /// `crypto` holds the key existing data was sealed with.
    pub async fn open(data_dir: &Path, crypto: &Crypto) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        create_private_file(&path).map_err(|source| StoreError::DataDir {
            path: path.clone(),
            source,
        })?;
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        let store = Self {
            pool,
            crypto: crypto.clone(),
        };
        store.check_master_key().await?;
        Ok(store)
    }

    /// Round trip to the database (for readiness checks), reporting the durability settings of
    /// a pooled connection.
    pub async fn info(&self) -> Result<StoreInfo, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let (journal_mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?;
        let (synchronous,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?;
        Ok(StoreInfo {
            journal_mode,
            synchronous_full: synchronous >= 2,
        })
    }

    /// The SQLite pool, for modules that keep their own tables (`crate::stats`).
    pub(crate) fn sqlite(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes the pool, checkpointing the WAL. Later calls fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn check_master_key(&self) -> Result<(), StoreError> {
        match self.get_setting::<String>(SETTING_KEY_CHECK).await? {
            Some(sealed) => match self.crypto.open(&sealed) {
                Ok(p) if p == KEY_CHECK_PLAINTEXT => Ok(()),
                _ => Err(StoreError::WrongMasterKey),
            },
            None => {
                let sealed = self.crypto.seal(KEY_CHECK_PLAINTEXT)?;
                self.put_setting(SETTING_KEY_CHECK, &sealed).await
            }
        }
    }

    /// A setting, `None` when absent.
    pub async fn get_setting<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|(json,)| {
            serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
                what: format!("setting {key}"),
                message: e.to_string(),
            })
        })
        .transpose()
    }

    /// Inserts or replaces a setting (durable on return).
    pub async fn put_setting<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(value).map_err(|e| StoreError::Corrupt {
            what: format!("setting {key}"),
            message: e.to_string(),
        })?;
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(key)
        .bind(json)
        .bind(unix_now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Removes a setting; `true` if it existed.
    pub async fn delete_setting(&self, key: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM settings WHERE key = ?")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Creates an empty database file readable only by the service user (SQLite would use the
/// umask, typically 0644; the WAL and SHM files inherit the database file's mode).
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Current time in Unix seconds.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
