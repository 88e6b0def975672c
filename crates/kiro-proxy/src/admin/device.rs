//! `POST /api/auth/device` and `GET /api/auth/device/{sessionId}`: device-code login driven by
//! the server. The start call registers a client and starts the device authorization, then a
//! background task polls the token endpoint (at the upstream's interval, honouring `slow_down`)
//! and saves the account; the browser only asks for the session's status.
//!
//! Sessions live in memory until a margin after their device code expires.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use tokio::time::Instant;

use super::accounts::AccountView;
use super::body::JsonBody;
use super::error::ApiError;
use super::new_account::check_region;
use super::{AdminState, ChangeKind};
use crate::accounts::checks::{BUILDER_ID_START_URL, DEFAULT_AUTH_REGION};
use crate::accounts::device_login::{DeviceLogin, LoginError};
use crate::crypto::random_hex;
use crate::upstream::FingerprintDefaults;

/// How long a session's outcome stays readable after its device code expired.
const FORGET_MARGIN: Duration = Duration::from_secs(600);

/// Device-login sessions by id.
#[derive(Debug, Default)]
pub(super) struct DeviceSessions {
    sessions: Mutex<HashMap<String, Session>>,
}

#[derive(Debug, Clone)]
struct Session {
    outcome: Outcome,
    forget_at: Instant,
}

#[derive(Debug, Clone)]
enum Outcome {
    Pending,
    Success(Box<AccountView>),
    Failed { status: &'static str, error: String },
}

/// `GET /api/auth/device/{sessionId}`.
#[derive(Debug, Serialize)]
pub(super) struct StatusBody {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<AccountView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// `POST /api/auth/device`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Started {
    session_id: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    /// Unix seconds.
    expires_at: i64,
    /// Seconds between polls.
    interval: u64,
}

impl DeviceSessions {
    fn with<R>(&self, f: impl FnOnce(&mut HashMap<String, Session>) -> R) -> R {
        let mut map = self.sessions.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        map.retain(|_, s| s.forget_at > now);
        f(&mut map)
    }

    fn insert(&self, id: String, forget_at: Instant) {
        self.with(|m| {
            m.insert(
                id,
                Session {
                    outcome: Outcome::Pending,
                    forget_at,
                },
            )
        });
    }

    fn finish(&self, id: &str, outcome: Outcome) {
        self.with(|m| {
            if let Some(s) = m.get_mut(id) {
                s.outcome = outcome;
            }
        });
    }

    fn get(&self, id: &str) -> Option<Outcome> {
        self.with(|m| m.get(id).map(|s| s.outcome.clone()))
    }
}

pub(super) async fn start(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<Json<Started>, ApiError> {
    // An empty body means all defaults.
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        JsonBody::parse(b"{}")?
    } else {
        JsonBody::parse(&body)?
    };
    let region = match body.opt_str("region")? {
        Some(r) => {
            check_region(&r)?;
            r
        }
        None => DEFAULT_AUTH_REGION.to_owned(),
    };
    let start_url = body
        .opt_str("startUrl")?
        .unwrap_or_else(|| BUILDER_ID_START_URL.to_owned());
    if !start_url.starts_with("https://") {
        return Err(ApiError::bad_request(
            "`startUrl` must be an https:// URL (Builder ID's, or an IAM Identity Center one such \
             as https://d-xxxxxxxxxx.awsapps.com/start)",
        ));
    }
    let inner = &state.inner;
    let mut login = DeviceLogin::start(
        &inner.upstream,
        &region,
        &start_url,
        &FingerprintDefaults::default(),
    )
    .await
    .map_err(|e| ApiError {
        status: StatusCode::BAD_GATEWAY,
        message: e.to_string(),
    })?;

    let session_id = random_hex(16);
    inner
        .device_sessions
        .insert(session_id.clone(), login.deadline() + FORGET_MARGIN);
    let started = Started {
        session_id: session_id.clone(),
        user_code: login.user_code().to_owned(),
        verification_uri: login.verification_uri().to_owned(),
        verification_uri_complete: login.verification_url().to_owned(),
        expires_at: login.expires_at(),
        interval: login.interval().as_secs(),
    };

    let task_state = state.clone();
    tokio::spawn(async move {
        let inner = &task_state.inner;
        let result = match login.wait(|_| {}).await {
            Ok(tokens) => {
                login
                    .complete(tokens, &inner.store, &inner.default_region)
                    .await
            }
            Err(e) => Err(e),
        };
        let outcome = match result {
            Ok(saved) => {
                inner.changes.notify(ChangeKind::Accounts);
                Outcome::Success(Box::new(AccountView::from(saved.record())))
            }
            Err(e) => {
                if let LoginError::Store(_) = &e {
                    tracing::error!(error = %e, "device login: account not saved");
                } else {
                    tracing::info!(error = %e, "device login ended without an account");
                }
                Outcome::Failed {
                    status: e.status(),
                    error: e.to_string(),
                }
            }
        };
        inner.device_sessions.finish(&session_id, outcome);
    });

    Ok(Json(started))
}

pub(super) async fn status(
    State(state): State<AdminState>,
    Path(session_id): Path<String>,
) -> Result<Json<StatusBody>, ApiError> {
    let outcome = state
        .inner
        .device_sessions
        .get(&session_id)
        .ok_or_else(|| {
            ApiError::not_found("no such device login (unknown, or forgotten after it expired)")
        })?;
    let body = match outcome {
        Outcome::Pending => StatusBody {
            status: "pending",
            account: None,
            error: None,
        },
        Outcome::Success(view) => StatusBody {
            status: "success",
            account: Some(*view),
            error: None,
        },
        Outcome::Failed { status, error } => StatusBody {
            status,
            account: None,
            error: Some(error),
        },
    };
    Ok(Json(body))
}
