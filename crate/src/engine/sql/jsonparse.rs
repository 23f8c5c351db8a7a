//! Riffle's `json_parse(text)` and `json_get(text, 'a.b')`: the JSON's schema
//! is inferred from the data first (the union of its objects' fields), then
//! every row is decoded with it.

use polars::prelude::*;
use sqlparser::ast::Expr as E;

use super::super::json;
use super::expr::{Tr, field};
use super::typed::{SqlResult, Typed, map_columns, polars_error, refuse};

pub(super) fn call(tr: &Tr<'_>, name: &str, raw: &[&E]) -> SqlResult<Typed> {
    let usage = || {
        refuse(
            format!("{name}: wrong arguments"),
            "write json_parse(value), json_parse(value, schema => 'a INT, b STRING') or json_get(value, 'commit.author.name')",
        )
    };
    let (arg, path, given) = match (name, raw) {
        ("json_parse", [arg]) => (tr.expr(arg)?, None, None),
        ("json_parse", [arg, schema]) => {
            let schema = tr.expr(schema)?;
            let schema = schema.lit_str().map(str::to_string).ok_or_else(usage)?;
            (tr.expr(arg)?, None, Some(given_schema(&schema)?))
        }
        ("json_get", [arg, path]) => {
            let path = tr.expr(path)?;
            let path = path.lit_str().map(str::to_string).ok_or_else(usage)?;
            (tr.expr(arg)?, Some(path), None)
        }
        _ => return Err(usage()),
    };
    let text = if arg.dtype == DataType::String { arg } else { super::cast::cast(arg, &DataType::String, false)? };
    let lenient = given.is_some();
    let schema = match given {
        Some(schema) => schema,
        None => infer(tr, name, &text)?,
    };
    let dtype = json::struct_type(&schema);
    let expr = map_columns(vec![text.expr], dtype.clone(), move |columns: &mut [Column]| {
        let input = columns[0].as_materialized_series().cast(&DataType::String)?;
        let (series, _) = json::decode(input.str()?, &schema, input.name().clone(), lenient)?;
        Ok(series.into_column())
    });
    let parsed = Typed::new(expr, dtype);
    let Some(path) = path else { return Ok(parsed) };
    if path.trim_start_matches("$.").split('.').all(|p| p.is_empty()) {
        return Err(refuse(
            format!("json_get needs a path of fields, not '{path}'"),
            "write json_get(value, 'commit.author.name')",
        ));
    }
    let mut out = parsed;
    for part in path.trim_start_matches("$.").split('.').filter(|p| !p.is_empty()) {
        out = field(out, part)?;
    }
    Ok(out)
}

/// `schema => 'a INT, b STRING'`: the struct's fields.
fn given_schema(text: &str) -> SqlResult<Schema> {
    match super::jsonfn::parse_ddl(text)? {
        DataType::Struct(fields) => Ok(fields.into_iter().map(|f| (f.name, f.dtype)).collect()),
        _ => Err(refuse(
            format!("json_parse: the schema {text:?} is one type, not the fields of a struct"),
            "write the fields with their types: json_parse(value, schema => 'a INT, b STRING')",
        )),
    }
}

/// The union schema of the JSON objects the query's rows hold (a probe of the data).
fn infer(tr: &Tr<'_>, name: &str, text: &Typed) -> SqlResult<Schema> {
    let frame = tr.frame.ok_or_else(|| {
        refuse(
            format!("{name} is not allowed here"),
            "call it in the SELECT list or WHERE of the query that reads the text",
        )
    })?;
    let probe =
        frame.clone().select([text.expr.clone().alias("__json_text")]).collect().map_err(|e| polars_error(&e))?;
    let texts = probe
        .column("__json_text")
        .and_then(|c| c.as_materialized_series().str().cloned())
        .map_err(|e| polars_error(&e))?;
    let (schema, stats) = json::infer(&texts).map_err(|e| refuse(format!("json_parse: {e}"), "check the JSON text"))?;
    let mut notes = tr.planner.notes.borrow_mut();
    if let Some(note) = stats.note(|row| format!("row {row}")) {
        notes.push(note);
    }
    if schema.is_empty() {
        notes.push(format!(
            "{name} found no JSON object with fields in {} rows, so its struct has no fields (s.* gives no columns); \
             name them with json_parse(value, schema => 'a INT, b STRING')",
            stats.rows
        ));
    }
    Ok(schema)
}
