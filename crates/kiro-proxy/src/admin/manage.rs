//! The operator's controls of one account: `PATCH /api/accounts/{id}` and
//! `POST /api/accounts/{id}/enable`, `/disable`, `/reset`. Each answers the updated view (404
//! for an unknown id) and announces [`ChangeKind::Accounts`], on which the pool reloads.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};

use super::accounts::AccountView;
use super::body::JsonBody;
use super::error::ApiError;
use super::new_account::{check_region_field, label, profile_arn, proxy, weight};
use super::{AdminState, ChangeKind};
use crate::accounts::AuthMethod;
use crate::accounts::checks::{self, API_REGIONS};
use crate::store::{AccountRecord, DEFAULT_ACCOUNT_STATUS};

/// The fields a PATCH may carry.
const PATCHABLE: [&str; 7] = [
    "label",
    "enabled",
    "weight",
    "proxy",
    "apiRegion",
    "authRegion",
    "profileArn",
];

async fn record(state: &AdminState, id: &str) -> Result<AccountRecord, ApiError> {
    state
        .inner
        .store
        .get_account(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no account with id {id}")))
}

async fn changed(state: &AdminState, id: &str) -> Result<Json<AccountView>, ApiError> {
    state.inner.changes.notify(ChangeKind::Accounts);
    Ok(Json(AccountView::with_pool(
        &record(state, id).await?,
        state,
    )))
}

/// `PATCH /api/accounts/{id}`: any subset of [`PATCHABLE`]; `null` clears `label`, `proxy`
/// and `profileArn`. Unknown fields are refused (a misspelt field would otherwise change
/// nothing, silently).
pub(super) async fn patch(
    State(state): State<AdminState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<AccountView>, ApiError> {
    let body = JsonBody::parse(&body)?;
    if let Some(unknown) = body.keys().find(|k| !PATCHABLE.contains(k)) {
        return Err(ApiError::bad_request(format!(
            "`{unknown}` cannot be changed here (fields: {})",
            PATCHABLE.join(", ")
        )));
    }
    let mut record = record(&state, &id).await?;
    let mut meta = record.meta();
    let a = &mut record.account;

    if body.has("label") {
        a.label = label(&body)?;
    }
    if let Some(enabled) = body.opt_bool("enabled")? {
        a.enabled = enabled;
    }
    if let Some(w) = weight(&body)? {
        meta.weight = w;
    }
    if body.has("proxy") {
        a.proxy = proxy(&body)?;
    }
    if let Some(region) = body.opt_str("authRegion")? {
        check_region_field("authRegion", &region)?;
        a.auth_region = region;
    }
    let api_region = body.opt_str("apiRegion")?;
    if let Some(region) = &api_region {
        if !API_REGIONS.contains(&region.as_str()) {
            return Err(ApiError::bad_request(format!(
                "`apiRegion` must be one of {}",
                API_REGIONS.join(", ")
            )));
        }
        a.api_region.clone_from(region);
    }
    if body.has("profileArn") {
        let arn = profile_arn(&body)?;
        if let Some(arn) = &arn {
            if a.auth_method == AuthMethod::ApiKey {
                return Err(ApiError::bad_request(
                    "`profileArn` cannot be set on an apiKey account (a profile ARN is never \
                     sent with a Kiro API key)",
                ));
            }
            // Spec §1.1: the ARN names the API region.
            let arn_region = checks::api_region(Some(arn), &a.api_region);
            match &api_region {
                Some(given) if *given != arn_region => {
                    return Err(ApiError::bad_request(format!(
                        "`apiRegion` {given} contradicts `profileArn`, whose region is \
                         {arn_region}"
                    )));
                }
                _ => a.api_region = arn_region,
            }
        }
        a.profile_arn = arn;
    }

    state
        .inner
        .store
        .update_account_settings(&record.account, meta.weight)
        .await?;
    tracing::info!(account_id = %id, "account changed");
    changed(&state, &id).await
}

async fn set_enabled(
    state: &AdminState,
    id: &str,
    enabled: bool,
) -> Result<Json<AccountView>, ApiError> {
    let mut record = record(state, id).await?;
    record.account.enabled = enabled;
    state
        .inner
        .store
        .update_account_settings(&record.account, record.weight)
        .await?;
    tracing::info!(account_id = %id, enabled, "account enabled flag set");
    changed(state, id).await
}

pub(super) async fn enable(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    set_enabled(&state, &id, true).await
}

pub(super) async fn disable(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    set_enabled(&state, &id, false).await
}

/// `POST /api/accounts/{id}/reset`: clears the stored health status (`needs_login`, …) back to
/// `active`, and the running pool's cooldown, circuit and exhaustion of the account at once
/// (the [`ChangeKind::Accounts`] notification this sends also makes `App::reload_accounts`
/// retry a dead refresh token).
pub(super) async fn reset(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    record(&state, &id).await?;
    state
        .inner
        .store
        .set_account_status(&id, DEFAULT_ACCOUNT_STATUS, None)
        .await?;
    if let Some(pool) = state.inner.refresher.get() {
        pool.reset_now(&id);
    }
    tracing::info!(account_id = %id, "account status reset");
    changed(&state, &id).await
}

/// `POST /api/accounts/{id}/trip`: opens the account's circuit now, for the configured open
/// period; half-open probes bring it back afterwards as for any opened circuit (to take an
/// account out until further notice, disable it instead).
pub(super) async fn trip(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    let record = record(&state, &id).await?;
    let pool = state.inner.refresher.get().ok_or_else(|| ApiError {
        status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
        message: "the account pool is not running".to_owned(),
    })?;
    pool.trip_now(&id);
    tracing::info!(account_id = %id, "circuit opened by an operator");
    Ok(Json(AccountView::with_pool(&record, &state)))
}
