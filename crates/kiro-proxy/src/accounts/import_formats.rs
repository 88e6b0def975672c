//! The account files kiro-proxy reads: the Kiro IDE token cache (`kiro-auth-token.json` plus,
//! for IdC, its `<clientIdHash>.json` client registration; spec §2.1), the Go project's
//! `kiro-accounts.json` (an `accounts` array), and our own export (`"format":
//! "kiro-proxy-accounts"`, see [`super::backup::BackupFile`]).
//!
//! A file becomes a [`Document`], and a document one [`Entry`] per account: an [`Intake`] ready
//! to save, or the reason it is refused (spec §2.1 sanity checks, missing client registration…).
//! Reasons name the account and the field, never a value.

use kiro_wire::types::token_cache::AuthMethod as IdeAuthMethod;
use kiro_wire::types::{ClientRegistrationFile, KiroAuthTokenFile, Secret};
use serde_json::{Map, Value};
use sha1::{Digest, Sha1};

use super::backup::{BACKUP_FORMAT, BACKUP_VERSION};
use super::checks::{self, BUILDER_ID_START_URL, DEFAULT_AUTH_REGION, MAX_LABEL_LEN};
use super::intake::Intake;
use super::json_fields::Fields;
use super::model::{Account, AuthMethod, Credentials};
use crate::crypto::random_hex;
use crate::store::AccountMeta;

/// The file is none of the supported formats.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error(
        "not a recognised account file: expected a Kiro IDE token (kiro-auth-token.json), \
         {{\"token\": …, \"clientRegistration\": …}}, a kiro-accounts.json with an `accounts` \
         array, or a kiro-proxy export"
    )]
    Unrecognised,
    #[error("kiro-proxy export version {0} is not supported (this build reads version 1)")]
    Version(String),
}

/// The IDE's name for a client registration file: lower-hex SHA-1 of the exact text
/// `{"startUrl":"<start url>"}` (spec §2.1; a trailing `/` is dropped first).
pub fn client_id_hash(start_url: &str) -> String {
    let text =
        serde_json::json!({ "startUrl": start_url.trim().trim_end_matches('/') }).to_string();
    hex::encode(Sha1::digest(text.as_bytes()))
}

/// An account file, recognised.
#[derive(Debug, Clone)]
pub enum Document {
    /// Our export: its `accounts`.
    Backup(Vec<Value>),
    /// The Go project's `kiro-accounts.json`: its `accounts`.
    Seed(Vec<Value>),
    /// The IDE token cache, with the client registration when given.
    Ide {
        token: Box<KiroAuthTokenFile>,
        registration: Option<ClientRegistrationFile>,
    },
}

/// One account of a document: ready to save, or refused.
#[derive(Debug, Clone)]
pub struct Entry {
    /// How messages name the account (`account #2 (label)`, `the IDE token`).
    pub name: String,
    pub result: Result<Intake, String>,
}

impl Document {
    /// Recognises a parsed file.
    pub fn detect(value: Value) -> Result<Document, FormatError> {
        let Value::Object(mut obj) = value else {
            return Err(FormatError::Unrecognised);
        };
        if let Some(format) = obj.get("format") {
            if format.as_str() != Some(BACKUP_FORMAT) {
                return Err(FormatError::Unrecognised);
            }
            match obj.get("version") {
                Some(v) if v.as_u64() == Some(BACKUP_VERSION) => {}
                Some(v) => return Err(FormatError::Version(v.to_string())),
                None => return Err(FormatError::Version("(missing)".to_owned())),
            }
            return match obj.remove("accounts") {
                Some(Value::Array(accounts)) => Ok(Document::Backup(accounts)),
                _ => Err(FormatError::Unrecognised),
            };
        }
        if let Some(Value::Object(_)) = obj.get("token") {
            let token = obj.remove("token").unwrap_or_default();
            let registration = match obj.remove("clientRegistration") {
                Some(v @ Value::Object(_)) => Some(lenient(v)),
                _ => None,
            };
            return Ok(Document::Ide {
                token: Box::new(lenient(token)),
                registration,
            });
        }
        if let Some(Value::Array(_)) = obj.get("accounts") {
            return match obj.remove("accounts") {
                Some(Value::Array(accounts)) => Ok(Document::Seed(accounts)),
                _ => Err(FormatError::Unrecognised),
            };
        }
        if obj.contains_key("refreshToken") || obj.contains_key("accessToken") {
            return Ok(Document::Ide {
                token: Box::new(lenient(Value::Object(obj))),
                registration: None,
            });
        }
        Err(FormatError::Unrecognised)
    }

