//! `GET`/`PUT /api/traffic`: the traffic controls in effect (see `crate::limits`).
//!
//! `PUT` takes any subset of the fields; a field left out keeps its value, `null` clears a
//! limit or empties a list. The new controls are stored (they outlive restarts and replace the
//! configured `[traffic]` values) and apply to the next request.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde_json::Value;

use super::AdminState;
use super::body::{JsonBody, wrong_type};
use super::error::ApiError;
use super::keys::limit;
use crate::limits::{IpNet, Limits, MAX_ADDRESS_ENTRIES, SetTrafficError, TrafficSettings};

const FIELDS: [&str; 5] = [
    "ipRateLimitPerMinute",
    "blockedIps",
    "trustedProxies",
    "maxConcurrency",
    "perKeyConcurrency",
];

fn limits(state: &AdminState) -> Result<&Limits, ApiError> {
    state.limits().ok_or_else(|| ApiError {
        status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
        message: "traffic controls are not available in this process".to_owned(),
    })
}

pub(super) async fn get(
    State(state): State<AdminState>,
) -> Result<Json<TrafficSettings>, ApiError> {
    Ok(Json(limits(&state)?.traffic().as_ref().clone()))
}

pub(super) async fn put(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<Json<TrafficSettings>, ApiError> {
    let limits = limits(&state)?;
    let body = JsonBody::parse(&body)?;
    if let Some(unknown) = body.keys().find(|k| !FIELDS.contains(k)) {
        return Err(ApiError::bad_request(format!(
            "`{unknown}` is not a traffic control (fields: {})",
            FIELDS.join(", ")
        )));
    }
    let mut next = limits.traffic().as_ref().clone();
    if let Some(v) = limit(&body, "ipRateLimitPerMinute")? {
        next.ip_rate_limit_per_minute = v;
    }
    if let Some(v) = limit(&body, "maxConcurrency")? {
        next.max_concurrency = v;
    }
    if let Some(v) = limit(&body, "perKeyConcurrency")? {
        next.per_key_concurrency = v;
    }
    if let Some(v) = addresses(&body, "blockedIps")? {
        next.blocked_ips = v;
    }
    if let Some(v) = addresses(&body, "trustedProxies")? {
        next.trusted_proxies = v;
    }
    limits.set_traffic(next).await.map_err(|e| match e {
        SetTrafficError::Invalid(e) => ApiError::bad_request(e.to_string()),
        SetTrafficError::Store(e) => ApiError::from(e),
    })?;
    let applied = limits.traffic().as_ref().clone();
    tracing::info!(
        ip_rate_limit = ?applied.ip_rate_limit_per_minute,
        blocked = applied.blocked_ips.len(),
        trusted_proxies = applied.trusted_proxies.len(),
        max_concurrency = ?applied.max_concurrency,
        per_key_concurrency = ?applied.per_key_concurrency,
        "traffic controls changed"
    );
    Ok(Json(applied))
}

/// A list of addresses or CIDR ranges: absent → `None`, `null` → empty.
fn addresses(body: &JsonBody, field: &str) -> Result<Option<Vec<IpNet>>, ApiError> {
    if !body.has(field) {
        return Ok(None);
    }
    let items = match body.value(field) {
        None => return Ok(Some(Vec::new())),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(wrong_type(
                field,
                "an array of IP addresses or CIDR ranges",
                other,
            ));
        }
    };
    if items.len() > MAX_ADDRESS_ENTRIES {
        return Err(ApiError::bad_request(format!(
            "`{field}` must have at most {MAX_ADDRESS_ENTRIES} entries"
        )));
    }
    let mut out: Vec<IpNet> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let entry = format!("{field}[{i}]");
        let net: IpNet = match item {
            Value::String(s) => s
                .parse()
                .map_err(|e| ApiError::bad_request(format!("`{entry}`: {e}")))?,
            other => return Err(wrong_type(&entry, "an IP address or CIDR range", other)),
        };
        if !out.contains(&net) {
            out.push(net);
        }
    }
    Ok(Some(out))
}
