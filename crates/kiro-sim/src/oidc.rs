//! AWS SSO-OIDC (spec §3.2–3.4): client registration, device authorization, and the token
//! endpoint's device-code and refresh grants, with the §3.4 error table.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::accounts::{AccountKind, CreateAccount};
use crate::device::{DeviceSession, DeviceState, PollOutcome};
use crate::errors::ErrorKind;
use crate::exchange::Exchange;
use crate::state::{DEFAULT_SCOPES, Inner, SimState};

/// The device-code grant type.
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Answers a queued behaviour for this exchange, if one matches.
async fn queued(ex: &Exchange, account: Option<&str>) -> Option<Response> {
    let taken = ex.state.lock().behaviours.take(ex.path(), account)?;
    ex.answer_behaviour(account, None, &taken.behaviour, taken.id, taken.delay_ms)
        .await
}

fn fail(ex: &Exchange, account: Option<&str>, kind: ErrorKind) -> Response {
    ex.fail(account, &kind.response(), &format!("oidc:{kind}"))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterRequest {
    client_name: Option<String>,
    client_type: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RegisterResponse {
    client_id: String,
    client_secret: String,
    client_id_issued_at: i64,
    client_secret_expires_at: i64,
}

/// `POST /client/register`.
pub async fn register(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let ex = match Exchange::begin(state, req).await {
        Ok(ex) => ex,
        Err(r) => return r,
    };
    if let Some(r) = queued(&ex, None).await {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<RegisterRequest>(&ex.body) else {
        return fail(&ex, None, ErrorKind::InvalidRequest);
    };
    let (Some(name), Some(client_type)) = (body.client_name, body.client_type) else {
        return fail(&ex, None, ErrorKind::InvalidRequest);
    };
    if client_type != "public" {
        return fail(&ex, None, ErrorKind::InvalidClientMetadata);
    }
    let scopes = body
        .scopes
        .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect());
    if scopes.iter().any(|s| !s.starts_with("codewhisperer:")) {
        return fail(&ex, None, ErrorKind::InvalidScope);
    }
    let reg = ex
        .state
        .lock()
        .register_client(name, scopes, ex.now_ms.div_euclid(1000));
    ex.ok_json(
        None,
        &RegisterResponse {
            client_id: reg.client_id,
            client_secret: reg.client_secret,
            client_id_issued_at: reg.issued_at,
            client_secret_expires_at: reg.expires_at,
        },
    )
}

/// Checks a client id/secret pair against the registrations.
fn check_client(inner: &Inner, id: &str, secret: &str, now_secs: i64) -> Result<(), ErrorKind> {
    match inner.clients.get(id) {
        Some(reg) if reg.client_secret == secret => {
            if now_secs >= reg.expires_at {
                Err(ErrorKind::ExpiredClient)
            } else {
                Ok(())
            }
        }
        _ => Err(ErrorKind::InvalidClient),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    start_url: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct DeviceResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: u64,
    interval: u64,
}

/// `POST /device_authorization`.
pub async fn device_authorization(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let ex = match Exchange::begin(state, req).await {
        Ok(ex) => ex,
        Err(r) => return r,
    };
    if let Some(r) = queued(&ex, None).await {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<DeviceRequest>(&ex.body) else {
        return fail(&ex, None, ErrorKind::InvalidRequest);
    };
    let (Some(client_id), Some(secret), Some(start_url)) =
        (body.client_id, body.client_secret, body.start_url)
    else {
        return fail(&ex, None, ErrorKind::InvalidRequest);
    };
    let resp = {
        let mut inner = ex.state.lock();
        if let Err(kind) = check_client(&inner, &client_id, &secret, ex.now_ms.div_euclid(1000)) {
            drop(inner);
            return fail(&ex, None, kind);
        }
        let s = inner.settings;
        let device_code = inner.issuer.device_code();
        let user_code = inner.issuer.user_code();
        let base = start_url.trim_end_matches('/');
        let verification_uri = format!("{base}/#/device");
        let session = DeviceSession {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id,
            start_url: start_url.clone(),
            expires_at_ms: ex
                .now_ms
                .saturating_add((s.device_expires_in as i64).saturating_mul(1000)),
            interval_secs: s.device_interval,
            pending_left: s.device_pending_polls,
            auto_approve: s.device_auto_approve,
            last_poll_ms: None,
            polls: 0,
            state: DeviceState::Pending,
            account: None,
            tier: None,
        };
        inner
            .user_codes
            .insert(user_code.clone(), device_code.clone());
        inner.devices.insert(device_code.clone(), session);
        DeviceResponse {
            verification_uri_complete: format!("{verification_uri}?user_code={user_code}"),
            verification_uri,
            device_code,
            user_code,
            expires_in: s.device_expires_in,
            interval: s.device_interval,
        }
    };
    ex.ok_json(None, &resp)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRequest {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
    device_code: Option<String>,
    refresh_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    id_token: Option<String>,
    #[serde(rename = "aws_sso_app_session_id")]
    aws_sso_app_session_id: Option<String>,
    issued_token_type: Option<String>,
    origin_session_id: Option<String>,
}

impl TokenResponse {
    fn new(access_token: String, expires_in: u64, refresh_token: Option<String>) -> Self {
        TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token,
            id_token: None,
            aws_sso_app_session_id: None,
            issued_token_type: None,
            origin_session_id: None,
        }
    }
}

type Grant = Result<(String, TokenResponse), (Option<String>, ErrorKind)>;

fn device_grant(inner: &mut Inner, client_id: &str, device_code: &str, now_ms: i64) -> Grant {
    let Some(session) = inner.devices.get_mut(device_code) else {
        return Err((None, ErrorKind::InvalidGrant));
    };
    if session.client_id != client_id {
        return Err((None, ErrorKind::InvalidGrant));
    }
    match session.poll(now_ms) {
        PollOutcome::Error(kind) => return Err((session.account.clone(), kind)),
        PollOutcome::Success => {}
    }
    let (target, tier, start_url) = (
        session.account.clone(),
        session.tier,
        session.start_url.clone(),
    );
    let account_id = match target.filter(|id| inner.accounts.contains_key(id)) {
        Some(id) => id,
        None => {
            let req = CreateAccount {
                kind: Some(AccountKind::Idc),
                tier,
                start_url: Some(start_url.clone()),
                ..CreateAccount::default()
            };
            match inner.insert_account(&req, now_ms) {
                Ok(a) => a.id,
                Err(_) => return Err((None, ErrorKind::ServerError)),
            }
        }
    };
    if let Some(a) = inner.accounts.get_mut(&account_id) {
        a.client_id = Some(client_id.to_owned());
        a.start_url = Some(start_url);
    }
    if let Some(s) = inner.devices.get_mut(device_code) {
        s.state = DeviceState::Consumed;
        s.account = Some(account_id.clone());
    }
    let (access, _) = inner.issue_access_token(&account_id, now_ms);
    let refresh = inner.issue_refresh_token(&account_id, now_ms);
    let expires_in = inner
        .accounts
        .get(&account_id)
        .map_or(3600, |a| a.expires_in);
    Ok((
        account_id,
        TokenResponse::new(access, expires_in, Some(refresh)),
    ))
}

fn refresh_grant(inner: &mut Inner, client_id: &str, token: &str, now_ms: i64) -> Grant {
    let Some(grant) = inner.refresh_tokens.get(token).cloned() else {
        return Err((None, ErrorKind::InvalidGrant));
    };
    let account = Some(grant.account.clone());
    if grant.revoked {
        return Err((account, ErrorKind::InvalidGrant));
    }
    let Some(a) = inner.accounts.get(&grant.account).cloned() else {
        return Err((None, ErrorKind::InvalidGrant));
    };
    if a.kind != AccountKind::Idc || a.client_id.as_deref() != Some(client_id) {
        return Err((account, ErrorKind::InvalidGrant));
    }
    if grant.expires_at_ms.is_some_and(|e| now_ms >= e) {
        return Err((account, ErrorKind::ExpiredToken));
    }
    let (access, _) = inner.issue_access_token(&a.id, now_ms);
    let refresh = inner.rotate_refresh_token(token, &a.id, now_ms);
    Ok((a.id, TokenResponse::new(access, a.expires_in, refresh)))
}

/// `POST /token`.
pub async fn token(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let ex = match Exchange::begin(state, req).await {
        Ok(ex) => ex,
        Err(r) => return r,
    };
    let body = serde_json::from_slice::<TokenRequest>(&ex.body).ok();
    let owner = body.as_ref().and_then(|b| {
        let inner = ex.state.lock();
        match (&b.refresh_token, &b.device_code) {
            (Some(t), _) => inner.refresh_tokens.get(t).map(|g| g.account.clone()),
            (None, Some(d)) => inner.devices.get(d).and_then(|s| s.account.clone()),
            _ => None,
        }
    });
    if let Some(r) = queued(&ex, owner.as_deref()).await {
        return r;
    }
    let Some(body) = body else {
        return fail(&ex, None, ErrorKind::InvalidRequest);
    };
    let (Some(client_id), Some(secret), Some(grant_type)) =
        (body.client_id, body.client_secret, body.grant_type)
    else {
        return fail(&ex, None, ErrorKind::InvalidRequest);
    };
    let result = {
        let mut inner = ex.state.lock();
        match check_client(&inner, &client_id, &secret, ex.now_ms.div_euclid(1000)) {
            Err(kind) => Err((owner.clone(), kind)),
            Ok(()) => match (grant_type.as_str(), body.device_code, body.refresh_token) {
                (DEVICE_GRANT, Some(code), _) => {
                    device_grant(&mut inner, &client_id, &code, ex.now_ms)
                }
                ("refresh_token", _, Some(t)) => {
                    refresh_grant(&mut inner, &client_id, &t, ex.now_ms)
                }
                (DEVICE_GRANT, None, _) | ("refresh_token", _, None) => {
                    Err((None, ErrorKind::InvalidRequest))
                }
                _ => Err((None, ErrorKind::UnsupportedGrantType)),
            },
        }
    };
    match result {
        Ok((account, resp)) => ex.ok_json(Some(&account), &resp),
        Err((account, kind)) => fail(&ex, account.as_deref(), kind),
    }
}
