//! Sanity checks of account fields that come from outside (admin bodies, imported files, the
//! operator's proxy URL), shared by the admin API, the importers and the device login.
//!
//! Messages name what is wrong but never echo the value: it may be a secret.

/// The API regions Kiro serves (spec §1.1); anything else maps to the first.
pub const API_REGIONS: [&str; 2] = ["us-east-1", "eu-central-1"];
/// Refresh tokens shorter than this are truncated copies (spec §2.1).
pub const MIN_REFRESH_TOKEN_LEN: usize = 100;
/// Longest operator label.
pub const MAX_LABEL_LEN: usize = 200;
/// AWS Builder ID's start URL (spec §2.1), the default of a device login.
pub const BUILDER_ID_START_URL: &str = "https://view.awsapps.com/start";
/// Auth region of Builder ID (and the default of a device login).
pub const DEFAULT_AUTH_REGION: &str = "us-east-1";
/// Schemes of an outbound proxy.
pub const PROXY_SCHEMES: [&str; 4] = ["http", "https", "socks5", "socks5h"];

/// Spec §2.1: a refresh token shorter than 100 characters or containing `...` is a truncated
/// copy. `Err` completes "the refresh token …".
pub fn check_refresh_token(token: &str) -> Result<(), String> {
    if token.contains("...") {
        return Err(
            "contains `...`: it looks like a truncated copy; paste the whole token".to_owned(),
        );
    }
    let len = token.chars().count();
    if len < MIN_REFRESH_TOKEN_LEN {
        return Err(format!(
            "is too short ({len} characters; real ones have at least {MIN_REFRESH_TOKEN_LEN}): \
             it looks truncated"
        ));
    }
    Ok(())
}

/// An AWS region name such as `us-east-1` (shape only).
pub fn is_region(region: &str) -> bool {
    region.len() <= 32
        && region.contains('-')
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The region field of `arn:aws:codewhisperer:{region}:{account}:profile/{id}`, `None` when
/// the text is not such an ARN.
pub fn profile_arn_region(arn: &str) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "codewhisperer", region, account, resource]
            if partition.starts_with("aws")
                && is_region(region)
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

/// Spec §1.1: the API region is the profile ARN's when there is one, else `configured`; only
/// two API regions exist, anything else becomes `us-east-1`.
pub fn api_region(profile_arn: Option<&str>, configured: &str) -> String {
    let region = profile_arn
        .and_then(profile_arn_region)
        .unwrap_or_else(|| configured.to_owned());
    if API_REGIONS.contains(&region.as_str()) {
        region
    } else {
        API_REGIONS[0].to_owned()
    }
}

/// A machine id usable in a user agent (spec §2.4: normally 64 lower-case hex characters; other
/// shapes are accepted as long as they are one user-agent token).
pub fn is_machine_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// An outbound proxy URL: `http`, `https`, `socks5` or `socks5h`, a host, an optional port and
/// `user:password@`, nothing else. `Err` completes "the proxy …".
pub fn check_proxy_url(url: &str) -> Result<(), String> {
    const SHAPE: &str = "must be a URL such as http://host:port or \
                         socks5://user:password@host:port (schemes: http, https, socks5, socks5h)";
    let parsed = reqwest::Url::parse(url).map_err(|_| SHAPE.to_owned())?;
    if !PROXY_SCHEMES.contains(&parsed.scheme()) {
        return Err(SHAPE.to_owned());
    }
    let has_host = parsed.host_str().is_some_and(|h| !h.is_empty());
    let bare = matches!(parsed.path(), "" | "/")
        && parsed.query().is_none()
        && parsed.fragment().is_none();
    if !has_host || !bare {
        return Err(SHAPE.to_owned());
    }
    reqwest::Proxy::all(url).map_err(|_| SHAPE.to_owned())?;
    Ok(())
}

/// The proxy URL with its password replaced by `****` (for views and logs).
pub fn mask_proxy_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:****{}",
        &url[..authority_start],
        &userinfo[..colon],
        &url[authority_start + at..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_token_sanity() {
        assert!(check_refresh_token(&"a".repeat(100)).is_ok());
        assert!(
            check_refresh_token(&"a".repeat(99))
                .unwrap_err()
                .contains("99")
        );
        let dotted = format!("{}...{}", "a".repeat(60), "b".repeat(60));
        assert!(check_refresh_token(&dotted).unwrap_err().contains("..."));
    }

    #[test]
    fn arn_and_api_region() {
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
        assert_eq!(api_region(None, "eu-central-1"), "eu-central-1");
        assert_eq!(api_region(None, "eu-west-1"), "us-east-1");
        assert_eq!(
            api_region(
                Some("arn:aws:codewhisperer:eu-central-1:1:profile/A"),
                "us-east-1"
            ),
            "eu-central-1"
        );
    }

    #[test]
    fn proxy_urls() {
        for ok in [
            "http://127.0.0.1:3128",
            "https://proxy.example.com",
            "socks5://user:pw@10.0.0.1:1080",
            "socks5h://proxy:1080/",
        ] {
            assert!(check_proxy_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://x:1",
            "127.0.0.1:3128",
            "http://",
            "http://h:1/path",
            "http://h:1/?q=1",
            "",
        ] {
            assert!(check_proxy_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn proxy_masking() {
        assert_eq!(
            mask_proxy_url("socks5://user:secret@10.0.0.1:1080"),
            "socks5://user:****@10.0.0.1:1080"
        );
        assert_eq!(mask_proxy_url("http://u:p@ss@h:1/"), "http://u:****@h:1/");
        assert_eq!(mask_proxy_url("http://user@h:1"), "http://user@h:1");
        assert_eq!(mask_proxy_url("http://h:1"), "http://h:1");
    }
}
