//! Parquet footers, read on their own: a reader fetches a file's last bytes
//! by range first, learns from them that the file is Parquet, how many rows
//! it holds and its schema, and only then fetches the data.

use serde::{Deserialize, Serialize};

use crate::CellError;

/// How many bytes to fetch from the end first: enough for most footers.
pub const FOOTER_GUESS: u64 = 64 * 1024;

/// What a Parquet footer tells without the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParquetFooter {
    pub rows: u64,
    pub row_groups: usize,
    /// Column names and Spark type names.
    pub columns: Vec<(String, String)>,
    /// Bytes of the footer, its length and the closing magic.
    pub footer_bytes: u64,
}

/// What the last bytes of a file gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Footer {
    Read(ParquetFooter),
    /// The tail was too short: fetch the last this-many bytes.
    NeedTail(u64),
}

/// Reads the footer from the last bytes (`tail`) of a file of `size` bytes.
pub fn parquet_footer(tail: &[u8], size: u64, path: &str) -> Result<Footer, CellError> {
    let not_parquet = |why: &str| {
        CellError::new(format!("'{path}' is not a Parquet file: {why}"))
            .hint("read it with read_csv or read_json, or check the path")
    };
    if size == 0 {
        return Err(CellError::new(format!("'{path}' is empty (0 bytes)")));
    }
    if size < 12 {
        return Err(not_parquet(&format!("it has only {size} bytes")));
    }
    let n = tail.len();
    if n < 8 {
        return Ok(Footer::NeedTail(8));
    }
    if &tail[n - 4..] != b"PAR1" {
        return Err(not_parquet("it does not end with the PAR1 marker"));
    }
    let len = u32::from_le_bytes([tail[n - 8], tail[n - 7], tail[n - 6], tail[n - 5]]) as u64;
    let needed = len + 8;
    if needed + 4 > size {
        return Err(not_parquet(&format!("its footer claims {len} bytes, more than the file holds")));
    }
    if (n as u64) < needed {
        return Ok(Footer::NeedTail(needed));
    }
    let meta = &tail[n - needed as usize..n - 8];
    let metadata = polars_parquet::parquet::read::deserialize_metadata(meta, meta.len() * 2 + 1024)
        .map_err(|e| not_parquet(&format!("its footer does not parse ({e})")))?;
    let schema = polars_parquet::arrow::read::infer_schema(&metadata)
        .map_err(|e| not_parquet(&format!("its schema does not convert ({e})")))?;
    // INT96 (Spark's and Hive's timestamps) reads as TIMESTAMP.
    let int96 = super::parquet_read::int96_columns(&metadata);
    let columns = schema
        .iter_values()
        .map(|field| {
            let dtype = polars::prelude::DataType::from_arrow_field(field);
            let name = if int96.iter().any(|c| c == field.name.as_str()) {
                "timestamp".to_string()
            } else {
                crate::engine::spark_type_name(&dtype)
            };
            (field.name.to_string(), name)
        })
        .collect();
    Ok(Footer::Read(ParquetFooter {
        rows: metadata.num_rows as u64,
        row_groups: metadata.row_groups.len(),
        columns,
        footer_bytes: needed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Compression, ExportFormat, export};
    use polars::prelude::*;

    #[test]
    fn footers_read_from_the_tail_alone() {
        let df = df!("a" => [1i64, 2, 3], "b" => ["x", "y", "z"]).unwrap();
        let bytes = export(&df, ExportFormat::Parquet, Compression::Snappy).unwrap();
        let size = bytes.len() as u64;
        // Too little: it says how much it needs.
        let need = match parquet_footer(&bytes[bytes.len() - 8..], size, "t").unwrap() {
            Footer::NeedTail(n) => n,
            Footer::Read(_) => panic!("8 bytes are not a footer"),
        };
        assert!(need > 8 && need < size);
        let Footer::Read(footer) = parquet_footer(&bytes[bytes.len() - need as usize..], size, "t").unwrap() else {
            panic!("the footer was all there")
        };
        assert_eq!(footer.rows, 3);
        assert_eq!(footer.columns, [("a".to_string(), "bigint".to_string()), ("b".into(), "string".into())]);
        let e = parquet_footer(b"a,b\n1,2\n3,4\n5,6\n", 16, "x.csv").unwrap_err();
        assert!(e.message.contains("'x.csv' is not a Parquet file"), "{}", e.message);
        assert!(parquet_footer(b"", 0, "e").unwrap_err().message.contains("empty (0 bytes)"));
    }
}
