//! `GET /api/accounts/export`: every account with every field, secrets included, in the format
//! `POST /api/accounts/import` and `kiro-proxy import` restore exactly. Marked as secret in the
//! document (`warning`) and for HTTP caches (`Cache-Control: no-store`).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AdminState;
use super::error::ApiError;
use crate::accounts::backup::BackupFile;
use crate::store::unix_now;

pub(super) async fn export(State(state): State<AdminState>) -> Result<Response, ApiError> {
    let records = state.inner.store.list_accounts().await?;
    let now = unix_now();
    let file = BackupFile::new(&records, now);
    let body = serde_json::to_vec_pretty(&file).map_err(|e| ApiError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: format!("could not encode the export: {e}"),
    })?;
    tracing::warn!(
        accounts = records.len(),
        "accounts exported through the admin API (secrets included)"
    );
    let disposition = format!("attachment; filename=\"kiro-proxy-accounts-{now}.json\"");
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
