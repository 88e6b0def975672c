//! Timestamps in admin request bodies: Unix seconds (or milliseconds) or RFC 3339.
//!
//! The IDE token cache writes `expiresAt` as RFC 3339 (`2025-08-20T12:34:56.789Z`); scripts tend
//! to send Unix seconds; JavaScript sends milliseconds. All three are accepted.

use serde_json::Value;

/// Numbers above this are taken as milliseconds (as seconds it would be the year 5138).
const MILLIS_THRESHOLD: f64 = 100_000_000_000.0;

/// Parses a timestamp value into Unix seconds; `Err` holds what was expected.
pub(super) fn parse_timestamp(value: &Value) -> Result<i64, &'static str> {
    const EXPECTED: &str = "Unix seconds or an RFC 3339 date such as 2025-08-20T12:34:56Z";
    match value {
        Value::Number(n) => n.as_f64().and_then(from_number).ok_or(EXPECTED),
        Value::String(s) => {
            let s = s.trim();
            if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                s.parse::<f64>().ok().and_then(from_number).ok_or(EXPECTED)
            } else {
                parse_rfc3339(s).ok_or(EXPECTED)
            }
        }
        _ => Err(EXPECTED),
    }
}

fn from_number(n: f64) -> Option<i64> {
    if !n.is_finite() || n < 0.0 {
        return None;
    }
    let secs = if n > MILLIS_THRESHOLD { n / 1000.0 } else { n };
    // In range by construction of the threshold (well below i64::MAX).
    (secs < 1e15).then_some(secs.floor() as i64)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.fraction](Z|±HH:MM)` → Unix seconds (fraction dropped).
pub(super) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> {
        let digits = b.get(from..to)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits
            .iter()
            .try_fold(0i64, |acc, d| Some(acc * 10 + i64::from(d - b'0')))
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    if at(i, b".") {
        i += 1;
        let start = i;
        while at(i, b"0123456789") {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = if at(i, b"Zz") && b.len() == i + 1 {
        0
    } else if at(i, b"+-") && at(i + 3, b":") && b.len() == i + 6 {
        let (h, m) = (num(i + 1, i + 3)?, num(i + 4, i + 6)?);
        if h > 23 || m > 59 {
            return None;
        }
        let sign = if at(i, b"-") { -1 } else { 1 };
        sign * (h * 3600 + m * 60)
    } else {
        return None;
    };
    // A leap second counts as the last second of its minute.
    let second = second.min(59);
    Some(
        kiro_wire::num::days_from_civil(year, month as u32, day as u32) * 86_400
            + hour * 3600
            + minute * 60
            + second
            - offset,
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2025-08-20T12:34:56Z"), Some(1_755_693_296));
        assert_eq!(
            parse_rfc3339("2025-08-20T12:34:56.789Z"),
            Some(1_755_693_296)
        );
        assert_eq!(
            parse_rfc3339("2025-08-20T14:34:56+02:00"),
            Some(1_755_693_296)
        );
        assert_eq!(
            parse_rfc3339("2025-08-20 10:34:56-02:00"),
            Some(1_755_693_296)
        );
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(parse_rfc3339("2023-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2025-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2025-08-20T12:34:56"), None);
        assert_eq!(parse_rfc3339("2025-08-20T12:34:56.Z"), None);
        assert_eq!(parse_rfc3339("2025-08-20T12:34:56Zjunk"), None);
        assert_eq!(parse_rfc3339("2025-08-2é12:34:56Z"), None);
        assert_eq!(parse_rfc3339(""), None);
    }

    #[test]
    fn numbers_and_strings() {
        assert_eq!(parse_timestamp(&json!(1_755_693_296)), Ok(1_755_693_296));
        assert_eq!(
            parse_timestamp(&json!(1_755_693_296_789u64)),
            Ok(1_755_693_296)
        );
        assert_eq!(parse_timestamp(&json!(1_755_693_296.5)), Ok(1_755_693_296));
        assert_eq!(parse_timestamp(&json!("1755693296")), Ok(1_755_693_296));
        assert_eq!(
            parse_timestamp(&json!("2025-08-20T12:34:56Z")),
            Ok(1_755_693_296)
        );
        assert!(parse_timestamp(&json!(-5)).is_err());
        assert!(parse_timestamp(&json!(true)).is_err());
        assert!(parse_timestamp(&json!("tomorrow")).is_err());
    }
}
