//! Spark's CASTs into and out of DATE / TIMESTAMP / TIMESTAMP_NTZ,
//! date-time plus an interval literal, and moving wall-clock times
//! between time zones.

use polars::prelude::*;

use super::civil::{MICROS_PER_DAY, MICROS_PER_SECOND, add_to_micros, ints, ints_to_text, text_to_int};
use super::text::{Parsed, Zone, date_text, parse_date, parse_timestamp, timestamp_text, zone_offset_seconds};
use super::{SqlResult, Typed, ntz_type, null_of, refuse, timestamp_type, type_name};
use crate::CellError;
use crate::engine::sql::ansi::{Mode, counted};

fn spark_type(dtype: &DataType) -> String {
    type_name(dtype).to_uppercase()
}

fn invalid(text: &str, to: &DataType) -> String {
    format!(
        "CAST_INVALID_INPUT: the value '{text}' of the type STRING cannot be cast to {} because it is malformed; \
         correct the value, or use try_cast to get NULL instead",
        spark_type(to)
    )
}

/// Reads Spark's text of a timestamp: microseconds for `ltz` (TIMESTAMP,
/// a zone in the text shifts it to UTC) or the wall clock for NTZ (a zone
/// in the text is ignored). `Err` for what cannot be honoured; `Ok(None)`
/// for text that is not a timestamp.
fn read_timestamp(text: &str, ltz: bool) -> Result<Option<i64>, String> {
    match parse_timestamp(text) {
        None => Ok(None),
        Some(Parsed::TimeOnly) => Err(format!(
            "the text '{text}' is a time without a date (Spark puts it on today's date); write the date too"
        )),
        Some(Parsed::At { local, zone }) => match zone {
            Zone::Session => Ok(Some(local)),
            Zone::Offset(_) | Zone::Named(_) if !ltz => Ok(Some(local)),
            Zone::Offset(seconds) => Ok(Some(local - seconds * MICROS_PER_SECOND)),
            Zone::Named(zone) => Err(format!(
                "the time zone '{zone}' in the text '{text}' is not supported in a cast; cast the text without it \
                 and use to_utc_timestamp(ts, '{zone}')"
            )),
        },
    }
}

fn read(text: &str, to: &DataType) -> Result<Option<i64>, String> {
    match to {
        DataType::Date => Ok(parse_date(text)),
        DataType::Datetime(_, tz) => read_timestamp(text, tz.is_some()),
        _ => Ok(None),
    }
}

/// A constant of a date or timestamp type from its physical value.
fn constant(value: i64, to: &DataType) -> Typed {
    let expr = match to {
        DataType::Date => lit(i32::try_from(value).unwrap_or_default()).cast(DataType::Date),
        _ => lit(value).cast(to.clone()),
    };
    Typed::new(expr, to.clone())
}

