//! Exports: a result table as Parquet, CSV, JSON lines or Arrow IPC bytes.

use std::str::FromStr;

use polars::prelude::*;
use polars_arrow::array::{Array, FixedSizeListArray, ListArray, StructArray, Utf8ViewArray};
use polars_arrow::datatypes::{ArrowDataType, Field as ArrowField};
use polars_arrow::record_batch::RecordBatchT;
use polars_io::SerWriter;
use polars_io::csv::write::CsvWriter;
use polars_io::ipc::IpcWriter;
use polars_io::json::{JsonFormat, JsonWriter};
use polars_io::parquet::write::{ParquetCompression, StatisticsOptions, ZstdLevel, get_column_write_options};
use polars_parquet::write::{CompressionOptions, FileWriter, Version, WriteOptions, row_group_iter};
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
        df = DataFrame::new(columns)
            .map_err(|e| CellError::new(format!("could not prepare the rows for writing: {e}")))?;
    }
    let mut bytes = Vec::new();
    let result = match format {
        ExportFormat::Parquet => {
            let compression = match compression {
                Compression::Snappy => ParquetCompression::Snappy,
                Compression::Zstd => ParquetCompression::Zstd(ZstdLevel::try_new(3).ok()),
                Compression::None => ParquetCompression::Uncompressed,
            };
            write_parquet(&mut bytes, &mut df, compression)
        }
        ExportFormat::Csv => CsvWriter::new(&mut bytes).include_header(true).finish(&mut df),
        ExportFormat::Json => JsonWriter::new(&mut bytes).with_json_format(JsonFormat::JsonLines).finish(&mut df),
        ExportFormat::Arrow => IpcWriter::new(&mut bytes).finish(&mut df),
    };
    result.map_err(|e| CellError::new(format!("could not write {}: {e}", format.extension())))?;
    Ok(bytes)
}

/// Rows per Parquet row group, as Polars' own writer makes them.
const ROW_GROUP_ROWS: usize = 512 * 512;

/// Writes `df` as one Parquet file: Polars' writer, step by step, with its
/// strings handed over as binary views.
///
/// Polars 0.51's writer slices each page and then casts string views to
/// binary views. On 32-bit targets that cast truncates the "length not yet
/// known" marker (`u64::MAX`) to `u32::MAX`, so the page claims 4 GiB of
/// string bytes; a page whose strings are all null (a struct null in every
/// row, as one event type's missing field is) then reserves that much and
/// panics with "capacity overflow". A binary view with a known length takes
/// no cast: slicing it keeps a true marker, and its length is recomputed.
/// The Parquet schema (and the Arrow schema stored in the file) still comes
/// from the frame's own types, so strings stay strings for every reader.
fn write_parquet(bytes: &mut Vec<u8>, df: &mut DataFrame, compression: ParquetCompression) -> PolarsResult<()> {
    df.as_single_chunk_par();
    let schema = df.schema().to_arrow(CompatLevel::newest());
    let column_options = get_column_write_options(&schema, &[]);
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: CompressionOptions::from(compression),
        version: Version::V1,
        data_page_size: None,
    };
    let mut writer = FileWriter::try_new(bytes, schema, options, &column_options)?;
    let fields = writer.parquet_schema().fields().to_vec();
    let mut offset = 0;
    while offset < df.height() {
        let group = df.slice(offset as i64, ROW_GROUP_ROWS);
        offset += group.height();
        for batch in group.iter_chunks(CompatLevel::newest(), false) {
            let height = batch.height();
            let schema = Arc::new(batch.schema().clone());
            let arrays =
                batch.into_arrays().iter().map(|a| binary_views(a.as_ref())).collect::<PolarsResult<Vec<_>>>()?;
            let batch = RecordBatchT::try_new(height, schema, arrays)?;
            writer.write(row_group_iter(batch, column_options.clone(), fields.clone(), options))?;
        }
    }
    writer.end(None, &column_options)?;
    Ok(())
}

/// `array` with every string view, children included, as a binary view
/// whose byte length is known.
fn binary_views(array: &dyn Array) -> PolarsResult<Box<dyn Array>> {
    let any = array.as_any();
    Ok(match array.dtype() {
        ArrowDataType::Utf8View => match any.downcast_ref::<Utf8ViewArray>() {
            Some(strings) => {
                // Slicing resets a truncated marker; asking computes the length.
                let strings = strings.clone().sliced(0, strings.len());
                strings.total_bytes_len();
                strings.to_binview().boxed()
            }
            None => array.to_boxed(),
        },
        ArrowDataType::Struct(_) => match any.downcast_ref::<StructArray>() {
            Some(s) => StructArray::try_new(
                binary_dtype(s.dtype()),
                s.len(),
                s.values().iter().map(|v| binary_views(v.as_ref())).collect::<PolarsResult<Vec<_>>>()?,
                s.validity().cloned(),
            )?
            .boxed(),
            None => array.to_boxed(),
        },
        ArrowDataType::LargeList(_) => match any.downcast_ref::<ListArray<i64>>() {
            Some(list) => ListArray::<i64>::try_new(
                binary_dtype(list.dtype()),
                list.offsets().clone(),
                binary_views(list.values().as_ref())?,
                list.validity().cloned(),
            )?
            .boxed(),
            None => array.to_boxed(),
        },
        ArrowDataType::FixedSizeList(..) => match any.downcast_ref::<FixedSizeListArray>() {
            Some(list) => FixedSizeListArray::try_new(
                binary_dtype(list.dtype()),
                list.len(),
                binary_views(list.values().as_ref())?,
                list.validity().cloned(),
            )?
            .boxed(),
            None => array.to_boxed(),
        },
        _ => array.to_boxed(),
    })
}

/// The type [`binary_views`] gives an array of `dtype`.
fn binary_dtype(dtype: &ArrowDataType) -> ArrowDataType {
    let field = |f: &ArrowField| ArrowField { dtype: binary_dtype(&f.dtype), ..f.clone() };
    match dtype {
        ArrowDataType::Utf8View => ArrowDataType::BinaryView,
        ArrowDataType::Struct(fields) => ArrowDataType::Struct(fields.iter().map(field).collect()),
        ArrowDataType::LargeList(f) => ArrowDataType::LargeList(Box::new(field(f))),
        ArrowDataType::FixedSizeList(f, size) => ArrowDataType::FixedSizeList(Box::new(field(f)), *size),
        other => other.clone(),
    }
}
