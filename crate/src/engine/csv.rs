//! `read_csv`: CSV as Spark reads it, with Spark's options (`options.rs`).
//!
//! The bytes are decoded to text in the file's encoding (`decode.rs`), split
//! into records (`tokenize.rs`), and each field converted with Spark's rules
//! (`convert.rs`). Without a schema the types are inferred first, in a pass
//! over the records that keeps nothing, so a file is held once as text and
//! once as columns. A record that does not fit (a field that does not
//! convert, or too few or too many fields) is malformed: `mode` keeps it
//! with nulls (PERMISSIVE, counted in a note), drops it (DROPMALFORMED) or
//! stops the read at its line (FAILFAST).

mod convert;
mod decode;
mod options;
mod tokenize;

use std::borrow::Cow;
use std::collections::BTreeMap;

use polars::prelude::*;

use super::suggest::quoted as shown;
use crate::CellError;
use convert::{Builder, Cell, Kind};
use options::{CsvOptions, Mode};
use tokenize::{Record, Tokenizer};

/// What made a record malformed.
enum Why {
    Field { column: usize, value: String, kind: Kind },
    Width { got: usize },
}

/// The first malformed record and how many there were.
struct Problems {
    rows: usize,
    fields: usize,
    first: Option<(String, usize, Why, String)>,
}

/// The columns read from the file (name, kind), and where the corrupt-record column goes.
type Columns = (Vec<(String, Kind)>, Option<usize>);

struct Part<'a> {
    text: Cow<'a, str>,
    label: String,
}

struct Reader<'a> {
    path: &'a str,
    opts: CsvOptions,
    parts: Vec<Part<'a>>,
}

/// Reads the part files of one `read_csv` into one frame.
pub(crate) fn read(
    path: &str,
    options: &BTreeMap<String, String>,
    parts: &[Vec<u8>],
    names: &[String],
    notes: &mut Vec<String>,
) -> Result<DataFrame, CellError> {
    let opts = CsvOptions::parse(options)?;
    if parts.is_empty() {
        return Err(CellError::new(format!("'{path}' holds no data files"))
            .hint("a directory must hold part files; _SUCCESS, _temporary and hidden files are skipped"));
    }
    let mut decoded = Vec::with_capacity(parts.len());
    let mut replaced = 0;
    for (i, bytes) in parts.iter().enumerate() {
        let label = match names.len() == parts.len() {
            true => crate::paths::part_label(path, names, i, parts.len()),
            false if parts.len() == 1 => format!("'{path}'"),
            false => format!("'{path}' (part {})", i + 1),
        };
        if bytes.is_empty() {
            return Err(CellError::new(format!("{label} is empty (0 bytes)"))
                .hint("check that the file was written completely"));
        }
        let (text, bad) = decode::decode(bytes, opts.encoding);
        replaced += bad;
        decoded.push(Part { text, label });
    }
    if replaced > 0 {
        let (name, fix) = match opts.encoding {
            options::Encoding::Utf8 => ("UTF-8", "if the file is Latin-1, write encoding => 'ISO-8859-1'"),
            _ => ("UTF-16", "check the encoding => option (UTF-16LE or UTF-16BE when the file has no BOM)"),
        };
        notes.push(format!(
            "read_csv('{path}'): {replaced} invalid {name} sequences were read as U+FFFD (\u{FFFD}); {fix}"
        ));
    }
    Reader { path, opts, parts: decoded }.frame(notes)
}

