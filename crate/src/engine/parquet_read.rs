//! `read_parquet(path, mergeSchema => ...)`: the part files of a directory
//! with one schema, or (with `mergeSchema => true`) the union of their
//! columns, as Spark reads them. INT96 timestamps (Spark's and Hive's
//! legacy encoding, UTC) read as Spark's TIMESTAMP.

use std::collections::BTreeMap;
use std::io::Cursor;

use polars::prelude::*;
use polars_io::SerReader;
use polars_io::parquet::read::ParquetReader;
use polars_parquet::parquet::schema::types::PhysicalType;

use super::output::spark_type_name;
use super::sql::typed::timestamp_type;
use crate::CellError;

/// Reads the part files of `path` (named `names` by the host, when it did).
pub(super) fn read(
    path: &str,
    given: &BTreeMap<String, String>,
    parts: Vec<Vec<u8>>,
    names: &[String],
) -> Result<DataFrame, CellError> {
    let mut merge = false;
    for (key, value) in given {
        if key != "mergeschema" {
            return Err(CellError::new(format!("read_parquet(): unknown option `{key}`"))
                .hint("read_parquet takes mergeSchema => true (the union of the part files' columns)"));
        }
        merge = match value.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(CellError::new(format!(
                    "read_parquet(): option mergeSchema must be true or false, not '{other}'"
                ))
                .hint("write mergeSchema => true"));
            }
        };
    }
    if parts.is_empty() {
        return Err(CellError::new(format!("'{path}' holds no data files"))
            .hint("a directory must hold part files; _SUCCESS, _temporary and hidden files are skipped"));
    }
    let count = parts.len();
    let name = |i: usize| crate::paths::part_label(path, names, i, count);
    let frames =
        parts.into_iter().enumerate().map(|(i, bytes)| read_one(bytes, &name(i))).collect::<Result<Vec<_>, _>>()?;
    if frames.len() == 1 {
        return Ok(frames.into_iter().next().unwrap_or_default());
    }
    let first = frames[0].schema().clone();
    if !merge {
        if let Some((i, df)) = frames.iter().enumerate().skip(1).find(|(_, df)| df.schema().as_ref() != first.as_ref())
        {
            return Err(CellError::new(format!(
                "the part files of '{path}' have different schemas: {} has ({}) but {} has ({})",
                name(0),
                columns(&first),
                name(i),
                columns(df.schema())
            ))
            .hint(format!(
                "read_parquet('{path}', mergeSchema => true) reads the union of their columns (nulls where a file lacks one)"
            )));
        }
        return stack(frames, path);
    }
    // The union: a column has one type in every file that has it.
    let mut seen: Vec<(PlSmallStr, DataType, usize)> = Vec::new();
    for (i, df) in frames.iter().enumerate() {
        for (col, dtype) in df.schema().iter() {
            match seen.iter().find(|(n, _, _)| n == col) {
                Some((_, t, j)) if t != dtype => {
                    return Err(CellError::new(format!(
                        "mergeSchema: column {col} is {} in {} but {} in {}",
                        spark_type_name(t).to_uppercase(),
                        name(*j),
                        spark_type_name(dtype).to_uppercase(),
                        name(i)
                    ))
                    .hint("rewrite one of the files with the other's type, or read them apart and CAST before a UNION ALL"));
                }
                Some(_) => {}
                None => seen.push((col.clone(), dtype.clone(), i)),
            }
        }
    }
    stack(frames, path)
}

fn columns(schema: &Schema) -> String {
    schema.iter().map(|(n, t)| format!("{n} {}", spark_type_name(t).to_uppercase())).collect::<Vec<_>>().join(", ")
}

fn stack(frames: Vec<DataFrame>, path: &str) -> Result<DataFrame, CellError> {
    let lazy: Vec<LazyFrame> = frames.into_iter().map(DataFrame::lazy).collect();
    concat_lf_diagonal(lazy, UnionArgs::default())
        .and_then(LazyFrame::collect)
        .map_err(|e| CellError::new(format!("the part files of '{path}' do not fit together: {e}")))
}

/// The top-level columns a footer stores as INT96.
pub(super) fn int96_columns(metadata: &polars_parquet::parquet::metadata::FileMetadata) -> Vec<String> {
    metadata
        .schema()
        .columns()
        .iter()
        .filter(|c| c.path_in_schema.len() == 1 && c.descriptor.primitive_type.physical_type == PhysicalType::Int96)
        .map(|c| c.path_in_schema[0].to_string())
        .collect()
}

fn read_one(bytes: Vec<u8>, name: &str) -> Result<DataFrame, CellError> {
    if bytes.is_empty() {
        return Err(
            CellError::new(format!("{name} is empty (0 bytes)")).hint("check that the file was written completely")
        );
    }
    const MAGIC: &[u8] = b"PAR1";
    if !bytes.starts_with(MAGIC) || !bytes.ends_with(MAGIC) {
        let text = bytes.iter().take(512).all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
        let what = if bytes.len() < 12 {
            format!(
                "{name} is not a Parquet file: it has {} bytes, fewer than a Parquet file's markers and footer",
                bytes.len()
            )
        } else if bytes.starts_with(MAGIC) {
            format!(
                "{name} is cut short or damaged: it starts like a Parquet file but does not end with Parquet's PAR1 marker"
            )
        } else {
            format!("{name} is not a Parquet file: it does not start and end with Parquet's PAR1 marker")
        };
        let hint = match (text, bytes.iter().find(|b| !b.is_ascii_whitespace())) {
            (true, Some(b'{' | b'[')) => "it looks like JSON text: read it with read_json",
            (true, _) => "it looks like text: read it with read_csv (or read_json)",
            (false, _) if bytes.starts_with(MAGIC) => "check that the file was written completely, or write it again",
            (false, _) => "check the path; read_parquet reads files written as Parquet",
        };
        return Err(CellError::new(what).hint(hint));
    }
    let failed = |e: PolarsError| {
        let reason = e.to_string();
        let reason = reason.trim_start_matches("parquet: ").trim_start_matches("File out of specification: ");
        CellError::new(format!("{name} is a damaged Parquet file: {reason}"))
            .hint("write the file again; the other part files can be read on their own")
    };
    let mut reader = ParquetReader::new(Cursor::new(bytes));
    let int96 = int96_columns(reader.get_metadata().map_err(failed)?);
    let mut df = reader.finish().map_err(failed)?;
    // Nanoseconds since the epoch in UTC: Spark's TIMESTAMP is microseconds.
    for col in int96 {
        if let Ok(c) = df.column(&col) {
            let cast = c.cast(&timestamp_type()).map_err(failed)?;
            df.with_column(cast).map_err(failed)?;
        }
    }
    Ok(df)
}
