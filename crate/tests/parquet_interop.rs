//! Parquet the engine writes reads back unchanged in another implementation
//! (arrow-rs, the reader behind DataFusion and many Rust tools). Native only.
#![allow(clippy::unwrap_used)]
#![cfg(not(target_arch = "wasm32"))]

use arrow_array::cast::AsArray;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ArrowReaderMetadata;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use riffle::engine::{Compression, ExportFormat, Session, export};

#[test]
fn parquet_reads_back_in_arrow_rs() {
    let mut session = Session::new();
    let result = session
        .run(
            "SELECT n AS id, CAST(n * 1.5 AS DOUBLE) AS amount, 'zone-' || CAST(n AS STRING) AS zone,\n\
                    n % 2 = 0 AS even, CAST('2024-01-31' AS DATE) AS day,\n\
                    TIMESTAMP '2024-01-31 10:30:00' AS at\n\
             FROM (VALUES (1), (2), (3), (4), (5)) AS t(n)",
            "t",
        )
        .unwrap();
    for (compression, codec) in [(Compression::Snappy, "SNAPPY"), (Compression::Zstd, "ZSTD")] {
        let bytes = Bytes::from(export(&result.df, ExportFormat::Parquet, compression).unwrap());

        let file = SerializedFileReader::new(bytes.clone()).unwrap();
        let column = file.metadata().row_group(0).column(0);
        assert!(column.compression().to_string().to_uppercase().starts_with(codec), "{}", column.compression());

        let metadata = ArrowReaderMetadata::load(&bytes, Default::default()).unwrap();
        let schema = metadata.schema();
        let fields: Vec<(String, String)> =
            schema.fields().iter().map(|f| (f.name().clone(), f.data_type().to_string())).collect();
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["id", "amount", "zone", "even", "day", "at"]);
        assert!(fields[1].1.contains("Float64"), "{fields:?}");
        assert!(fields[4].1.contains("Date32"), "{fields:?}");
        assert!(fields[5].1.contains("Timestamp"), "{fields:?}");

        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap().build().unwrap();
        let batches: Vec<_> = reader.map(Result::unwrap).collect();
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        assert_eq!(rows, 5);
        let zone = arrow_cast::cast(batches[0].column(2), &arrow_schema::DataType::Utf8).unwrap();
        let zones: Vec<&str> = zone.as_string::<i32>().iter().map(Option::unwrap).collect();
        assert_eq!(zones, ["zone-1", "zone-2", "zone-3", "zone-4", "zone-5"]);
        let amount = batches[0].column(1).as_primitive::<arrow_array::types::Float64Type>();
        assert_eq!(amount.values().iter().sum::<f64>(), 22.5);
    }
}

/// A struct null in every row, and lists that are empty or null, as one
/// event type's rows of MISSION workflow 3 have them: arrow-rs reads the
/// strings as strings and the nulls as nulls.
#[test]
fn null_structs_and_empty_lists_read_back_in_arrow_rs() {
    let mut session = Session::new();
    let result = session
        .run(
            "SELECT k, CASE WHEN k = 'a' THEN named_struct('name', 'a healing draught', 'hp', 20) END AS potion,\n\
                    CASE WHEN k = 'a' THEN array('x') ELSE array_remove(array('x'), 'x') END AS tags\n\
             FROM (VALUES ('a'), ('b'), ('b')) AS t(k) WHERE k = 'b'",
            "t",
        )
        .unwrap();
    let bytes = Bytes::from(export(&result.df, ExportFormat::Parquet, Compression::Snappy).unwrap());
    let metadata = ArrowReaderMetadata::load(&bytes, Default::default()).unwrap();
    let potion = metadata.schema().field_with_name("potion").unwrap().data_type().to_string();
    assert!(potion.starts_with("Struct") && potion.contains("name") && potion.contains("Utf8"), "{potion}");
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes).unwrap().build().unwrap();
    let batches: Vec<_> = reader.map(Result::unwrap).collect();
    let batch = &batches[0];
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(batch.column_by_name("potion").unwrap().null_count(), 2);
    let tags = batch.column_by_name("tags").unwrap();
    assert_eq!(tags.null_count(), 0);
    assert!(tags.as_list::<i64>().iter().all(|l| l.is_some_and(|l| l.is_empty())), "{tags:?}");
}
