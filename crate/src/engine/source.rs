//! Sources: table functions whose bytes the host fetches.
//!
//! `read_csv`, `read_json` and `read_parquet` name a file or a directory of
//! part files; `kafka` names a range of a topic. The engine describes what it
//! needs as a [`SourceRequest`]; the host answers with the bytes of each part
//! ([`SourceData`]); the engine parses them here.

use std::collections::BTreeMap;
use std::io::Cursor;

use polars::prelude::*;
use polars_io::SerReader;
use polars_io::csv::read::CsvReadOptions;
use polars_io::ipc::IpcStreamReader;
use polars_io::parquet::read::ParquetReader;
use serde::{Deserialize, Serialize};

use super::kafka::{self, KafkaRange};
use super::schema_text;
use crate::CellError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    Json,
    Parquet,
}

impl FileFormat {
    pub fn function_name(self) -> &'static str {
        match self {
            FileFormat::Csv => "read_csv",
            FileFormat::Json => "read_json",
            FileFormat::Parquet => "read_parquet",
        }
    }
}

/// What a source reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceKind {
    /// A file, or a directory of part files (`_SUCCESS`, `_temporary` and
    /// hidden files skipped, as Spark does).
    File {
        format: FileFormat,
        /// As the user wrote it: `hdfs:///x`, `file:///x` or a path under the data root.
        path: String,
        /// Named arguments (`header => false`), as text.
        options: BTreeMap<String, String>,
    },
    /// A bounded range of a Kafka topic, as Arrow IPC from the gateway.
    Kafka(KafkaRange),
}

/// Bytes the engine needs from the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRequest {
    /// The name the parsed source is registered under while the cell runs.
    pub id: String,
    #[serde(flatten)]
    pub kind: SourceKind,
}

/// What the host fetched for a source: the bytes of each part file, or the
/// Arrow IPC stream of a Kafka range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceData {
    pub parts: Vec<Vec<u8>>,
}

impl SourceData {
    pub fn single(bytes: Vec<u8>) -> SourceData {
        SourceData { parts: vec![bytes] }
    }
}

impl From<Vec<u8>> for SourceData {
    fn from(bytes: Vec<u8>) -> Self {
        SourceData::single(bytes)
    }
}

impl SourceRequest {
    /// What the source reads, for messages: `read_csv('trips.csv')`, `kafka('events')`.
    pub fn describe(&self) -> String {
        match &self.kind {
            SourceKind::File { format, path, .. } => {
                format!("{}('{path}')", format.function_name())
            }
            SourceKind::Kafka(range) => format!("kafka('{}')", range.topic),
        }
    }

    /// Parses the fetched bytes into one frame; notes say what the user should know.
    pub fn parse(&self, data: SourceData, notes: &mut Vec<String>) -> Result<DataFrame, CellError> {
        match &self.kind {
            SourceKind::File { format: FileFormat::Json, path, options } => {
                super::json_read::read(path, options, data.parts, notes)
            }
            SourceKind::File { format: FileFormat::Parquet, path, options } => {
                super::parquet_read::read(path, options, data.parts)
            }
            SourceKind::File { format, path, options } => {
                if *format == FileFormat::Csv {
                    return super::csv::read(path, options, &data.parts, notes);
                }
                let reader = FileReader { format: *format, path, options };
                reader.check_options()?;
                if data.parts.is_empty() {
                    return Err(CellError::new(format!("'{path}' holds no data files"))
                        .hint("a directory must hold part files; _SUCCESS, _temporary and hidden files are skipped"));
                }
                let frames = data
                    .parts
                    .into_iter()
                    .enumerate()
                    .map(|(i, bytes)| reader.parse_one(bytes, i))
                    .collect::<Result<Vec<_>, _>>()?;
                concat_frames(frames, path)
            }
            SourceKind::Kafka(range) => {
                let bytes = data.parts.into_iter().next().unwrap_or_default();
                let df = kafka::parse_range(&bytes, range)?;
                if df.height() == 0 {
                    notes.push(format!(
                        "kafka('{}') has no messages from {} to {}: the table is empty, with Kafka's columns",
                        range.topic, range.from, range.to
                    ));
                }
                Ok(df)
            }
        }
    }
}

struct FileReader<'a> {
    format: FileFormat,
    path: &'a str,
    options: &'a BTreeMap<String, String>,
}