    /// For an IdC IDE token without its client registration: the `clientIdHash` naming the
    /// registration file (`<hash>.json` beside the token in `~/.aws/sso/cache`).
    pub fn missing_registration(&self) -> Option<String> {
        let Document::Ide {
            token,
            registration: None,
        } = self
        else {
            return None;
        };
        if ide_method(token) != Some(AuthMethod::Idc) {
            return None;
        }
        token.client_id_hash.clone().or_else(|| {
            Some(client_id_hash(
                token.start_url.as_deref().unwrap_or(BUILDER_ID_START_URL),
            ))
        })
    }

    /// Supplies the client registration of an IDE token.
    pub fn set_registration(&mut self, file: ClientRegistrationFile) {
        if let Document::Ide { registration, .. } = self {
            *registration = Some(file);
        }
    }

    /// One entry per account. `default_region` is the configured API region (spec §1.1).
    pub fn entries(self, default_region: &str) -> Vec<Entry> {
        match self {
            Document::Backup(accounts) => accounts
                .iter()
                .enumerate()
                .map(|(i, v)| entry(i, v, |f| restore(f, default_region)))
                .collect(),
            Document::Seed(accounts) => accounts
                .iter()
                .enumerate()
                .map(|(i, v)| entry(i, v, |f| seed(f, default_region)))
                .collect(),
            Document::Ide {
                token,
                registration,
            } => vec![Entry {
                name: "the IDE token".to_owned(),
                result: ide(&token, registration.as_ref(), default_region),
            }],
        }
    }
}

/// A lenient file type from a JSON value (every field of those types is optional).
fn lenient<T: serde::de::DeserializeOwned + Default>(v: Value) -> T {
    serde_json::from_value(v).unwrap_or_default()
}

fn entry(index: usize, v: &Value, build: impl FnOnce(&Fields) -> Result<Intake, String>) -> Entry {
    let mut name = format!("account #{}", index + 1);
    let Some(obj) = v.as_object() else {
        return Entry {
            name: name.clone(),
            result: Err(format!("{name}: not a JSON object")),
        };
    };
    let f = Fields(obj);
    let known = ["label", "name", "email", "userId"]
        .iter()
        .find_map(|k| f.str(k).ok().flatten());
    if let Some(known) = known {
        name = format!("{name} ({known})");
    }
    let result = build(&f).map_err(|reason| format!("{name}: {reason}"));
    Entry { name, result }
}

/// What a source says about an account, before checks.
#[derive(Debug, Default)]
struct Source {
    method: Option<AuthMethod>,
    access_token: Option<String>,
    expires_at: Option<i64>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_secret_expires_at: Option<i64>,
    api_key: Option<String>,
    auth_region: Option<String>,
    start_url: Option<String>,
    profile_arn: Option<String>,
    label: Option<String>,
    email: Option<String>,
    user_id: Option<String>,
    created_at: Option<i64>,
}

/// The operator's fields a restore brings along.
#[derive(Debug)]
struct Restored {
    id: String,
    machine_id: String,
    enabled: bool,
    weight: u32,
    proxy: Option<String>,
    api_region: Option<String>,
}

/// The method names the files use: `social`, `IdC`, `BuilderId`, `Enterprise`, `apiKey`, and
/// the social providers.
fn method_from_text(s: &str) -> Option<AuthMethod> {
    let key: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    match key.as_str() {
        "social" | "google" | "github" => Some(AuthMethod::Social),
        "idc" | "builderid" | "enterprise" | "iamidentitycenter" | "sso" => Some(AuthMethod::Idc),
        "apikey" => Some(AuthMethod::ApiKey),
        _ => None,
    }
}

