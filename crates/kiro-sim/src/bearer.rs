//! Authentication of the q endpoints (chat, usage, models, profiles, MCP), spec §2.1 and §8.2:
//! an unknown or expired bearer gets the 403 bearer-invalid body; API keys need
//! `tokentype: API_KEY` and must come without a `profileArn`; OAuth tokens must come without
//! `tokentype`; a suspended account gets `TEMPORARILY_SUSPENDED`. Then the first queued
//! behaviour matching the path and account is taken.

use axum::http::HeaderMap;
use axum::response::Response;

use crate::accounts::{AccountKind, AccountStatus};
use crate::behaviour::Taken;
use crate::errors::{ErrorKind, UpstreamErrorResponse, temporarily_suspended};
use crate::exchange::Exchange;
use crate::models::Tier;
use crate::settings::Settings;
use crate::state::Inner;

/// Who an authenticated request is.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub kind: AccountKind,
    pub tier: Tier,
    pub profile_arn: Option<String>,
    pub user_id: String,
    pub chat_requires_profile_arn: bool,
}

impl Caller {
    pub fn is_api_key(&self) -> bool {
        self.kind == AccountKind::ApiKey
    }
}

/// An authentication failure, with the account when one was identified.
#[derive(Debug)]
pub struct Denied {
    pub account: Option<String>,
    pub error: UpstreamErrorResponse,
    pub label: &'static str,
}

fn deny(account: Option<&str>, error: UpstreamErrorResponse, label: &'static str) -> Denied {
    Denied {
        account: account.map(str::to_owned),
        error,
        label,
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Checks the request's credentials. `arn_sent`: a `profileArn` is in the query or the MCP
/// header. `key_without_tokentype`: what an API key sent as an OAuth bearer gets (§2.1).
pub fn authenticate(
    inner: &Inner,
    headers: &HeaderMap,
    arn_sent: bool,
    now_ms: i64,
    key_without_tokentype: ErrorKind,
) -> Result<Caller, Denied> {
    let invalid = || ErrorKind::BearerTokenInvalid.response();
    let Some(token) = bearer(headers) else {
        return Err(deny(None, invalid(), "bearer_missing"));
    };
    let tokentype = headers.get("tokentype").and_then(|v| v.to_str().ok());
    let (account_id, is_key) = if let Some(id) = inner.api_keys.get(token) {
        if !tokentype.is_some_and(|t| t.eq_ignore_ascii_case("API_KEY")) {
            return Err(deny(
                Some(id),
                key_without_tokentype.response(),
                "api_key_without_tokentype",
            ));
        }
        if arn_sent {
            return Err(deny(
                Some(id),
                ErrorKind::InvalidProfileArn.response(),
                "api_key_with_profile_arn",
            ));
        }
        (id.as_str(), true)
    } else if let Some(grant) = inner.access_tokens.get(token) {
        if tokentype.is_some() {
            return Err(deny(
                Some(&grant.account),
                ErrorKind::AccessDeniedException.response(),
                "oauth_with_tokentype",
            ));
        }
        if now_ms >= grant.expires_at_ms {
            return Err(deny(Some(&grant.account), invalid(), "bearer_expired"));
        }
        (grant.account.as_str(), false)
    } else {
        return Err(deny(None, invalid(), "bearer_unknown"));
    };
    let Some(account) = inner.accounts.get(account_id) else {
        return Err(deny(None, invalid(), "account_deleted"));
    };
    if account.status == AccountStatus::Suspended {
        return Err(deny(
            Some(account_id),
            temporarily_suspended(&account.user_id, None),
            "suspended",
        ));
    }
    debug_assert_eq!(is_key, account.kind == AccountKind::ApiKey);
    Ok(Caller {
        account_id: account.id.clone(),
        kind: account.kind,
        tier: account.tier,
        profile_arn: account.profile_arn.clone(),
        user_id: account.user_id.clone(),
        chat_requires_profile_arn: account.chat_requires_profile_arn,
    })
}

/// An authenticated request, with its queued behaviour (a script, for chat) and the settings.
#[derive(Debug)]
pub struct Admitted {
    pub caller: Caller,
    pub script_behaviour: Option<Taken>,
    pub settings: Settings,
}

/// Authenticates, takes a matching behaviour and answers it when it is an error or raw HTTP.
pub async fn admit(
    ex: &Exchange,
    arn_sent: bool,
    key_without_tokentype: ErrorKind,
) -> Result<Admitted, Response> {
    let (auth, taken, settings) = {
        let mut inner = ex.state.lock();
        let auth = authenticate(
            &inner,
            &ex.parts.headers,
            arn_sent,
            ex.now_ms,
            key_without_tokentype,
        );
        let taken = match &auth {
            Ok(c) => inner.behaviours.take(ex.path(), Some(&c.account_id)),
            Err(_) => None,
        };
        (auth, taken, inner.settings)
    };
    let caller = match auth {
        Ok(c) => c,
        Err(d) => return Err(ex.fail(d.account.as_deref(), &d.error, d.label)),
    };
    if let Some(t) = &taken {
        if let Some(resp) = ex
            .answer_behaviour(
                Some(&caller.account_id),
                Some(&caller.user_id),
                &t.behaviour,
                t.id,
                t.delay_ms,
            )
            .await
        {
            return Err(resp);
        }
    }
    Ok(Admitted {
        caller,
        script_behaviour: taken,
        settings,
    })
}