/// Spark's CAST of `value` where a date or timestamp is on either side:
/// text to DATE / TIMESTAMP / TIMESTAMP_NTZ, between those, and those to
/// text or numbers. With `ansi`, a value that does not convert fails the
/// query; without, it is null.
pub(crate) fn cast_string(value: Typed, to: &DataType, ansi: bool) -> SqlResult<Typed> {
    let to = match to {
        DataType::Datetime(_, tz) => DataType::Datetime(TimeUnit::Microseconds, tz.clone()),
        other => other.clone(),
    };
    if value.is_null_literal() {
        return Ok(null_of(to));
    }
    let from = match &value.dtype {
        DataType::Datetime(_, tz) => DataType::Datetime(TimeUnit::Microseconds, tz.clone()),
        other => other.clone(),
    };
    let x = value.expr.clone().cast(from.clone());
    if from == to {
        return Ok(Typed::new(x, to));
    }
    let refused = || {
        Err(refuse(
            format!("CAST from {} to {} is not supported", spark_type(&from), spark_type(&to)),
            "Spark casts text, dates and timestamps to one another; for numbers use unix_date, unix_seconds, \
             date_from_unix_date or timestamp_seconds",
        ))
    };
    let mode = Mode::of(ansi);
    let target = to.clone();
    let expr = match (&from, &to) {
        (DataType::String, DataType::Date | DataType::Datetime(..)) => {
            if let Some(text) = value.lit_str() {
                match read(text, &to).map_err(|why| refuse(format!("CAST: {why}"), "see the message"))? {
                    Some(v) => return Ok(constant(v, &to)),
                    None if mode == Mode::Ansi => {
                        return Err(CellError::new(invalid(text, &to)).hint("use try_cast to get NULL instead"));
                    }
                    None if mode == Mode::Try => return Ok(null_of(to)),
                    // Legacy: NULL, counted for the note when the query runs.
                    None => {}
                }
            }
            let strict = mode == Mode::Ansi;
            let converted = text_to_int(x, to.clone(), move |s| match read(s, &target) {
                Ok(Some(v)) => Ok(Some(v)),
                Ok(None) if strict => Err(PolarsError::ComputeError(invalid(s, &target).into())),
                Ok(None) => Ok(None),
                Err(why) => Err(PolarsError::ComputeError(why.into())),
            });
            return Ok(counted(Typed::new(converted, to.clone()), value.expr, mode));
        }
        (DataType::Date, DataType::Datetime(..)) => ints(vec![x], to.clone(), |v| Ok(v[0].checked_mul(MICROS_PER_DAY))),
        (DataType::Datetime(..), DataType::Date) => {
            ints(vec![x], to.clone(), |v| Ok(Some(v[0].div_euclid(MICROS_PER_DAY))))
        }
        (DataType::Datetime(..), DataType::Datetime(..)) => x.cast(DataType::Int64).cast(to.clone()),
        (DataType::Date, DataType::String) => ints_to_text(vec![x], |v| date_text(v[0])),
        (DataType::Datetime(..), DataType::String) => ints_to_text(vec![x], |v| timestamp_text(v[0])),
        (DataType::Datetime(..), DataType::Int64) => {
            ints(vec![x], to.clone(), |v| Ok(Some(v[0].div_euclid(MICROS_PER_SECOND))))
        }
        (DataType::Datetime(..), DataType::Float64) => x.cast(DataType::Int64).cast(DataType::Float64) / lit(1e6),
        (int, DataType::Datetime(..)) if int.is_integer() => {
            ints(vec![x], to.clone(), move |v| match v[0].checked_mul(MICROS_PER_SECOND) {
                Some(t) => Ok(Some(t)),
                None if mode == Mode::Ansi => {
                    polars_bail!(ComputeError: "CAST_OVERFLOW: the value {} cannot be cast to TIMESTAMP due to an overflow; use try_cast", v[0])
                }
                // Spark saturates at the largest timestamp, which Riffle does not show.
                None if mode == Mode::Legacy => {
                    polars_bail!(ComputeError: "CAST of {} seconds to TIMESTAMP overflows, which under spark.sql.ansi.enabled=false is not supported in the browser engine; run the cell on Spark, or SET spark.sql.ansi.enabled = true", v[0])
                }
                None => Ok(None),
            })
        }
        _ => return refused(),
    };
    Ok(Typed::new(expr, to))
}

/// A date or timestamp plus an interval literal (negated by the core for
/// minus). Months clamp to the month end as `add_months`. A date plus
/// whole days and months stays a date; with a time part it becomes a
/// timestamp.
pub(crate) fn add_interval(value: Typed, months: i32, days: i32, micros: i64) -> SqlResult<Typed> {
    let (months, days) = (i64::from(months), i64::from(days));
    let overflow = || PolarsError::ComputeError("DATETIME_OVERFLOW: the date plus the interval is out of range".into());
    match &value.dtype {
        DataType::Null => Ok(value),
        DataType::Date if micros == 0 => {
            let expr = ints(vec![value.expr], DataType::Date, move |v| {
                let t = add_to_micros(v[0] * MICROS_PER_DAY, months, days, 0).ok_or_else(overflow)?;
                Ok(Some(t.div_euclid(MICROS_PER_DAY)))
            });
            Ok(Typed::new(expr, DataType::Date))
        }
        DataType::Date | DataType::Datetime(..) => {
            let ts = cast_string(
                value.clone(),
                &match &value.dtype {
                    DataType::Datetime(_, tz) => DataType::Datetime(TimeUnit::Microseconds, tz.clone()),
                    _ => timestamp_type(),
                },
                true,
            )?;
            let out = ts.dtype.clone();
            let expr = ints(vec![ts.expr], out.clone(), move |v| {
                add_to_micros(v[0], months, days, micros).map(Some).ok_or_else(overflow)
            });
            Ok(Typed::new(expr, out))
        }
        other => Err(refuse(
            format!("an interval cannot be added to a {}", type_name(other)),
            "write CAST(x AS DATE) + INTERVAL ... or CAST(x AS TIMESTAMP) + INTERVAL ...",
        )),
    }
}

