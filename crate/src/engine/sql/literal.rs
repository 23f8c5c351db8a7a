//! Literals: numbers (with Spark's typed suffixes), strings with their
//! escapes, binary, and the text of INTERVAL values.

use polars::prelude::*;
use sqlparser::ast::{self, Value as V};

use super::cast;
use super::expr::Tr;
use super::typed::{Lit, SqlResult, Typed, refuse};

/// A literal.
pub(crate) fn value(v: &V) -> SqlResult<Typed> {
    Ok(match v {
        V::Number(text, long) => {
            let t = Typed::constant(number(text, *long)?);
            // Spark's typed literals: 1L, 1Y, 1S, 1.5D, 1.5F, 1.5BD.
            let lower = text.to_lowercase();
            let typed = if *long {
                Some(DataType::Int64)
            } else if lower.ends_with("bd") {
                None
            } else if lower.ends_with('l') {
                Some(DataType::Int64)
            } else if lower.ends_with('y') {
                Some(DataType::Int8)
            } else if lower.ends_with('s') {
                Some(DataType::Int16)
            } else if lower.ends_with('d') {
                Some(DataType::Float64)
            } else if lower.ends_with('f') {
                Some(DataType::Float32)
            } else {
                None
            };
            match typed {
                Some(to) => {
                    let lit = t.lit.clone();
                    let mut c = cast::cast(t, &to, true)?;
                    c.lit = lit.filter(|l| matches!(l, Lit::Int(_)) && cast::is_integer(&to));
                    c
                }
                None => t,
            }
        }
        V::SingleQuotedString(s) | V::DoubleQuotedString(s) => Typed::constant(Lit::Str(unescape(s))),
        V::Boolean(b) => Typed::constant(Lit::Bool(*b)),
        V::Null => Typed::constant(Lit::Null),
        V::HexStringLiteral(h) => {
            let bytes = (0..h.len() / 2)
                .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| refuse(format!("X'{h}' is not hexadecimal"), "write X'1F2A'"))?;
            Typed::new(lit(bytes), DataType::Binary)
        }
        other => {
            return Err(refuse(format!("the literal {other} is not supported"), "write a string in single quotes"));
        }
    })
}

/// Spark's escapes in string literals: `\n`, `\t`, `\\`, `\'`.
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn number(text: &str, long: bool) -> SqlResult<Lit> {
    let bad = || refuse(format!("{text} is not a number"), "write 12, 1.5 or 1e3");
    let lower = text.to_lowercase();
    if let Some(d) = lower.strip_suffix("bd") {
        return number(d, long);
    }
    if let Some(f) = lower.strip_suffix('f') {
        return f.parse().map(Lit::Float).map_err(|_| bad());
    }
    if let Some(n) = lower.strip_suffix('y').or_else(|| lower.strip_suffix('s')) {
        return n.parse().map(Lit::Int).map_err(|_| bad());
    }
    if let Some(d) = lower.strip_suffix('d') {
        return d.parse().map(Lit::Float).map_err(|_| bad());
    }
    if let Some(l) = lower.strip_suffix('l') {
        return l.parse().map(Lit::Int).map_err(|_| bad());
    }
    if lower.contains('e') {
        return lower.parse().map(Lit::Float).map_err(|_| bad());
    }
    if let Some((whole, frac)) = lower.split_once('.') {
        let digits = format!("{whole}{frac}");
        let unscaled: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| bad())? };
        return Ok(Lit::Decimal(unscaled, frac.len()));
    }
    let _ = long;
    match lower.parse::<i64>() {
        Ok(n) => Ok(Lit::Int(n)),
        Err(_) => {
            let unscaled: i128 = lower.parse().map_err(|_| bad())?;
            Ok(Lit::Decimal(unscaled, 0))
        }
    }
}

/// `INTERVAL '1' DAY`, `INTERVAL 2 HOURS`, `INTERVAL '1 day 2 hours'`: months, days, microseconds.
pub(crate) fn interval_parts(tr: &Tr<'_>, iv: &ast::Interval) -> SqlResult<(i32, i32, i64)> {
    let text = match tr.expr(&iv.value)?.lit {
        Some(Lit::Str(s)) => s,
        Some(Lit::Int(n)) => n.to_string(),
        Some(Lit::Decimal(u, s)) => super::typed::decimal_text(u, s),
        _ => return Err(refuse("an INTERVAL needs a constant", "write INTERVAL '1' DAY or INTERVAL 2 HOURS")),
    };
    let bad = || {
        refuse(
            format!("INTERVAL '{text}' is not an interval Spark reads"),
            "write INTERVAL '1' DAY, INTERVAL 2 HOURS or INTERVAL '1 day 2 hours'",
        )
    };
    let mut units: Vec<(String, String)> = Vec::new();
    match &iv.leading_field {
        Some(field) => {
            let unit = field.to_string().to_lowercase();
            if let Some(last) = &iv.last_field {
                // 'Y-M' YEAR TO MONTH, 'D H:M:S' DAY TO SECOND
                let last = last.to_string().to_lowercase();
                let pieces: Vec<&str> = text.split(['-', ' ', ':']).filter(|p| !p.is_empty()).collect();
                let order = ["year", "month", "day", "hour", "minute", "second"];
                let start = order.iter().position(|u| unit.starts_with(u)).ok_or_else(bad)?;
                let end = order.iter().position(|u| last.starts_with(u)).ok_or_else(bad)?;
                if end < start || pieces.len() != end - start + 1 {
                    return Err(bad());
                }
                for (i, p) in pieces.iter().enumerate() {
                    units.push((p.to_string(), order[start + i].to_string()));
                }
            } else {
                units.push((text.trim().to_string(), unit));
            }
        }
        None => return interval_text(&text),
    }
    interval_units(&text, units)
}

/// `'1 day 2 hours'`: months, days, microseconds.
pub(crate) fn interval_text(text: &str) -> SqlResult<(i32, i32, i64)> {
    let bad =
        || refuse(format!("'{text}' is not an interval Spark reads"), "write '1 day', '2 hours' or '1 day 2 hours'");
    let words: Vec<&str> = text.split_whitespace().collect();
    if !words.len().is_multiple_of(2) || words.is_empty() {
        return Err(bad());
    }
    let units = words.chunks(2).map(|pair| (pair[0].to_string(), pair[1].to_lowercase())).collect();
    interval_units(text, units)
}

fn interval_units(text: &str, units: Vec<(String, String)>) -> SqlResult<(i32, i32, i64)> {
    let bad = || {
        refuse(
            format!("INTERVAL '{text}' is not an interval Spark reads"),
            "write INTERVAL '1' DAY, INTERVAL 2 HOURS or INTERVAL '1 day 2 hours'",
        )
    };
    let (mut months, mut days, mut micros) = (0i64, 0i64, 0i64);
    for (n, unit) in units {
        let unit = unit.trim_end_matches('s');
        let x: f64 = n.parse().map_err(|_| bad())?;
        let whole = x as i64;
        let whole_only = || if x.fract() == 0.0 { Ok(whole) } else { Err(bad()) };
        match unit {
            "year" => months += 12 * whole_only()?,
            "month" => months += whole_only()?,
            "week" => days += 7 * whole_only()?,
            "day" => days += whole_only()?,
            "hour" => micros += whole_only()? * 3_600_000_000,
            "minute" => micros += whole_only()? * 60_000_000,
            "second" => micros += (x * 1e6).round() as i64,
            "millisecond" => micros += whole_only()? * 1000,
            "microsecond" => micros += whole_only()?,
            _ => return Err(bad()),
        }
    }
    Ok((months as i32, days as i32, micros))
}
