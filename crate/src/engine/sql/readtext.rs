//! What the file readers borrow from the SQL planner: Spark's DDL schemas
//! (nested types too), and text read as dates, timestamps or decimals with
//! Spark's rules, either with a pattern (`dateFormat`, `timestampFormat`,
//! Spark's letters) or as Spark's CAST reads them.

use polars::prelude::*;

use super::datetime::javafmt;
use super::typed::Typed;
use crate::CellError;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// A DDL schema (`'a INT, b STRUCT<c: STRING>'`) as named fields.
pub(crate) fn ddl_schema(text: &str) -> Result<Schema, CellError> {
    match super::jsonfn::parse_ddl(text)? {
        DataType::Struct(fields) => Ok(fields.into_iter().map(|f| (f.name, f.dtype)).collect()),
        other => Err(CellError::new(format!(
            "the schema {text:?} is one type ({}), not a list of columns",
            super::super::output::spark_type_name(&other)
        ))
        .hint("write the columns with their types, e.g. 'a INT, b STRING'")),
    }
}

/// A compiled `dateFormat`/`timestampFormat`.
pub(crate) struct TextFormat(javafmt::Pattern);

/// Compiles a pattern of Spark's letters; the error says which letter fails.
pub(crate) fn text_format(pattern: &str) -> Result<TextFormat, String> {
    let compiled = javafmt::compile(pattern)?;
    if let Some(letter) = compiled.unparsable() {
        return Err(format!("the letter '{letter}' can be written but not read"));
    }
    Ok(TextFormat(compiled))
}

/// `text` (a string column) as `to` (a date, timestamp or decimal):
/// with `format` for dates and timestamps, else as Spark's CAST reads it.
/// A value that does not convert is null.
pub(crate) fn convert(text: &Series, to: &DataType, format: Option<&TextFormat>) -> PolarsResult<Series> {
    let strings = text.str()?;
    let name = text.name().clone();
    match (to, format) {
        (DataType::Date, Some(TextFormat(p))) => {
            let days: Int32Chunked = strings
                .into_iter()
                .map(|v| v.and_then(|s| p.parse(s)).map(|m| m.div_euclid(MICROS_PER_DAY) as i32))
                .collect();
            days.with_name(name).into_series().cast(&DataType::Date)
        }
        (DataType::Datetime(_, zone), Some(TextFormat(p))) => {
            let micros: Int64Chunked = strings.into_iter().map(|v| v.and_then(|s| p.parse(s))).collect();
            micros.with_name(name).into_series().cast(&DataType::Datetime(TimeUnit::Microseconds, zone.clone()))
        }
        _ => {
            let value = Typed::new(col(name.clone()), DataType::String);
            let cast = super::cast::cast(value, to, false).map_err(|e| polars_err!(ComputeError: "{}", e.message))?;
            let df = DataFrame::new(vec![text.clone().into_column()])?;
            let out = df.lazy().select([cast.expr.alias(name.clone())]).collect()?;
            Ok(out.column(name.as_str())?.as_materialized_series().clone())
        }
    }
}
