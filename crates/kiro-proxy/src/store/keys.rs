//! Client API keys: only a SHA-256 hash and a short non-secret prefix are stored.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, StoreError, unix_now};

/// A stored client key (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub name: String,
    /// The first characters of the key, shown so an operator can tell keys apart.
    pub prefix: String,
    /// SHA-256 hex of the key.
    pub key_hash: String,
    pub enabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// What is needed to store a new key; the id is assigned by the store.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
}

const COLUMNS: &str = "id, name, prefix, key_hash, enabled, created_at, last_used_at";

fn from_row(row: &SqliteRow) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        key_hash: row.try_get("key_hash")?,
        enabled: row.try_get("enabled")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}

impl Store {
    /// Stores a new, enabled key.
    pub async fn insert_key(&self, key: &NewApiKey) -> Result<ApiKeyRecord, StoreError> {
        let record = ApiKeyRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            key_hash: key.key_hash.clone(),
            enabled: true,
            created_at: unix_now(),
            last_used_at: None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, name, prefix, key_hash, enabled, created_at) \
             VALUES (?, ?, ?, ?, 1, ?)",
        )
        .bind(&record.id)
        .bind(&record.name)
        .bind(&record.prefix)
        .bind(&record.key_hash)
        .bind(record.created_at)
        .execute(&self.pool)
        .await?;
        Ok(record)
    }

    /// All keys in creation order.
    pub async fn list_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_keys ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The key whose SHA-256 hex is `key_hash`, enabled or not.
    pub async fn find_key_by_hash(
        &self,
        key_hash: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?"
        ))
        .bind(key_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Deletes a key; `false` if there was none.
    pub async fn delete_key(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM api_keys WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records that key `id` was used at `at` (Unix seconds).
    pub async fn touch_key(&self, id: &str, at: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
