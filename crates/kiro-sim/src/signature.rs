//! Thinking signatures issued by the simulator and checked on replay (V13, N12).
//!
//! A signature is opaque base64 text, like the real ones: a version byte followed by a SHA-256
//! over a fixed simulator secret, the model id and the thinking text (each length-prefixed, so
//! no two (model, text) pairs share an input). It is deterministic, so golden tests stay stable,
//! and it binds the text to the model: replaying it under another model fails, as §4.4 says.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

/// Not a secret in any real sense: it only keeps the simulator's signatures from being
/// a bare hash a client could recompute by accident.
const SIM_SECRET: &[u8] = b"kiro-sim thinking signature secret v1";
const VERSION: u8 = 1;

fn mac(model_id: &str, thinking_text: &str) -> [u8; 33] {
    let mut h = Sha256::new();
    h.update(SIM_SECRET);
    h.update((model_id.len() as u64).to_be_bytes());
    h.update(model_id.as_bytes());
    h.update((thinking_text.len() as u64).to_be_bytes());
    h.update(thinking_text.as_bytes());
    let digest = h.finalize();
    let mut out = [0u8; 33];
    out[0] = VERSION;
    out[1..].copy_from_slice(&digest);
    out
}

/// The signature the simulator puts on the last `reasoningContentEvent` of a thinking block.
pub fn sign(model_id: &str, thinking_text: &str) -> String {
    STANDARD.encode(mac(model_id, thinking_text))
}

/// Whether `signature` is the one [`sign`] issues for this model and text.
pub fn verify(model_id: &str, thinking_text: &str, signature: &str) -> bool {
    let Ok(given) = STANDARD.decode(signature) else {
        return false;
    };
    let expected = mac(model_id, thinking_text);
    // Constant-time shape out of habit; nothing here is secret.
    given.len() == expected.len()
        && given
            .iter()
            .zip(expected.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let sig = sign("claude-opus-4.7", "Let me think about Paris.");
        assert!(verify("claude-opus-4.7", "Let me think about Paris.", &sig));
        assert_eq!(sig, sign("claude-opus-4.7", "Let me think about Paris."));
        assert!(STANDARD.decode(&sig).is_ok());
    }

    #[test]
    fn rejects_other_model_text_or_garbage() {
        let sig = sign("claude-opus-4.7", "thought");
        assert!(!verify("claude-opus-4.6", "thought", &sig));
        assert!(!verify("claude-opus-4.7", "thought.", &sig));
        assert!(!verify("claude-opus-4.7", "thought", "not base64!"));
        assert!(!verify("claude-opus-4.7", "thought", ""));
        assert!(!verify("claude-opus-4.7", "thought", &sig[..sig.len() - 4]));
        assert_ne!(sign("ab", "c"), sign("a", "bc"));
    }
}
