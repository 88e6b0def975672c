//! Social refresh, `POST /refreshToken` (spec §3.1): a new access token, the account's
//! `profileArn`, and a refresh token per the account's rotation mode. Dead, revoked, expired or
//! non-social tokens get 400 `Invalid refresh token provided`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use crate::accounts::AccountKind;
use crate::errors::ErrorKind;
use crate::exchange::Exchange;
use crate::state::SimState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RefreshRequest {
    #[serde(default)]
    refresh_token: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RefreshResponse {
    access_token: String,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

/// `POST /refreshToken`.
pub async fn refresh(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let ex = match Exchange::begin(state, req).await {
        Ok(ex) => ex,
        Err(r) => return r,
    };
    let token = serde_json::from_slice::<RefreshRequest>(&ex.body)
        .map(|r| r.refresh_token)
        .unwrap_or_default();

    let (owner, taken) = {
        let mut inner = ex.state.lock();
        let owner = inner.refresh_tokens.get(&token).map(|g| g.account.clone());
        let taken = inner.behaviours.take(ex.path(), owner.as_deref());
        (owner, taken)
    };
    if let Some(t) = taken {
        if let Some(resp) = ex
            .answer_behaviour(owner.as_deref(), None, &t.behaviour, t.id, t.delay_ms)
            .await
        {
            return resp;
        }
    }

    let outcome = {
        let mut inner = ex.state.lock();
        let grant = inner.refresh_tokens.get(&token).cloned();
        match grant {
            None => Err((None, "refresh_unknown")),
            Some(g) if g.revoked => Err((Some(g.account), "refresh_revoked")),
            Some(g) if g.expires_at_ms.is_some_and(|e| ex.now_ms >= e) => {
                Err((Some(g.account), "refresh_expired"))
            }
            Some(g) => match inner.accounts.get(&g.account).cloned() {
                Some(a) if a.kind == AccountKind::Social => {
                    let (access, _) = inner.issue_access_token(&a.id, ex.now_ms);
                    let refresh = inner.rotate_refresh_token(&token, &a.id, ex.now_ms);
                    Ok((
                        a.id.clone(),
                        RefreshResponse {
                            access_token: access,
                            expires_in: a.expires_in,
                            profile_arn: a.profile_arn.clone(),
                            refresh_token: refresh,
                        },
                    ))
                }
                _ => Err((Some(g.account), "refresh_wrong_kind")),
            },
        }
    };
    match outcome {
        Ok((account, body)) => ex.ok_json(Some(&account), &body),
        Err((account, label)) => ex.fail(
            account.as_deref(),
            &ErrorKind::SocialInvalidRefreshToken.response(),
            label,
        ),
    }
}
