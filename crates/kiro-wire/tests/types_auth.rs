//! Auth bodies (spec §3.1–3.4) and OIDC errors.

mod types_common;

use kiro_wire::types::*;
use serde_json::{Value, json};
use types_common::{parse, parse_lenient};

#[test]
fn social_refresh() {
    let req = SocialRefreshRequest {
        refresh_token: Secret::from("aorAAAAA..."),
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"refreshToken": "aorAAAAA..."})
    );

    let resp: SocialRefreshResponse = parse_lenient(
        r#"{"accessToken": "aoaAAAAA...", "expiresIn": 3600,
 "profileArn": "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK", "refreshToken": "aorAAAAA..."}"#,
    );
    assert_eq!(resp.access_token.expose(), "aoaAAAAA...");
    assert_eq!(resp.expires_in, Some(3600));
    assert_eq!(
        resp.profile_arn.as_deref(),
        Some("arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK")
    );
    assert_eq!(
        resp.new_refresh_token().map(Secret::expose),
        Some("aorAAAAA...")
    );

    let debug = format!("{resp:?}");
    assert!(
        !debug.contains("aoaAAAAA") && !debug.contains("aorAAAAA"),
        "{debug}"
    );

    // Float expiry, empty refresh token: nothing to persist.
    let resp: SocialRefreshResponse =
        parse(r#"{"accessToken": "a", "expiresIn": 3.6E3, "refreshToken": ""}"#);
    assert_eq!(resp.expires_in, Some(3600));
    assert!(resp.new_refresh_token().is_none());
    assert!(serde_json::from_str::<SocialRefreshResponse>(r#"{"expiresIn": 3600}"#).is_err());
}

#[test]
fn oidc_register() {
    let spec_request = r#"{"clientName": "Kiro IDE", "clientType": "public",
 "scopes": ["codewhisperer:completions", "codewhisperer:analysis", "codewhisperer:conversations"]}"#;
    assert_eq!(
        serde_json::to_value(OidcRegisterRequest::kiro_ide()).unwrap(),
        parse::<Value>(spec_request)
    );
    let _: OidcRegisterRequest = parse_lenient(spec_request);

    let resp: OidcRegisterResponse = parse_lenient(
        r#"{"clientId": "a2lVQqA-...", "clientSecret": "eyJ...", "clientIdIssuedAt": 1767225600,
            "clientSecretExpiresAt": 1775001600, "tokenEndpoint": "https://oidc.us-east-1.amazonaws.com/token"}"#,
    );
    assert_eq!(resp.client_id, "a2lVQqA-...");
    assert_eq!(resp.client_secret.expose(), "eyJ...");
    assert_eq!(resp.client_id_issued_at, Some(1_767_225_600));
    assert_eq!(resp.client_secret_expires_at, Some(1_775_001_600));
    assert!(resp.authorization_endpoint.is_none());
    assert!(!format!("{resp:?}").contains("eyJ"));
}

#[test]
fn device_authorization() {
    let req = DeviceAuthorizationRequest {
        client_id: "cid".into(),
        client_secret: "csecret".into(),
        start_url: "https://view.awsapps.com/start".into(),
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"clientId": "cid", "clientSecret": "csecret", "startUrl": "https://view.awsapps.com/start"})
    );

    let resp: DeviceAuthorizationResponse = parse_lenient(
        r#"{"deviceCode": "R_k4Ix7f...", "userCode": "ZPGH-WFKK", "verificationUri": "https://view.awsapps.com/start/#/device",
 "verificationUriComplete": "https://view.awsapps.com/start/#/device?user_code=ZPGH-WFKK", "expiresIn": 600, "interval": 1}"#,
    );
    assert_eq!(resp.device_code.expose(), "R_k4Ix7f...");
    assert_eq!(resp.user_code, "ZPGH-WFKK");
    assert_eq!(resp.expires_in, Some(600));
    assert_eq!(resp.poll_interval_secs(), 1);
    assert_eq!(
        resp.verification_url(),
        "https://view.awsapps.com/start/#/device?user_code=ZPGH-WFKK"
    );

    let bare: DeviceAuthorizationResponse =
        parse(r#"{"deviceCode": "d", "userCode": "u", "verificationUri": "https://v"}"#);
    assert_eq!(bare.poll_interval_secs(), DEFAULT_POLL_INTERVAL_SECS);
    assert_eq!(bare.verification_url(), "https://v");
}

#[test]
fn token_requests_use_the_exact_grant_types() {
    let poll = TokenRequest::device_code("cid", "cs".into(), "dc".into());
    assert_eq!(
        serde_json::to_value(&poll).unwrap(),
        json!({"clientId": "cid", "clientSecret": "cs",
               "grantType": "urn:ietf:params:oauth:grant-type:device_code", "deviceCode": "dc"})
    );
    let refresh = TokenRequest::refresh("cid", "cs".into(), "rt".into());
    assert_eq!(
        serde_json::to_value(&refresh).unwrap(),
        json!({"clientId": "cid", "clientSecret": "cs", "grantType": "refresh_token", "refreshToken": "rt"})
    );
    assert!(!format!("{refresh:?}").contains("\"rt\""));
}

