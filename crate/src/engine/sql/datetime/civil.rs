//! Calendar arithmetic on Spark's physical values (days since 1970-01-01
//! for DATE, microseconds since the epoch for TIMESTAMP, both read in UTC,
//! the session time zone) and the element-wise column plumbing the date
//! functions run on.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};
use polars::prelude::*;

pub(super) const MICROS_PER_SECOND: i64 = 1_000_000;
pub(super) const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// Days from 0001-01-01 (day 1 of the common era) to 1970-01-01.
const EPOCH_FROM_CE: i64 = 719_163;

pub(super) fn date_of_days(days: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(days.checked_add(EPOCH_FROM_CE)?).ok()?)
}

pub(super) fn days_of_date(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - EPOCH_FROM_CE
}

pub(super) fn datetime_of_micros(micros: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_micros(micros).map(|t| t.naive_utc())
}

pub(super) fn micros_of_datetime(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_micros()
}

pub(super) fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let (next_year, next_month) = if month == 12 { (year.checked_add(1)?, 1) } else { (year, month + 1) };
    let first_of_next = NaiveDate::from_ymd_opt(next_year, next_month, 1)?;
    Some(first_of_next.pred_opt()?.day())
}

/// Spark's `add_months` (Java's `plusMonths`): the same day of the month,
/// clamped to the last day of a shorter month.
pub(super) fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    let total = i64::from(date.year()) * 12 + i64::from(date.month0()) + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    let month = u32::try_from(total.rem_euclid(12)).ok()? + 1;
    let day = date.day().min(days_in_month(year, month)?);
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A timestamp plus months, days and microseconds, in that order, as Spark
/// adds a calendar interval in the session time zone (UTC).
pub(super) fn add_to_micros(micros: i64, months: i64, days: i64, plus_micros: i64) -> Option<i64> {
    let days_part = micros.div_euclid(MICROS_PER_DAY);
    let time_part = micros.rem_euclid(MICROS_PER_DAY);
    let date = add_months(date_of_days(days_part)?, months)?;
    let days_part = days_of_date(date).checked_add(days)?;
    days_part.checked_mul(MICROS_PER_DAY)?.checked_add(time_part)?.checked_add(plus_micros)
}

/// Columns of length one (constants) repeated to the length of the others.
fn broadcast(columns: &[Column]) -> PolarsResult<Vec<Column>> {
    let n = columns.iter().map(Column::len).max().unwrap_or(0);
    columns
        .iter()
        .map(|c| {
            if c.len() == n {
                Ok(c.clone())
            } else if c.len() == 1 {
                Ok(c.new_from_index(0, n))
            } else {
                polars_bail!(ShapeMismatch: "date function arguments of lengths {} and {}", c.len(), n)
            }
        })
        .collect()
}

fn name_of(columns: &[Column]) -> PlSmallStr {
    columns.first().map(|c| c.name().clone()).unwrap_or_default()
}

/// `out` from the `Int64` a kernel computed: Date from days, Datetime from
/// microseconds, or a plain integer type.
fn finish(values: Int64Chunked, out: &DataType) -> PolarsResult<Column> {
    let series = values.into_series();
    let series = match out {
        DataType::Date => series.cast(&DataType::Int32)?.cast(out)?,
        _ => series.cast(out)?,
    };
    Ok(series.into_column())
}

/// Physical integers of a column: days for Date, microseconds for Datetime
/// (already in microseconds), the value for integer types.
fn physical_i64(column: &Column) -> PolarsResult<Int64Chunked> {
    let series = column.as_materialized_series();
    let series = match series.dtype() {
        DataType::Date => series.cast(&DataType::Int32)?.cast(&DataType::Int64)?,
        _ => series.cast(&DataType::Int64)?,
    };
    Ok(series.i64()?.clone())
}

/// The integer inputs, row by row.
fn int_rows(columns: &[Column]) -> PolarsResult<(usize, Vec<Vec<Option<i64>>>)> {
    let columns = broadcast(columns)?;
    let n = columns.first().map(Column::len).unwrap_or(0);
    let arrays = columns.iter().map(|c| Ok(physical_i64(c)?.iter().collect())).collect::<PolarsResult<Vec<_>>>()?;
    Ok((n, arrays))
}

/// Row `i` into `buffer`; false where any input is null.
fn row(arrays: &[Vec<Option<i64>>], i: usize, buffer: &mut Vec<i64>) -> bool {
    buffer.clear();
    for a in arrays {
        match a[i] {
            Some(v) => buffer.push(v),
            None => return false,
        }
    }
    true
}

/// An element-wise kernel over integer inputs (days, microseconds or plain
/// integers) giving an integer read as `out`. Null in, null out; an error
/// fails the query (Spark's ANSI runtime errors).
pub(super) fn ints(
    inputs: Vec<Expr>,
    out: DataType,
    f: impl Fn(&[i64]) -> PolarsResult<Option<i64>> + Send + Sync + 'static,
) -> Expr {
    let target = out.clone();
    super::map_columns(inputs, out, move |columns: &mut [Column]| {
        let name = name_of(columns);
        let (n, arrays) = int_rows(columns)?;
        let mut buffer = Vec::with_capacity(arrays.len());
        let mut values = Vec::with_capacity(n);
        for i in 0..n {
            values.push(if row(&arrays, i, &mut buffer) { f(&buffer)? } else { None });
        }
        finish(Int64Chunked::from_iter_options(name, values.into_iter()), &target)
    })
}

/// As [`ints`], giving a double.
pub(super) fn ints_to_f64(inputs: Vec<Expr>, f: impl Fn(&[i64]) -> Option<f64> + Send + Sync + 'static) -> Expr {
    super::map_columns(inputs, DataType::Float64, move |columns: &mut [Column]| {
        let name = name_of(columns);
        let (n, arrays) = int_rows(columns)?;
        let mut buffer = Vec::with_capacity(arrays.len());
        let values = (0..n).map(|i| if row(&arrays, i, &mut buffer) { f(&buffer) } else { None });
        Ok(Float64Chunked::from_iter_options(name, values).into_series().into_column())
    })
}

/// As [`ints`], giving text.
pub(super) fn ints_to_text(inputs: Vec<Expr>, f: impl Fn(&[i64]) -> Option<String> + Send + Sync + 'static) -> Expr {
    super::map_columns(inputs, DataType::String, move |columns: &mut [Column]| {
        let name = name_of(columns);
        let (n, arrays) = int_rows(columns)?;
        let mut buffer = Vec::with_capacity(arrays.len());
        let values: Vec<Option<String>> =
            (0..n).map(|i| if row(&arrays, i, &mut buffer) { f(&buffer) } else { None }).collect();
        Ok(StringChunked::from_iter_options(name, values.into_iter()).into_series().into_column())
    })
}

/// An element-wise kernel from text to an integer read as `out`.
pub(super) fn text_to_int(
    input: Expr,
    out: DataType,
    f: impl Fn(&str) -> PolarsResult<Option<i64>> + Send + Sync + 'static,
) -> Expr {
    let target = out.clone();
    super::map_columns(vec![input], out, move |columns: &mut [Column]| {
        let name = name_of(columns);
        let series = columns[0].as_materialized_series().cast(&DataType::String)?;
        let text = series.str()?;
        let mut values = Vec::with_capacity(text.len());
        for value in text.iter() {
            values.push(match value {
                Some(s) => f(s)?,
                None => None,
            });
        }
        finish(Int64Chunked::from_iter_options(name, values.into_iter()), &target)
    })
}
