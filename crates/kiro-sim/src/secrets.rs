//! Issues the opaque credentials the service hands out, in their real shapes and sizes (spec
//! §2.1): `aoa…` access tokens (~232 characters), `aor…` refresh tokens (≥ 100), `ksk_…` API
//! keys, OIDC client ids and secrets (thousands of characters), device and user codes, profile
//! ARNs and user ids. With a seed the sequence is reproducible.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64STD: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
/// No vowels or look-alikes, like the real user codes (`ZPGH-WFKK`).
const USER_CODE: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const HEX: &[u8] = b"0123456789abcdef";

/// Length of issued access tokens.
pub const ACCESS_TOKEN_LEN: usize = 232;
/// Length of issued refresh tokens.
pub const REFRESH_TOKEN_LEN: usize = 356;
/// Length of issued OIDC client secrets.
pub const CLIENT_SECRET_LEN: usize = 2_720;

/// The profile ARN many social accounts share (spec §2.3).
pub const SHARED_SOCIAL_PROFILE_ARN: &str =
    "arn:aws:codewhisperer:us-east-1:699475941385:profile/EHGA3GRVQMUK";

/// A random source for credentials.
#[derive(Debug)]
pub struct Issuer {
    rng: StdRng,
}

impl Issuer {
    /// Seeded (reproducible) when `seed` is given, else from the OS.
    pub fn new(seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        Issuer { rng }
    }

    fn chars(&mut self, alphabet: &[u8], n: usize, out: &mut String) {
        out.reserve(n);
        for _ in 0..n {
            let i = self.rng.random_range(0..alphabet.len());
            out.push(char::from(alphabet[i]));
        }
    }

    fn token(&mut self, prefix: &str, total: usize) -> String {
        // Real tokens are two base64 segments joined by ':' (a payload and an ECDSA signature).
        let mut s = String::with_capacity(total);
        s.push_str(prefix);
        let body = total.saturating_sub(prefix.len());
        let first = body * 2 / 3;
        self.chars(B64URL, first, &mut s);
        s.push_str(":MGUCMQ");
        let rest = total.saturating_sub(s.len());
        self.chars(B64URL, rest, &mut s);
        s
    }

    /// An `aoa…` access token.
    pub fn access_token(&mut self) -> String {
        self.token("aoaAAAAAG", ACCESS_TOKEN_LEN)
    }

    /// An `aor…` refresh token.
    pub fn refresh_token(&mut self) -> String {
        self.token("aorAAAAAG", REFRESH_TOKEN_LEN)
    }

    /// A `ksk_…` Kiro API key.
    pub fn api_key(&mut self) -> String {
        let mut s = String::from("ksk_");
        self.chars(ALNUM, 48, &mut s);
        s
    }

    /// An OIDC `clientId`.
    pub fn client_id(&mut self) -> String {
        let mut s = String::new();
        self.chars(B64URL, 22, &mut s);
        s.push_str("dXMtZWFzdC0x");
        s
    }

    /// An OIDC `clientSecret`: a JWT-looking blob of thousands of characters.
    pub fn client_secret(&mut self) -> String {
        let mut s = String::from("eyJraWQiOiJrZXktMTU2NDAyODA5OSIsImFsZyI6IkhTMzg0In0.");
        let rest = CLIENT_SECRET_LEN.saturating_sub(s.len());
        self.chars(B64STD, rest, &mut s);
        s
    }

    /// A device-authorization `deviceCode`.
    pub fn device_code(&mut self) -> String {
        let mut s = String::new();
        self.chars(B64URL, 86, &mut s);
        s
    }

    /// A `userCode` like `ZPGH-WFKK`.
    pub fn user_code(&mut self) -> String {
        let mut s = String::with_capacity(9);
        self.chars(USER_CODE, 4, &mut s);
        s.push('-');
        self.chars(USER_CODE, 4, &mut s);
        s
    }

    /// A profile ARN in `region` with a random account number and profile id.
    pub fn profile_arn(&mut self, region: &str) -> String {
        let mut account = String::new();
        self.chars(b"0123456789", 12, &mut account);
        let mut id = String::new();
        self.chars(UPPER_ALNUM, 12, &mut id);
        format!("arn:aws:codewhisperer:{region}:{account}:profile/{id}")
    }

    /// A random UUID v4 (from this issuer's source, so seeded runs repeat).
    pub fn uuid(&mut self) -> uuid::Uuid {
        let bytes: [u8; 16] = self.rng.random();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }

    /// A user id: `d-<directory>.<uuid>` for IdC, a bare UUID for social and API-key accounts.
    pub fn user_id(&mut self, idc: bool) -> String {
        let uuid = self.uuid();
        if idc {
            let mut dir = String::from("d-");
            self.chars(HEX, 10, &mut dir);
            format!("{dir}.{uuid}")
        } else {
            uuid.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let mut i = Issuer::new(Some(7));
        let a = i.access_token();
        assert!(a.starts_with("aoa") && a.len() == ACCESS_TOKEN_LEN);
        let r = i.refresh_token();
        assert!(r.starts_with("aor") && r.len() >= 100 && !r.contains("..."));
        assert!(i.api_key().starts_with("ksk_"));
        assert!(i.client_secret().len() > 2000);
        let code = i.user_code();
        assert_eq!(code.len(), 9);
        assert_eq!(&code[4..5], "-");
        assert!(
            i.profile_arn("eu-central-1")
                .starts_with("arn:aws:codewhisperer:eu-central-1:")
        );
        assert!(i.user_id(true).starts_with("d-"));
    }

    #[test]
    fn seeded_is_reproducible() {
        assert_eq!(
            Issuer::new(Some(1)).access_token(),
            Issuer::new(Some(1)).access_token()
        );
    }
}
