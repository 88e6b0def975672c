//! The exact request header sets of spec §9, built per account fingerprint.
//!
//! The user agents carry the account's machine id and never change for an account, so they are
//! formatted once into [`AccountHeaders`]; a request only clones those values (reference counted)
//! and adds the per-attempt invocation id.

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue};

const X_AMZN_CODEWHISPERER_OPTOUT: HeaderName =
    HeaderName::from_static("x-amzn-codewhisperer-optout");
const X_AMZN_KIRO_AGENT_MODE: HeaderName = HeaderName::from_static("x-amzn-kiro-agent-mode");
const X_AMZ_USER_AGENT: HeaderName = HeaderName::from_static("x-amz-user-agent");
const AMZ_SDK_INVOCATION_ID: HeaderName = HeaderName::from_static("amz-sdk-invocation-id");
const AMZ_SDK_REQUEST: HeaderName = HeaderName::from_static("amz-sdk-request");
const TOKENTYPE: HeaderName = HeaderName::from_static("tokentype");
const X_AMZN_KIRO_PROFILE_ARN: HeaderName = HeaderName::from_static("x-amzn-kiro-profile-arn");

const JSON: HeaderValue = HeaderValue::from_static("application/json");
const EVENTSTREAM: HeaderValue = HeaderValue::from_static("application/vnd.amazon.eventstream");
const ANY: HeaderValue = HeaderValue::from_static("*/*");
const TRUE: HeaderValue = HeaderValue::from_static("true");
const VIBE: HeaderValue = HeaderValue::from_static("vibe");
const API_KEY: HeaderValue = HeaderValue::from_static("API_KEY");
const RUNTIME_REQUEST: HeaderValue = HeaderValue::from_static("attempt=1; max=1");
const OIDC_REQUEST: HeaderValue = HeaderValue::from_static("attempt=1; max=4");

/// The client versions an account presents when it has none of its own (spec §9 defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FingerprintDefaults {
    pub kiro_version: String,
    pub sdk_version: String,
    pub node_version: String,
    /// `os/{os}` token of the user agent, e.g. `linux#6.8.0`.
    pub os: String,
    /// AWS SDK v3 version of the OIDC user agent (`v3Version` in §9.3).
    pub oidc_sdk_version: String,
}

impl Default for FingerprintDefaults {
    fn default() -> Self {
        Self {
            kiro_version: "0.11.107".to_owned(),
            sdk_version: "1.0.34".to_owned(),
            node_version: "22.22.0".to_owned(),
            os: "linux#6.8.0".to_owned(),
            oidc_sdk_version: "3.738.0".to_owned(),
        }
    }
}

/// What identifies one account's client to the upstream (spec §2.4, §9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// 64 lower-case hex characters, unique per account.
    pub machine_id: String,
    pub kiro_version: String,
    pub sdk_version: String,
    pub node_version: String,
    pub os: String,
    pub oidc_sdk_version: String,
}

impl Fingerprint {
    /// The account's machine id with the configured versions.
    pub fn new(machine_id: impl Into<String>, defaults: &FingerprintDefaults) -> Self {
        Self {
            machine_id: machine_id.into(),
            kiro_version: defaults.kiro_version.clone(),
            sdk_version: defaults.sdk_version.clone(),
            node_version: defaults.node_version.clone(),
            os: defaults.os.clone(),
            oidc_sdk_version: defaults.oidc_sdk_version.clone(),
        }
    }
}

/// A fingerprint field that cannot go into a user agent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fingerprint field {field} is not usable in a user agent: {value:?}")]
pub struct InvalidFingerprint {
    pub field: &'static str,
    pub value: String,
}

/// One account's pre-built constant header values.
#[derive(Debug, Clone)]
pub struct AccountHeaders {
    fingerprint: Fingerprint,
    x_amz_user_agent: HeaderValue,
    streaming_user_agent: HeaderValue,
    runtime_user_agent: HeaderValue,
    social_user_agent: HeaderValue,
    oidc_user_agent: HeaderValue,
    oidc_x_amz_user_agent: HeaderValue,
}

/// User-agent fields are space-separated tokens: a space or a control character would change
/// their meaning, so only a conservative character set is accepted.
fn check(field: &'static str, value: &str) -> Result<(), InvalidFingerprint> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'#'));
    if ok {
        Ok(())
    } else {
        Err(InvalidFingerprint {
            field,
            value: value.to_owned(),
        })
    }
}

fn value(text: String) -> Result<HeaderValue, InvalidFingerprint> {
    HeaderValue::try_from(text.as_str()).map_err(|_| InvalidFingerprint {
        field: "user-agent",
        value: text,
    })
}

