//! `read_json(path, ...)` with Spark's options.
//!
//! A file is JSON Lines (one object per line) or, with `multiLine => true`,
//! one JSON value (an object, or an array of objects). A file that starts
//! with `[` is read whole as well, as Riffle always did. The schema is the
//! union of the records' fields (of a sample with `samplingRatio`), or the
//! `schema => 'a INT, ...'` given. A record that is not valid JSON, not an
//! object, or does not fit the schema is malformed, and `mode` says what
//! happens: PERMISSIVE keeps it with nulls (and its text in the
//! `columnNameOfCorruptRecord` column), DROPMALFORMED drops it, FAILFAST
//! stops at it. Every case names the file and line.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Cursor;

use polars::prelude::*;
use polars_io::ndjson;
use serde_json::Value;

use super::output::spark_type_name;
use super::sql::readtext::{self, TextFormat};
use crate::CellError;

/// The options, as Spark spells them.
const OPTIONS: [&str; 10] = [
    "schema",
    "multiLine",
    "primitivesAsString",
    "allowComments",
    "allowSingleQuotes",
    "mode",
    "columnNameOfCorruptRecord",
    "dateFormat",
    "timestampFormat",
    "samplingRatio",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Permissive,
    DropMalformed,
    FailFast,
}

struct Options {
    schema: Option<Schema>,
    multi_line: bool,
    primitives_as_string: bool,
    allow_comments: bool,
    allow_single_quotes: bool,
    mode: Mode,
    corrupt: String,
    date_format: Option<(String, TextFormat)>,
    timestamp_format: Option<(String, TextFormat)>,
    sampling_ratio: f64,
}

fn spelled(key: &str) -> &'static str {
    OPTIONS.iter().find(|o| o.eq_ignore_ascii_case(key)).copied().unwrap_or("option")
}

fn options(given: &BTreeMap<String, String>) -> Result<Options, CellError> {
    let known: Vec<String> = OPTIONS.iter().map(|o| o.to_string()).collect();
    for key in given.keys() {
        if !OPTIONS.iter().any(|o| o.eq_ignore_ascii_case(key)) {
            let mut error = CellError::new(format!("read_json(): unknown option `{key}`"));
            error = match super::suggest::nearest(key, &known) {
                Some(near) => error.hint(format!("did you mean {near}? read_json takes {}", OPTIONS.join(", "))),
                None => error.hint(format!("read_json takes {}", OPTIONS.join(", "))),
            };
            return Err(error);
        }
    }
    let get = |key: &str| given.get(&key.to_ascii_lowercase()).map(String::as_str);
    let flag = |key: &str| -> Result<bool, CellError> {
        match get(key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(CellError::new(format!(
                "read_json(): option {} must be true or false, not '{other}'",
                spelled(key)
            ))
            .hint(format!("write {} => true", spelled(key)))),
        }
    };
    let mode = match get("mode").map(str::to_ascii_uppercase).as_deref() {
        None | Some("PERMISSIVE") => Mode::Permissive,
        Some("DROPMALFORMED") => Mode::DropMalformed,
        Some("FAILFAST") => Mode::FailFast,
        Some(other) => {
            return Err(CellError::new(format!("read_json(): mode '{other}' is not a mode"))
                .hint("write mode => 'PERMISSIVE' (the default), 'DROPMALFORMED' or 'FAILFAST'"));
        }
    };
    let format = |key: &str| -> Result<Option<(String, TextFormat)>, CellError> {
        get(key)
            .map(|pattern| {
                readtext::text_format(pattern).map(|f| (pattern.to_string(), f)).map_err(|why| {
                    CellError::new(format!("read_json(): {} '{pattern}' cannot be used: {why}", spelled(key)))
                        .hint("write it with Spark's pattern letters, e.g. 'yyyy-MM-dd' or 'dd/MM/yyyy HH:mm:ss'")
                })
            })
            .transpose()
    };
    let sampling_ratio = match get("samplingRatio") {
        None => 1.0,
        Some(text) => match text.trim().parse::<f64>() {
            Ok(r) if r > 0.0 && r <= 1.0 => r,
            _ => {
                return Err(CellError::new(format!(
                    "read_json(): samplingRatio must be a number above 0 and at most 1, not '{text}'"
                ))
                .hint("write samplingRatio => 0.1 to infer the schema from every tenth record"));
            }
        },
    };
    let schema = get("schema")
        .map(|text| {
            readtext::ddl_schema(text).map_err(|e| {
                CellError::new(format!("read_json(): schema => '{text}': {}", e.message))
                    .hint("write the schema as Spark DDL, e.g. 'id BIGINT, name STRING, tags ARRAY<STRING>'")
            })
        })
        .transpose()?;
    let corrupt = get("columnNameOfCorruptRecord").unwrap_or("_corrupt_record").to_string();
    if let Some(schema) = &schema
        && let Some(dtype) = schema.get(corrupt.as_str())
        && dtype != &DataType::String
    {
        return Err(CellError::new(format!(
            "read_json(): the corrupt record column {corrupt} is {} in the schema; it must be STRING",
            spark_type_name(dtype)
        ))
        .hint(format!("write {corrupt} STRING in the schema")));
    }
    Ok(Options {
        schema,
        multi_line: flag("multiLine")?,
        primitives_as_string: flag("primitivesAsString")?,
        allow_comments: flag("allowComments")?,
        allow_single_quotes: flag("allowSingleQuotes")?,
        mode,
        corrupt,
        date_format: format("dateFormat")?,
        timestamp_format: format("timestampFormat")?,
        sampling_ratio,
    })
}

