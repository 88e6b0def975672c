//! `metadata.user_id`, and the Claude Code session hidden inside it.

use serde_json::Value;

/// The session UUID inside a Claude Code `metadata.user_id`, lower-case and hyphenated.
///
/// Claude Code 2.x sends a JSON string (`{"device_id":…,"account_uuid":…,"session_id":"<uuid>"}`,
/// seen in every 2.1.197 capture); 1.x sent `user_<hash>_account_<uuid>_session_<uuid>`. Only a
/// real UUID is returned, because the mapping uses it as the upstream `conversationId`.
pub fn session_from_user_id(user_id: &str) -> Option<String> {
    let trimmed = user_id.trim();
    let candidate = if trimmed.starts_with('{') {
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(trimmed) else {
            return None;
        };
        match map.get("session_id") {
            Some(Value::String(s)) => s.clone(),
            _ => return None,
        }
    } else {
        let (_, session) = trimmed.rsplit_once("_session_")?;
        session.to_owned()
    };
    let uuid = uuid::Uuid::try_parse(candidate.trim()).ok()?;
    Some(uuid.hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form() {
        let id = r#"{"device_id":"2457bc","account_uuid":"","session_id":"279dd0d5-2c0f-45f2-a319-95f1e8dce482"}"#;
        assert_eq!(
            session_from_user_id(id).as_deref(),
            Some("279dd0d5-2c0f-45f2-a319-95f1e8dce482")
        );
    }

    #[test]
    fn legacy_form() {
        let id = "user_0a1b2c_account_8f14e45f-ceea-467a-9575-1f9c1c6e7a11_session_AB47C0DE-1234-4cde-8f00-0123456789ab";
        assert_eq!(
            session_from_user_id(id).as_deref(),
            Some("ab47c0de-1234-4cde-8f00-0123456789ab")
        );
        let no_account = "user_0a1b2c_account__session_ab47c0de-1234-4cde-8f00-0123456789ab";
        assert!(session_from_user_id(no_account).is_some());
    }

    #[test]
    fn others_have_no_session() {
        assert_eq!(session_from_user_id("u1"), None);
        assert_eq!(session_from_user_id(""), None);
        assert_eq!(session_from_user_id("{not json"), None);
        assert_eq!(session_from_user_id(r#"{"session_id":"not-a-uuid"}"#), None);
        assert_eq!(session_from_user_id(r#"{"session_id":5}"#), None);
        assert_eq!(session_from_user_id("user_x_session_nope"), None);
    }
}