impl AccountHeaders {
    pub fn new(fingerprint: Fingerprint) -> Result<Self, InvalidFingerprint> {
        let f = &fingerprint;
        check("machine_id", &f.machine_id)?;
        check("kiro_version", &f.kiro_version)?;
        check("sdk_version", &f.sdk_version)?;
        check("node_version", &f.node_version)?;
        check("os", &f.os)?;
        check("oidc_sdk_version", &f.oidc_sdk_version)?;
        let kiro = format!("KiroIDE-{}-{}", f.kiro_version, f.machine_id);
        let sdk_ua = |api: &str, version: &str, suffix: &str| {
            format!(
                "aws-sdk-js/{version} ua/2.1 os/{} lang/js md/nodejs#{} api/{api}#{version} m/E {suffix}",
                f.os, f.node_version
            )
        };
        Ok(Self {
            x_amz_user_agent: value(format!("aws-sdk-js/{} {kiro}", f.sdk_version))?,
            streaming_user_agent: value(sdk_ua("codewhispererstreaming", &f.sdk_version, &kiro))?,
            runtime_user_agent: value(sdk_ua("codewhispererruntime", &f.sdk_version, &kiro))?,
            oidc_user_agent: value(sdk_ua("sso-oidc", &f.oidc_sdk_version, "KiroIDE"))?,
            oidc_x_amz_user_agent: value(format!("aws-sdk-js/{} KiroIDE", f.oidc_sdk_version))?,
            social_user_agent: value(kiro)?,
            fingerprint,
        })
    }

    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// §9.1, `generateAssistantResponse`: `attempt` is 1-based (0 is sent as 1) and goes into
    /// `amz-sdk-request: attempt=n; max=3`.
    pub fn chat(&self, bearer: &HeaderValue, api_key: bool, attempt: u32) -> HeaderMap {
        let mut h = HeaderMap::with_capacity(10);
        h.insert(AUTHORIZATION, bearer.clone());
        h.insert(CONTENT_TYPE, JSON);
        h.insert(ACCEPT, EVENTSTREAM);
        h.insert(X_AMZN_CODEWHISPERER_OPTOUT, TRUE);
        h.insert(X_AMZN_KIRO_AGENT_MODE, VIBE);
        h.insert(X_AMZ_USER_AGENT, self.x_amz_user_agent.clone());
        h.insert(USER_AGENT, self.streaming_user_agent.clone());
        insert_invocation_id(&mut h);
        insert_attempt(&mut h, attempt, 3);
        if api_key {
            h.insert(TOKENTYPE, API_KEY);
        }
        h
    }

    /// §9.1 plus `x-amzn-kiro-profile-arn` (the account's own ARN; never with API keys).
    pub fn mcp(
        &self,
        bearer: &HeaderValue,
        api_key: bool,
        profile_arn: Option<&str>,
        attempt: u32,
    ) -> HeaderMap {
        let mut h = self.chat(bearer, api_key, attempt);
        h.insert(ACCEPT, ANY);
        if !api_key {
            if let Some(arn) = profile_arn.and_then(|a| HeaderValue::try_from(a).ok()) {
                h.insert(X_AMZN_KIRO_PROFILE_ARN, arn);
            }
        }
        h
    }

    /// §9.2, usage / models / profiles. `post` adds the content type.
    pub fn runtime(&self, bearer: &HeaderValue, api_key: bool, post: bool) -> HeaderMap {
        let mut h = HeaderMap::with_capacity(8);
        h.insert(AUTHORIZATION, bearer.clone());
        if post {
            h.insert(CONTENT_TYPE, JSON);
        }
        h.insert(ACCEPT, JSON);
        h.insert(X_AMZ_USER_AGENT, self.x_amz_user_agent.clone());
        h.insert(USER_AGENT, self.runtime_user_agent.clone());
        insert_invocation_id(&mut h);
        h.insert(AMZ_SDK_REQUEST, RUNTIME_REQUEST);
        if api_key {
            h.insert(TOKENTYPE, API_KEY);
        }
        h
    }

    /// §9.3, social refresh. No authorization header.
    pub fn social_refresh(&self) -> HeaderMap {
        let mut h = HeaderMap::with_capacity(3);
        h.insert(CONTENT_TYPE, JSON);
        h.insert(ACCEPT, JSON);
        h.insert(USER_AGENT, self.social_user_agent.clone());
        h
    }

    /// §9.3, OIDC register / device authorization / token. No authorization header (the client
    /// credentials are in the body).
    pub fn oidc(&self) -> HeaderMap {
        let mut h = HeaderMap::with_capacity(5);
        h.insert(CONTENT_TYPE, JSON);
        h.insert(USER_AGENT, self.oidc_user_agent.clone());
        h.insert(X_AMZ_USER_AGENT, self.oidc_x_amz_user_agent.clone());
        insert_invocation_id(&mut h);
        h.insert(AMZ_SDK_REQUEST, OIDC_REQUEST);
        h
    }
}

/// `Bearer <token>`, marked sensitive so that `Debug` and HTTP/2 indexing leave it out.
pub fn bearer(token: &str) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
    let mut v = HeaderValue::try_from(format!("Bearer {token}"))?;
    v.set_sensitive(true);
    Ok(v)
}

