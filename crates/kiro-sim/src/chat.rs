//! `POST /generateAssistantResponse` (spec §3.5): record, authenticate, apply a queued
//! behaviour, validate (V1–V13), check the profile ARN, apply in-band triggers, check and debit
//! the monthly credits, then stream the scripted or default answer.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::bearer::admit;
use crate::behaviour::Behaviour;
use crate::body::{SimBody, Step};
use crate::conn::ConnCtl;
use crate::errors::{ErrorKind, temporarily_suspended};
use crate::exchange::{Exchange, plain};
use crate::models;
use crate::render::{Plan, RenderCtx, render};
use crate::script::Script;
use crate::state::SimState;
use crate::triggers::{self, TriggerPlan};
use crate::validate::{AccountView, ValidatedRequest, validate};

/// Window and multiplier assumed for a model the catalogue does not know (scripts that skip
/// validation may name anything).
const FALLBACK_WINDOW: u64 = 200_000;
const FALLBACK_MULTIPLIER: f64 = 1.0;

#[derive(Deserialize)]
struct RootArn {
    #[serde(rename = "profileArn", default)]
    profile_arn: Option<String>,
}

/// The root `profileArn` of a chat body.
fn root_profile_arn(raw: &[u8]) -> Option<String> {
    serde_json::from_slice::<RootArn>(raw).ok()?.profile_arn
}