/// One record of a file: a JSON object as one line of strict JSON, or why it is not one.
struct Record {
    part: usize,
    line: usize,
    /// Strict JSON of the object, on one line (valid records only).
    json: String,
    /// As the file has it, for the corrupt record column and messages.
    raw: String,
    problem: Option<String>,
}

/// serde's message without its position, which Riffle gives itself.
fn why(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = text.rsplit_once(" at line ").map_or(text.as_str(), |(w, _)| w);
    format!("{text} (column {})", e.column())
}

/// Strict JSON from JSON with `//` and `/* */` comments and 'single-quoted'
/// strings, each allowed only if asked. Line breaks stay where they were.
fn strict(text: &str, comments: bool, single: bool) -> Cow<'_, str> {
    if !(comments && (text.contains("//") || text.contains("/*")) || single && text.contains('\'')) {
        return Cow::Borrowed(text);
    }
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '"' | '\'' if c == '"' || single => {
                // A string: copied with double quotes.
                out.push('"');
                i += 1;
                while i < chars.len() && chars[i] != c {
                    match (chars[i], chars.get(i + 1).copied()) {
                        ('\\', Some('\'')) if c == '\'' => out.push('\''),
                        ('\\', Some(escaped)) => {
                            out.push('\\');
                            out.push(escaped);
                        }
                        ('"', _) => {
                            // A double quote inside a single-quoted string: one character.
                            out.push_str("\\\"");
                            i += 1;
                            continue;
                        }
                        (other, _) => {
                            out.push(other);
                            i += 1;
                            continue;
                        }
                    }
                    i += 2;
                }
                out.push('"');
                i += 1;
            }
            '/' if comments && next == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if comments && next == Some('*') => {
                i += 2;
                out.push(' ');
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
                i += 2;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Cow::Owned(out)
}