#[test]
fn token_response_with_nulls_or_absent_keys() {
    let full: TokenResponse = parse_lenient(
        r#"{"accessToken": "aoaAAAAA...", "tokenType": "Bearer", "expiresIn": 3600, "refreshToken": "aorAAAAA...",
 "idToken": null, "aws_sso_app_session_id": null, "issuedTokenType": null, "originSessionId": null}"#,
    );
    assert_eq!(full.token_type.as_deref(), Some("Bearer"));
    assert_eq!(full.expires_in, Some(3600));
    assert!(full.id_token.is_none() && full.aws_sso_app_session_id.is_none());
    assert_eq!(
        full.new_refresh_token().map(Secret::expose),
        Some("aorAAAAA...")
    );

    let rotated: TokenResponse = parse(r#"{"accessToken": "a", "expiresIn": "3600"}"#);
    assert_eq!(rotated.expires_in, Some(3600));
    assert!(rotated.new_refresh_token().is_none());

    let session: TokenResponse = parse(r#"{"accessToken": "a", "aws_sso_app_session_id": "s"}"#);
    assert_eq!(
        serde_json::to_value(&session).unwrap(),
        json!({"accessToken": "a", "aws_sso_app_session_id": "s"})
    );
}

#[test]
fn oidc_error_code_from_each_source() {
    use OidcErrorCode as C;

    // `error` first.
    let body: OidcError = parse_lenient(
        r#"{"error": "authorization_pending", "error_description": null, "__type": "SlowDownException"}"#,
    );
    assert_eq!(body.code(), Some(C::AuthorizationPending));
    assert_eq!(
        oidc_error_code(Some(&body), Some("AccessDeniedException")),
        Some(C::AuthorizationPending)
    );

    // Then `__type`, namespaced or not.
    let body: OidcError =
        parse(r#"{"error": null, "__type": "com.amazonaws.ssooidc#SlowDownException"}"#);
    assert_eq!(body.code(), Some(C::SlowDown));
    let body: OidcError = parse(r#"{"error": "", "__type": "ExpiredTokenException"}"#);
    assert_eq!(
        oidc_error_code(Some(&body), Some("AccessDeniedException")),
        Some(C::ExpiredToken)
    );

    // Then the `x-amzn-ErrorType` header, also with its `:…` suffix.
    let empty = OidcError::default();
    assert_eq!(
        oidc_error_code(Some(&empty), Some("AccessDeniedException")),
        Some(C::AccessDenied)
    );
    assert_eq!(
        oidc_error_code(
            None,
            Some("InvalidGrantException:http://internal.amazon.com/coral/com.amazonaws.ssooidc/")
        ),
        Some(C::InvalidGrant)
    );
    assert_eq!(oidc_error_code(None, None), None);
    assert_eq!(oidc_error_code(Some(&empty), Some("  ")), None);

    // Every mapping the spec names.
    let cases = [
        (
            "AuthorizationPendingException",
            C::AuthorizationPending,
            "authorization_pending",
        ),
        ("SlowDownException", C::SlowDown, "slow_down"),
        ("ExpiredTokenException", C::ExpiredToken, "expired_token"),
        ("AccessDeniedException", C::AccessDenied, "access_denied"),
        ("InvalidGrantException", C::InvalidGrant, "invalid_grant"),
        ("InvalidClientException", C::InvalidClient, "invalid_client"),
        ("ExpiredClientException", C::InvalidClient, "invalid_client"),
        (
            "UnauthorizedClientException",
            C::UnauthorizedClient,
            "unauthorized_client",
        ),
        (
            "UnsupportedGrantTypeException",
            C::UnsupportedGrantType,
            "unsupported_grant_type",
        ),
        (
            "InvalidRequestException",
            C::InvalidRequest,
            "invalid_request",
        ),
        ("InvalidScopeException", C::InvalidScope, "invalid_scope"),
        (
            "InvalidClientMetadataException",
            C::InvalidClientMetadata,
            "invalid_client_metadata",
        ),
        ("InternalServerException", C::ServerError, "server_error"),
        ("server_error", C::ServerError, "server_error"),
        ("invalid_client", C::InvalidClient, "invalid_client"),
    ];
    for (raw, code, snake) in cases {
        let parsed = OidcErrorCode::parse(raw);
        assert_eq!(parsed, Some(code), "{raw}");
        assert_eq!(parsed.unwrap().as_str(), snake);
    }
    assert_eq!(
        OidcErrorCode::parse("SomethingNewException"),
        Some(C::Other("something_new".into()))
    );
    assert_eq!(
        OidcErrorCode::parse("slow_down").unwrap().to_string(),
        "slow_down"
    );
}