impl FileReader<'_> {
    fn function(&self) -> &'static str {
        self.format.function_name()
    }

    fn check_options(&self) -> Result<(), CellError> {
        let allowed: &[&str] = match self.format {
            FileFormat::Csv => &["header", "delimiter", "schema"],
            FileFormat::Json => &["schema"],
            FileFormat::Parquet => &[],
        };
        for key in self.options.keys() {
            if !allowed.contains(&key.as_str()) {
                let known = if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") };
                return Err(CellError::new(format!("{}(): unknown option {key}", self.function()))
                    .hint(format!("{} takes these options: {known}", self.function())));
            }
        }
        Ok(())
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, CellError> {
        match self.options.get(key).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(v) => {
                Err(CellError::new(format!("{}(): option {key} must be true or false, not '{v}'", self.function())))
            }
        }
    }

    fn schema(&self) -> Result<Option<Schema>, CellError> {
        self.options
            .get("schema")
            .map(|text| {
                schema_text::parse(text).map_err(|e| {
                    CellError::new(format!("{}(): schema => '{text}': {}", self.function(), e.message)).hint(
                        "write the schema as 'name TYPE, ...', e.g. 'LCLid STRING, KWH DOUBLE, DateTime TIMESTAMP'",
                    )
                })
            })
            .transpose()
    }

    fn parse_one(&self, bytes: Vec<u8>, part: usize) -> Result<DataFrame, CellError> {
        let failed = |e: PolarsError| {
            let which = if part == 0 { String::new() } else { format!(" (part {})", part + 1) };
            CellError::new(format!("could not read '{}'{which} as {}: {e}", self.path, self.format_name()))
        };
        if bytes.is_empty() {
            return Err(CellError::new(format!("'{}' is empty (0 bytes)", self.path))
                .hint("check that the file was written completely"));
        }
        match self.format {
            FileFormat::Csv => self.parse_csv(bytes).map_err(|e| match e {
                Ok(cell) => cell,
                Err(polars) => failed(polars),
            }),
            FileFormat::Json => Err(failed(polars_err!(ComputeError: "JSON is read by json_read"))),
            FileFormat::Parquet => ParquetReader::new(Cursor::new(bytes)).finish().map_err(failed),
        }
    }

    fn format_name(&self) -> &'static str {
        match self.format {
            FileFormat::Csv => "CSV",
            FileFormat::Json => "JSON",
            FileFormat::Parquet => "Parquet",
        }
    }

    fn parse_csv(&self, bytes: Vec<u8>) -> Result<DataFrame, Result<CellError, PolarsError>> {
        let header = self.flag("header", true).map_err(Ok)?;
        let delimiter = match self.options.get("delimiter").map(String::as_bytes) {
            None => b',',
            Some([d]) => *d,
            Some(_) => {
                return Err(Ok(CellError::new("read_csv(): delimiter must be a single character, such as ',' or ';'")));
            }
        };
        let schema = self.schema().map_err(Ok)?;
        let mut options = CsvReadOptions::default()
            .with_has_header(header)
            .map_parse_options(|o| o.with_separator(delimiter).with_try_parse_dates(schema.is_none()));
        if let Some(schema) = schema {
            // Spark's rule: with an explicit schema, the names come from it.
            options = options.with_schema(Some(Arc::new(schema)));
        }
        options.into_reader_with_file_handle(Cursor::new(bytes)).finish().map_err(Err)
    }
}

/// Stacks part files; parts with different columns are unioned with nulls.
fn concat_frames(frames: Vec<DataFrame>, path: &str) -> Result<DataFrame, CellError> {
    if frames.len() == 1 {
        return Ok(frames.into_iter().next().unwrap_or_default());
    }
    let lazy: Vec<LazyFrame> = frames.into_iter().map(DataFrame::lazy).collect();
    concat_lf_diagonal(lazy, UnionArgs::default())
        .and_then(LazyFrame::collect)
        .map_err(|e| CellError::new(format!("the part files of '{path}' do not fit together: {e}")))
}

/// Reads an Arrow IPC stream.
pub(super) fn read_ipc_stream(bytes: &[u8]) -> PolarsResult<DataFrame> {
    IpcStreamReader::new(Cursor::new(bytes)).finish()
}