/// Java's short zone ids (`ZoneId.SHORT_IDS`), which Spark accepts.
fn long_zone_id(zone: &str) -> &str {
    match zone {
        "ACT" => "Australia/Darwin",
        "AET" => "Australia/Sydney",
        "AGT" => "America/Argentina/Buenos_Aires",
        "ART" => "Africa/Cairo",
        "AST" => "America/Anchorage",
        "BET" => "America/Sao_Paulo",
        "BST" => "Asia/Dhaka",
        "CAT" => "Africa/Harare",
        "CNT" => "America/St_Johns",
        "CST" => "America/Chicago",
        "CTT" => "Asia/Shanghai",
        "EAT" => "Africa/Addis_Ababa",
        "ECT" => "Europe/Paris",
        "IET" => "America/Indiana/Indianapolis",
        "IST" => "Asia/Kolkata",
        "JST" => "Asia/Tokyo",
        "MIT" => "Pacific/Apia",
        "NET" => "Asia/Yerevan",
        "NST" => "Pacific/Auckland",
        "PLT" => "Asia/Karachi",
        "PNT" => "America/Phoenix",
        "PRT" => "America/Puerto_Rico",
        "PST" => "America/Los_Angeles",
        "SST" => "Pacific/Guadalcanal",
        "VST" => "Asia/Ho_Chi_Minh",
        "EST" => "-05:00",
        "MST" => "-07:00",
        "HST" => "-10:00",
        other => other,
    }
}

enum ZoneRule {
    Fixed(i64),
    Region(TimeZone),
}

fn zone_rule(function: &str, zone: &str) -> SqlResult<ZoneRule> {
    let zone = long_zone_id(zone.trim());
    if let Some(seconds) = zone_offset_seconds(zone) {
        return Ok(ZoneRule::Fixed(seconds * MICROS_PER_SECOND));
    }
    match TimeZone::opt_try_new(Some(zone)) {
        Ok(Some(tz)) if zone.contains('/') || zone.chars().all(|c| c.is_ascii_uppercase()) => Ok(ZoneRule::Region(tz)),
        _ => Err(refuse(
            format!("{function}: '{zone}' is not a time zone"),
            "write a region id such as 'America/New_York' or an offset such as '+02:00'",
        )),
    }
}

fn physical(x: Expr) -> Expr {
    x.cast(DataType::Int64)
}

/// A wall-clock time (NTZ) in zone `from` as the wall clock in zone `to`
/// (NTZ). A time that falls in a gap moves forward by the gap and one in
/// an overlap takes the earlier offset, as Java's `atZone` does.
pub(crate) fn shift_zone(function: &str, wall: Expr, from: &str, to: &str) -> SqlResult<Expr> {
    let hours6 = 6 * 3600 * MICROS_PER_SECOND;
    let utc = match zone_rule(function, from)? {
        ZoneRule::Fixed(offset) => physical(wall) - lit(offset),
        ZoneRule::Region(tz) => {
            let earliest = || lit("earliest");
            let exact = wall.clone().dt().replace_time_zone(Some(tz.clone()), earliest(), NonExistent::Null);
            let before = (physical(wall) - lit(hours6)).cast(ntz_type());
            let moved = before.dt().replace_time_zone(Some(tz), earliest(), NonExistent::Null);
            coalesce(&[physical(exact), physical(moved) + lit(hours6)])
        }
    };
    Ok(match zone_rule(function, to)? {
        ZoneRule::Fixed(offset) => (utc + lit(offset)).cast(ntz_type()),
        ZoneRule::Region(tz) => physical(utc.cast(timestamp_type()).dt().convert_time_zone(tz).dt().replace_time_zone(
            None,
            lit("raise"),
            NonExistent::Raise,
        ))
        .cast(ntz_type()),
    })
}