/// A best-effort summary for scripts that skip validation.
fn lenient_summary(raw: &[u8]) -> ValidatedRequest {
    let v: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
    let cs = &v["conversationState"];
    let um = &cs["currentMessage"]["userInputMessage"];
    ValidatedRequest {
        model_id: um["modelId"].as_str().unwrap_or("auto").to_owned(),
        conversation_id: cs["conversationId"].as_str().map(str::to_owned),
        last_user_text: um["content"].as_str().unwrap_or("").to_owned(),
        estimated_input_tokens: crate::validate::estimate_tokens(raw.len()),
        tool_result_ids: um["userInputMessageContext"]["toolResults"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["toolUseId"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        has_profile_arn: v.get("profileArn").is_some(),
        ..ValidatedRequest::default()
    }
}

/// `POST /generateAssistantResponse`.
pub async fn handle(State(state): State<Arc<SimState>>, req: Request) -> Response {
    let conn = req.extensions().get::<Arc<ConnCtl>>().cloned();
    let ex = match Exchange::begin(state, req).await {
        Ok(ex) => ex,
        Err(r) => return r,
    };
    let arn_in_query = ex.query().contains_key("profileArn");
    let admitted = match admit(&ex, arn_in_query, ErrorKind::AccessDeniedException).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let caller = admitted.caller;
    let settings = admitted.settings;
    let account = caller.account_id.as_str();
    let queued: Option<(u64, Script, u64)> =
        admitted.script_behaviour.and_then(|t| match t.behaviour {
            Behaviour::Script { script } => Some((t.id, *script, t.delay_ms)),
            _ => None,
        });
    let skip_checks = queued.as_ref().is_some_and(|(_, s, _)| s.skip_checks);

    let summary = if skip_checks {
        lenient_summary(&ex.body)
    } else {
        let view = AccountView {
            tier: caller.tier,
            is_api_key: caller.is_api_key(),
        };
        match validate(&ex.body, &settings.validation(), view) {
            Ok(v) => v,
            Err(r) => {
                let label = format!("rejected:{}:{}", r.rule, r.detail);
                return ex.fail(Some(account), &r.kind.response(), &label);
            }
        }
    };

    if !skip_checks && !caller.is_api_key() {
        // Never another account's ARN (§2.3); optionally the account's own is required.
        let sent = if summary.has_profile_arn {
            root_profile_arn(&ex.body)
        } else {
            None
        };
        let denied = match (caller.profile_arn.as_deref(), sent.as_deref()) {
            (Some(own), Some(s)) if own != s => Some("chat_foreign_profile_arn"),
            (_, None) if caller.chat_requires_profile_arn => Some("chat_missing_profile_arn"),
            _ => None,
        };
        if let Some(label) = denied {
            return ex.fail(
                Some(account),
                &ErrorKind::AccessDeniedException.response(),
                label,
            );
        }
    }

    let thinking = summary
        .thinking
        .as_deref()
        .is_some_and(|t| !t.eq_ignore_ascii_case("disabled"));
    let has_results = !summary.tool_result_ids.is_empty();
    let (script, outcome, behaviour_delay) = match queued {
        Some((id, script, delay)) => (script, format!("behaviour:{id}:script"), delay),
        None => {
            let plan = if settings.triggers {
                triggers::plan(&summary.last_user_text, has_results, thinking)
            } else {
                None
            };
            match plan {
                Some(TriggerPlan::Error {
                    kind,
                    status,
                    retry_after,
                }) => {
                    let err = if kind == ErrorKind::TemporarilySuspended && status.is_none() {
                        temporarily_suspended(&caller.user_id, retry_after)
                    } else {
                        kind.response_with(status, retry_after)
                    };
                    return ex.fail(Some(account), &err, &format!("trigger:error:{kind}"));
                }
                Some(TriggerPlan::Script(s)) => (*s, "trigger:script".to_owned(), 0),
                None => (Script::default(), "stream".to_owned(), 0),
            }
        }
    };

    let model = models::find(&summary.model_id);
    let window = model.map_or(FALLBACK_WINDOW, |m| m.context_window);
    let multiplier = model.map_or(FALLBACK_MULTIPLIER, |m| m.multiplier);
    let credits = script.credits.unwrap_or(multiplier * settings.base_credit);
    if !script.skip_checks {
        let charge = script.body.is_none() && script.status.unwrap_or(200) == 200;
        let mut inner = ex.state.lock();
        inner.roll_period(account, ex.now_ms.div_euclid(1000));
        if let Some(a) = inner.accounts.get_mut(account) {
            if a.exhausted() {
                drop(inner);
                return ex.fail(
                    Some(account),
                    &ErrorKind::MonthlyRequestCount.response(),
                    "quota_exhausted",
                );
            }
            if charge {
                a.debit(credits);
            }
            a.chats += 1;
        }
    }

    let conversation_id = summary.conversation_id.clone().unwrap_or_default();
    let ctx = RenderCtx {
        model_id: &summary.model_id,
        context_window: window,
        input_tokens: summary.estimated_input_tokens,
        credits,
        conversation_id: &conversation_id,
        user_text: &summary.last_user_text,
        tool_results: summary.tool_result_ids.len(),
        thinking,
        pace: settings.pace,
        chunk_chars: settings.chunk_chars,
        seed: ex.state.seed(),
    };
    let plan = match render(&script, &ctx) {
        Ok(p) => p,
        Err(e) => {
            let text = format!("kiro-sim script error: {e}");
            ex.note(Some(account), 500, &text, None);
            return plain(500, &text);
        }
    };
    respond(&ex, plan, conn, account, outcome, behaviour_delay).await
}

/// Sends a rendered plan: status, headers, then the body steps.
async fn respond(
    ex: &Exchange,
    plan: Plan,
    conn: Option<Arc<ConnCtl>>,
    account: &str,
    outcome: String,
    extra_delay_ms: u64,
) -> Response {
    let record: Option<Vec<Bytes>> = ex.log_id.map(|_| {
        plan.steps
            .iter()
            .filter_map(|s| match s {
                Step::Data(b) => Some(b.clone()),
                _ => None,
            })
            .collect()
    });
    ex.note(Some(account), plan.status, outcome, record);
    let mut resp = Response::new(Body::new(SimBody::new(plan.steps, conn)));
    *resp.status_mut() = StatusCode::from_u16(plan.status).unwrap_or(StatusCode::OK);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&plan.content_type) {
        h.insert(axum::http::header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&ex.request_id) {
        h.insert(HeaderName::from_static("x-amzn-requestid"), v);
    }
    for (k, v) in &plan.headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.insert(k, v);
        }
    }
    let delay = plan.headers_delay_ms + extra_delay_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    resp
}