fn ide_method(token: &KiroAuthTokenFile) -> Option<AuthMethod> {
    match &token.auth_method {
        Some(IdeAuthMethod::Social) => Some(AuthMethod::Social),
        Some(IdeAuthMethod::IdC) => Some(AuthMethod::Idc),
        Some(IdeAuthMethod::Other(s)) => method_from_text(s),
        None => token
            .provider
            .as_deref()
            .and_then(method_from_text)
            .or(Some(if token.client_id_hash.is_some() {
                AuthMethod::Idc
            } else {
                AuthMethod::Social
            })),
    }
}

/// Builder ID's start URL when the source says Builder ID and gives none.
fn default_start_url(hints: &[Option<&str>]) -> Option<String> {
    let builder_id = hints.iter().flatten().any(|h| {
        h.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .eq_ignore_ascii_case("builderid")
    });
    builder_id.then(|| BUILDER_ID_START_URL.to_owned())
}

fn ide(
    token: &KiroAuthTokenFile,
    registration: Option<&ClientRegistrationFile>,
    default_region: &str,
) -> Result<Intake, String> {
    let name = "the IDE token";
    let method = ide_method(token)
        .ok_or_else(|| format!("{name}: unknown `authMethod` (expected social or IdC)"))?;
    let hints = [
        token.provider.as_deref(),
        token.auth_method.as_ref().map(IdeAuthMethod::as_str),
    ];
    let mut src = Source {
        method: Some(method),
        access_token: token.access_token.as_ref().map(|s| s.expose().to_owned()),
        expires_at: token.expires_at_epoch_secs(),
        refresh_token: token.refresh_token.as_ref().map(|s| s.expose().to_owned()),
        auth_region: token.region.clone(),
        start_url: token
            .start_url
            .clone()
            .or_else(|| default_start_url(&hints)),
        profile_arn: token.profile_arn.clone(),
        ..Source::default()
    };
    if method == AuthMethod::Idc {
        let Some(reg) = registration else {
            let hash = token.client_id_hash.clone().unwrap_or_else(|| {
                client_id_hash(src.start_url.as_deref().unwrap_or(BUILDER_ID_START_URL))
            });
            return Err(format!(
                "{name}: an IdC token needs its client registration, the {hash}.json file beside \
                 kiro-auth-token.json (send it as `clientRegistration`, or pass \
                 --client-registration)"
            ));
        };
        src.client_id = reg.client_id.clone();
        src.client_secret = reg.client_secret.as_ref().map(|s| s.expose().to_owned());
        src.client_secret_expires_at = reg.expires_at_epoch_secs();
    }
    build(src, None, default_region).map_err(|reason| format!("{name}: {reason}"))
}

/// One account of the Go project's `kiro-accounts.json` (seed-spec §7.1).
fn seed(f: &Fields, default_region: &str) -> Result<Intake, String> {
    let empty = Map::new();
    let token = match f.0.get("token") {
        Some(Value::Object(t)) => Fields(t),
        Some(Value::Null) | None => Fields(&empty),
        Some(_) => return Err("`token` must be an object".to_owned()),
    };
    let either =
        |key: &str| -> Result<Option<String>, String> { Ok(f.str(key)?.or(token.str(key)?)) };
    let method_text = token
        .str("authMethod")?
        .or(f.str("authMethod")?)
        .or(token.str("provider")?);
    let client_id = either("clientId")?;
    let method = match &method_text {
        Some(text) => Some(method_from_text(text).ok_or_else(|| {
            "unknown `authMethod` (expected social, IdC, BuilderId or Enterprise)".to_owned()
        })?),
        None if client_id.is_some() => Some(AuthMethod::Idc),
        None => Some(AuthMethod::Social),
    };
    let provider = token.str("provider")?;
    let start_url = either("startUrl")?
        .or_else(|| default_start_url(&[method_text.as_deref(), provider.as_deref()]));
    let src = Source {
        method,
        access_token: token.str("accessToken")?,
        expires_at: token.time("expiresAt")?,
        refresh_token: token.str("refreshToken")?,
        client_id,
        client_secret: either("clientSecret")?,
        client_secret_expires_at: f.time("clientSecretExpiresAt")?,
        api_key: either("apiKey")?,
        auth_region: token.str("region")?.or(f.str("region")?),
        start_url,
        profile_arn: either("profileArn")?,
        label: f.first_str(&["label", "name", "nickname"])?,
        email: f.str("email")?,
        user_id: f.str("userId")?,
        created_at: f.time("createdAt")?,
    };
    build(src, None, default_region)
}

