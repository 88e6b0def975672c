//! Token usage derivation (spec §7.6), in priority order:
//! 1. `tokenUsage` from `metadataEvent` (or, failing that, `messageMetadataEvent`): exact.
//! 2. `contextUsagePercentage` × the model's window, all counted as input (the percentage may
//!    include this turn's output; over-reporting input is the safe side for client
//!    auto-compaction).
//! 3. The request-side estimate the service computed before sending.
//!
//! Output tokens come from `tokenUsage.outputTokens` when present, else from the emitted text,
//! thinking and tool JSON at [`CHARS_PER_TOKEN`] characters per token. A tokenizer would be more
//! precise, but the estimate also drives the `max_tokens` cut chunk by chunk, and a per-chunk
//! character count is both cheap and consistent with it.

use kiro_wire::event::TokenUsage;

use crate::canonical::Usage;

/// Characters per token of the output estimate.
pub(crate) const CHARS_PER_TOKEN: u64 = 4;

/// Tokens for `chars` characters of output.
pub(crate) fn estimate_tokens(chars: u64) -> u64 {
    chars.div_ceil(CHARS_PER_TOKEN)
}

/// Which source the input side of [`Usage`] came from (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageSource {
    MetadataEvent,
    MessageMetadataEvent,
    ContextUsage,
    Estimate,
}

#[derive(Debug, Default)]
pub(crate) struct UsageTracker {
    metadata: Option<TokenUsage>,
    message_metadata: Option<TokenUsage>,
    context_percent: Option<f64>,
    /// Characters of emitted output, by kind.
    pub text_chars: u64,
    pub thinking_chars: u64,
    pub tool_chars: u64,
}

fn has_counts(u: &TokenUsage) -> bool {
    u.uncached_input_tokens.is_some()
        || u.input_tokens.is_some()
        || u.cache_read_input_tokens.is_some()
        || u.cache_write_input_tokens.is_some()
        || u.output_tokens.is_some()
}

fn has_input(u: &TokenUsage) -> bool {
    u.uncached_input_tokens.is_some()
        || u.input_tokens.is_some()
        || u.cache_read_input_tokens.is_some()
        || u.cache_write_input_tokens.is_some()
}

impl UsageTracker {
    pub fn on_metadata(&mut self, usage: Option<&TokenUsage>) {
        if let Some(u) = usage.filter(|u| has_counts(u)) {
            self.metadata = Some(u.clone());
        }
    }

    pub fn on_message_metadata(&mut self, usage: Option<&TokenUsage>) {
        if let Some(u) = usage.filter(|u| has_counts(u)) {
            self.message_metadata = Some(u.clone());
        }
    }

    /// Records a context fill; zero, negative and non-finite values carry no information (a
    /// missing field reads as 0).
    pub fn on_context_usage(&mut self, percent: f64) {
        if percent.is_finite() && percent > 0.0 {
            self.context_percent = Some(percent);
        }
    }

    pub fn context_percent(&self) -> Option<f64> {
        self.context_percent
    }

    pub fn output_chars(&self) -> u64 {
        self.text_chars + self.thinking_chars + self.tool_chars
    }

    fn exact(&self) -> Option<(&TokenUsage, UsageSource)> {
        self.metadata
            .as_ref()
            .map(|u| (u, UsageSource::MetadataEvent))
            .or_else(|| {
                self.message_metadata
                    .as_ref()
                    .map(|u| (u, UsageSource::MessageMetadataEvent))
            })
    }

    /// The usage to report, and where its input side came from.
    pub fn usage(&self, context_window: u64, estimated_input: u64) -> (Usage, UsageSource) {
        let exact = self.exact();
        let estimated_output = estimate_tokens(self.output_chars());
        let output_tokens = exact
            .and_then(|(u, _)| u.output_tokens)
            .unwrap_or(estimated_output);
        let reasoning_tokens = exact.and_then(|(u, _)| u.reasoning_tokens).or_else(|| {
            (self.thinking_chars > 0)
                .then(|| estimate_tokens(self.thinking_chars).min(output_tokens))
        });
        let mut usage = Usage {
            output_tokens,
            reasoning_tokens,
            ..Usage::default()
        };
        let source = match exact.filter(|(u, _)| has_input(u)) {
            Some((u, source)) => {
                // A lone `inputTokens` counts as uncached.
                usage.input_tokens = u.uncached_input_tokens.or(u.input_tokens).unwrap_or(0);
                usage.cache_read_input_tokens = u.cache_read_input_tokens.unwrap_or(0);
                usage.cache_creation_input_tokens = u.cache_write_input_tokens.unwrap_or(0);
                source
            }
            None => match self.context_percent {
                Some(pct) => {
                    usage.input_tokens = input_from_percent(pct, context_window);
                    UsageSource::ContextUsage
                }
                None => {
                    usage.input_tokens = estimated_input;
                    UsageSource::Estimate
                }
            },
        };
        (usage, source)
    }
}

/// round(pct / 100 × window). Context windows are far below 2^52, so the conversion to `f64` is
/// exact, and the float-to-integer `as` saturates.
fn input_from_percent(pct: f64, window: u64) -> u64 {
    (pct / 100.0 * window as f64).round().max(0.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds() {
        assert_eq!(input_from_percent(61.49, 200_000), 122_980);
        assert_eq!(input_from_percent(0.0001, 1_000_000), 1);
        assert_eq!(input_from_percent(150.0, 1_000), 1_500);
    }

    #[test]
    fn estimate_rounds_up() {
        assert_eq!(estimate_tokens(0), 0);
        assert_eq!(estimate_tokens(1), 1);
        assert_eq!(estimate_tokens(8), 2);
        assert_eq!(estimate_tokens(9), 3);
    }
}