impl Reader<'_> {
    /// Calls `each` with every data record (the header records skipped), with its part.
    fn records(&self, mut each: impl FnMut(&Part<'_>, &Record) -> Result<(), CellError>) -> Result<(), CellError> {
        let mut rec = Record::default();
        for part in &self.parts {
            let mut tokens = Tokenizer::new(&part.text, &self.opts.syntax);
            if self.opts.header && !tokens.next_record(&mut rec) {
                continue;
            }
            while tokens.next_record(&mut rec) {
                each(part, &rec)?;
            }
        }
        Ok(())
    }

    /// The first record of the first part that has one.
    fn first_record(&self) -> Option<Record> {
        let mut rec = Record::default();
        self.parts
            .iter()
            .find_map(|part| Tokenizer::new(&part.text, &self.opts.syntax).next_record(&mut rec).then_some(()))?;
        Some(rec)
    }

    /// Spark's `makeSafeHeader`: `_c<i>` for empty names, `<name><i>` for duplicates.
    fn names(&self, first: &Record) -> Vec<String> {
        if !self.opts.header {
            return (0..first.len()).map(|i| format!("_c{i}")).collect();
        }
        let raw: Vec<Option<&str>> =
            (0..first.len()).map(|i| first.field(i).filter(|n| !n.is_empty() && *n != self.opts.null_value)).collect();
        let lower: Vec<Option<String>> = raw.iter().map(|n| n.map(str::to_lowercase)).collect();
        raw.iter()
            .enumerate()
            .map(|(i, name)| match name {
                None => format!("_c{i}"),
                Some(n) if lower.iter().filter(|l| l.as_deref() == lower[i].as_deref()).count() > 1 => {
                    format!("{n}{i}")
                }
                Some(n) => n.to_string(),
            })
            .collect()
    }

    /// The columns this read makes.
    fn columns(&self) -> Result<Columns, CellError> {
        let corrupt = &self.opts.corrupt_column;
        if let Some(schema) = &self.opts.schema {
            let mut columns = Vec::new();
            let mut at = None;
            for (i, (name, dtype)) in schema.iter().enumerate() {
                if name.as_str() == corrupt.as_str() {
                    if *dtype != DataType::String {
                        return Err(CellError::new(format!(
                            "read_csv('{}'): the corrupt-record column {} must be STRING",
                            self.path,
                            shown(corrupt)
                        ))
                        .hint(format!("write {} STRING in the schema", shown(corrupt))));
                    }
                    at = Some(i);
                    continue;
                }
                let kind = Kind::of(dtype).ok_or_else(|| {
                    CellError::new(format!("read_csv('{}'): column {} cannot be {dtype} in a CSV file", self.path, shown(name)))
                        .hint("CSV holds STRING, numbers, BOOLEAN, DATE, TIMESTAMP and BINARY; read it as STRING and convert it in the query")
                })?;
                columns.push((name.to_string(), kind));
            }
            return Ok((columns, at));
        }
        let Some(first) = self.first_record() else {
            return Err(CellError::new(format!(
                "read_csv('{}'): the file holds no records, only blank lines{}",
                self.path,
                if self.opts.syntax.comment.is_some() { " and comments" } else { "" }
            ))
            .hint("check the path; to read an empty table, give its columns with schema => 'a STRING, ...'"));
        };
        let names = self.names(&first);
        let mut kinds = vec![if self.opts.infer_schema { Kind::Null } else { Kind::Str }; names.len()];
        if self.opts.infer_schema {
            let ratio = self.opts.sampling_ratio;
            let mut row = 0u64;
            self.records(|_, rec| {
                let sampled = ratio >= 1.0 || ((row + 1) as f64 * ratio).floor() > (row as f64 * ratio).floor();
                row += 1;
                if sampled {
                    for (i, kind) in kinds.iter_mut().enumerate() {
                        *kind = self.opts.infer(*kind, rec.field(i));
                    }
                }
                Ok(())
            })?;
        }
        let columns: Vec<(String, Kind)> =
            names.into_iter().zip(kinds).map(|(n, k)| (n, if k == Kind::Null { Kind::Str } else { k })).collect();
        let at = if self.opts.corrupt_given {
            if columns.iter().any(|(n, _)| n == corrupt) {
                return Err(CellError::new(format!(
                    "read_csv('{}'): the file already has a column {}",
                    self.path,
                    shown(corrupt)
                ))
                .hint("give columnNameOfCorruptRecord another name"));
            }
            Some(columns.len())
        } else {
            None
        };
        Ok((columns, at))
    }

    fn frame(self, notes: &mut Vec<String>) -> Result<DataFrame, CellError> {
        let (columns, corrupt_at) = self.columns()?;
        let capacity = self.parts.iter().map(|p| p.text.bytes().filter(|b| *b == b'\n').count()).sum::<usize>();
        let mut builders: Vec<Builder> = columns.iter().map(|(n, k)| Builder::new(n, *k, capacity)).collect();
        let mut corrupt =
            corrupt_at.map(|_| StringChunkedBuilder::new(self.opts.corrupt_column.as_str().into(), capacity));
        let mut problems = Problems { rows: 0, fields: 0, first: None };
        let width = columns.len();
        self.records(|part, rec| {
            let mut cells: Vec<Cell<'_>> = Vec::with_capacity(width);
            let mut why = (rec.len() != width).then_some(Why::Width { got: rec.len() });
            for (i, (_, kind)) in columns.iter().enumerate() {
                let cell = match rec.field(i) {
                    None => Cell::Null,
                    Some(text) => match self.opts.convert(*kind, text) {
                        Some(cell) => cell,
                        None => {
                            problems.fields += 1;
                            why.get_or_insert_with(|| Why::Field { column: i, value: text.to_string(), kind: *kind });
                            Cell::Null
                        }
                    },
                };
                cells.push(cell);
            }
            let line_text = &part.text[rec.start..rec.end];
            if let Some(why) = why {
                problems.rows += 1;
                if self.opts.mode == Mode::FailFast {
                    return Err(self.failfast(&part.label, rec.line, &why, line_text, &columns));
                }
                if problems.first.is_none() {
                    problems.first = Some((part.label.clone(), rec.line, why, line_text.to_string()));
                }
                if self.opts.mode == Mode::DropMalformed {
                    return Ok(());
                }
                if let Some(b) = corrupt.as_mut() {
                    b.append_value(line_text);
                }
            } else if let Some(b) = corrupt.as_mut() {
                b.append_null();
            }
            for (b, cell) in builders.iter_mut().zip(cells) {
                b.push(cell);
            }
            Ok(())
        })?;
        if let Some(note) = self.note(&problems, &columns) {
            notes.push(note);
        }
        let failed =
            |e: PolarsError| CellError::new(format!("read_csv('{}'): could not build the table: {e}", self.path));
        let mut out =
            builders.into_iter().map(Builder::finish).collect::<PolarsResult<Vec<Column>>>().map_err(failed)?;
        if let (Some(at), Some(b)) = (corrupt_at, corrupt) {
            out.insert(at.min(out.len()), b.finish().into_series().into_column());
        }
        DataFrame::new(out).map_err(failed)
    }

    /// What is wrong, in words, and what to write about it.
    fn explain(&self, why: &Why, columns: &[(String, Kind)]) -> (String, String) {
        match why {
            Why::Width { got } => (
                format!("it has {got} fields, not {}", columns.len()),
                if self.opts.syntax.multi_line {
                    "check the separator (sep => ';') and the quotes".to_string()
                } else {
                    "check the separator (sep => ';'); if quoted fields span lines, write multiLine => true".to_string()
                },
            ),
            Why::Field { column, value, kind } => {
                let name = shown(&columns[*column].0);
                let what = format!("column {name} holds '{value}', which is not a {}", kind.spark_name());
                let wordy = !value.is_empty() && value.chars().all(|c| c.is_alphabetic() || "-_/ .?".contains(c));
                let fix = match kind {
                    Kind::Date if !wordy => "give the pattern, e.g. dateFormat => 'dd/MM/yyyy'".to_string(),
                    Kind::Ts | Kind::TsNtz if !wordy => {
                        "give the pattern, e.g. timestampFormat => 'dd/MM/yyyy HH:mm:ss'".to_string()
                    }
                    _ if wordy => format!("if '{value}' means a missing value, write nullValue => '{value}'"),
                    _ => format!("read the column as STRING in the schema ({name} STRING) and convert it in the query"),
                };
                (what, fix)
            }
        }
    }

    fn failfast(&self, label: &str, line: usize, why: &Why, text: &str, columns: &[(String, Kind)]) -> CellError {
        let (what, fix) = self.explain(why, columns);
        let text: String = if text.chars().count() > 200 {
            text.chars().take(200).chain("…".chars()).collect()
        } else {
            text.to_string()
        };
        CellError::new(format!(
            "read_csv({label}) stopped at line {line} (mode => 'FAILFAST'): {what}. Line {line} reads: {text}"
        ))
        .hint(format!(
            "{fix}; or write mode => 'PERMISSIVE' to read bad fields as null, or 'DROPMALFORMED' to drop such rows"
        ))
    }

    fn note(&self, problems: &Problems, columns: &[(String, Kind)]) -> Option<String> {
        let (label, line, why, _) = problems.first.as_ref()?;
        let (what, fix) = self.explain(why, columns);
        let rows = problems.rows;
        let plural = if rows == 1 { "" } else { "s" };
        let done = match self.opts.mode {
            Mode::DropMalformed => format!("dropped {rows} malformed row{plural} (mode DROPMALFORMED)"),
            _ => {
                let fields = problems.fields;
                let fields_plural = if fields == 1 { "" } else { "s" };
                format!(
                    "{rows} malformed row{plural} kept, {fields} bad field{fields_plural} read as null (mode PERMISSIVE)"
                )
            }
        };
        Some(format!("read_csv({label}): {done}; the first at line {line}: {what}. To fix: {fix}"))
    }
}