/// One account of our export.
fn restore(f: &Fields, default_region: &str) -> Result<Intake, String> {
    let method_text = f.str("authMethod")?.ok_or("`authMethod` is missing")?;
    let method = match method_text.as_str() {
        "social" => AuthMethod::Social,
        "idc" => AuthMethod::Idc,
        "apiKey" => AuthMethod::ApiKey,
        _ => return Err("`authMethod` must be social, idc or apiKey".to_owned()),
    };
    let restored = Restored {
        id: f.str("id")?.ok_or("`id` is missing")?,
        machine_id: f.str("machineId")?.ok_or("`machineId` is missing")?,
        enabled: f.bool("enabled")?.unwrap_or(true),
        weight: f.u32("weight")?.unwrap_or(1),
        proxy: f.str("proxy")?,
        api_region: f.str("apiRegion")?,
    };
    let src = Source {
        method: Some(method),
        access_token: f.str("accessToken")?,
        expires_at: f.time("expiresAt")?,
        refresh_token: f.str("refreshToken")?,
        client_id: f.str("clientId")?,
        client_secret: f.str("clientSecret")?,
        client_secret_expires_at: f.time("clientSecretExpiresAt")?,
        api_key: f.str("apiKey")?,
        auth_region: f.str("authRegion")?,
        start_url: f.str("startUrl")?,
        profile_arn: f.str("profileArn")?,
        label: f.str("label")?,
        email: f.str("email")?,
        user_id: f.str("userId")?,
        created_at: f.time("createdAt")?,
    };
    build(src, Some(restored), default_region)
}

