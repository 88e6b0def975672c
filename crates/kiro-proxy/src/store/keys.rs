//! Client API keys: only a SHA-256 hash and a short non-secret prefix are stored, with the key's
//! limits (expiry, model allow-list, budgets) and its token use per calendar month.

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
    /// What the key may do; every limit is optional.
    pub settings: KeySettings,
}

/// The operator's limits of one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySettings {
    /// Unix seconds after which the key is refused.
    pub expires_at: Option<i64>,
    /// Client model names or upstream ids the key may use; empty: every model.
    pub models: Vec<String>,
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens (input + output + cache) per minute.
    pub tpm: Option<u64>,
    /// Tokens per calendar month (UTC).
    pub monthly_tokens: Option<u64>,
}

/// What is needed to store a new key; the id is assigned by the store.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
}

/// A change to a key: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    /// `Some(None)` removes the expiry.
    pub expires_at: Option<Option<i64>>,
    pub models: Option<Vec<String>>,
    pub rpm: Option<Option<u64>>,
    pub tpm: Option<Option<u64>>,
    pub monthly_tokens: Option<Option<u64>>,
}

/// Tokens one key used in one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyKeyUsage {
    pub key_id: String,
    /// `YYYY-MM` (UTC).
    pub month: String,
    pub tokens: u64,
}

const COLUMNS: &str = "id, name, prefix, key_hash, enabled, created_at, last_used_at, \
                       expires_at, models, rpm, tpm, monthly_tokens";

fn opt_u64(row: &SqliteRow, column: &str) -> Result<Option<u64>, StoreError> {
    let value: Option<i64> = row.try_get(column)?;
    value
        .map(|v| {
            u64::try_from(v).map_err(|_| StoreError::Corrupt {
                what: format!("api_keys.{column}"),
                message: format!("negative value {v}"),
            })
        })
        .transpose()
}

fn to_i64(value: Option<u64>) -> Option<i64> {
    value.map(|v| i64::try_from(v).unwrap_or(i64::MAX))
}

fn from_row(row: &SqliteRow) -> Result<ApiKeyRecord, StoreError> {
    let models: String = row.try_get("models")?;
    let models = serde_json::from_str(&models).map_err(|e| StoreError::Corrupt {
        what: "api_keys.models".to_owned(),
        message: e.to_string(),
    })?;
    Ok(ApiKeyRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        key_hash: row.try_get("key_hash")?,
        enabled: row.try_get("enabled")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        settings: KeySettings {
            expires_at: row.try_get("expires_at")?,
            models,
            rpm: opt_u64(row, "rpm")?,
            tpm: opt_u64(row, "tpm")?,
            monthly_tokens: opt_u64(row, "monthly_tokens")?,
        },
    })
}

fn models_json(models: &[String]) -> String {
    serde_json::to_string(models).unwrap_or_else(|_| "[]".to_owned())
}

impl Store {
    /// Stores a new, enabled key without limits.
    pub async fn insert_key(&self, key: &NewApiKey) -> Result<ApiKeyRecord, StoreError> {
        self.insert_key_with(key, true, &KeySettings::default())
            .await
    }

    /// Stores a new key with its limits.
    pub async fn insert_key_with(
        &self,
        key: &NewApiKey,
        enabled: bool,
        settings: &KeySettings,
    ) -> Result<ApiKeyRecord, StoreError> {
        let record = ApiKeyRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name: key.name.clone(),
            prefix: key.prefix.clone(),
            key_hash: key.key_hash.clone(),
            enabled,
            created_at: unix_now(),
            last_used_at: None,
            settings: settings.clone(),
        };
        sqlx::query(
            "INSERT INTO api_keys (id, name, prefix, key_hash, enabled, created_at, expires_at, \
             models, rpm, tpm, monthly_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&record.id)
        .bind(&record.name)
        .bind(&record.prefix)
        .bind(&record.key_hash)
        .bind(enabled)
        .bind(record.created_at)
        .bind(settings.expires_at)
        .bind(models_json(&settings.models))
        .bind(to_i64(settings.rpm))
        .bind(to_i64(settings.tpm))
        .bind(to_i64(settings.monthly_tokens))
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

    /// One key by id.
    pub async fn get_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
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

    /// Applies `patch` to key `id`; the updated record, `None` if there is no such key.
    ///
    /// One `UPDATE` (no read-then-write transaction, which WAL mode refuses outright when
    /// another connection wrote in between).
    pub async fn update_key(
        &self,
        id: &str,
        patch: &KeyPatch,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        // For the nullable columns, a flag says whether the (possibly NULL) value is to be set.
        let done = sqlx::query(
            "UPDATE api_keys SET \
             name = COALESCE(?, name), \
             enabled = COALESCE(?, enabled), \
             expires_at = CASE WHEN ? THEN ? ELSE expires_at END, \
             models = COALESCE(?, models), \
             rpm = CASE WHEN ? THEN ? ELSE rpm END, \
             tpm = CASE WHEN ? THEN ? ELSE tpm END, \
             monthly_tokens = CASE WHEN ? THEN ? ELSE monthly_tokens END \
             WHERE id = ?",
        )
        .bind(patch.name.as_deref())
        .bind(patch.enabled)
        .bind(patch.expires_at.is_some())
        .bind(patch.expires_at.flatten())
        .bind(patch.models.as_deref().map(models_json))
        .bind(patch.rpm.is_some())
        .bind(to_i64(patch.rpm.flatten()))
        .bind(patch.tpm.is_some())
        .bind(to_i64(patch.tpm.flatten()))
        .bind(patch.monthly_tokens.is_some())
        .bind(to_i64(patch.monthly_tokens.flatten()))
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get_key(id).await
    }

    /// Deletes a key (and its usage); `false` if there was none.
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

    /// Every key's token use in `month` (`YYYY-MM`).
    pub async fn monthly_key_usage(&self, month: &str) -> Result<Vec<MonthlyKeyUsage>, StoreError> {
        let rows =
            sqlx::query("SELECT key_id, month, tokens FROM api_key_monthly_usage WHERE month = ?")
                .bind(month)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|row| {
                let tokens: i64 = row.try_get("tokens")?;
                Ok(MonthlyKeyUsage {
                    key_id: row.try_get("key_id")?,
                    month: row.try_get("month")?,
                    tokens: u64::try_from(tokens).unwrap_or(0),
                })
            })
            .collect()
    }

    /// Adds each entry's tokens to its key's month, in one transaction. Entries of keys that no
    /// longer exist are skipped.
    pub async fn add_monthly_key_usage(
        &self,
        deltas: &[MonthlyKeyUsage],
    ) -> Result<(), StoreError> {
        if deltas.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        for d in deltas {
            sqlx::query(
                "INSERT INTO api_key_monthly_usage (key_id, month, tokens) \
                 SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ?1) \
                 ON CONFLICT (key_id, month) DO UPDATE SET tokens = tokens + excluded.tokens",
            )
            .bind(&d.key_id)
            .bind(&d.month)
            .bind(i64::try_from(d.tokens).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
