//! The Kiro IDE token-cache files (spec §2.1).

mod types_common;

use kiro_wire::types::*;
use types_common::{parse, parse_lenient};

#[test]
fn kiro_auth_token_file() {
    let social: KiroAuthTokenFile = parse_lenient(
        r#"{"accessToken": "aoa", "refreshToken": "aor", "expiresAt": "2026-06-01T00:00:00.000Z",
            "authMethod": "social", "provider": "Google",
            "profileArn": "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK"}"#,
    );
    assert_eq!(social.auth_method, Some(AuthMethod::Social));
    assert_eq!(social.expires_at_epoch_secs(), Some(1_780_272_000));
    assert_eq!(
        social.refresh_token.as_ref().map(Secret::expose),
        Some("aor")
    );
    assert!(!format!("{social:?}").contains("aor"));

    let idc: KiroAuthTokenFile = parse_lenient(
        r#"{"accessToken": "aoa", "refreshToken": "aor", "expiresAt": "2026-06-01T00:00:00Z",
            "authMethod": "IdC", "provider": "BuilderId", "clientIdHash": "e909a0580879b06ece1202964fbe9dda95ea4ce3",
            "region": "us-east-1", "startUrl": "https://view.awsapps.com/start"}"#,
    );
    assert_eq!(idc.auth_method, Some(AuthMethod::IdC));
    assert_eq!(
        idc.client_id_hash.as_deref(),
        Some("e909a0580879b06ece1202964fbe9dda95ea4ce3")
    );
    assert_eq!(
        idc.start_url.as_deref(),
        Some("https://view.awsapps.com/start")
    );
    // Writes back the IDE's spelling.
    assert_eq!(serde_json::to_value(&idc).unwrap()["authMethod"], "IdC");

    // Every field optional; wrong types read as absent; `IDC` in any case.
    let odd: KiroAuthTokenFile = parse(
        r#"{"authMethod": "IDC", "expiresAt": 1780272000, "region": {"x": 1}, "accessToken": null}"#,
    );
    assert_eq!(odd.auth_method, Some(AuthMethod::IdC));
    assert_eq!(odd.expires_at_epoch_secs(), Some(1_780_272_000));
    assert!(odd.region.is_none() && odd.access_token.is_none());
    let empty: KiroAuthTokenFile = parse("{}");
    assert_eq!(empty, KiroAuthTokenFile::default());
    assert_eq!(empty.expires_at_epoch_secs(), None);
    let other: KiroAuthTokenFile = parse(r#"{"authMethod": "apiKey"}"#);
    assert_eq!(other.auth_method, Some(AuthMethod::Other("apiKey".into())));
}

#[test]
fn client_registration_file() {
    let reg: ClientRegistrationFile = parse_lenient(
        r#"{"clientId": "a2lVQqA", "clientSecret": "eyJ...", "expiresAt": "2026-04-01T00:00:00Z", "scopes": ["x"]}"#,
    );
    assert_eq!(reg.client_id.as_deref(), Some("a2lVQqA"));
    assert_eq!(
        reg.client_secret.as_ref().map(Secret::expose),
        Some("eyJ...")
    );
    assert_eq!(reg.expires_at_epoch_secs(), Some(1_775_001_600));
    assert!(!format!("{reg:?}").contains("eyJ"));
    assert_eq!(
        parse::<ClientRegistrationFile>("{}"),
        ClientRegistrationFile::default()
    );
}