/// Checks a source and builds its intake. `restored` carries the operator's fields of a backup;
/// without it the account gets a fresh id and machine id and the defaults.
fn build(src: Source, restored: Option<Restored>, default_region: &str) -> Result<Intake, String> {
    let method = src.method.ok_or("the auth method is unknown")?;
    if src
        .label
        .as_ref()
        .is_some_and(|l| l.chars().count() > MAX_LABEL_LEN)
    {
        return Err(format!(
            "the label is longer than {MAX_LABEL_LEN} characters"
        ));
    }
    let auth_region = match src.auth_region {
        Some(r) if checks::is_region(&r) => r,
        Some(_) => return Err("the region is not an AWS region name such as us-east-1".to_owned()),
        None => DEFAULT_AUTH_REGION.to_owned(),
    };
    if src
        .profile_arn
        .as_deref()
        .is_some_and(|arn| checks::profile_arn_region(arn).is_none())
    {
        return Err(
            "the profile ARN does not look like arn:aws:codewhisperer:<region>:<account>:profile/<id>"
                .to_owned(),
        );
    }
    if src
        .start_url
        .as_deref()
        .is_some_and(|u| !u.starts_with("https://"))
    {
        return Err("the start URL must be an https:// URL".to_owned());
    }

    let mut credentials = Credentials {
        access_token: src.access_token.map(Secret::from),
        expires_at: src.expires_at,
        ..Credentials::default()
    };
    let mut profile_arn = src.profile_arn;
    let mut start_url = None;
    match method {
        AuthMethod::Social | AuthMethod::Idc => {
            let refresh = src.refresh_token.ok_or("the refresh token is missing")?;
            checks::check_refresh_token(&refresh).map_err(|e| format!("the refresh token {e}"))?;
            credentials.refresh_token = Some(Secret::from(refresh));
            if method == AuthMethod::Idc {
                let (Some(id), Some(secret)) = (src.client_id, src.client_secret) else {
                    return Err(
                        "an IdC account needs its client registration (clientId and clientSecret)"
                            .to_owned(),
                    );
                };
                credentials.client_id = Some(id);
                credentials.client_secret = Some(Secret::from(secret));
                credentials.client_secret_expires_at = src.client_secret_expires_at;
                start_url = src.start_url;
            }
        }
        AuthMethod::ApiKey => {
            let key = src.api_key.ok_or("the API key is missing")?;
            if !key.starts_with("ksk_") || key.len() <= "ksk_".len() {
                return Err("the API key must be a Kiro API key starting with `ksk_`".to_owned());
            }
            credentials = Credentials {
                api_key: Some(Secret::from(key)),
                ..Credentials::default()
            };
            // Never sent with a key (spec §2.1).
            profile_arn = None;
        }
    }
    let computed_api_region = checks::api_region(profile_arn.as_deref(), default_region);

    let mut account = Account {
        id: uuid::Uuid::new_v4().to_string(),
        auth_method: method,
        label: src.label,
        enabled: true,
        api_region: computed_api_region,
        auth_region,
        profile_arn,
        start_url,
        machine_id: random_hex(32),
        proxy: None,
        credentials,
    };
    let mut meta = AccountMeta {
        email: src.email,
        user_id: src.user_id,
        ..AccountMeta::default()
    };
    let restore = restored.is_some();
    if let Some(r) = restored {
        if r.id.len() > 128
            || !r
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err("`id` must be letters, digits, `-`, `_` or `.` (at most 128)".to_owned());
        }
        if !checks::is_machine_id(&r.machine_id) {
            return Err("`machineId` must be hex digits (64 normally)".to_owned());
        }
        if let Some(proxy) = &r.proxy {
            checks::check_proxy_url(proxy).map_err(|e| format!("the proxy {e}"))?;
        }
        if let Some(region) = r.api_region {
            if !checks::API_REGIONS.contains(&region.as_str()) {
                return Err("`apiRegion` must be us-east-1 or eu-central-1".to_owned());
            }
            account.api_region = region;
        }
        account.id = r.id;
        account.machine_id = r.machine_id;
        account.enabled = r.enabled;
        account.proxy = r.proxy;
        meta.weight = r.weight;
    }
    Ok(Intake {
        account,
        meta,
        created_at: src.created_at,
        restore,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_id_client_id_hash() {
        assert_eq!(
            client_id_hash("https://view.awsapps.com/start"),
            "e909a0580879b06ece1202964fbe9dda95ea4ce3"
        );
        assert_eq!(
            client_id_hash("https://view.awsapps.com/start/"),
            "e909a0580879b06ece1202964fbe9dda95ea4ce3"
        );
    }

    #[test]
    fn method_names() {
        assert_eq!(method_from_text("BuilderId"), Some(AuthMethod::Idc));
        assert_eq!(method_from_text("Enterprise"), Some(AuthMethod::Idc));
        assert_eq!(method_from_text("IdC"), Some(AuthMethod::Idc));
        assert_eq!(method_from_text("social"), Some(AuthMethod::Social));
        assert_eq!(method_from_text("Github"), Some(AuthMethod::Social));
        assert_eq!(method_from_text("api_key"), Some(AuthMethod::ApiKey));
        assert_eq!(method_from_text("magic"), None);
    }

    #[test]
    fn detection() {
        let backup = serde_json::json!({"format": BACKUP_FORMAT, "version": 1, "accounts": []});
        assert!(matches!(Document::detect(backup), Ok(Document::Backup(_))));
        let v2 = serde_json::json!({"format": BACKUP_FORMAT, "version": 2, "accounts": []});
        assert!(matches!(Document::detect(v2), Err(FormatError::Version(_))));
        let seed = serde_json::json!({"accounts": [{}]});
        assert!(matches!(Document::detect(seed), Ok(Document::Seed(_))));
        let ide = serde_json::json!({"refreshToken": "x", "authMethod": "IdC"});
        let doc = Document::detect(ide).unwrap();
        assert_eq!(
            doc.missing_registration().as_deref(),
            Some("e909a0580879b06ece1202964fbe9dda95ea4ce3")
        );
        let pair = serde_json::json!({"token": {"refreshToken": "x"}, "clientRegistration": {}});
        assert!(matches!(
            Document::detect(pair),
            Ok(Document::Ide {
                registration: Some(_),
                ..
            })
        ));
        assert_eq!(
            Document::detect(serde_json::json!({"hello": 1})).unwrap_err(),
            FormatError::Unrecognised
        );
        assert_eq!(
            Document::detect(serde_json::json!([1])).unwrap_err(),
            FormatError::Unrecognised
        );
    }
}
