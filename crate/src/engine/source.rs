//! Sources: table functions whose bytes the host fetches.

use std::collections::BTreeMap;
use std::io::Cursor;

use polars::prelude::*;
use polars_io::SerReader;
use polars_io::csv::read::CsvReadOptions;
use serde::{Deserialize, Serialize};

use crate::CellError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    Csv,
}

impl SourceFormat {
    pub fn function_name(self) -> &'static str {
        match self {
            SourceFormat::Csv => "read_csv",
        }
    }

    pub fn from_function_name(name: &str) -> Option<SourceFormat> {
        match name.to_ascii_lowercase().as_str() {
            "read_csv" => Some(SourceFormat::Csv),
            _ => None,
        }
    }
}

/// Bytes the engine needs from the host: a file in storage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRequest {
    /// The name the parsed source is registered under while the cell runs.
    pub id: String,
    pub format: SourceFormat,
    /// As the user wrote it: `hdfs:///x`, `file:///x` or a path under the data root.
    pub path: String,
    /// Named arguments (`header => false`), as text.
    pub options: BTreeMap<String, String>,
}

impl SourceRequest {
    /// Parses the fetched bytes into a frame.
    pub fn parse(&self, bytes: Vec<u8>) -> Result<DataFrame, CellError> {
        match self.format {
            SourceFormat::Csv => self.parse_csv(bytes),
        }
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, CellError> {
        match self.options.get(key).map(|v| v.to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(v) => Err(CellError::new(format!(
                "{}(): option {key} must be true or false, not '{v}'",
                self.format.function_name()
            ))),
        }
    }

    fn parse_csv(&self, bytes: Vec<u8>) -> Result<DataFrame, CellError> {
        let header = self.flag("header", true)?;
        let delimiter = match self.options.get("delimiter").map(String::as_bytes) {
            None => b',',
            Some([d]) => *d,
            Some(_) => {
                return Err(CellError::new("read_csv(): delimiter must be a single character, such as ',' or ';'"));
            }
        };
        for key in self.options.keys() {
            if !matches!(key.as_str(), "header" | "delimiter") {
                return Err(CellError::new(format!("read_csv(): unknown option {key}"))
                    .hint("read_csv takes header => true|false and delimiter => ','"));
            }
        }
        CsvReadOptions::default()
            .with_has_header(header)
            .map_parse_options(|o| o.with_separator(delimiter))
            .into_reader_with_file_handle(Cursor::new(bytes))
            .finish()
            .map_err(|e| CellError::new(format!("could not read CSV '{}': {e}", self.path)))
    }
}
