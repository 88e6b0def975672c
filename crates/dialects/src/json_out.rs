//! Hand-written JSON fragments for the SSE hot path: a string escaper whose output is byte for
//! byte what `serde_json` writes, and decimal integers. Writing a delta's constant envelope by
//! hand and escaping only its text avoids serde's `io::Write` adapter (one `put_slice` per
//! piece) on every upstream frame.

use bytes::{BufMut as _, BytesMut};

/// Per byte: 0 = copied as is; otherwise the character after the backslash (`u` = `\u00XX`).
/// The same choices as `serde_json`'s compact formatter: `"`, `\`, the five short escapes
/// (`\b \t \n \f \r`) and `\u00XX` (lowercase hex) for the other C0 controls. DEL (0x7f),
/// U+2028/U+2029 and every other non-ASCII character are written unescaped, as serde does.
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a JSON string literal (quotes included), identical to
/// `serde_json::to_writer(out, s)`.
pub(crate) fn string(out: &mut BytesMut, s: &str) {
    let bytes = s.as_bytes();
    // Room for the common case (nothing to escape) in one reservation.
    out.reserve(bytes.len() + 2);
    out.put_u8(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPE[usize::from(b)];
        if escape == 0 {
            continue;
        }
        if start < i {
            out.extend_from_slice(&bytes[start..i]);
        }
        if escape == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', escape]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.put_u8(b'"');
}

/// Appends `n` in decimal.
pub(crate) fn uint(out: &mut BytesMut, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        // `n % 10` is below 10, so the cast cannot truncate.
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends `n` in decimal, sign included.
pub(crate) fn int(out: &mut BytesMut, n: i64) {
    if n < 0 {
        out.put_u8(b'-');
    }
    uint(out, n.unsigned_abs());
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ours(s: &str) -> Vec<u8> {
        let mut out = BytesMut::new();
        string(&mut out, s);
        out.to_vec()
    }

    #[test]
    fn every_single_character_class_matches_serde() {
        let mut cases: Vec<String> = (0u32..0x80)
            .filter_map(char::from_u32)
            .map(String::from)
            .collect();
        cases.extend(
            [
                "\u{2028}",
                "\u{2029}",
                "\u{7f}",
                "é漢字😀",
                "",
                "a\"b\\c\u{0}d\u{1f}",
            ]
            .map(str::to_owned),
        );
        for s in cases {
            assert_eq!(ours(&s), serde_json::to_vec(&s).unwrap(), "{s:?}");
        }
    }

    /// Strings rich in the characters that need care: controls, quotes, backslashes, DEL,
    /// the JS line separators, multi-byte characters.
    fn tricky() -> impl Strategy<Value = String> {
        let chars = prop_oneof![
            any::<char>(),
            (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
            Just('"'),
            Just('\\'),
            Just('\u{7f}'),
            Just('\u{2028}'),
            Just('\u{2029}'),
            Just('é'),
            Just('😀'),
            Just('a'),
        ];
        proptest::collection::vec(chars, 0..64).prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn arbitrary_strings_match_serde(s in any::<String>()) {
            prop_assert_eq!(ours(&s), serde_json::to_vec(&s).unwrap());
        }

        #[test]
        fn tricky_strings_match_serde(s in tricky()) {
            prop_assert_eq!(ours(&s), serde_json::to_vec(&s).unwrap());
        }

        #[test]
        fn appending_keeps_what_was_there(prefix in "[a-z]{0,8}", s in tricky()) {
            let mut out = BytesMut::from(prefix.as_bytes());
            string(&mut out, &s);
            let mut want = prefix.into_bytes();
            want.extend(serde_json::to_vec(&s).unwrap());
            prop_assert_eq!(out.to_vec(), want);
        }

        #[test]
        fn integers_match_display(n in any::<u64>(), m in any::<i64>()) {
            let mut out = BytesMut::new();
            uint(&mut out, n);
            prop_assert_eq!(out.to_vec(), n.to_string().into_bytes());
            let mut out = BytesMut::new();
            int(&mut out, m);
            prop_assert_eq!(out.to_vec(), m.to_string().into_bytes());
        }
    }
}
