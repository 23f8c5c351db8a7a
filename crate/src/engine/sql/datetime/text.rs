//! Spark's CAST between text and DATE / TIMESTAMP: the lenient ISO-like
//! forms it reads (`stringToDate`, `stringToTimestamp`) and the text it
//! writes.

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

use super::civil::{date_of_days, datetime_of_micros, days_of_date, micros_of_datetime};

/// Spark trims whitespace and control characters around the text.
fn trimmed(s: &str) -> &[u8] {
    let bytes = s.as_bytes();
    let start = bytes.iter().position(|b| *b > b' ').unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| *b > b' ').map_or(start, |e| e + 1);
    &bytes[start..end.max(start)]
}

/// `[+-]yyyy[-[m]m[-[d]d]]`, then anything after a space or `T`.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let bytes = trimmed(s);
    if bytes.is_empty() {
        return None;
    }
    let valid = |segment: usize, digits: usize| {
        if segment == 0 { (4..=7).contains(&digits) } else { (1..=2).contains(&digits) }
    };
    let mut segments = [1i64, 1, 1];
    let mut j = 0;
    let mut sign = 1;
    if bytes[0] == b'-' || bytes[0] == b'+' {
        sign = if bytes[0] == b'-' { -1 } else { 1 };
        j = 1;
    }
    let (mut i, mut value, mut digits) = (0usize, 0i64, 0usize);
    while j < bytes.len() && i < 3 && !(bytes[j] == b' ' || bytes[j] == b'T') {
        let b = bytes[j];
        if i < 2 && b == b'-' {
            if !valid(i, digits) {
                return None;
            }
            segments[i] = value;
            (value, digits) = (0, 0);
            i += 1;
        } else if b.is_ascii_digit() {
            value = value * 10 + i64::from(b - b'0');
            digits += 1;
            if digits > 7 {
                return None;
            }
        } else {
            return None;
        }
        j += 1;
    }
    if !valid(i, digits) || (i < 2 && j < bytes.len()) {
        return None;
    }
    segments[i] = value;
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(sign * segments[0]).ok()?,
        u32::try_from(segments[1]).ok()?,
        u32::try_from(segments[2]).ok()?,
    )?;
    Some(days_of_date(date))
}

/// The zone a timestamp's text names.
pub(crate) enum Zone {
    /// None: the session time zone (UTC).
    Session,
    /// A fixed offset, in seconds.
    Offset(i64),
    /// A region id (`America/New_York`) this engine cannot resolve per row.
    Named(String),
}

/// What the text of a timestamp names.
pub(crate) enum Parsed {
    /// A wall-clock time (microseconds as if in UTC) in a zone.
    At { local: i64, zone: Zone },
    /// A time of day without a date, which Spark puts on today's date.
    TimeOnly,
}

