//! Accounts: rows of `accounts`, credentials sealed and opened transparently.

use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::{Store, StoreError, sealed, unix_now};
use crate::accounts::{Account, AuthMethod, Credentials};

/// Status of a new account (the pool defines the others).
pub const DEFAULT_ACCOUNT_STATUS: &str = "active";

/// An account plus the columns the in-memory model does not carry.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    pub account: Account,
    /// Selection weight (default 1).
    pub weight: u32,
    /// The identity the upstream reports (`getUsageLimits` `userInfo`), when known.
    pub email: Option<String>,
    pub user_id: Option<String>,
    /// Health state written by the pool (`active` until it says otherwise).
    pub status: String,
    pub status_reason: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// The columns of an account that an import, a login or the operator sets besides the
/// [`Account`] itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountMeta {
    /// Selection weight (default 1).
    pub weight: u32,
    pub email: Option<String>,
    pub user_id: Option<String>,
}

impl Default for AccountMeta {
    fn default() -> Self {
        Self {
            weight: 1,
            email: None,
            user_id: None,
        }
    }
}

impl AccountRecord {
    /// The record's [`AccountMeta`].
    pub fn meta(&self) -> AccountMeta {
        AccountMeta {
            weight: self.weight,
            email: self.email.clone(),
            user_id: self.user_id.clone(),
        }
    }
}

const COLUMNS: &str = "id, auth_method, label, enabled, weight, api_region, auth_region, \
                       profile_arn, start_url, machine_id, credentials, status, status_reason, \
                       created_at, updated_at, proxy, email, user_id";

fn method_text(m: AuthMethod) -> &'static str {
    match m {
        AuthMethod::Social => "social",
        AuthMethod::Idc => "idc",
        AuthMethod::ApiKey => "apiKey",
    }
}

fn method_from_text(id: &str, s: &str) -> Result<AuthMethod, StoreError> {
    match s {
        "social" => Ok(AuthMethod::Social),
        "idc" => Ok(AuthMethod::Idc),
        "apiKey" => Ok(AuthMethod::ApiKey),
        other => Err(StoreError::Corrupt {
            what: format!("account {id}"),
            message: format!("unknown auth method `{other}`"),
        }),
    }
}

impl Store {
    /// Inserts a new account (weight 1, status `active`).
    pub async fn insert_account(&self, account: &Account) -> Result<AccountRecord, StoreError> {
        self.insert_account_with(account, &AccountMeta::default(), None)
            .await
    }

