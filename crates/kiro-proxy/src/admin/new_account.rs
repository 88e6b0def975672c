//! Validation of `POST /api/accounts` bodies into an [`Account`] (spec §1.1, §2.1, §2.4).

use kiro_wire::types::Secret;

use super::body::{JsonBody, wrong_type};
use super::error::ApiError;
use super::time::parse_timestamp;
use crate::accounts::checks::{self, MAX_LABEL_LEN};
use crate::accounts::{Account, AuthMethod, Credentials};
use crate::crypto::random_hex;

/// Largest selection weight accepted.
pub(super) const MAX_WEIGHT: u32 = 1_000_000;

/// Builds a new account (fresh id and machine id) from a request body.
pub(super) fn new_account(body: &JsonBody, default_region: &str) -> Result<Account, ApiError> {
    let method = auth_method(body)?;
    let label = label(body)?;
    let enabled = body.opt_bool("enabled")?.unwrap_or(true);
    let region = match body.opt_str("region")? {
        Some(r) => {
            check_region(&r)?;
            r
        }
        None => default_region.to_owned(),
    };
    let profile_arn = profile_arn(body)?;
    let proxy = proxy(body)?;

    let mut credentials = Credentials {
        access_token: body.opt_str("accessToken")?.map(Secret::from),
        expires_at: timestamp(body, "expiresAt")?,
        ..Credentials::default()
    };
    let mut start_url = None;
    match method {
        AuthMethod::Social => {
            credentials.refresh_token = Some(refresh_token(body, "for social accounts")?);
        }
        AuthMethod::Idc => {
            credentials.refresh_token = Some(refresh_token(body, "for idc accounts")?);
            credentials.client_id = Some(body.req_str("clientId", "for idc accounts")?);
            credentials.client_secret = Some(Secret::from(
                body.req_str("clientSecret", "for idc accounts")?,
            ));
            credentials.client_secret_expires_at = timestamp(body, "clientSecretExpiresAt")?;
            start_url = body.opt_str("startUrl")?;
            if start_url
                .as_ref()
                .is_some_and(|u| !u.starts_with("https://"))
            {
                return Err(ApiError::bad_request("`startUrl` must be an https:// URL"));
            }
        }
        AuthMethod::ApiKey => {
            let key = body.req_str("apiKey", "for apiKey accounts")?;
            if !key.starts_with("ksk_") || key.len() <= "ksk_".len() {
                return Err(ApiError::bad_request(
                    "`apiKey` must be a Kiro API key starting with `ksk_`",
                ));
            }
            if profile_arn.is_some() {
                return Err(ApiError::bad_request(
                    "`profileArn` cannot be used with an apiKey account (a profile ARN is never \
                     sent with a Kiro API key)",
                ));
            }
            credentials.api_key = Some(Secret::from(key));
            credentials.access_token = None;
            credentials.expires_at = None;
        }
    }

    // Spec §1.1: the profile ARN names the API region; only two API regions exist. The auth
    // region (token endpoints) keeps the given value: IdC instances live in any region.
    let api_region = checks::api_region(profile_arn.as_deref(), &region);

    Ok(Account {
        id: uuid::Uuid::new_v4().to_string(),
        auth_method: method,
        label,
        enabled,
        api_region,
        auth_region: region,
        profile_arn,
        start_url,
        machine_id: random_hex(32),
        proxy,
        credentials,
    })
}

fn auth_method(body: &JsonBody) -> Result<AuthMethod, ApiError> {
    const CHOICES: &str = "one of \"social\", \"idc\", \"apiKey\"";
    let method = body.opt_str("authMethod")?.ok_or_else(|| {
        ApiError::bad_request(format!("`authMethod` is required and must be {CHOICES}"))
    })?;
    // The IDE token cache spells it `IdC`; be lenient about case and the snake_case spelling.
    match method.to_ascii_lowercase().as_str() {
        "social" => Ok(AuthMethod::Social),
        "idc" => Ok(AuthMethod::Idc),
        "apikey" | "api_key" => Ok(AuthMethod::ApiKey),
        _ => Err(ApiError::bad_request(format!(
            "`authMethod` must be {CHOICES}"
        ))),
    }
}

fn refresh_token(body: &JsonBody, why: &str) -> Result<Secret, ApiError> {
    let token = body.req_str("refreshToken", why)?;
    checks::check_refresh_token(&token)
        .map_err(|e| ApiError::bad_request(format!("`refreshToken` {e}")))?;
    Ok(Secret::from(token))
}

/// `profileArn`, checked (spec §2.3).
pub(super) fn profile_arn(body: &JsonBody) -> Result<Option<String>, ApiError> {
    let arn = body.opt_str("profileArn")?;
    if arn
        .as_deref()
        .is_some_and(|a| checks::profile_arn_region(a).is_none())
    {
        return Err(ApiError::bad_request(
            "`profileArn` must look like arn:aws:codewhisperer:<region>:<account>:profile/<id>",
        ));
    }
    Ok(arn)
}

/// `proxy`, an outbound proxy URL, checked.
pub(super) fn proxy(body: &JsonBody) -> Result<Option<String>, ApiError> {
    let proxy = body.opt_str("proxy")?;
    if let Some(url) = &proxy {
        checks::check_proxy_url(url).map_err(|e| ApiError::bad_request(format!("`proxy` {e}")))?;
    }
    Ok(proxy)
}

/// `weight`: a whole number ≥ 0 (0 takes the account out of selection).
pub(super) fn weight(body: &JsonBody) -> Result<Option<u32>, ApiError> {
    match body.value("weight") {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n <= MAX_WEIGHT)
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`weight` must be a whole number from 0 to {MAX_WEIGHT}"
                ))
            }),
    }
}

/// `label`, at most [`MAX_LABEL_LEN`] characters.
pub(super) fn label(body: &JsonBody) -> Result<Option<String>, ApiError> {
    let label = body.opt_str("label")?;
    if label
        .as_ref()
        .is_some_and(|l| l.chars().count() > MAX_LABEL_LEN)
    {
        return Err(ApiError::bad_request(format!(
            "`label` must be at most {MAX_LABEL_LEN} characters"
        )));
    }
    Ok(label)
}

fn timestamp(body: &JsonBody, field: &str) -> Result<Option<i64>, ApiError> {
    body.value(field)
        .map(|v| match v {
            serde_json::Value::String(_) | serde_json::Value::Number(_) => parse_timestamp(v)
                .map_err(|expected| ApiError::bad_request(format!("`{field}` must be {expected}"))),
            other => Err(wrong_type(field, "a number or a string", other)),
        })
        .transpose()
}

pub(super) fn check_region(region: &str) -> Result<(), ApiError> {
    check_region_field("region", region)
}

/// `field` holds an AWS region name.
pub(super) fn check_region_field(field: &str, region: &str) -> Result<(), ApiError> {
    if checks::is_region(region) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "`{field}` must be an AWS region name such as us-east-1"
        )))
    }
}
