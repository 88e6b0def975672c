//! `POST /api/accounts/{id}/refresh` and `POST /api/accounts/refresh-all`: the operator's
//! "refresh now". The account's access token
//! is refreshed through the pool's [`TokenManager`] (forced, and single-flight with any refresh
//! already under way) and its quota fetched, exactly as the keep-alive pass and the quota task
//! would; the answer is the updated account view.
//!
//! A failure leaves the account as the background work would have left it (a permanent refresh
//! failure marks it `needs_login`; a failed quota fetch is kept as the quota's last error) and
//! answers 502 with the upstream's reason.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::AdminState;
use super::accounts::AccountView;
use super::error::ApiError;
use crate::accounts::{Maintenance, Pool, TokenError, TokenManager};
use crate::upstream::UpstreamError;

/// Longest upstream message quoted in an error answer.
const MAX_DETAIL_CHARS: usize = 200;

/// What the refresh route needs of the running pool (set once the pool exists, see
/// [`AdminState::set_refresher`]).
#[derive(Clone)]
pub struct AccountRefresher {
    pool: Pool,
    tokens: Arc<TokenManager>,
    maintenance: Maintenance,
}

impl std::fmt::Debug for AccountRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRefresher").finish_non_exhaustive()
    }
}

/// Why a refresh did not complete.
#[derive(Debug)]
enum RefreshError {
    /// The store has the account but the pool has not loaded it yet (an add racing the reload).
    NotLoaded,
    Token(TokenError),
    Quota(String),
}

impl AccountRefresher {
    /// `maintenance` must work on `pool` and `tokens` (`App::maintenance()`).
    pub fn new(pool: Pool, tokens: Arc<TokenManager>, maintenance: Maintenance) -> Self {
        Self {
            pool,
            tokens,
            maintenance,
        }
    }

    /// Clears the account's cooldown, circuit and needs-login state in the running pool now
    /// (the reset route also stores the status; this makes the answer and the next request see
    /// the reset without waiting for the reload, even when the pool has not yet stored the
    /// state it is leaving).
    pub(super) fn reset_now(&self, id: &str) {
        self.pool.reset(id);
    }

    /// Opens the account's circuit in the running pool now.
    pub(super) fn trip_now(&self, id: &str) {
        self.pool.trip(id);
    }

    async fn refresh(&self, id: &str) -> Result<(), RefreshError> {
        if self.pool.registry().with(id, |_| ()).is_none() {
            return Err(RefreshError::NotLoaded);
        }
        // An API key has nothing to refresh: `force_refresh` hands it back unchanged, and the
        // quota fetch below is what proves it works.
        match self.tokens.force_refresh(id).await {
            Ok(_) => {}
            Err(TokenError::UnknownAccount(_)) => return Err(RefreshError::NotLoaded),
            Err(e) => {
                // As the keep-alive pass does: an operator must act on a permanent failure.
                if e.is_permanent() {
                    self.pool.needs_login(id, e.to_string());
                }
                return Err(RefreshError::Token(e));
            }
        }
        self.maintenance.refresh_quota(id).await;
        // A failed fetch is kept as the quota's last error until one succeeds, so an error
        // seen now is this fetch's (or a concurrent background fetch's, which says the same).
        match self.pool.view(id).and_then(|v| v.quota.last_error) {
            Some(error) => Err(RefreshError::Quota(error)),
            None => Ok(()),
        }
    }
}

/// What the upstream said, when its answer had a message: an OIDC `error_description`, or the
/// message of an AWS-style error body. Never the request (the refresh token is not echoed).
fn upstream_detail(e: &UpstreamError) -> Option<String> {
    let body = e.body()?;
    let oidc = serde_json::from_slice::<kiro_wire::types::OidcError>(body)
        .ok()
        .and_then(|o| o.error_description)
        .filter(|d| !d.trim().is_empty());
    let message = oidc.or_else(|| e.error_body().and_then(|b| b.message().map(str::to_owned)))?;
    Some(message.chars().take(MAX_DETAIL_CHARS).collect())
}

