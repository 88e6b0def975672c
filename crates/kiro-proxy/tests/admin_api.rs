//! The admin API through `tower::ServiceExt::oneshot`: auth, accounts, keys, model mapping.
// Helpers below are test code too (clippy's test allowances only see `cfg(test)`).
#![cfg(test)]

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use kiro_proxy::admin::{self, AdminChanges, AdminState, AdminToken, ChangeKind};
use kiro_proxy::client_auth::{AuthFailure, ClientAuth, ClientIdentity};
use kiro_proxy::config::Config;
use kiro_proxy::crypto::Crypto;
use kiro_proxy::store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

const ADMIN: &str = "test-admin-token-0123456789";
const SOCIAL_REFRESH: &str = "aorSOCIALREFRESHSECRET-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghij";
const IDC_REFRESH: &str = "aorIDCREFRESHSECRET-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklm";
const ACCESS: &str = "aoaACCESSTOKENSECRET-0123456789";
const CLIENT_SECRET: &str = "CLIENTSECRETVALUE-eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0";
const KIRO_KEY: &str = "ksk_KIROAPIKEYSECRET0123456789";

struct Harness {
    app: Router,
    store: Store,
    client_auth: ClientAuth,
    changes: AdminChanges,
    _dir: tempfile::TempDir,
}

async fn harness_with(config: Config) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), &Crypto::from_key(&[9u8; 32]))
        .await
        .unwrap();
    let client_auth = ClientAuth::new(&config.api_keys, store.clone())
        .await
        .unwrap();
    let changes = AdminChanges::new();
    let state = AdminState::new(
        store.clone(),
        AdminToken::from_plaintext(ADMIN),
        client_auth.clone(),
        changes.clone(),
        kiro_proxy::upstream::UpstreamClient::new(
            kiro_proxy::upstream::UpstreamUrls::default(),
            kiro_proxy::upstream::UpstreamConfig::default(),
        )
        .unwrap(),
        &config,
    );
    Harness {
        app: Router::new().nest("/api", admin::router(state)),
        store,
        client_auth,
        changes,
        _dir: dir,
    }
}

async fn harness() -> Harness {
    harness_with(Config::default()).await
}

impl Harness {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.call_raw(method, path, body.map(|b| b.to_string()), Some(ADMIN))
            .await
    }

    async fn call_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        token: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b))
                .unwrap(),
            None => req.body(Body::empty()).unwrap(),
        };
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&bytes)))
        };
        (status, value)
    }

    async fn create(&self, body: Value) -> (StatusCode, Value) {
        self.call("POST", "/api/accounts", Some(body)).await
    }
}

fn error_message(v: &Value) -> &str {
    v["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error message: {v}"))
}

#[tokio::test]
async fn every_route_requires_the_admin_token() {
    let h = harness().await;
    let routes = [
        ("GET", "/api/accounts"),
        ("POST", "/api/accounts"),
        ("DELETE", "/api/accounts/x"),
        ("GET", "/api/keys"),
        ("POST", "/api/keys"),
        ("DELETE", "/api/keys/x"),
        ("GET", "/api/model-mapping"),
        ("PUT", "/api/model-mapping"),
    ];
    for (method, path) in routes {
        for token in [None, Some("wrong-token"), Some("")] {
            let (status, body) = h.call_raw(method, path, Some("{}".to_owned()), token).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} {token:?}"
            );
            assert!(!error_message(&body).is_empty());
        }
    }
    // A Basic header is not a bearer token.
    let req = Request::builder()
        .uri("/api/accounts")
        .header("authorization", format!("Basic {ADMIN}"))
        .body(Body::empty())
        .unwrap();
    let resp = h.app.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");

    let (status, body) = h.call("GET", "/api/accounts", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"accounts": []}));
}

