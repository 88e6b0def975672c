//! `ListAvailableProfiles` (§3.8), the choice of a profile, and profile ARN parsing (§2.3).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::lenient;

/// `POST {codewhisperer}/ListAvailableProfiles` body (`{}` is valid).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListAvailableProfilesRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListAvailableProfilesResponse {
    /// Empty is normal for Builder ID.
    #[serde(default, deserialize_with = "lenient::vec_or_null")]
    pub profiles: Vec<Profile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One profile. Reads `arn`, or `profileArn` when `arn` is absent; writes `arn`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", from = "RawProfile")]
pub struct Profile {
    /// `""` when the service sent neither key.
    pub arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_name: Option<String>,
}

/// Both spellings as separate keys, so that a body carrying both is not a duplicate-field error
/// (a serde `alias` would make it one).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawProfile {
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    profile_arn: Option<String>,
    #[serde(default)]
    profile_name: Option<String>,
}

impl From<RawProfile> for Profile {
    fn from(raw: RawProfile) -> Self {
        let arn = raw
            .arn
            .filter(|a| !a.trim().is_empty())
            .or(raw.profile_arn)
            .unwrap_or_default();
        Profile {
            arn,
            profile_name: raw.profile_name,
        }
    }
}

/// The §3.8 preference: the first profile whose ARN names `api_region`, else the first profile
/// with a non-empty ARN.
pub fn pick_profile<'a>(profiles: &'a [Profile], api_region: &str) -> Option<&'a Profile> {
    let api_region = api_region.trim();
    profiles
        .iter()
        .find(|p| {
            ProfileArn::parse(&p.arn).is_ok_and(|a| a.region.eq_ignore_ascii_case(api_region))
        })
        .or_else(|| profiles.iter().find(|p| !p.arn.trim().is_empty()))
}

/// A parsed `arn:aws:codewhisperer:{region}:{12-digit account}:profile/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProfileArn {
    /// `aws`, or another AWS partition (`aws-cn`, `aws-us-gov`).
    pub partition: String,
    pub region: String,
    pub account: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileArnError {
    #[error("not an ARN: expected 6 ':'-separated fields starting with `arn`")]
    NotAnArn,
    #[error("not an AWS partition: {0:?}")]
    Partition(String),
    #[error("not a codewhisperer ARN (service {0:?})")]
    Service(String),
    #[error("invalid region {0:?}")]
    Region(String),
    #[error("invalid account id {0:?} (expected 12 digits)")]
    Account(String),
    #[error("invalid resource {0:?} (expected `profile/<id>`)")]
    Resource(String),
}

impl ProfileArn {
    pub fn parse(s: &str) -> Result<ProfileArn, ProfileArnError> {
        let fields: Vec<&str> = s.trim().splitn(6, ':').collect();
        let [arn, partition, service, region, account, resource] = fields[..] else {
            return Err(ProfileArnError::NotAnArn);
        };
        if arn != "arn" {
            return Err(ProfileArnError::NotAnArn);
        }
        if partition != "aws" && !partition.starts_with("aws-") {
            return Err(ProfileArnError::Partition(partition.to_owned()));
        }
        if service != "codewhisperer" {
            return Err(ProfileArnError::Service(service.to_owned()));
        }
        let region_ok = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !region_ok {
            return Err(ProfileArnError::Region(region.to_owned()));
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProfileArnError::Account(account.to_owned()));
        }
        let id = resource
            .strip_prefix("profile/")
            .filter(|id| {
                !id.is_empty()
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .ok_or_else(|| ProfileArnError::Resource(resource.to_owned()))?;
        Ok(ProfileArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            id: id.to_owned(),
        })
    }

    /// The API region an ARN names (its fourth field), if it is a valid profile ARN.
    pub fn region_of(s: &str) -> Result<String, ProfileArnError> {
        Self::parse(s).map(|a| a.region)
    }
}

impl FromStr for ProfileArn {
    type Err = ProfileArnError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ProfileArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "arn:{}:codewhisperer:{}:{}:profile/{}",
            self.partition, self.region, self.account, self.id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOCIAL: &str = "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK";

    #[test]
    fn parses_and_displays() {
        let arn = ProfileArn::parse(SOCIAL).unwrap();
        assert_eq!(arn.region, "us-east-1");
        assert_eq!(arn.account, "699475941385");
        assert_eq!(arn.id, "EHGA3GRVQMUK");
        assert_eq!(arn.to_string(), SOCIAL);
        assert_eq!(
            ProfileArn::region_of("arn:aws:codewhisperer:eu-central-1:123456789012:profile/ABC")
                .unwrap(),
            "eu-central-1"
        );
    }

    #[test]
    fn rejects_malformed() {
        use ProfileArnError as E;
        let bad = |s: &str| ProfileArn::parse(s).unwrap_err();
        assert_eq!(bad(""), E::NotAnArn);
        assert_eq!(
            bad("arn:aws:codewhisperer:us-east-1:699475941385"),
            E::NotAnArn
        );
        assert!(matches!(
            bad("arn:gcp:codewhisperer:us-east-1:699475941385:profile/X"),
            E::Partition(_)
        ));
        assert!(matches!(
            bad("arn:aws:q:us-east-1:699475941385:profile/X"),
            E::Service(_)
        ));
        assert!(matches!(
            bad("arn:aws:codewhisperer::699475941385:profile/X"),
            E::Region(_)
        ));
        assert!(matches!(
            bad("arn:aws:codewhisperer:us-east-1:6994759413:profile/X"),
            E::Account(_)
        ));
        assert!(matches!(
            bad("arn:aws:codewhisperer:us-east-1:699475941385:user/X"),
            E::Resource(_)
        ));
        assert!(matches!(
            bad("arn:aws:codewhisperer:us-east-1:699475941385:profile/"),
            E::Resource(_)
        ));
    }
}