fn token_error(e: &TokenError) -> ApiError {
    let status = match e {
        TokenError::Refresh { .. } | TokenError::Expired { .. } => StatusCode::BAD_GATEWAY,
        TokenError::Persist { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        // Nothing the upstream said: the account lacks what a refresh needs.
        _ => StatusCode::CONFLICT,
    };
    let detail = match e {
        TokenError::Refresh { source, .. } => upstream_detail(source),
        _ => None,
    };
    let message = match detail {
        Some(d) => format!("token refresh failed: {e}: {d}"),
        None => format!("token refresh failed: {e}"),
    };
    ApiError { status, message }
}

fn refresher(state: &AdminState) -> Result<&AccountRefresher, ApiError> {
    state.inner.refresher.get().ok_or_else(|| ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        message: "the account pool is not running".to_owned(),
    })
}

/// Refreshes one account and says how it went, as the refresh routes answer a failure.
async fn refresh_one(refresher: &AccountRefresher, id: &str) -> Result<(), ApiError> {
    let outcome = refresher.refresh(id).await;
    match &outcome {
        Ok(()) => tracing::info!(account_id = %id, "account refreshed by an operator"),
        Err(e) => tracing::warn!(account_id = %id, error = ?e, "operator refresh failed"),
    }
    match outcome {
        Ok(()) => Ok(()),
        Err(RefreshError::NotLoaded) => Err(ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            message: format!(
                "account {id} is not in the pool yet (just added?); try again in a moment"
            ),
        }),
        Err(RefreshError::Token(e)) => Err(token_error(&e)),
        Err(RefreshError::Quota(error)) => Err(ApiError {
            status: StatusCode::BAD_GATEWAY,
            message: format!("the token is fresh, but the quota fetch failed: {error}"),
        }),
    }
}

/// How many accounts `refresh-all` refreshes at once.
const REFRESH_ALL_CONCURRENCY: usize = 4;

/// `POST /api/accounts/refresh-all`: every enabled account refreshed now (token and quota), a
/// few at a time. Answers `{"refreshed": [view…], "failed": [{"account", "status", "error"}…]}`;
/// one account's failure does not stop the others.
pub(super) async fn refresh_all(
    State(state): State<AdminState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    use futures::StreamExt;
    let refresher = refresher(&state)?;
    let ids: Vec<String> = state
        .inner
        .store
        .list_accounts()
        .await?
        .into_iter()
        .filter(|r| r.account.enabled)
        .map(|r| r.account.id)
        .collect();
    let outcomes: Vec<(String, Result<(), ApiError>)> = futures::stream::iter(ids)
        .map(|id| async move {
            let outcome = refresh_one(refresher, &id).await;
            (id, outcome)
        })
        .buffer_unordered(REFRESH_ALL_CONCURRENCY)
        .collect()
        .await;
    let mut refreshed = Vec::new();
    let mut failed = Vec::new();
    for (id, outcome) in outcomes {
        match outcome {
            Ok(()) => {
                if let Some(record) = state.inner.store.get_account(&id).await? {
                    refreshed.push(AccountView::with_pool(&record, &state));
                }
            }
            Err(e) => failed.push(serde_json::json!({
                "account": id,
                "status": e.status.as_u16(),
                "error": e.message,
            })),
        }
    }
    refreshed.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Json(
        serde_json::json!({ "refreshed": refreshed, "failed": failed }),
    ))
}

pub(super) async fn refresh(
    State(state): State<AdminState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, ApiError> {
    let not_found = || ApiError::not_found(format!("no account with id {id}"));
    state
        .inner
        .store
        .get_account(&id)
        .await?
        .ok_or_else(not_found)?;
    refresh_one(refresher(&state)?, &id).await?;
    // The refreshed credentials were saved before they were used: the row shows the new expiry.
    let record = state
        .inner
        .store
        .get_account(&id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(AccountView::with_pool(&record, &state)))
}