/// The records of a value that should be an object or an array of objects.
fn records_of(value: Value, part: usize, line: usize, raw: &str, out: &mut Vec<Record>) {
    let record = |json: String, raw: String, problem: Option<String>| Record { part, line, json, raw, problem };
    match value {
        Value::Object(_) => out.push(record(value.to_string(), raw.to_string(), None)),
        Value::Array(items) => {
            for item in items {
                if item.is_object() {
                    out.push(record(item.to_string(), item.to_string(), None));
                } else {
                    let text = item.to_string();
                    out.push(record(String::new(), text, Some("an element of the array is not a JSON object".into())));
                }
            }
        }
        other => out.push(record(
            String::new(),
            raw.to_string(),
            Some(format!("a JSON {} is not an object", value_kind(&other))),
        )),
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn split(text: &str, part: usize, opts: &Options, out: &mut Vec<Record>) {
    let whole = opts.multi_line || text.trim_start().starts_with('[');
    if whole {
        let json = strict(text, opts.allow_comments, opts.allow_single_quotes);
        match serde_json::from_str::<Value>(&json) {
            Ok(value) => return records_of(value, part, 1, text.trim(), out),
            Err(e) if opts.multi_line => {
                out.push(Record {
                    part,
                    line: e.line(),
                    json: String::new(),
                    raw: text.to_string(),
                    problem: Some(why(&e)),
                });
                return;
            }
            // Not one document: read it as lines.
            Err(_) => {}
        }
    }
    for (n, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let json = strict(line, opts.allow_comments, opts.allow_single_quotes);
        let trimmed = json.trim();
        if trimmed.is_empty() {
            continue;
        }
        let problem = if trimmed.starts_with('{') {
            match serde_json::from_str::<serde::de::IgnoredAny>(trimmed) {
                Ok(_) => {
                    out.push(Record {
                        part,
                        line: n + 1,
                        json: trimmed.to_string(),
                        raw: line.to_string(),
                        problem: None,
                    });
                    continue;
                }
                Err(e) => why(&e),
            }
        } else {
            match serde_json::from_str::<Value>(trimmed) {
                Ok(value) => {
                    records_of(value, part, n + 1, line, out);
                    continue;
                }
                Err(e) => why(&e),
            }
        };
        out.push(Record { part, line: n + 1, json: String::new(), raw: line.to_string(), problem: Some(problem) });
    }
}

/// Spark's inferred types: a field that is only ever null is a string, and
/// with `primitivesAsString` every number and boolean is one too.
fn canonical(dtype: &DataType, as_string: bool) -> DataType {
    match dtype {
        DataType::Null => DataType::String,
        DataType::List(inner) => DataType::List(Box::new(canonical(inner, as_string))),
        DataType::Struct(fields) => DataType::Struct(
            fields.iter().map(|f| Field::new(f.name().clone(), canonical(f.dtype(), as_string))).collect(),
        ),
        DataType::Boolean | DataType::Int64 | DataType::Float64 | DataType::UInt64 if as_string => DataType::String,
        other => other.clone(),
    }
}

/// Why `value` does not fit `dtype`, if it does not. Text fits a string,
/// and so does anything else (as its JSON text, like Spark).
fn misfit(value: &Value, dtype: &DataType) -> Option<String> {
    let wrong = || Some(format!("{} is not {}", short(&value.to_string()), spark_type_name(dtype).to_uppercase()));
    match (dtype, value) {
        (_, Value::Null) | (DataType::String, _) => None,
        (DataType::Boolean, Value::Bool(_)) => None,
        (DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64, Value::Number(n)) => {
            let (lo, hi) = match dtype {
                DataType::Int8 => (i8::MIN as i64, i8::MAX as i64),
                DataType::Int16 => (i16::MIN as i64, i16::MAX as i64),
                DataType::Int32 => (i32::MIN as i64, i32::MAX as i64),
                _ => (i64::MIN, i64::MAX),
            };
            match n.as_i64() {
                Some(v) if v >= lo && v <= hi => None,
                _ => wrong(),
            }
        }
        (DataType::Float32 | DataType::Float64 | DataType::Decimal(..), Value::Number(_)) => None,
        (DataType::Date | DataType::Datetime(..) | DataType::Decimal(..), Value::String(_)) => None,
        (DataType::List(inner), Value::Array(items)) => items.iter().find_map(|v| misfit(v, inner)),
        (DataType::Struct(fields), Value::Object(map)) => fields.iter().find_map(|f| {
            let v = map.get(f.name().as_str())?;
            misfit(v, f.dtype()).map(|w| format!("{}: {w}", f.name()))
        }),
        _ => wrong(),
    }
}

fn short(text: &str) -> String {
    let mut out: String = text.chars().take(60).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Reads the part files of `path` into one frame.
pub(super) fn read(
    path: &str,
    given: &BTreeMap<String, String>,
    parts: Vec<Vec<u8>>,
    notes: &mut Vec<String>,
) -> Result<DataFrame, CellError> {
    let opts = options(given)?;
    let many = parts.len() > 1;
    let place = |r: &Record| {
        if many { format!("'{path}' part {} line {}", r.part + 1, r.line) } else { format!("'{path}' line {}", r.line) }
    };
    if parts.is_empty() {
        return Err(CellError::new(format!("'{path}' holds no data files"))
            .hint("a directory must hold part files; _SUCCESS, _temporary and hidden files are skipped"));
    }
    if opts.schema.is_none() && parts.iter().all(Vec::is_empty) {
        return Err(CellError::new(format!("'{path}' is empty (0 bytes)"))
            .hint("check that the file was written completely, or give its columns with schema => 'a INT, b STRING'"));
    }
    let mut records = Vec::new();
    for (part, bytes) in parts.iter().enumerate() {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(e) => {
                notes.push(format!(
                    "read_json('{path}'): the file is not valid UTF-8 at byte {}; such bytes read as U+FFFD",
                    e.valid_up_to()
                ));
                String::from_utf8_lossy(bytes)
            }
        };
        split(&text, part, &opts, &mut records);
    }

    // The schema: given, or inferred from (a sample of) the valid records.
    let inferred = opts.schema.is_none();
    let mut schema = match &opts.schema {
        Some(schema) => schema.clone(),
        None => infer(&records, &opts, notes, path)?,
    };
    let corrupt_in_schema = schema.get(opts.corrupt.as_str()).is_some();
    if corrupt_in_schema {
        schema.shift_remove(opts.corrupt.as_str());
    }
    // Types Riffle converts itself after decoding text.
    let converted = |t: &DataType| matches!(t, DataType::Date | DataType::Datetime(..) | DataType::Decimal(..));
    let decode_schema: Schema =
        schema.iter().map(|(n, t)| (n.clone(), if converted(t) { DataType::String } else { t.clone() })).collect();

    // Records that do not fit a schema that was given or sampled.
    if !inferred || opts.sampling_ratio < 1.0 {
        let row_type = DataType::Struct(schema.iter().map(|(n, t)| Field::new(n.clone(), t.clone())).collect());
        for r in records.iter_mut().filter(|r| r.problem.is_none()) {
            if let Ok(value) = serde_json::from_str::<Value>(&r.json)
                && let Some(w) = misfit(&value, &row_type)
            {
                r.problem = Some(format!("field {w}"));
            }
        }
    }

    let mut text = String::with_capacity(records.iter().map(|r| r.json.len().max(2) + 1).sum());
    for r in &records {
        // A record that does not fit the schema keeps the fields that do.
        text.push_str(if r.json.is_empty() { "{}" } else { &r.json });
        text.push('\n');
    }
    let mut df = if decode_schema.is_empty() {
        DataFrame::empty_with_height(records.len())
    } else if records.is_empty() {
        DataFrame::empty_with_schema(&decode_schema)
    } else {
        ndjson::core::parse_ndjson(text.as_bytes(), Some(records.len()), &decode_schema, true).map_err(|e| {
            CellError::new(format!("could not read '{path}' as JSON: {e}"))
                .hint("give the columns' types with schema => 'a INT, b STRING'")
        })?
    };
    for (name, to) in schema.iter().filter(|(_, t)| converted(t)) {
        let (format, option) = match to {
            DataType::Date => (opts.date_format.as_ref(), "dateFormat"),
            DataType::Datetime(..) => (opts.timestamp_format.as_ref(), "timestampFormat"),
            _ => (None, ""),
        };
        let texts = df.column(name).map_err(|e| CellError::new(e.to_string()))?.as_materialized_series().clone();
        let out = readtext::convert(&texts, to, format.map(|(_, f)| f))
            .map_err(|e| CellError::new(format!("read_json('{path}'): column {name}: {e}")))?;
        let (before, after) = (texts.str().map_err(|e| CellError::new(e.to_string()))?, &out);
        for (i, r) in records.iter_mut().enumerate() {
            if r.problem.is_none()
                && let Some(value) = before.get(i)
                && after.get(i).map(|v| v.is_null()).unwrap_or(false)
            {
                let expected = match format {
                    Some((pattern, _)) => format!("does not match {option} '{pattern}'"),
                    None => format!("is not {}", spark_type_name(to).to_uppercase()),
                };
                r.problem = Some(format!("field {name}: '{}' {expected}", short(value)));
            }
        }
        df.replace(name, out).map_err(|e| CellError::new(e.to_string()))?;
    }

    let bad: Vec<usize> = (0..records.len()).filter(|&i| records[i].problem.is_some()).collect();
    let Some(&first) = bad.first() else {
        if corrupt_in_schema {
            df.with_column(Series::full_null(opts.corrupt.as_str().into(), df.height(), &DataType::String))
                .map_err(|e| CellError::new(e.to_string()))?;
        }
        return Ok(df);
    };
    let r = &records[first];
    let first_why = r.problem.clone().unwrap_or_default();
    let multiline_hint = !opts.multi_line && r.raw.trim() == "{";
    match opts.mode {
        Mode::FailFast => {
            let mut error = CellError::new(format!(
                "read_json(): malformed record at {}: {first_why}: {}",
                place(r),
                short(r.raw.trim())
            ));
            error = error.hint(if multiline_hint {
                "a record that spans lines needs multiLine => true".to_string()
            } else {
                "fix the record, or read with mode => 'PERMISSIVE' (malformed records become nulls and are counted) or mode => 'DROPMALFORMED'".to_string()
            });
            Err(error)
        }
        Mode::DropMalformed => {
            let keep: BooleanChunked = (0..records.len()).map(|i| records[i].problem.is_none()).collect();
            notes.push(format!(
                "read_json('{path}'): dropped {} malformed of {} records (mode DROPMALFORMED; the first at {}: {first_why}){}",
                bad.len(),
                records.len(),
                place(r),
                if multiline_hint { "; a record that spans lines needs multiLine => true" } else { "" }
            ));
            df.filter(&keep).map_err(|e| CellError::new(e.to_string()))
        }
        Mode::Permissive => {
            let column = inferred || corrupt_in_schema;
            if column {
                let raw: StringChunked = records.iter().map(|r| r.problem.as_ref().map(|_| r.raw.as_str())).collect();
                df.with_column(raw.with_name(opts.corrupt.as_str().into()).into_series())
                    .map_err(|e| CellError::new(e.to_string()))?;
            }
            notes.push(format!(
                "read_json('{path}'): {} of {} records were malformed and are kept with nulls (the first at {}: {first_why}){}{}",
                bad.len(),
                records.len(),
                place(r),
                if column { format!("; their text is in the column {}", opts.corrupt) } else { String::new() },
                if multiline_hint {
                    "; a record that spans lines needs multiLine => true"
                } else {
                    "; mode => 'DROPMALFORMED' drops them, mode => 'FAILFAST' stops at the first"
                }
            ));
            Ok(df)
        }
    }
}

/// The union schema of the valid records, or of a sample of them.
fn infer(records: &[Record], opts: &Options, notes: &mut Vec<String>, path: &str) -> Result<Schema, CellError> {
    let valid: Vec<&Record> = records.iter().filter(|r| r.problem.is_none()).collect();
    // Every k-th record, so that a sample is the same on every run.
    let ratio = opts.sampling_ratio;
    let mut sample: Vec<&Record> = Vec::new();
    if ratio < 1.0 {
        sample = valid.iter().enumerate().filter(|(i, _)| picked(*i, ratio)).map(|(_, r)| *r).collect();
        if !sample.is_empty() {
            notes.push(format!(
                "read_json('{path}'): the schema was inferred from {} of {} records (samplingRatio => {ratio})",
                sample.len(),
                valid.len()
            ));
        }
    }
    if sample.is_empty() {
        sample = valid;
    }
    if sample.is_empty() {
        return Ok(Schema::default());
    }
    let mut text = String::new();
    for r in &sample {
        text.push_str(&r.json);
        text.push('\n');
    }
    let schema = ndjson::infer_schema(&mut Cursor::new(text.as_bytes()), None).map_err(|e| {
        CellError::new(format!("could not infer the columns of '{path}': {e}"))
            .hint("give them with schema => 'a INT, b STRING'")
    })?;
    Ok(schema.iter().map(|(n, t)| (n.clone(), canonical(t, opts.primitives_as_string))).collect())
}

/// Whether the `i`-th record is in a sample of `ratio`: every k-th record
/// from the first, k being 1 / ratio rounded.
fn picked(i: usize, ratio: f64) -> bool {
    let k = (1.0 / ratio).round().max(1.0) as usize;
    i.is_multiple_of(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_single_quotes_become_strict_json() {
        let text = "{'a': 'it\\'s \"x\"', /* c\n */ \"b\": 1} // end";
        let strict = strict(text, true, true);
        assert_eq!(strict, "{\"a\": \"it's \\\"x\\\"\",  \n \"b\": 1} ");
        let v: Value = serde_json::from_str(&strict).unwrap();
        assert_eq!(v["a"], "it's \"x\"");
        assert_eq!(strict_untouched(), "{'a': 1}");
    }

    fn strict_untouched() -> String {
        strict("{'a': 1}", true, false).into_owned()
    }

    #[test]
    fn samples_are_every_kth_record() {
        let picked: Vec<usize> = (0..20).filter(|&i| picked(i, 0.25)).collect();
        assert_eq!(picked, [0, 4, 8, 12, 16]);
    }
}