/// `[+-]yyyy[-mm[-dd[( |T)hh[:mm[:ss[.ffffff]]][zone]]]]`, Spark's
/// `stringToTimestamp`; `None` when the text is not a timestamp.
pub(crate) fn parse_timestamp(s: &str) -> Option<Parsed> {
    let bytes = trimmed(s);
    let valid = |segment: usize, digits: usize| match segment {
        0 => (4..=6).contains(&digits),
        6 => true,
        7 => digits <= 2,
        _ => (1..=2).contains(&digits),
    };
    let mut segments = [1i64, 1, 1, 0, 0, 0, 0, 0, 0];
    let (mut i, mut value, mut digits, mut fraction_digits) = (0usize, 0i64, 0usize, 0u32);
    let mut j = 0;
    let mut sign = 1;
    let mut zone: Option<&[u8]> = None;
    if j < bytes.len() && (bytes[j] == b'-' || bytes[j] == b'+') {
        sign = if bytes[j] == b'-' { -1 } else { 1 };
        j += 1;
    }
    if bytes.first() == Some(&b'T') {
        return Some(Parsed::TimeOnly);
    }
    while j < bytes.len() {
        let b = bytes[j];
        if b.is_ascii_digit() {
            if i == 6 {
                fraction_digits += 1;
            }
            if i != 6 || digits < 6 {
                value = value * 10 + i64::from(b - b'0');
            }
            digits += 1;
            if i != 6 && digits > 6 {
                return None;
            }
            j += 1;
            continue;
        }
        let next = match i {
            0 if b == b':' && sign == 1 && j == digits => return Some(Parsed::TimeOnly),
            0 | 1 if b == b'-' => true,
            2 if b == b' ' || b == b'T' => true,
            3 | 4 if b == b':' => true,
            5 if b == b'.' => true,
            5 | 6 => {
                if !valid(i, digits) {
                    return None;
                }
                segments[i] = value;
                zone = Some(&bytes[j..]);
                i = 7;
                digits = 0;
                break;
            }
            _ => return None,
        };
        if !next || !valid(i, digits) {
            return None;
        }
        segments[i] = value;
        (value, digits) = (0, 0);
        i += 1;
        j += 1;
    }
    if zone.is_none() {
        if !valid(i, digits) {
            return None;
        }
        segments[i] = value;
    }
    while fraction_digits < 6 {
        segments[6] *= 10;
        fraction_digits += 1;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(sign * segments[0]).ok()?,
        u32::try_from(segments[1]).ok()?,
        u32::try_from(segments[2]).ok()?,
    )?;
    let time = NaiveTime::from_hms_micro_opt(
        u32::try_from(segments[3]).ok()?,
        u32::try_from(segments[4]).ok()?,
        u32::try_from(segments[5]).ok()?,
        u32::try_from(segments[6]).ok()?,
    )?;
    let local = micros_of_datetime(date.and_time(time));
    let zone = match zone {
        None => Zone::Session,
        Some(zone) => {
            let zone = std::str::from_utf8(zone).ok()?.trim();
            match zone_offset_seconds(zone) {
                Some(offset) => Zone::Offset(offset),
                None if zone.chars().all(|c| c.is_ascii_alphanumeric() || "/_+-:".contains(c)) => {
                    Zone::Named(zone.to_string())
                }
                None => return None,
            }
        }
    };
    Some(Parsed::At { local, zone })
}

/// The offset of a fixed zone id (`Z`, `UTC`, `GMT+1`, `+02:00`, `-0530`)
/// in seconds; `None` for region ids and what is not a zone.
pub(super) fn zone_offset_seconds(zone: &str) -> Option<i64> {
    let upper = zone.to_ascii_uppercase();
    let rest = ["UTC", "GMT", "UT", "Z"].iter().find_map(|prefix| upper.strip_prefix(prefix).map(|r| (prefix, r)));
    let rest = match rest {
        Some((_, "")) => return Some(0),
        Some((&"Z", _)) => return None,
        Some((_, r)) => r,
        None => upper.as_str(),
    };
    let (sign, digits) = match rest.as_bytes().first() {
        Some(b'+') => (1, &rest[1..]),
        Some(b'-') => (-1, &rest[1..]),
        _ => return None,
    };
    let parts: Vec<&str> = digits.split(':').collect();
    let number = |s: &str| {
        if (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) { s.parse::<i64>().ok() } else { None }
    };
    let (h, m, sec) = match parts.as_slice() {
        [h] if h.len() == 4 && h.bytes().all(|b| b.is_ascii_digit()) => (h[..2].parse().ok()?, h[2..].parse().ok()?, 0),
        [h] => (number(h)?, 0, 0),
        [h, m] if m.len() == 2 => (number(h)?, number(m)?, 0),
        [h, m, s] if m.len() == 2 && s.len() == 2 => (number(h)?, number(m)?, number(s)?),
        _ => return None,
    };
    if h > 18 || m > 59 || sec > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + sec))
}

/// A year as Java's `uuuu` writes it: four digits at least, a sign when
/// negative or when wider than four digits.
pub(super) fn year_text(year: i32, width: usize) -> String {
    if year < 0 {
        format!("-{:0width$}", year.unsigned_abs())
    } else if width >= 4 && year.to_string().len() > width {
        format!("+{year}")
    } else {
        format!("{year:0width$}")
    }
}

/// Spark's text of a date: `2024-01-05`.
pub(super) fn date_text(days: i64) -> Option<String> {
    let d = date_of_days(days)?;
    Some(format!("{}-{:02}-{:02}", year_text(d.year(), 4), d.month(), d.day()))
}

/// Spark's text of a timestamp: `2024-01-05 10:00:00`, with a fraction
/// only when it is not zero, trailing zeros trimmed.
pub(super) fn timestamp_text(micros: i64) -> Option<String> {
    let t = datetime_of_micros(micros)?;
    let mut text = format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}",
        year_text(t.year(), 4),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let fraction = micros.rem_euclid(1_000_000);
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    Some(text)
}
