//! What a result table asks of a catalog table after its cell ran: a page
//! of rows to show while scrolling, and the whole table as a file to download.

use polars::prelude::*;

use super::export::{Compression, ExportFormat, export};
use crate::CellError;

/// The most rows one page request may ask for.
pub const MAX_PAGE_ROWS: u64 = 10_000;

/// Rows `offset..offset + limit` of `df` (fewer at the end) as an Arrow IPC
/// stream, in the layout of a cell's first rows.
pub fn page_ipc(df: &DataFrame, table: &str, offset: u64, limit: u64) -> Result<Vec<u8>, CellError> {
    let height = df.height() as u64;
    if offset > height {
        return Err(CellError::new(format!(
            "rows from {offset} of '{table}' were asked for, but it has {height} rows"
        ))
        .hint("the table changed since it was shown: run its cell again"));
    }
    if limit > MAX_PAGE_ROWS {
        return Err(CellError::new(format!(
            "{limit} rows of '{table}' were asked for at once; a page holds at most {MAX_PAGE_ROWS}"
        )));
    }
    let len = limit.min(height - offset) as usize;
    let page = df.slice(offset as i64, len);
    super::ipc::write_stream(&page, len)
}

/// A table encoded as a file to download.
#[derive(Debug, Clone, PartialEq)]
pub struct Download {
    pub bytes: Vec<u8>,
    /// `<table>.parquet`, `<table>.csv`, `<table>.jsonl`.
    pub filename: String,
    pub mime: String,
    /// The format's canonical name: `parquet`, `csv`, `json`.
    pub format: String,
}

/// Encodes the whole of `df` as Parquet (snappy), CSV with a header, or JSON
/// lines. CSV cannot hold nested columns: those are an error naming them.
pub fn download(df: &DataFrame, table: &str, format: &str) -> Result<Download, CellError> {
    let format: ExportFormat = format.parse().map_err(|e: CellError| {
        CellError::new(format!("cannot download '{table}' as '{format}': {}", e.message))
            .hint("choose Parquet, CSV or JSON")
    })?;
    if format == ExportFormat::Arrow {
        return Err(CellError::new(format!("cannot download '{table}' as Arrow")).hint("choose Parquet, CSV or JSON"));
    }
    if format == ExportFormat::Csv {
        let nested: Vec<String> = df
            .get_columns()
            .iter()
            .filter(|c| c.dtype().is_nested())
            .map(|c| format!("{} ({})", c.name(), super::output::spark_type_name(c.dtype())))
            .collect();
        if !nested.is_empty() {
            return Err(CellError::new(format!(
                "CSV cannot hold the nested column(s) {} of '{table}'",
                nested.join(", ")
            ))
            .hint("download it as Parquet or JSON, or select the nested fields as columns (e.field) first"));
        }
    }
    let bytes = export(df, format, Compression::Snappy)
        .map_err(|e| CellError::new(format!("could not encode '{table}' for download: {}", e.message)))?;
    let extension = match format {
        ExportFormat::Json => "jsonl",
        other => other.extension(),
    };
    Ok(Download {
        bytes,
        filename: format!("{}.{extension}", file_stem(table)),
        mime: format.mime().to_string(),
        format: format.extension().to_string(),
    })
}

/// A table name as a file name: characters other than letters, digits, `-`,
/// `_` and `.` become `_`.
fn file_stem(table: &str) -> String {
    let stem: String =
        table.chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    let stem = stem.trim_matches('.');
    if stem.is_empty() { "result".to_string() } else { stem.to_string() }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use polars_io::SerReader;
    use polars_io::csv::read::CsvReadOptions;
    use polars_io::json::{JsonFormat, JsonReader};
    use polars_io::parquet::read::ParquetReader;

    use super::*;

    fn frame() -> DataFrame {
        df!(
            "id" => [1i64, 2, 3],
            "name" => [Some("ada"), None, Some("grace, \"the\" admiral")],
            "amount" => [1.5f64, -2.25, 1e6],
        )
        .unwrap()
    }

    #[test]
    fn downloads_read_back_the_same_rows() {
        let df = frame();
        let parquet = download(&df, "trips", "parquet").unwrap();
        assert_eq!((parquet.filename.as_str(), parquet.format.as_str()), ("trips.parquet", "parquet"));
        assert_eq!(parquet.mime, "application/vnd.apache.parquet");
        let back = ParquetReader::new(Cursor::new(parquet.bytes)).finish().unwrap();
        assert!(back.equals_missing(&df), "{back}");

        let csv = download(&df, "trips", "CSV").unwrap();
        assert_eq!((csv.filename.as_str(), csv.mime.as_str()), ("trips.csv", "text/csv"));
        let back = CsvReadOptions::default()
            .with_has_header(true)
            .into_reader_with_file_handle(Cursor::new(csv.bytes))
            .finish()
            .unwrap();
        assert!(back.equals_missing(&df), "{back}");

        let json = download(&df, "trips", "json").unwrap();
        assert_eq!((json.filename.as_str(), json.mime.as_str()), ("trips.jsonl", "application/x-ndjson"));
        assert_eq!(String::from_utf8_lossy(&json.bytes).lines().count(), 3);
        let back = JsonReader::new(Cursor::new(json.bytes)).with_json_format(JsonFormat::JsonLines).finish().unwrap();
        assert!(back.equals_missing(&df), "{back}");
    }

    #[test]
    fn nested_columns_download_as_parquet_and_json_but_not_csv() {
        let ids = Series::new("id".into(), [1i64, 2]);
        let tags = Series::new("tag".into(), ["a", "b"]);
        let s = StructChunked::from_series("e".into(), 2, [ids, tags].iter()).unwrap().into_series();
        let df = DataFrame::new(vec![s.into()]).unwrap();
        let parquet = download(&df, "events", "parquet").unwrap();
        let back = ParquetReader::new(Cursor::new(parquet.bytes)).finish().unwrap();
        assert!(back.equals_missing(&df), "{back}");
        let json = download(&df, "events", "json").unwrap();
        assert_eq!(String::from_utf8_lossy(&json.bytes).lines().next(), Some(r#"{"e":{"id":1,"tag":"a"}}"#));
        let e = download(&df, "events", "csv").unwrap_err();
        assert!(
            e.message.contains("CSV cannot hold") && e.message.contains("e (struct<id:bigint,tag:string>)"),
            "{e:?}"
        );
        assert!(e.hint.unwrap().contains("Parquet or JSON"));
    }

    #[test]
    fn bad_formats_and_pages_are_errors() {
        let df = frame();
        let e = download(&df, "trips", "xlsx").unwrap_err();
        assert!(e.message.contains("cannot download 'trips' as 'xlsx'"), "{e:?}");
        assert!(download(&df, "trips", "arrow").is_err());
        assert_eq!(download(&df, "a/b c", "csv").unwrap().filename, "a_b_c.csv");
        assert!(page_ipc(&df, "trips", 4, 1).unwrap_err().message.contains("has 3 rows"));
        assert!(page_ipc(&df, "trips", 0, MAX_PAGE_ROWS + 1).is_err());
    }

    #[test]
    fn pages_are_slices() {
        let df = frame();
        let page = super::super::ipc::read_stream(&page_ipc(&df, "trips", 1, 500).unwrap()).unwrap();
        assert!(page.equals_missing(&df.slice(1, 2)), "{page}");
        let empty = super::super::ipc::read_stream(&page_ipc(&df, "trips", 3, 10).unwrap()).unwrap();
        assert_eq!((empty.height(), empty.width()), (0, 3));
    }
}
