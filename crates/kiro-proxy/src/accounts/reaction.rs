//! What an upstream failure means for the account that met it: the spec §8.1 classification of
//! a raw [`UpstreamError`], and which faults count against the account's circuit breaker.

use dialects::kiro::response::{
    Reaction, TransportFailure, UpstreamFault, classify_http, classify_transport,
};

use crate::upstream::{TransportKind, UpstreamError};

/// Classifies a failed upstream call (chat, usage) into its reaction class.
pub fn classify(e: &UpstreamError) -> UpstreamFault {
    match e {
        UpstreamError::Http {
            status,
            error_type_header,
            retry_after,
            body,
        } => {
            let retry = retry_after.map(|d| d.as_secs().max(1).to_string());
            classify_http(
                *status,
                error_type_header.as_deref(),
                retry.as_deref(),
                body,
            )
        }
        UpstreamError::Transport { kind, detail } => {
            let failure = match kind {
                TransportKind::Timeout => TransportFailure::Timeout,
                TransportKind::Connect => TransportFailure::Connect,
                _ => TransportFailure::Reset,
            };
            classify_transport(failure, detail)
        }
        UpstreamError::BadFrame(d) => {
            classify_transport(TransportFailure::BadFrame, &d.to_string())
        }
        other => classify_transport(TransportFailure::BadFrame, &other.to_string()),
    }
}

/// A 200 whose stream ended cleanly before a single event: the service said nothing, which is
/// a transient failure to retry while nothing reached the client (spec §7.5 "empty streams").
pub fn empty_stream() -> UpstreamFault {
    let mut fault = classify_transport(
        TransportFailure::Reset,
        "the upstream stream ended without any event",
    );
    fault.label = "empty_stream";
    fault
}

/// Fleet-wide conditions reported through one account: they say nothing about the account
/// (spec §8.3: never disable an account for `INSUFFICIENT_MODEL_CAPACITY`).
const FLEET_LABELS: [&str; 3] = ["insufficient_capacity", "high_load", "model_unavailable"];

/// Whether `fault` counts as a failure of the account for its circuit breaker: throttling
/// (`account-cooldown-and-switch`) and transient faults (5xx, network, empty or broken streams),
/// except fleet-wide capacity. Never client errors, never an unavailable model (another account
/// may have it), never a first bearer rejection (refreshed and retried), never quota exhaustion
/// or a disabled account (they have their own, longer, state).
pub fn counts_against_account(fault: &UpstreamFault) -> bool {
    match fault.reaction {
        Reaction::AccountCooldownAndSwitch { .. } => true,
        Reaction::TransientRetryWithBackoff => !FLEET_LABELS.contains(&fault.label),
        Reaction::FailFastClientError
        | Reaction::RefreshAndRetryOnce
        | Reaction::InvalidModelTryOther
        | Reaction::AccountExhaustedUntilReset
        | Reaction::AccountDisabledNeedsRelogin => false,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn http(status: u16, body: &'static str) -> UpstreamFault {
        classify(&UpstreamError::Http {
            status,
            error_type_header: None,
            retry_after: None,
            body: Bytes::from_static(body.as_bytes()),
        })
    }

    #[test]
    fn what_counts_against_an_account() {
        assert!(counts_against_account(&http(
            429,
            r#"{"message":"Too many requests","reason":"SERVICE_REQUEST_RATE_EXCEEDED"}"#
        )));
        assert!(counts_against_account(&http(500, "")));
        assert!(counts_against_account(&empty_stream()));
        assert!(!counts_against_account(&http(
            429,
            r#"{"message":"high traffic","reason":"INSUFFICIENT_MODEL_CAPACITY"}"#
        )));
        assert!(!counts_against_account(&http(
            400,
            r#"{"message":"Improperly formed request.","reason":null}"#
        )));
        assert!(!counts_against_account(&http(
            400,
            r#"{"message":"Invalid model.","reason":"INVALID_MODEL_ID"}"#
        )));
        assert!(!counts_against_account(&http(
            402,
            r#"{"message":"You have reached the limit.","reason":"MONTHLY_REQUEST_COUNT"}"#
        )));
        let net = classify(&UpstreamError::Transport {
            kind: TransportKind::Connect,
            detail: "refused".into(),
        });
        assert_eq!(net.reaction, Reaction::TransientRetryWithBackoff);
        assert!(counts_against_account(&net));
    }
}
