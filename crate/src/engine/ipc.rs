//! Arrow IPC streams in and out of the engine: the rows a cell shows, a
//! Kafka range from the gateway, a Spark result.

use std::io::Cursor;

use polars::prelude::*;
use polars_io::ipc::{IpcStreamReader, IpcStreamWriter};
use polars_io::{SerReader, SerWriter};

use crate::CellError;

/// The first `rows` rows of a frame as an Arrow IPC stream. Strings and
/// binaries are written in Arrow's classic layouts, which every reader knows.
pub(super) fn write_stream(df: &DataFrame, rows: usize) -> Result<Vec<u8>, CellError> {
    let head = if rows < df.height() { df.head(Some(rows)) } else { df.clone() };
    let mut head = super::repair::repair_if_needed(head)
        .map_err(|e| CellError::new(format!("could not prepare the rows for display: {e}")))?;
    head.align_chunks_par();
    let mut bytes = Vec::new();
    IpcStreamWriter::new(&mut bytes)
        .with_compat_level(CompatLevel::oldest())
        .finish(&mut head)
        .map_err(|e| CellError::new(format!("could not encode the result as Arrow: {e}")))?;
    Ok(bytes)
}

/// Reads an Arrow IPC stream.
pub(super) fn read_stream(bytes: &[u8]) -> PolarsResult<DataFrame> {
    IpcStreamReader::new(Cursor::new(bytes)).finish()
}
