//! The Kiro IDE token-cache files (§2.1): `kiro-auth-token.json` and the IdC client
//! registration `<clientIdHash>.json`.
//!
//! The files belong to another program, so every field is optional and a wrong-typed field reads
//! as absent rather than failing the import. Keys are camelCase, as the IDE writes them.

use serde::{Deserialize, Serialize};

use super::lenient;
use super::secret::Secret;
use crate::num;

/// `authMethod` of the IDE token cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// Google/GitHub login: refresh with §3.1.
    Social,
    /// AWS Builder ID or IAM Identity Center: refresh with §3.4.
    IdC,
    Other(String),
}

impl AuthMethod {
    /// Case-insensitive: `social`, `IdC` (also `idc`, `IDC`).
    pub fn parse(raw: &str) -> AuthMethod {
        let t = raw.trim();
        if t.eq_ignore_ascii_case("social") {
            AuthMethod::Social
        } else if t.eq_ignore_ascii_case("idc") {
            AuthMethod::IdC
        } else {
            AuthMethod::Other(t.to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            AuthMethod::Social => "social",
            AuthMethod::IdC => "IdC",
            AuthMethod::Other(s) => s,
        }
    }
}

impl Serialize for AuthMethod {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AuthMethod {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(AuthMethod::parse(&String::deserialize(d)?))
    }
}

fn opt_auth_method<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<AuthMethod>, D::Error> {
    Ok(lenient::opt_string(d)?.map(|s| AuthMethod::parse(&s)))
}

fn opt_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    Ok(lenient::opt_string(d)?.map(Secret::from))
}

/// `~/.aws/sso/cache/kiro-auth-token.json`, written by the Kiro IDE. Every field is optional and
/// a wrong-typed field reads as absent: the file belongs to another program.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KiroAuthTokenFile {
    #[serde(
        default,
        deserialize_with = "opt_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_token: Option<Secret>,
    #[serde(
        default,
        deserialize_with = "opt_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_token: Option<Secret>,
    /// ISO-8601, as written; see [`KiroAuthTokenFile::expires_at_epoch_secs`].
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_auth_method",
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_method: Option<AuthMethod>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub provider: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub profile_arn: Option<String>,
    /// Names the `<clientIdHash>.json` registration file (IdC only).
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id_hash: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub region: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_url: Option<String>,
}

impl KiroAuthTokenFile {
    /// `expiresAt` as epoch seconds; `None` (treat as expired, §2.2) when absent or unreadable.
    pub fn expires_at_epoch_secs(&self) -> Option<i64> {
        self.expires_at.as_deref().and_then(date_to_epoch_secs)
    }
}

/// `~/.aws/sso/cache/<clientIdHash>.json`: the IdC client registration. All fields optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRegistrationFile {
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_secret",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_secret: Option<Secret>,
    /// ISO-8601, as written; see [`ClientRegistrationFile::expires_at_epoch_secs`].
    #[serde(
        default,
        deserialize_with = "lenient::opt_string",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<String>,
}

impl ClientRegistrationFile {
    /// `expiresAt` as epoch seconds, when readable.
    pub fn expires_at_epoch_secs(&self) -> Option<i64> {
        self.expires_at.as_deref().and_then(date_to_epoch_secs)
    }
}

/// An ISO-8601 date, or a bare number of epoch seconds (or milliseconds, told apart by size).
fn date_to_epoch_secs(s: &str) -> Option<i64> {
    if let Some(secs) = num::parse_iso8601(s) {
        return Some(secs);
    }
    let n = s.trim().parse::<f64>().ok().filter(|f| f.is_finite())?;
    // 1e11 seconds is the year 5138; anything larger is milliseconds.
    let secs = if n.abs() >= 1e11 { n / 1000.0 } else { n };
    Some(secs.floor() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_files() {
        assert_eq!(
            date_to_epoch_secs("2026-06-01T00:00:00.000Z"),
            Some(1_780_272_000)
        );
        assert_eq!(date_to_epoch_secs("1780272000"), Some(1_780_272_000));
        assert_eq!(date_to_epoch_secs("1780272000000"), Some(1_780_272_000));
        assert_eq!(date_to_epoch_secs("soon"), None);
    }
}
