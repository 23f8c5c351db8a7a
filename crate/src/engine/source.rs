//! Sources: table functions whose bytes the host fetches.
//!
//! `read_csv`, `read_json` and `read_parquet` name a file or a directory of
//! part files; `kafka` names a range of a topic. The engine describes what it
//! needs as a [`SourceRequest`]; the host answers with the bytes of each part
//! ([`SourceData`]); the engine parses them here.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::kafka::{self, KafkaRange};
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
    /// The names of a directory's part files as the host listed them
    /// (`part-00000-….parquet`), in the order of [`SourceData::parts`]; the
    /// host sets them before `execute` so that messages name the file that
    /// failed. Without them messages say "part file 2 of 'dir'".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub part_names: Vec<String>,
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
        let names = &self.part_names;
        match &self.kind {
            SourceKind::File { format: FileFormat::Json, path, options } => {
                super::json_read::read(path, options, data.parts, notes)
            }
            SourceKind::File { format: FileFormat::Parquet, path, options } => {
                super::parquet_read::read(path, options, data.parts, names)
            }
            SourceKind::File { format: FileFormat::Csv, path, options } => {
                super::csv::read(path, options, &data.parts, names, notes)
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
