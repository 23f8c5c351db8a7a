//! `json_parse(text)`: JSON text to a struct column.
//!
//! The struct's fields are the union of every row's fields: events of
//! different types parse into one schema, with nulls where a row lacks a
//! field. A row that is not a JSON object becomes null and is counted, so a
//! few bad messages never fail a whole read.

use std::io::Cursor;

use polars::prelude::*;
use polars_arrow::bitmap::Bitmap;
use polars_io::ndjson;

/// Rows that were not JSON objects, and the first one's problem.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JsonStats {
    pub rows: usize,
    pub invalid: usize,
    /// (row index, what was wrong)
    pub first_error: Option<(usize, String)>,
}

impl JsonStats {
    /// "3 of 1000 rows were not valid JSON (first at offset 17: expected `:` at line 1 column 12)".
    pub fn note(&self, position: impl Fn(usize) -> String) -> Option<String> {
        let (row, why) = self.first_error.as_ref()?;
        Some(format!(
            "{} of {} rows were not valid JSON objects and are null (first at {}: {why})",
            self.invalid,
            self.rows,
            position(*row)
        ))
    }
}

/// The ndjson text of the valid rows, with `{}` standing in for the others,
/// and which rows are valid.
struct Lines {
    text: Vec<u8>,
    valid: Vec<bool>,
    stats: JsonStats,
}

fn lines(texts: &StringChunked, validate: bool) -> Lines {
    let bytes: usize = texts.into_iter().map(|v| v.map_or(2, str::len)).sum();
    let mut text = Vec::with_capacity(bytes + texts.len());
    let mut valid = Vec::with_capacity(texts.len());
    let mut stats = JsonStats { rows: texts.len(), ..JsonStats::default() };
    for (row, value) in texts.into_iter().enumerate() {
        let problem = match value {
            None => Some(None),
            Some(s) if !s.trim_start().starts_with('{') => Some(Some("not a JSON object".to_string())),
            Some(s) if validate => serde_json::from_str::<serde::de::IgnoredAny>(s).err().map(|e| Some(e.to_string())),
            Some(_) => None,
        };
        match (problem, value) {
            (None, Some(s)) => {
                // Raw line breaks can only be white space between tokens in valid JSON.
                text.extend(s.bytes().map(|b| if b == b'\n' || b == b'\r' { b' ' } else { b }));
                valid.push(true);
            }
            (problem, _) => {
                text.extend_from_slice(b"{}");
                valid.push(false);
                if let Some(Some(why)) = problem {
                    stats.invalid += 1;
                    stats.first_error.get_or_insert((row, why));
                }
            }
        }
        text.push(b'\n');
    }
    Lines { text, valid, stats }
}

/// Infers the union schema of the JSON objects in `texts`.
pub fn infer(texts: &StringChunked) -> PolarsResult<(Schema, JsonStats)> {
    // Fast path: everything parses. Otherwise validate each row to find the bad ones.
    let fast = lines(texts, false);
    if !fast.valid.iter().any(|v| *v) {
        return Ok((Schema::default(), fast.stats));
    }
    if let Ok(schema) = ndjson::infer_schema(&mut Cursor::new(&fast.text), None) {
        return Ok((schema, fast.stats));
    }
    let checked = lines(texts, true);
    let schema = ndjson::infer_schema(&mut Cursor::new(&checked.text), None)?;
    Ok((schema, checked.stats))
}

/// Decodes `texts` with a known schema into a struct column named `name`;
/// when `lenient`, a value that does not fit its field's type is null
/// instead of an error (for a schema the user gave).
pub fn decode(
    texts: &StringChunked,
    schema: &Schema,
    name: PlSmallStr,
    lenient: bool,
) -> PolarsResult<(Series, JsonStats)> {
    if schema.is_empty() {
        // A struct without fields still has a row (null or not) per text.
        let lines = lines(texts, true);
        let ca = StructChunked::from_series(name, texts.len(), std::iter::empty::<&Series>())?;
        let validity = Bitmap::from_iter(lines.valid.iter().copied());
        return Ok((ca.with_outer_validity(Some(validity)).into_series(), lines.stats));
    }
    let attempt = |lines: &Lines| ndjson::core::parse_ndjson(&lines.text, Some(texts.len()), schema, lenient);
    let fast = lines(texts, false);
    let (df, lines) = match attempt(&fast) {
        Ok(df) => (df, fast),
        Err(_) => {
            let checked = lines(texts, true);
            (attempt(&checked)?, checked)
        }
    };
    let mut ca = df.into_struct(name);
    ca.rechunk_mut();
    let validity =
        if lines.valid.iter().all(|v| *v) { None } else { Some(Bitmap::from_iter(lines.valid.iter().copied())) };
    Ok((ca.with_outer_validity(validity).into_series(), lines.stats))
}

/// The struct type `decode` produces for `schema`.
pub fn struct_type(schema: &Schema) -> DataType {
    DataType::Struct(schema.iter().map(|(n, d)| Field::new(n.clone(), d.clone())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_schema_and_bad_rows() {
        let texts = StringChunked::new(
            "value".into(),
            [
                Some(r#"{"event_type": "default", "Host": "a"}"#),
                Some(
                    r#"{"event_type": "purchase_sword", "sword_type": "katana",
                      "Host": "b"}"#,
                ),
                Some("{not json"),
                None,
                Some("42"),
            ],
        );
        let (schema, stats) = infer(&texts).unwrap();
        let mut names: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
        names.sort();
        assert_eq!(names, ["Host", "event_type", "sword_type"]);
        assert_eq!(stats.invalid, 2);
        assert_eq!(stats.first_error.as_ref().map(|e| e.0), Some(2));
        let (series, _) = decode(&texts, &schema, "e".into(), false).unwrap();
        assert_eq!(series.null_count(), 3);
        let sword = series.struct_().unwrap().field_by_name("sword_type").unwrap();
        assert_eq!(sword.str().unwrap().get(1), Some("katana"));
        assert_eq!(sword.str().unwrap().get(0), None);
        let note = stats.note(|row| format!("row {row}")).unwrap();
        assert!(note.starts_with("2 of 5 rows"), "{note}");
    }
}
