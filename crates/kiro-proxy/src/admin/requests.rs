//! `GET /api/requests` (the request log, filtered, newest first, keyset paging) and
//! `GET /api/requests/{requestId}` (one entry; with `"bodies": {"request", "response",
//! "truncated"}` when body capture was on for it — secrets redacted, each body capped).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use super::AdminState;
use super::error::ApiError;
use super::time::parse_timestamp;
use crate::stats::{self, Cursor, RequestFilter, StatusFilter};

/// Rows per page unless `limit` says otherwise.
const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;

/// The query parameters of a list, each checked; an unknown one is refused so that a typo
/// does not silently widen the filter.
pub(super) type Params = Result<Query<Vec<(String, String)>>, QueryRejection>;

pub(super) fn params(query: Params) -> Result<Vec<(String, String)>, ApiError> {
    query
        .map(|Query(p)| p)
        .map_err(|e| ApiError::bad_request(format!("malformed query string: {e}")))
}

/// A `since` / `until` parameter: Unix seconds (or milliseconds) or RFC 3339; Unix seconds.
pub(super) fn timestamp(field: &str, value: &str) -> Result<i64, ApiError> {
    parse_timestamp(&Value::String(value.to_owned()))
        .map_err(|expected| ApiError::bad_request(format!("`{field}` must be {expected}")))
}

fn non_empty(field: &str, value: String) -> Result<String, ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::bad_request(format!(
            "`{field}` must not be empty"
        )));
    }
    Ok(value)
}

fn filter(params: Vec<(String, String)>) -> Result<RequestFilter, ApiError> {
    let mut f = RequestFilter {
        limit: DEFAULT_LIMIT,
        ..RequestFilter::default()
    };
    for (name, value) in params {
        match name.as_str() {
            "key" => f.key = Some(non_empty("key", value)?),
            "account" => f.account = Some(non_empty("account", value)?),
            "model" => f.model = Some(non_empty("model", value)?),
            "status" => {
                f.status = Some(StatusFilter::parse(value.trim()).ok_or_else(|| {
                    ApiError::bad_request(
                        "`status` must be a status code (429), a class (4xx), `error` or `ok`",
                    )
                })?);
            }
            "since" => f.since_ms = Some(timestamp("since", &value)?.saturating_mul(1000)),
            "until" => f.until_ms = Some(timestamp("until", &value)?.saturating_mul(1000)),
            "limit" => {
                f.limit = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "`limit` must be a whole number from 1 to {MAX_LIMIT}"
                        ))
                    })?;
            }
            "before" => {
                f.before = Some(Cursor::parse(value.trim()).ok_or_else(|| {
                    ApiError::bad_request("`before` must be the `next` cursor of a previous page")
                })?);
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter `{other}` (known: key, account, model, status, \
                     since, until, limit, before)"
                )));
            }
        }
    }
    if let (Some(since), Some(until)) = (f.since_ms, f.until_ms)
        && since >= until
    {
        return Err(ApiError::bad_request("`until` must be later than `since`"));
    }
    Ok(f)
}

pub(super) async fn list(
    State(state): State<AdminState>,
    query: Params,
) -> Result<Json<Value>, ApiError> {
    let f = filter(params(query)?)?;
    let page = stats::list_requests(&state.inner.store, &f).await?;
    let mut body = json!({ "requests": page.requests });
    if let Some(next) = page.next {
        body["next"] = Value::String(next.encode());
    }
    Ok(Json(body))
}

pub(super) async fn get(
    State(state): State<AdminState>,
    Path(request_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match stats::get_request_with_bodies(&state.inner.store, &request_id).await? {
        Some((entry, bodies)) => {
            let mut body = json!(entry);
            // Only here, never in the list: bodies can be large, and are the operator's
            // deliberate look.
            if let Some(bodies) = bodies {
                body["bodies"] = json!(bodies);
            }
            Ok(Json(body))
        }
        None => Err(ApiError::not_found(format!(
            "no request {request_id} in the request log"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn every_bad_parameter_is_named() {
        for (pairs, field) in [
            (p(&[("limit", "0")]), "`limit`"),
            (p(&[("limit", "abc")]), "`limit`"),
            (p(&[("status", "teapot")]), "`status`"),
            (p(&[("since", "yesterday")]), "`since`"),
            (p(&[("before", "x")]), "`before`"),
            (p(&[("key", " ")]), "`key`"),
            (p(&[("since", "200"), ("until", "100")]), "`until`"),
            (p(&[("colour", "red")]), "`colour`"),
        ] {
            let err = filter(pairs).unwrap_err();
            assert_eq!(err.status, 400);
            assert!(err.message.contains(field), "{}", err.message);
        }
    }

    #[test]
    fn good_parameters() {
        let f = filter(p(&[
            ("key", "kp_abcde"),
            ("status", "5xx"),
            ("since", "2025-01-01T00:00:00Z"),
            ("limit", "20"),
        ]))
        .unwrap();
        assert_eq!(f.key.as_deref(), Some("kp_abcde"));
        assert_eq!(f.status, Some(StatusFilter::Class(5)));
        assert_eq!(f.since_ms, Some(1_735_689_600_000));
        assert_eq!(f.limit, 20);
    }
}