    /// Inserts a new account with its meta columns (status `active`). `created_at` (Unix
    /// seconds) keeps the creation time of a restored backup; `None` means now.
    pub async fn insert_account_with(
        &self,
        account: &Account,
        meta: &AccountMeta,
        created_at: Option<i64>,
    ) -> Result<AccountRecord, StoreError> {
        let sealed = sealed::seal(&self.crypto, &account.credentials)?;
        let proxy = self.seal_proxy(account.proxy.as_deref())?;
        let now = unix_now();
        let created_at = created_at.unwrap_or(now);
        sqlx::query(
            "INSERT INTO accounts (id, auth_method, label, enabled, weight, api_region, \
             auth_region, profile_arn, start_url, machine_id, credentials, status, created_at, \
             updated_at, proxy, email, user_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&account.id)
        .bind(method_text(account.auth_method))
        .bind(&account.label)
        .bind(account.enabled)
        .bind(meta.weight)
        .bind(&account.api_region)
        .bind(&account.auth_region)
        .bind(&account.profile_arn)
        .bind(&account.start_url)
        .bind(&account.machine_id)
        .bind(sealed)
        .bind(DEFAULT_ACCOUNT_STATUS)
        .bind(created_at)
        .bind(now)
        .bind(proxy)
        .bind(&meta.email)
        .bind(&meta.user_id)
        .execute(&self.pool)
        .await?;
        Ok(AccountRecord {
            account: account.clone(),
            weight: meta.weight,
            email: meta.email.clone(),
            user_id: meta.user_id.clone(),
            status: DEFAULT_ACCOUNT_STATUS.to_owned(),
            status_reason: None,
            created_at,
            updated_at: now,
        })
    }

    /// One account, credentials opened.
    pub async fn get_account(&self, id: &str) -> Result<Option<AccountRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM accounts WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| self.record_from_row(&r)).transpose()
    }

    /// All accounts in creation order, credentials opened.
    pub async fn list_accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM accounts ORDER BY created_at, id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| self.record_from_row(r)).collect()
    }

    /// Writes an account's operator settings — label, enabled flag, weight, regions, profile ARN,
    /// start URL, proxy — and leaves its credentials, auth method, email and user id alone.
    ///
    /// Admin edits go through here: they read the account, change a field and write it back,
    /// and a token refresh may commit a rotated refresh token in between. Writing the stale
    /// credentials back would lose it, so this statement never touches them.
    pub async fn update_account_settings(
        &self,
        account: &Account,
        weight: u32,
    ) -> Result<(), StoreError> {
        let proxy = self.seal_proxy(account.proxy.as_deref())?;
        let done = sqlx::query(
            "UPDATE accounts SET label = ?, enabled = ?, weight = ?, api_region = ?, \
             auth_region = ?, profile_arn = ?, start_url = ?, proxy = ?, updated_at = ? \
             WHERE id = ?",
        )
        .bind(&account.label)
        .bind(account.enabled)
        .bind(weight)
        .bind(&account.api_region)
        .bind(&account.auth_region)
        .bind(&account.profile_arn)
        .bind(&account.start_url)
        .bind(proxy)
        .bind(unix_now())
        .bind(&account.id)
        .execute(&self.pool)
        .await?;
        found(done.rows_affected(), &account.id)
    }

    /// Replaces an account whole — credentials, auth method and the meta columns — in one
    /// statement: for imports and re-logins, which bring new credentials. Admin edits use
    /// [`Store::update_account_settings`]. The auth method may change too (a social account
    /// logged in again through IdC is still the same user).
    pub async fn update_account_with(
        &self,
        account: &Account,
        meta: &AccountMeta,
    ) -> Result<(), StoreError> {
        let sealed = sealed::seal(&self.crypto, &account.credentials)?;
        let proxy = self.seal_proxy(account.proxy.as_deref())?;
        let done = sqlx::query(
            "UPDATE accounts SET auth_method = ?, label = ?, enabled = ?, weight = ?, \
             api_region = ?, auth_region = ?, profile_arn = ?, start_url = ?, credentials = ?, \
             proxy = ?, email = ?, user_id = ?, updated_at = ? WHERE id = ?",
        )
        .bind(method_text(account.auth_method))
        .bind(&account.label)
        .bind(account.enabled)
        .bind(meta.weight)
        .bind(&account.api_region)
        .bind(&account.auth_region)
        .bind(&account.profile_arn)
        .bind(&account.start_url)
        .bind(sealed)
        .bind(proxy)
        .bind(&meta.email)
        .bind(&meta.user_id)
        .bind(unix_now())
        .bind(&account.id)
        .execute(&self.pool)
        .await?;
        found(done.rows_affected(), &account.id)
    }

    /// Replaces the credentials of account `id` in one transaction; committed to disk
    /// (`synchronous=FULL`) before this returns. Call it with a rotated refresh token before
    /// handing out the new access token.
    pub async fn save_credentials(
        &self,
        id: &str,
        credentials: &Credentials,
    ) -> Result<(), StoreError> {
        let sealed = sealed::seal(&self.crypto, credentials)?;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("UPDATE accounts SET credentials = ?, updated_at = ? WHERE id = ?")
            .bind(sealed)
            .bind(unix_now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        found(done.rows_affected(), id)?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the profile ARN an account's refresh returned (spec §2.3).
    pub async fn save_profile_arn(&self, id: &str, profile_arn: &str) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE accounts SET profile_arn = ?, updated_at = ? WHERE id = ?")
            .bind(profile_arn)
            .bind(unix_now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), id)
    }

    /// Records the pool's view of an account's health.
    pub async fn set_account_status(
        &self,
        id: &str,
        status: &str,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE accounts SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?",
        )
        .bind(status)
        .bind(reason)
        .bind(unix_now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        found(done.rows_affected(), id)
    }

    /// Sets the selection weight of an account.
    pub async fn set_account_weight(&self, id: &str, weight: u32) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE accounts SET weight = ?, updated_at = ? WHERE id = ?")
            .bind(weight)
            .bind(unix_now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        found(done.rows_affected(), id)
    }

    /// Deletes an account; `false` if there was none.
    pub async fn delete_account(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM accounts WHERE id = ?")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    fn seal_proxy(&self, proxy: Option<&str>) -> Result<Option<String>, StoreError> {
        proxy
            .map(|p| self.crypto.seal(p.as_bytes()).map_err(StoreError::from))
            .transpose()
    }

    fn open_proxy(&self, id: &str, sealed: Option<&str>) -> Result<Option<String>, StoreError> {
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let plain = self.crypto.open(sealed)?;
        String::from_utf8(plain)
            .map(Some)
            .map_err(|_| StoreError::Corrupt {
                what: format!("proxy of account {id}"),
                message: "not UTF-8".to_owned(),
            })
    }

    fn record_from_row(&self, row: &SqliteRow) -> Result<AccountRecord, StoreError> {
        let id: String = row.try_get("id")?;
        let method: String = row.try_get("auth_method")?;
        let sealed_credentials: String = row.try_get("credentials")?;
        let weight: i64 = row.try_get("weight")?;
        let credentials = sealed::open(&self.crypto, &id, &sealed_credentials)?;
        let sealed_proxy: Option<String> = row.try_get("proxy")?;
        let proxy = self.open_proxy(&id, sealed_proxy.as_deref())?;
        Ok(AccountRecord {
            account: Account {
                auth_method: method_from_text(&id, &method)?,
                label: row.try_get("label")?,
                enabled: row.try_get("enabled")?,
                api_region: row.try_get("api_region")?,
                auth_region: row.try_get("auth_region")?,
                profile_arn: row.try_get("profile_arn")?,
                start_url: row.try_get("start_url")?,
                machine_id: row.try_get("machine_id")?,
                proxy,
                credentials,
                id,
            },
            weight: u32::try_from(weight).unwrap_or(0),
            email: row.try_get("email")?,
            user_id: row.try_get("user_id")?,
            status: row.try_get("status")?,
            status_reason: row.try_get("status_reason")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

fn found(rows: u64, id: &str) -> Result<(), StoreError> {
    if rows == 0 {
        Err(StoreError::AccountNotFound(id.to_owned()))
    } else {
        Ok(())
    }
}