#[tokio::test]
async fn create_each_account_kind() {
    let h = harness().await;
    let mut accounts_rx = h.changes.subscribe(ChangeKind::Accounts);

    let (status, social) = h
        .create(json!({
            "authMethod": "social",
            "refreshToken": SOCIAL_REFRESH,
            "accessToken": ACCESS,
            "expiresAt": "2025-08-20T12:34:56.789Z",
            "profileArn": "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK",
            "label": "me@example.com",
            "someFutureField": {"ignored": true}
        }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{social}");
    assert_eq!(social["authMethod"], "social");
    assert_eq!(social["label"], "me@example.com");
    assert_eq!(social["enabled"], true);
    assert_eq!(social["apiRegion"], "us-east-1");
    assert_eq!(social["authRegion"], "us-east-1");
    assert_eq!(social["hasRefreshToken"], true);
    assert_eq!(social["hasAccessToken"], true);
    assert_eq!(social["accessTokenExpiresAt"], 1_755_693_296);
    assert!(social["createdAt"].as_i64().unwrap() > 1_700_000_000);
    assert!(accounts_rx.has_changed().unwrap());
    accounts_rx.mark_unchanged();

    // IdC in eu-west-1: tokens from eu-west-1, inference on us-east-1 (spec §1.1).
    let (status, idc) = h
        .create(json!({
            "authMethod": "IdC",
            "refreshToken": IDC_REFRESH,
            "clientId": "client-id-1",
            "clientSecret": CLIENT_SECRET,
            "region": "eu-west-1",
            "expiresAt": 1_900_000_000,
            "startUrl": "https://d-1234567890.awsapps.com/start"
        }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{idc}");
    assert_eq!(idc["authMethod"], "idc");
    assert_eq!(idc["apiRegion"], "us-east-1");
    assert_eq!(idc["authRegion"], "eu-west-1");
    assert_eq!(idc["hasAccessToken"], false);
    assert_eq!(idc["accessTokenExpiresAt"], 1_900_000_000);

    // The profile ARN's region wins for the API region.
    let (status, eu) = h
        .create(json!({
            "authMethod": "idc",
            "refreshToken": IDC_REFRESH,
            "clientId": "c",
            "clientSecret": CLIENT_SECRET,
            "region": "eu-west-1",
            "profileArn": "arn:aws:codewhisperer:eu-central-1:123456789012:profile/XYZ"
        }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{eu}");
    assert_eq!(eu["apiRegion"], "eu-central-1");
    assert_eq!(eu["authRegion"], "eu-west-1");

    let (status, key) = h
        .create(json!({"authMethod": "apiKey", "apiKey": KIRO_KEY, "region": "eu-central-1"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    assert_eq!(key["authMethod"], "apiKey");
    assert_eq!(key["apiRegion"], "eu-central-1");
    assert_eq!(key["hasRefreshToken"], false);
    assert_eq!(key["profileArn"], Value::Null);

    // Stored with fresh ids, machine ids and the secrets intact.
    let records = h.store.list_accounts().await.unwrap();
    assert_eq!(records.len(), 4);
    let ids: std::collections::HashSet<_> = records.iter().map(|r| &r.account.id).collect();
    assert_eq!(ids.len(), 4);
    for r in &records {
        let m = &r.account.machine_id;
        assert_eq!(m.len(), 64);
        assert!(
            m.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
    let social_rec = records
        .iter()
        .find(|r| r.account.id == social["id"])
        .unwrap();
    assert_eq!(
        social_rec
            .account
            .credentials
            .refresh_token
            .as_ref()
            .unwrap()
            .expose(),
        SOCIAL_REFRESH
    );
    let key_rec = records.iter().find(|r| r.account.id == key["id"]).unwrap();
    assert_eq!(
        key_rec
            .account
            .credentials
            .api_key
            .as_ref()
            .unwrap()
            .expose(),
        KIRO_KEY
    );
    let idc_rec = records.iter().find(|r| r.account.id == idc["id"]).unwrap();
    assert_eq!(
        idc_rec.account.start_url.as_deref(),
        Some("https://d-1234567890.awsapps.com/start")
    );

    // Other API regions map to us-east-1; the default region comes from configuration.
    let h2 = harness_with(Config {
        region: "eu-central-1".to_owned(),
        ..Config::default()
    })
    .await;
    let (_, a) = h2
        .create(json!({"authMethod": "social", "refreshToken": SOCIAL_REFRESH}))
        .await;
    assert_eq!(a["apiRegion"], "eu-central-1");
    let (_, b) = h2
        .create(json!({"authMethod": "social", "refreshToken": SOCIAL_REFRESH, "region": "ap-southeast-2"}))
        .await;
    assert_eq!(b["apiRegion"], "us-east-1");
    assert_eq!(b["authRegion"], "ap-southeast-2");
}

#[tokio::test]
async fn invalid_account_input_is_a_400_naming_the_field() {
    let h = harness().await;
    let idc = |extra: Value| {
        let mut base = json!({
            "authMethod": "idc", "refreshToken": IDC_REFRESH,
            "clientId": "c", "clientSecret": CLIENT_SECRET
        });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base
    };
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "authMethod"),
        (json!({"authMethod": "password"}), "authMethod"),
        (json!({"authMethod": 3}), "authMethod"),
        (json!({"authMethod": "social"}), "refreshToken"),
        (
            json!({"authMethod": "social", "refreshToken": "aorshort"}),
            "refreshToken",
        ),
        (
            json!({"authMethod": "social", "refreshToken": format!("{}...", &SOCIAL_REFRESH[..100])}),
            "refreshToken",
        ),
        (
            json!({"authMethod": "social", "refreshToken": 12}),
            "refreshToken",
        ),
        (idc(json!({"clientId": null})), "clientId"),
        (idc(json!({"clientSecret": null})), "clientSecret"),
        (idc(json!({"refreshToken": null})), "refreshToken"),
        (idc(json!({"clientSecret": ["x"]})), "clientSecret"),
        (idc(json!({"startUrl": "http://insecure"})), "startUrl"),
        (idc(json!({"region": "Mars 1"})), "region"),
        (idc(json!({"region": 1})), "region"),
        (
            idc(json!({"profileArn": "arn:aws:iam::1:role/x"})),
            "profileArn",
        ),
        (idc(json!({"expiresAt": "next tuesday"})), "expiresAt"),
        (idc(json!({"expiresAt": true})), "expiresAt"),
        (idc(json!({"expiresAt": -1})), "expiresAt"),
        (idc(json!({"label": 5})), "label"),
        (idc(json!({"label": "x".repeat(201)})), "label"),
        (idc(json!({"accessToken": {"a": 1}})), "accessToken"),
        (idc(json!({"enabled": "yes"})), "enabled"),
        (json!({"authMethod": "apiKey"}), "apiKey"),
        (
            json!({"authMethod": "apiKey", "apiKey": "sk-not-kiro"}),
            "apiKey",
        ),
        (json!({"authMethod": "apiKey", "apiKey": "ksk_"}), "apiKey"),
        (
            json!({"authMethod": "apiKey", "apiKey": KIRO_KEY,
                   "profileArn": "arn:aws:codewhisperer:us-east-1:123456789012:profile/A"}),
            "profileArn",
        ),
    ];
    for (body, field) in cases {
        let (status, resp) = h.create(body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {resp}");
        let msg = error_message(&resp);
        assert!(msg.contains(&format!("`{field}`")), "{body} → {msg}");
        // The message never echoes a secret.
        for secret in [SOCIAL_REFRESH, IDC_REFRESH, CLIENT_SECRET, KIRO_KEY] {
            assert!(!msg.contains(secret), "{msg}");
        }
    }
    for raw in ["", "not json", "[1,2]", "\"str\"", "{\"authMethod\":"] {
        let (status, resp) = h
            .call_raw("POST", "/api/accounts", Some(raw.to_owned()), Some(ADMIN))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw:?}");
        assert!(error_message(&resp).contains("JSON"), "{resp}");
    }
    assert!(h.store.list_accounts().await.unwrap().is_empty());
}

#[tokio::test]
async fn no_secret_ever_appears_in_responses() {
    let h = harness().await;
    let mut texts = Vec::new();
    for body in [
        json!({"authMethod": "social", "refreshToken": SOCIAL_REFRESH, "accessToken": ACCESS}),
        json!({"authMethod": "idc", "refreshToken": IDC_REFRESH, "accessToken": ACCESS,
               "clientId": "c", "clientSecret": CLIENT_SECRET}),
        json!({"authMethod": "apiKey", "apiKey": KIRO_KEY}),
    ] {
        let (status, created) = h.create(body).await;
        assert_eq!(status, StatusCode::CREATED);
        texts.push(created.to_string());
    }
    let (status, list) = h.call("GET", "/api/accounts", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["accounts"].as_array().unwrap().len(), 3);
    texts.push(list.to_string());
    for text in &texts {
        for secret in [SOCIAL_REFRESH, IDC_REFRESH, ACCESS, CLIENT_SECRET, KIRO_KEY] {
            assert!(!text.contains(secret), "secret in {text}");
            // Not even a recognisable fragment.
            assert!(!text.contains(&secret[..16]), "secret fragment in {text}");
        }
        assert!(!text.contains("machineId"), "{text}");
    }
}

#[tokio::test]
async fn delete_account() {
    let h = harness().await;
    let (_, a) = h
        .create(json!({"authMethod": "apiKey", "apiKey": KIRO_KEY}))
        .await;
    let id = a["id"].as_str().unwrap();
    let rx = h.changes.subscribe(ChangeKind::Accounts);
    let (status, body) = h.call("DELETE", &format!("/api/accounts/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(body, Value::Null);
    assert!(rx.has_changed().unwrap());
    let (status, body) = h.call("DELETE", &format!("/api/accounts/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(error_message(&body).contains(id));
    let (_, list) = h.call("GET", "/api/accounts", None).await;
    assert_eq!(list, json!({"accounts": []}));
}

#[tokio::test]
async fn configured_keys_are_listed_by_index_only() {
    let config = Config {
        api_keys: vec![
            kiro_wire::types::Secret::new("sk-configured-one-0123456789"),
            kiro_wire::types::Secret::new("sk-configured-two-0123456789"),
        ],
        ..Config::default()
    };
    let h = harness_with(config).await;
    let (status, list) = h.call("GET", "/api/keys", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list["configuredKeys"],
        json!([
            {"id": "config:0", "source": "KIRO_API_KEYS"},
            {"id": "config:1", "source": "KIRO_API_KEYS"}
        ])
    );
    assert!(!list.to_string().contains("sk-configured"), "{list}");
}

#[tokio::test]
async fn client_keys_create_list_delete() {
    let h = harness().await;
    let mut rx = h.changes.subscribe(ChangeKind::ApiKeys);
    assert!(!h.client_auth.has_keys());

    let (status, created) = h
        .call("POST", "/api/keys", Some(json!({"name": "laptop"})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(rx.has_changed().unwrap());
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("kp_"));
    assert_eq!(key.len(), 43);
    assert!(key[3..].chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(created["name"], "laptop");
    assert_eq!(created["prefix"], &key[..8]);
    let id = created["id"].as_str().unwrap().to_owned();

    // The key is usable at once (cache reloaded) and is never shown again.
    let mut headers = http::HeaderMap::new();
    headers.insert("x-api-key", key.parse().unwrap());
    assert_eq!(
        h.client_auth.authenticate(&headers, None),
        Ok(ClientIdentity::StoredKey {
            id: id.clone(),
            name: "laptop".to_owned()
        })
    );
    let (status, list) = h.call("GET", "/api/keys", None).await;
    assert_eq!(status, StatusCode::OK);
    let keys = list["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], id.as_str());
    assert_eq!(keys[0]["name"], "laptop");
    assert_eq!(keys[0]["prefix"], &key[..8]);
    assert!(keys[0]["createdAt"].is_i64());
    assert!(keys[0].get("lastUsedAt").is_some());
    let text = list.to_string();
    assert!(!text.contains(&key), "{text}");
    assert!(
        !text.contains(&kiro_proxy::crypto::hash_secret(&key)),
        "{text}"
    );
    assert!(!text.contains("hash"), "{text}");

    for bad in [
        json!({}),
        json!({"name": ""}),
        json!({"name": 7}),
        json!({"name": "x".repeat(101)}),
    ] {
        let (status, resp) = h.call("POST", "/api/keys", Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(error_message(&resp).contains("`name`"), "{resp}");
    }

    rx.mark_unchanged();
    let (status, _) = h.call("DELETE", &format!("/api/keys/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(rx.has_changed().unwrap());
    assert!(!h.client_auth.has_keys());
    assert_eq!(
        h.client_auth
            .authenticate(&headers, Some("10.1.2.3".parse().unwrap())),
        Err(AuthFailure::NoKeysConfigured)
    );
    let (status, _) = h.call("DELETE", &format!("/api/keys/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = h.call("GET", "/api/keys", None).await;
    assert_eq!(list, json!({"keys": [], "configuredKeys": []}));
}

#[tokio::test]
async fn model_mapping_get_and_put() {
    let mut configured = BTreeMap::new();
    configured.insert("gpt-4o".to_owned(), "claude-sonnet-4.5".to_owned());
    let mut config = Config::default();
    config.models.mapping = configured.clone();
    let h = harness_with(config).await;

    let (status, body) = h.call("GET", "/api/model-mapping", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"mapping": {"gpt-4o": "claude-sonnet-4.5"}}));

    let rx = h.changes.subscribe(ChangeKind::ModelMapping);
    let new = json!({"mapping": {"fast": "claude-haiku-4.5", "smart": "claude-opus-4.5"}});
    let (status, body) = h.call("PUT", "/api/model-mapping", Some(new.clone())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, new);
    assert!(rx.has_changed().unwrap());
    let (_, body) = h.call("GET", "/api/model-mapping", None).await;
    assert_eq!(body, new, "the stored table replaces the configured one");
    let effective = admin::effective_model_mapping(&h.store, &configured)
        .await
        .unwrap();
    assert_eq!(effective.len(), 2);
    assert_eq!(effective["fast"], "claude-haiku-4.5");

    let (status, _) = h
        .call("PUT", "/api/model-mapping", Some(json!({"mapping": {}})))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = h.call("GET", "/api/model-mapping", None).await;
    assert_eq!(body, json!({"mapping": {}}));

    for (bad, field) in [
        (json!({}), "`mapping`"),
        (json!({"mapping": ["a"]}), "`mapping`"),
        (json!({"mapping": {"a": 1}}), "`mapping.a`"),
        (json!({"mapping": {"a": ""}}), "`mapping.a`"),
        (json!({"mapping": {"": "claude-sonnet-4.5"}}), "`mapping`"),
    ] {
        let (status, resp) = h.call("PUT", "/api/model-mapping", Some(bad.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(error_message(&resp).contains(field), "{bad} → {resp}");
    }
    let (_, body) = h.call("GET", "/api/model-mapping", None).await;
    assert_eq!(body, json!({"mapping": {}}), "failed PUTs change nothing");
}

#[tokio::test]
async fn other_api_paths_are_left_to_the_caller() {
    let h = harness().await;
    // Unknown /api paths are not claimed (nor guarded) by the admin router: the outer router's
    // fallback answers them, so e.g. `/api/event_logging/batch` can be a client route.
    let (status, _) = h
        .call_raw(
            "POST",
            "/api/event_logging/batch",
            Some("{}".to_owned()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
