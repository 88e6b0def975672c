//! A key's model allow-list.
//!
//! The middleware admits a request before its body is read, so the model is checked later, by
//! the handler, once the body is decoded and the model resolved: [`check_model`]. The handler
//! finds the key's policy without a new parameter: the middleware runs it inside a task-local
//! scope holding the policy (the handler future, up to the response; not the streamed body,
//! which the check does not need).

use std::future::Future;
use std::sync::Arc;

use dialects::canonical::{ClientError, ErrorKind};

use crate::client_auth::KeyPolicy;

tokio::task_local! {
    static CURRENT_KEY: Option<Arc<KeyPolicy>>;
}

/// Runs `future` (the rest of the request) with `policy` as the current key's.
pub(super) async fn with_key<F: Future>(policy: Option<Arc<KeyPolicy>>, future: F) -> F::Output {
    CURRENT_KEY.scope(policy, future).await
}

/// Refuses (403) a model the current request's key may not use. `requested` is the model the
/// client named, `upstream_id` what it resolved to; the allow-list may name either. Outside the
/// middleware (no key known) everything is allowed.
pub fn check_model(requested: &str, upstream_id: &str) -> Result<(), ClientError> {
    CURRENT_KEY
        .try_with(|policy| match policy {
            Some(policy) => allowed(policy, requested, upstream_id),
            None => Ok(()),
        })
        .unwrap_or(Ok(()))
}

/// [`check_model`] for an explicit key.
pub fn allowed(policy: &KeyPolicy, requested: &str, upstream_id: &str) -> Result<(), ClientError> {
    let models = &policy.settings.models;
    let listed = |name: &str| models.iter().any(|m| m.trim().eq_ignore_ascii_case(name));
    if models.is_empty() || listed(requested) || listed(upstream_id) {
        return Ok(());
    }
    Err(ClientError::new(
        ErrorKind::PermissionDenied,
        format!(
            "This API key may not use the model `{requested}`. Models allowed for it: {}.",
            models.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KeySettings;

    fn policy(models: &[&str]) -> Arc<KeyPolicy> {
        Arc::new(KeyPolicy {
            id: "k".into(),
            name: "n".into(),
            prefix: "kp_abcde".into(),
            settings: KeySettings {
                models: models.iter().map(|m| (*m).to_owned()).collect(),
                ..KeySettings::default()
            },
        })
    }

    #[tokio::test]
    async fn allow_list_by_client_name_or_upstream_id() {
        assert_eq!(check_model("anything", "x"), Ok(()));
        let p = policy(&["claude-sonnet-4.5", "fast"]);
        with_key(Some(p), async {
            assert_eq!(
                check_model("claude-sonnet-4-5", "claude-sonnet-4.5"),
                Ok(())
            );
            assert_eq!(check_model("FAST", "claude-haiku-4.5"), Ok(()));
            let err = check_model("claude-opus-4-5", "claude-opus-4.5").unwrap_err();
            assert_eq!(err.kind, ErrorKind::PermissionDenied);
            assert!(err.message.contains("`claude-opus-4-5`"), "{}", err.message);
        })
        .await;
        with_key(Some(policy(&[])), async {
            assert_eq!(check_model("claude-opus-4-5", "claude-opus-4.5"), Ok(()));
        })
        .await;
        with_key(None, async {
            assert_eq!(check_model("claude-opus-4-5", "claude-opus-4.5"), Ok(()));
        })
        .await;
    }
}
