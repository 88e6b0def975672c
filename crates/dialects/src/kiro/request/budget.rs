//! N15 size guard (spec §4.6, V10): the serialized body must fit `max_body_bytes`. Over it, the
//! request fails with a context-length error, or (when configured) the oldest whole
//! user/assistant pairs after the system pair are dropped.

use kiro_wire::types::request::GenerateAssistantResponseRequest;

use super::turns::Turn;
use crate::canonical::{ClientError, ErrorKind};

/// Serialized size of each history entry that came from `turns` (the system pair excluded),
/// counting the separating comma.
pub(crate) fn turn_sizes(body: &GenerateAssistantResponseRequest, system_pair: bool) -> Vec<usize> {
    let skip = if system_pair { 2 } else { 0 };
    body.conversation_state
        .history
        .iter()
        .skip(skip)
        .map(|entry| serde_json::to_vec(entry).map_or(0, |v| v.len() + 1))
        .collect()
}

/// How many leading turns to drop so that at least `excess` bytes go: always whole
/// user/assistant pairs, and never leaving a first turn whose tool results would lose their
/// tool calls (unless only the current message is left). `sizes` covers every turn but the
/// last (the current message). `None` when even dropping all history is not enough.
pub(crate) fn trim_count(turns: &[Turn<'_>], sizes: &[usize], excess: usize) -> Option<usize> {
    let history = turns.len().saturating_sub(1);
    let mut removed = 0usize;
    let mut k = 0;
    while k + 2 <= history {
        removed += sizes.get(k).copied().unwrap_or(0) + sizes.get(k + 1).copied().unwrap_or(0);
        k += 2;
        let orphaning = k < history && !turns[k].tool_results.is_empty();
        if removed >= excess && !orphaning {
            return Some(k);
        }
    }
    None
}

/// The client error for a body over budget (Anthropic "prompt is too long", OpenAI
/// `context_length_exceeded`).
pub(crate) fn too_long(body_bytes: usize, max_bytes: usize, estimated_tokens: u64) -> ClientError {
    // The byte budget as tokens, at this request's own bytes-per-token ratio.
    let max_tokens =
        (estimated_tokens as u128 * max_bytes as u128 / body_bytes.max(1) as u128) as u64;
    ClientError::new(
        ErrorKind::ContextLengthExceeded,
        format!(
            "prompt is too long: {estimated_tokens} tokens > {max_tokens} maximum (the upstream \
             request would be {body_bytes} bytes, over its {max_bytes}-byte limit)"
        ),
    )
}
