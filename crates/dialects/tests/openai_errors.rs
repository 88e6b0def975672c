//! OpenAI error bodies (before and during a stream) and the model list.

use bytes::BytesMut;
use dialects::canonical::{ClientError, ErrorKind};
use dialects::encode::ErrorEncoder;
use dialects::openai::{ModelListing, OpenAiErrors, error_chunk, models_response};
use serde_json::{Value, json};

const KINDS: [ErrorKind; 10] = [
    ErrorKind::InvalidRequest,
    ErrorKind::ContextLengthExceeded,
    ErrorKind::Authentication,
    ErrorKind::PermissionDenied,
    ErrorKind::NotFound,
    ErrorKind::RequestTooLarge,
    ErrorKind::RateLimited,
    ErrorKind::Overloaded,
    ErrorKind::Api,
    ErrorKind::Timeout,
];

#[test]
fn error_bodies_per_kind() {
    let bodies: Vec<Value> = KINDS
        .iter()
        .map(|&kind| {
            let (status, body) =
                OpenAiErrors::error_body(&ClientError::new(kind, format!("{kind:?} happened")));
            assert_eq!(status, OpenAiErrors::status(kind));
            json!({"kind": format!("{kind:?}"), "status": status, "body": body})
        })
        .collect();
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!(bodies);
    });
}

#[test]
fn statuses_follow_the_canonical_ones_except_overloaded() {
    for kind in KINDS {
        let expected = if kind == ErrorKind::Overloaded {
            503
        } else {
            kind.status()
        };
        assert_eq!(OpenAiErrors::status(kind), expected, "{kind:?}");
    }
}

#[test]
fn param_is_passed_through() {
    let err = ClientError::invalid_param("messages[1].content", "Invalid type");
    let (status, body) = OpenAiErrors::error_body(&err);
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": {"message": "Invalid type", "type": "invalid_request_error",
                         "param": "messages[1].content", "code": null}})
    );
}

#[test]
fn error_chunk_is_the_same_object_in_one_data_line() {
    for kind in KINDS {
        let err = ClientError {
            param: Some("x".into()),
            ..ClientError::new(kind, "quote \" newline \n done")
        };
        let mut out = BytesMut::new();
        error_chunk(&err, &mut out);
        let text = std::str::from_utf8(&out).unwrap();
        let json = text
            .strip_prefix("data: ")
            .and_then(|t| t.strip_suffix("\n\n"))
            .expect("one data line");
        assert!(!json.contains('\n'));
        let chunk: Value = serde_json::from_str(json).unwrap();
        assert_eq!(chunk, OpenAiErrors::error_body(&err).1, "{kind:?}");
    }
}

#[test]
fn models_list() {
    let models = [
        ModelListing {
            id: "claude-sonnet-4.5".into(),
            display_name: "Claude Sonnet 4.5".into(),
            created: 1_759_104_000,
        },
        ModelListing {
            id: "auto".into(),
            display_name: "Auto".into(),
            created: 0,
        },
    ];
    insta::with_settings!({sort_maps => true}, {
        insta::assert_json_snapshot!(models_response(&models));
    });
    assert_eq!(models_response(&[]), json!({"object": "list", "data": []}));
}
