//! `POST /api/accounts/import`: the body is an account file (see
//! [`crate::accounts::import_formats`]): a Kiro IDE token, `{"token": …, "clientRegistration":
//! …}` (the IDE's two files together), a `kiro-accounts.json`, or our own export. Each account
//! is imported, updates the account it matches, or is skipped with its reason.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Serialize;

use super::accounts::AccountView;
use super::error::ApiError;
use super::{AdminState, ChangeKind};
use crate::accounts::import_formats::Document;
use crate::accounts::intake::{self, ImportReport};

/// The answer: what happened to each account of the file.
#[derive(Debug, Serialize)]
pub(super) struct ImportAnswer {
    imported: Vec<AccountView>,
    updated: Vec<AccountView>,
    skipped: Vec<SkippedView>,
}

#[derive(Debug, Serialize)]
struct SkippedView {
    account: String,
    reason: String,
}

impl From<&ImportReport> for ImportAnswer {
    fn from(r: &ImportReport) -> Self {
        Self {
            imported: r.imported.iter().map(AccountView::from).collect(),
            updated: r.updated.iter().map(AccountView::from).collect(),
            skipped: r
                .skipped
                .iter()
                .map(|s| SkippedView {
                    account: s.account.clone(),
                    reason: s.reason.clone(),
                })
                .collect(),
        }
    }
}

pub(super) async fn import(
    State(state): State<AdminState>,
    body: Bytes,
) -> Result<Json<ImportAnswer>, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| {
        // Position only: serde_json's message could quote part of a token.
        ApiError::bad_request(format!(
            "request body is not valid JSON (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let document = Document::detect(value).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let entries = document.entries(&state.inner.default_region);
    let report = intake::save_all(&state.inner.store, entries).await?;
    tracing::info!(
        imported = report.imported.len(),
        updated = report.updated.len(),
        skipped = report.skipped.len(),
        "accounts imported"
    );
    if report.changed() {
        state.inner.changes.notify(ChangeKind::Accounts);
    }
    Ok(Json(ImportAnswer::from(&report)))
}
