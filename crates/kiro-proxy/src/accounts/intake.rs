//! Saving an account that comes from outside (a device login, an imported file, a restored
//! backup) without duplicating one the store already holds.
//!
//! **Matching**, first rule that finds one: the same id (restores only); the same upstream user
//! id; the same email when a user id is missing on either side; the same refresh token (or API
//! key); the same IdC client id and start URL. A match is updated in place: new credentials, and the
//! fields the source knows. Everything the operator set (label unless the source has one,
//! enabled flag, weight, proxy) and the machine id stay, except for a restore, which is
//! authoritative for every field but the id and the machine id of the account it updates.

use super::import_formats::Entry;
use super::model::{Account, AuthMethod};
use crate::store::{AccountMeta, AccountRecord, DEFAULT_ACCOUNT_STATUS, Store, StoreError};

/// An account to save, as its source describes it.
#[derive(Debug, Clone)]
pub struct Intake {
    /// A fresh id and machine id unless `restore`.
    pub account: Account,
    pub meta: AccountMeta,
    /// Creation time to keep (restores), Unix seconds.
    pub created_at: Option<i64>,
    /// From our own export: every field is the operator's and is restored as is.
    pub restore: bool,
}

/// What [`save`] did.
#[derive(Debug, Clone)]
pub enum Saved {
    Inserted(AccountRecord),
    Updated(AccountRecord),
}

impl Saved {
    pub fn record(&self) -> &AccountRecord {
        match self {
            Saved::Inserted(r) | Saved::Updated(r) => r,
        }
    }
}

/// Serialises intakes within this process, so that two imports of the same account cannot both
/// miss each other and insert twice.
static INTAKE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Inserts `intake`, or updates the stored account it matches (module docs). An updated
/// account's health status is cleared: it has new credentials. The caller announces the change
/// to the pool.
pub async fn save(store: &Store, intake: Intake) -> Result<Saved, StoreError> {
    let _serial = INTAKE.lock().await;
    let existing = store.list_accounts().await?;
    let Some(found) = find_match(&existing, &intake) else {
        let record = store
            .insert_account_with(&intake.account, &intake.meta, intake.created_at)
            .await?;
        return Ok(Saved::Inserted(record));
    };
    let (account, meta) = merge(found, intake);
    let id = account.id.clone();
    store.update_account_with(&account, &meta).await?;
    store
        .set_account_status(&id, DEFAULT_ACCOUNT_STATUS, None)
        .await?;
    let record = store
        .get_account(&id)
        .await?
        .ok_or(StoreError::AccountNotFound(id))?;
    Ok(Saved::Updated(record))
}

/// The stored account `intake` describes, if any (rules in the module docs).
pub fn find_match<'a>(existing: &'a [AccountRecord], intake: &Intake) -> Option<&'a AccountRecord> {
    let new = &intake.account;
    let by = |pred: &dyn Fn(&AccountRecord) -> bool| existing.iter().find(|r| pred(r));
    let same = |a: &Option<String>, b: &Option<String>| matches!((a, b), (Some(a), Some(b)) if !a.is_empty() && a == b);
    if intake.restore {
        if let Some(r) = by(&|r| r.account.id == new.id) {
            return Some(r);
        }
    }
    by(&|r| same(&r.user_id, &intake.meta.user_id))
        .or_else(|| {
            by(&|r| {
                (r.user_id.is_none() || intake.meta.user_id.is_none())
                    && matches!((&r.email, &intake.meta.email),
                        (Some(a), Some(b)) if !a.is_empty() && a.eq_ignore_ascii_case(b))
            })
        })
        .or_else(|| {
            let c = &new.credentials;
            by(&|r| {
                let s = &r.account.credentials;
                matches!((&s.refresh_token, &c.refresh_token), (Some(a), Some(b)) if !a.is_empty() && a == b)
                    || matches!((&s.api_key, &c.api_key), (Some(a), Some(b)) if !a.is_empty() && a == b)
            })
        })
        .or_else(|| {
            by(&|r| {
                same(&r.account.credentials.client_id, &new.credentials.client_id)
                    && same(&r.account.start_url, &new.start_url)
            })
        })
}

/// The stored account updated with what `intake` knows.
fn merge(found: &AccountRecord, intake: Intake) -> (Account, AccountMeta) {
    let old = &found.account;
    let new = intake.account;
    if intake.restore {
        let account = Account {
            id: old.id.clone(),
            machine_id: old.machine_id.clone(),
            ..new
        };
        return (account, intake.meta);
    }
    let mut account = old.clone();
    account.auth_method = new.auth_method;
    account.credentials = new.credentials;
    account.auth_region = new.auth_region;
    if new.start_url.is_some() {
        account.start_url = new.start_url;
    }
    // The API region follows the profile ARN (spec §1.1); without a new ARN the stored pair
    // stays consistent as it is.
    if new.profile_arn.is_some() {
        account.profile_arn = new.profile_arn;
        account.api_region = new.api_region;
    }
    if new.label.is_some() {
        account.label = new.label;
    }
    if account.auth_method == AuthMethod::ApiKey {
        // Never sent with a key (spec §2.1).
        account.profile_arn = None;
    }
    let meta = AccountMeta {
        weight: found.weight,
        email: intake.meta.email.or_else(|| found.email.clone()),
        user_id: intake.meta.user_id.or_else(|| found.user_id.clone()),
    };
    (account, meta)
}

/// An account an import refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// How the file names it (`account #2 (label)`, `the IDE token`).
    pub account: String,
    pub reason: String,
}

/// What an import did, account by account.
#[derive(Debug, Clone, Default)]
pub struct ImportReport {
    pub imported: Vec<AccountRecord>,
    pub updated: Vec<AccountRecord>,
    pub skipped: Vec<Skipped>,
}

impl ImportReport {
    /// True when the store changed (the pool must reload).
    pub fn changed(&self) -> bool {
        !self.imported.is_empty() || !self.updated.is_empty()
    }
}

/// Saves every entry of an import file (one by one: a refused account does not stop the
/// others).
pub async fn save_all(store: &Store, entries: Vec<Entry>) -> Result<ImportReport, StoreError> {
    let mut report = ImportReport::default();
    for entry in entries {
        match entry.result {
            Ok(intake) => match save(store, intake).await? {
                Saved::Inserted(r) => report.imported.push(r),
                Saved::Updated(r) => report.updated.push(r),
            },
            Err(reason) => report.skipped.push(Skipped {
                account: entry.name,
                reason,
            }),
        }
    }
    Ok(report)
}