/// A fresh UUID v4 per HTTP attempt (the SDK's retry correlation id).
fn insert_invocation_id(h: &mut HeaderMap) {
    let mut buf = uuid::Uuid::encode_buffer();
    let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    // A hyphenated UUID is always a valid header value; the `if` only avoids an `expect`.
    if let Ok(v) = HeaderValue::try_from(&*id) {
        h.insert(AMZ_SDK_INVOCATION_ID, v);
    }
}

fn insert_attempt(h: &mut HeaderMap, attempt: u32, max: u32) {
    let text = format!("attempt={}; max={max}", attempt.max(1));
    if let Ok(v) = HeaderValue::try_from(text) {
        h.insert(AMZ_SDK_REQUEST, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn headers() -> AccountHeaders {
        AccountHeaders::new(Fingerprint::new(MID, &FingerprintDefaults::default())).unwrap()
    }

    fn get<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
        h.get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn chat_headers_match_spec_9_1() {
        let h = headers().chat(&bearer("aoaTOKEN").unwrap(), false, 2);
        assert_eq!(get(&h, "authorization"), Some("Bearer aoaTOKEN"));
        assert_eq!(get(&h, "content-type"), Some("application/json"));
        assert_eq!(get(&h, "x-amzn-codewhisperer-optout"), Some("true"));
        assert_eq!(get(&h, "x-amzn-kiro-agent-mode"), Some("vibe"));
        assert_eq!(
            get(&h, "x-amz-user-agent"),
            Some(format!("aws-sdk-js/1.0.34 KiroIDE-0.11.107-{MID}").as_str())
        );
        assert_eq!(
            get(&h, "user-agent"),
            Some(
                format!(
                    "aws-sdk-js/1.0.34 ua/2.1 os/linux#6.8.0 lang/js md/nodejs#22.22.0 \
                     api/codewhispererstreaming#1.0.34 m/E KiroIDE-0.11.107-{MID}"
                )
                .as_str()
            )
        );
        assert_eq!(get(&h, "amz-sdk-request"), Some("attempt=2; max=3"));
        let id = get(&h, "amz-sdk-invocation-id").unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 4);
        assert!(h.get("tokentype").is_none());
    }

    #[test]
    fn api_keys_get_tokentype_and_no_profile_header() {
        let hs = headers();
        let b = bearer("ksk_x").unwrap();
        let h = hs.mcp(
            &b,
            true,
            Some("arn:aws:codewhisperer:us-east-1:1:profile/X"),
            1,
        );
        assert_eq!(get(&h, "tokentype"), Some("API_KEY"));
        assert!(h.get("x-amzn-kiro-profile-arn").is_none());
        let h = hs.mcp(&b, false, Some("arn:x"), 1);
        assert_eq!(get(&h, "x-amzn-kiro-profile-arn"), Some("arn:x"));
    }

    #[test]
    fn runtime_and_auth_headers() {
        let hs = headers();
        let h = hs.runtime(&bearer("t").unwrap(), false, false);
        assert_eq!(get(&h, "accept"), Some("application/json"));
        assert!(h.get("content-type").is_none());
        assert!(h.get("x-amzn-kiro-agent-mode").is_none());
        assert!(
            get(&h, "user-agent")
                .unwrap()
                .contains("api/codewhispererruntime#1.0.34")
        );
        assert_eq!(get(&h, "amz-sdk-request"), Some("attempt=1; max=1"));
        let h = hs.social_refresh();
        assert_eq!(
            get(&h, "user-agent"),
            Some(format!("KiroIDE-0.11.107-{MID}").as_str())
        );
        assert!(h.get("authorization").is_none());
        let h = hs.oidc();
        assert_eq!(
            get(&h, "user-agent"),
            Some(
                "aws-sdk-js/3.738.0 ua/2.1 os/linux#6.8.0 lang/js md/nodejs#22.22.0 \
                 api/sso-oidc#3.738.0 m/E KiroIDE"
            )
        );
        assert_eq!(
            get(&h, "x-amz-user-agent"),
            Some("aws-sdk-js/3.738.0 KiroIDE")
        );
        assert_eq!(get(&h, "amz-sdk-request"), Some("attempt=1; max=4"));
    }

    #[test]
    fn invocation_ids_are_fresh() {
        let hs = headers();
        let b = bearer("t").unwrap();
        let a = hs.chat(&b, false, 1);
        let c = hs.chat(&b, false, 1);
        assert_ne!(
            a.get("amz-sdk-invocation-id"),
            c.get("amz-sdk-invocation-id")
        );
    }

    #[test]
    fn a_machine_id_with_spaces_is_refused() {
        let fp = Fingerprint::new("abc def", &FingerprintDefaults::default());
        assert_eq!(AccountHeaders::new(fp).unwrap_err().field, "machine_id");
    }
}
