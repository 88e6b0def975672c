//! Validation of `POST /api/accounts` bodies into an [`Account`] (spec §1.1, §2.1, §2.4).

use kiro_wire::types::Secret;

use super::body::{JsonBody, wrong_type};
use super::error::ApiError;
use super::time::parse_timestamp;
use crate::accounts::{Account, AuthMethod, Credentials};
use crate::crypto::random_hex;

/// The API regions Kiro serves (spec §1.1); anything else maps to the first.
const API_REGIONS: [&str; 2] = ["us-east-1", "eu-central-1"];
/// Refresh tokens shorter than this are truncated copies (spec §2.1).
const MIN_REFRESH_TOKEN_LEN: usize = 100;
const MAX_LABEL_LEN: usize = 200;

/// Builds a new account (fresh id and machine id) from a request body.
pub(super) fn new_account(body: &JsonBody, default_region: &str) -> Result<Account, ApiError> {
    let method = auth_method(body)?;
    let label = body.opt_str("label")?;
    if label
        .as_ref()
        .is_some_and(|l| l.chars().count() > MAX_LABEL_LEN)
    {
        return Err(ApiError::bad_request(format!(
            "`label` must be at most {MAX_LABEL_LEN} characters"
        )));
    }
    let enabled = body.opt_bool("enabled")?.unwrap_or(true);
    let region = match body.opt_str("region")? {
        Some(r) => {
            check_region(&r)?;
            r
        }
        None => default_region.to_owned(),
    };
    let profile_arn = body.opt_str("profileArn")?;
    let arn_region = profile_arn
        .as_deref()
        .map(|arn| {
            profile_arn_region(arn).ok_or_else(|| {
                ApiError::bad_request(
                    "`profileArn` must look like arn:aws:codewhisperer:<region>:<account>:profile/<id>",
                )
            })
        })
        .transpose()?;

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
    let api_region = arn_region.unwrap_or_else(|| region.clone());
    let api_region = if API_REGIONS.contains(&api_region.as_str()) {
        api_region
    } else {
        API_REGIONS[0].to_owned()
    };

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
    if token.contains("...") {
        return Err(ApiError::bad_request(
            "`refreshToken` contains `...`: it looks like a truncated copy; paste the whole token",
        ));
    }
    let len = token.chars().count();
    if len < MIN_REFRESH_TOKEN_LEN {
        return Err(ApiError::bad_request(format!(
            "`refreshToken` is too short ({len} characters; real ones have at least \
             {MIN_REFRESH_TOKEN_LEN}): it looks truncated"
        )));
    }
    Ok(Secret::from(token))
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

fn check_region(region: &str) -> Result<(), ApiError> {
    let ok = region.len() <= 32
        && region.contains('-')
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "`region` must be an AWS region name such as us-east-1",
        ))
    }
}

/// The region field of `arn:aws:codewhisperer:{region}:{account}:profile/{id}`.
fn profile_arn_region(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "codewhisperer", region, account, resource]
            if partition.starts_with("aws")
                && check_region(region).is_ok()
                && !account.is_empty()
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.starts_with("profile/")
                && resource.len() > "profile/".len() =>
        {
            Some((*region).to_owned())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_region() {
        assert_eq!(
            profile_arn_region(
                "arn:aws:codewhisperer:eu-central-1:699475941385:profile/EHGA3GRVQMUK"
            ),
            Some("eu-central-1".to_owned())
        );
        assert_eq!(
            profile_arn_region("arn:aws:codewhisperer:us-east-1:x:profile/A"),
            None
        );
        assert_eq!(profile_arn_region("arn:aws:s3:us-east-1:1:profile/A"), None);
        assert_eq!(profile_arn_region("nonsense"), None);
    }
}
