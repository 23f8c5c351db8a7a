//! Exports: a result table as Parquet, CSV, JSON lines or Arrow IPC bytes.

use std::str::FromStr;

use polars::prelude::*;
use polars_io::SerWriter;
use polars_io::csv::write::CsvWriter;
use polars_io::ipc::IpcWriter;
use polars_io::json::{JsonFormat, JsonWriter};
use polars_io::parquet::write::{ParquetCompression, ParquetWriter, ZstdLevel};
use serde::{Deserialize, Serialize};

use crate::CellError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Parquet,
    Csv,
    Json,
    Arrow,
}

impl ExportFormat {
    /// The file extension, without the compression part.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
            ExportFormat::Json => "json",
            ExportFormat::Arrow => "arrow",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "application/vnd.apache.parquet",
            ExportFormat::Csv => "text/csv",
            ExportFormat::Json => "application/x-ndjson",
            ExportFormat::Arrow => "application/vnd.apache.arrow.file",
        }
    }
}

impl FromStr for ExportFormat {
    type Err = CellError;
    fn from_str(s: &str) -> Result<Self, CellError> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(ExportFormat::Parquet),
            "csv" => Ok(ExportFormat::Csv),
            "json" | "jsonl" | "ndjson" => Ok(ExportFormat::Json),
            "arrow" | "ipc" | "feather" => Ok(ExportFormat::Arrow),
            other => {
                Err(CellError::new(format!("unknown format '{other}'"))
                    .hint("formats are parquet, csv, json and arrow"))
            }
        }
    }
}

/// Parquet's page compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    #[default]
    Snappy,
    Zstd,
    None,
}

impl Compression {
    /// The infix Spark puts in part file names: `part-00000-….snappy.parquet`.
    pub fn infix(self) -> Option<&'static str> {
        match self {
            Compression::Snappy => Some("snappy"),
            Compression::Zstd => Some("zstd"),
            Compression::None => None,
        }
    }
}

impl FromStr for Compression {
    type Err = CellError;
    fn from_str(s: &str) -> Result<Self, CellError> {
        match s.to_ascii_lowercase().as_str() {
            "snappy" => Ok(Compression::Snappy),
            "zstd" => Ok(Compression::Zstd),
            "none" | "uncompressed" => Ok(Compression::None),
            other => Err(CellError::new(format!("unknown compression '{other}'")).hint("use snappy, zstd or none")),
        }
    }
}

/// Encodes a frame in a format.
pub fn export(df: &DataFrame, format: ExportFormat, compression: Compression) -> Result<Vec<u8>, CellError> {
    let mut df = super::repair::repair_if_needed(df.clone())
        .map_err(|e| CellError::new(format!("could not prepare the rows for writing: {e}")))?;
    df.align_chunks_par();
    if format == ExportFormat::Json {
        // Polars writes decimals as JSON strings; Spark writes them as numbers.
        let columns = df
            .get_columns()
            .iter()
            .map(|c| match c.dtype() {
                DataType::Decimal(..) => c.cast(&DataType::Float64),
                _ => Ok(c.clone()),
            })
            .collect::<PolarsResult<Vec<_>>>()
            .map_err(|e| CellError::new(format!("could not prepare the rows for writing: {e}")))?;
        df = DataFrame::new(columns).map_err(|e| CellError::new(format!("could not prepare the rows for writing: {e}")))?;
    }
    let mut bytes = Vec::new();
    let result = match format {
        ExportFormat::Parquet => {
            let compression = match compression {
                Compression::Snappy => ParquetCompression::Snappy,
                Compression::Zstd => ParquetCompression::Zstd(ZstdLevel::try_new(3).ok()),
                Compression::None => ParquetCompression::Uncompressed,
            };
            ParquetWriter::new(&mut bytes).with_compression(compression).finish(&mut df).map(|_| ())
        }
        ExportFormat::Csv => CsvWriter::new(&mut bytes).include_header(true).finish(&mut df),
        ExportFormat::Json => JsonWriter::new(&mut bytes).with_json_format(JsonFormat::JsonLines).finish(&mut df),
        ExportFormat::Arrow => IpcWriter::new(&mut bytes).finish(&mut df),
    };
    result.map_err(|e| CellError::new(format!("could not write {}: {e}", format.extension())))?;
    Ok(bytes)
}
