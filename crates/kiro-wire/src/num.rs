//! Lenient number and date deserialisers for upstream JSON.
//!
//! The service sends counts as integers, floats (`1280.0`), exponent form (`1.780272E9`) and, in
//! older responses, strings or ISO-8601 dates. These helpers accept all of them; use them with
//! `#[serde(default, deserialize_with = "...")]`.

use serde::{Deserialize, Deserializer};

/// A JSON number in any form, or a numeric string, as a finite float. Matching the value
/// directly (not through an untagged enum) keeps a float from costing two serde error strings.
fn value_to_f64(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// An optional float that may arrive as an integer, a float, exponent form or a numeric string.
/// Anything unreadable (including `null`) becomes `None`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let v: Option<serde_json::Value> = Option::deserialize(d)?;
    Ok(v.as_ref().and_then(value_to_f64))
}

/// A float that may arrive in any numeric form; unreadable values become `0.0`.
pub fn f64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(opt_f64(d)?.unwrap_or(0.0))
}

/// An optional non-negative count that may arrive as a float or in exponent form (rounded down).
pub fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(opt_f64(d)?.filter(|f| *f >= 0.0).map(|f| f.floor() as u64))
}

/// A count in any numeric form; unreadable values become `0`.
pub fn u64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(opt_u64(d)?.unwrap_or(0))
}

/// An optional signed integer (e.g. epoch seconds) in any numeric form.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(opt_f64(d)?.map(|f| f.floor() as i64))
}

/// An optional epoch-seconds timestamp given as a number in any form or as an ISO-8601 /
/// RFC 3339 date string (`2026-06-01T00:00:00Z`, `2026-06-01`).
pub fn opt_epoch_secs<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v: Option<serde_json::Value> = Option::deserialize(d)?;
    Ok(match v {
        Some(serde_json::Value::String(s)) => {
            parse_iso8601(&s).or_else(|| s.trim().parse::<f64>().ok().map(|f| f.floor() as i64))
        }
        Some(other) => value_to_f64(&other).map(|f| f.floor() as i64),
        None => None,
    })
}

/// Parses `YYYY-MM-DD[Thh:mm:ss[.fff][Z|±hh:mm]]` into epoch seconds.
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut dp = date.splitn(3, '-');
    let y: i64 = dp.next()?.parse().ok()?;
    let m: u32 = dp.next()?.parse().ok()?;
    let d: u32 = dp.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(t) = time {
        let (clock, offset) = split_offset(t)?;
        let mut tp = clock.splitn(3, ':');
        let h: i64 = tp.next()?.parse().ok()?;
        let mi: i64 = tp.next().unwrap_or("0").parse().ok()?;
        let sec_str = tp.next().unwrap_or("0");
        let sec: i64 = sec_str.split('.').next()?.parse().ok()?;
        if h > 23 || mi > 59 || sec > 60 {
            return None;
        }
        secs += h * 3600 + mi * 60 + sec - offset;
    }
    Some(secs)
}

fn split_offset(t: &str) -> Option<(&str, i64)> {
    if let Some(c) = t.strip_suffix(['Z', 'z']) {
        return Some((c, 0));
    }
    if let Some(i) = t.rfind(['+', '-']) {
        let (clock, off) = t.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (oh, om) = match off.split_once(':') {
            Some((h, m)) => (h, m),
            None if off.len() == 4 => off.split_at(2),
            None => (off, "0"),
        };
        let oh: i64 = oh.parse().ok()?;
        let om: i64 = om.parse().ok()?;
        return Some((clock, sign * (oh * 3600 + om * 60)));
    }
    Some((t, 0))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01 (inverse of
/// [`days_from_civil`]).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

/// 00:00 UTC on the first day of the month after the one holding `epoch_secs`: when monthly
/// credits reset unless the service says otherwise.
pub fn first_of_next_month(epoch_secs: i64) -> i64 {
    let (year, month, _) = civil_from_days(epoch_secs.div_euclid(86_400));
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    days_from_civil(y, m, 1) * 86_400
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "opt_f64")]
        f: Option<f64>,
        #[serde(default, deserialize_with = "opt_u64")]
        u: Option<u64>,
        #[serde(default, deserialize_with = "opt_epoch_secs")]
        t: Option<i64>,
    }

    fn parse(s: &str) -> T {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn numbers_in_every_form() {
        assert_eq!(parse(r#"{"f": 1280.59}"#).f, Some(1280.59));
        assert_eq!(parse(r#"{"f": 1280}"#).f, Some(1280.0));
        assert_eq!(parse(r#"{"f": "3.25"}"#).f, Some(3.25));
        assert_eq!(parse(r#"{"u": 1.780272E9}"#).u, Some(1_780_272_000));
        assert_eq!(parse(r#"{"u": 12.9}"#).u, Some(12));
        assert_eq!(parse(r#"{"u": -1}"#).u, None);
        assert_eq!(parse(r#"{"f": null, "u": null}"#).f, None);
        assert_eq!(parse(r#"{"f": "abc"}"#).f, None);
        assert_eq!(parse(r#"{}"#).u, None);
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [
            -719_468i64,
            -1,
            0,
            59,
            60,
            365,
            10_957,
            20_605,
            20_783,
            2_932_896,
        ] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{days} -> {y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(20_605), (2026, 6, 1));
        // 2026-11-26T08:00:00Z -> 2026-12-01; 2026-12-31 -> 2027-01-01.
        assert_eq!(
            first_of_next_month(1_795_680_000),
            days_from_civil(2026, 12, 1) * 86_400
        );
        assert_eq!(
            first_of_next_month(days_from_civil(2026, 12, 31) * 86_400),
            days_from_civil(2027, 1, 1) * 86_400
        );
    }

    #[test]
    fn dates_as_numbers_or_iso() {
        assert_eq!(parse(r#"{"t": 1780272000}"#).t, Some(1_780_272_000));
        assert_eq!(parse(r#"{"t": 1.780272E9}"#).t, Some(1_780_272_000));
        assert_eq!(
            parse(r#"{"t": "2026-06-01T00:00:00Z"}"#).t,
            Some(1_780_272_000)
        );
        assert_eq!(parse(r#"{"t": "2026-06-01"}"#).t, Some(1_780_272_000));
        assert_eq!(
            parse(r#"{"t": "2026-06-01T02:00:00.123+02:00"}"#).t,
            Some(1_780_272_000)
        );
        assert_eq!(parse(r#"{"t": "not a date"}"#).t, None);
    }
}
