//! Every writer (Parquet, CSV, JSON lines, Arrow IPC) over every nested shape
//! that once crashed the engine on wasm32: structs null in every row, empty
//! lists, all-null lists of structs, zero-row frames (issue 16). Run in the
//! Chromium worker as well as natively, like the rest of `tests/engine.rs`.

use std::io::Cursor;

use polars::prelude::*;
use polars_io::SerReader;
use polars_io::ipc::IpcReader;
use polars_io::parquet::read::ParquetReader;
use riffle::engine::{Effect, ExportFormat, Session, SourceData};

/// Events of three types, as MISSION workflow 3 has them: only
/// `drink_potion` has a `potion` (a struct), only `level_up` a `level`.
const EVENTS: &str = "-- name: events\n\
    SELECT json_parse(s) AS e FROM (VALUES\n\
    ('{\"event_type\": \"purchase_sword\", \"sword_type\": \"katana\", \"price\": 12}'),\n\
    ('{\"event_type\": \"drink_potion\", \"potion\": {\"name\": \"a healing draught of the north\", \"hp\": 20, \"tags\": [\"red\", \"a long enough tag name\"]}}'),\n\
    ('{\"event_type\": \"level_up\", \"level\": 2}'),\n\
    ('{\"event_type\": \"level_up\", \"level\": 3}')) AS t(s)";

/// One column per nested shape; the `a` row has values, the `b` rows are
/// null or empty in every shape.
const SHAPES: &str = "-- name: shapes\n\
    SELECT k,\n\
      CASE WHEN k = 'a' THEN 'a string longer than twelve bytes' END AS null_string,\n\
      CASE WHEN k = 'a' THEN named_struct('s', 'a string longer than twelve bytes', 'n', 1) END AS null_struct,\n\
      CASE WHEN k = 'a' THEN named_struct('inner', named_struct('s', 'x', 'n', 2), 't', 'y') END AS null_struct_of_struct,\n\
      CASE WHEN k = 'a' THEN array('x', 'a string longer than twelve bytes') ELSE array_remove(array('x'), 'x') END AS empty_list,\n\
      CASE WHEN k = 'a' THEN array('x') END AS null_list,\n\
      CASE WHEN k = 'a' THEN array(named_struct('s', 'a string longer than twelve bytes', 'n', 3)) END AS null_list_of_structs,\n\
      CASE WHEN k = 'a' THEN array(named_struct('s', 'z', 'n', 4)) ELSE array(CAST(NULL AS STRUCT<s: STRING, n: INT>)) END AS list_of_null_structs,\n\
      CASE WHEN k = 'a' THEN named_struct('l', array('p', 'q')) END AS null_struct_of_list\n\
    FROM (VALUES ('a'), ('b'), ('b'), ('b')) AS t(k)";

fn parquet(bytes: Vec<u8>) -> DataFrame {
    ParquetReader::new(Cursor::new(bytes)).finish().unwrap()
}

fn ipc(bytes: Vec<u8>) -> DataFrame {
    IpcReader::new(Cursor::new(bytes)).finish().unwrap()
}

/// The frames of the sweep: all rows, only the null/empty rows (through a
/// filter, as a split by event type makes them), one row, and none.
fn shape_frames() -> Vec<(&'static str, DataFrame)> {
    let mut session = Session::new();
    session.run(SHAPES, "c1").unwrap();
    [
        ("mixed", "SELECT * FROM shapes"),
        ("null or empty in every row", "SELECT * FROM shapes WHERE k = 'b'"),
        ("one null row", "SELECT * FROM shapes WHERE k = 'b' LIMIT 1"),
        ("zero rows", "SELECT * FROM shapes WHERE k = 'none'"),
    ]
    .into_iter()
    .map(|(what, sql)| (what, session.run(sql, "q").unwrap_or_else(|e| panic!("{what}: {e:?}")).df))
    .collect()
}

both! {
    // MISSION.md workflow 3: split by type, each type written to Parquet.
    // `potion` is a struct that is null in every level_up row; on wasm32
    // writing it panicked with "capacity overflow" and killed the worker.
    fn workflow_3_a_struct_null_for_one_event_type_writes_to_parquet() {
        let mut session = Session::new();
        session.run(EVENTS, "c1").unwrap();
        let flat = session.run("-- name: flat\nSELECT e.* FROM events", "c2").unwrap();
        let potion = flat.df.column("potion").unwrap().dtype().clone();
        assert!(matches!(potion, DataType::Struct(_)), "{potion:?}");

        for (event_type, rows) in [("level_up", 2), ("drink_potion", 1), ("purchase_sword", 1)] {
            let copy = format!("COPY (SELECT * FROM flat WHERE event_type = '{event_type}') TO 'out/{event_type}' (FORMAT parquet, MODE overwrite)");
            let outcome = session.execute(session.prepare(&copy, "w").unwrap(), vec![]).unwrap();
            let Some(Effect::Write(plan)) = outcome.effect else { panic!("COPY must plan a write") };
            assert_eq!(plan.rows, rows, "{event_type}");
            let back = session
                .execute(session.prepare("SELECT * FROM read_parquet('out/t')", "r").unwrap(), vec![SourceData { parts: plan.parts }])
                .unwrap()
                .table;
            assert_eq!(back.rows(), rows, "{event_type}");
            assert_eq!(back.df.schema(), flat.df.schema(), "{event_type}: the types survive, null or not");
            let nulls = back.df.column("potion").unwrap().null_count();
            assert_eq!(nulls, if event_type == "drink_potion" { 0 } else { rows }, "{event_type}");
        }
        // The potion's fields come back from the one type that has them.
        let read = "SELECT potion.name AS name, potion.tags[1] AS tag FROM flat WHERE event_type = 'drink_potion'";
        let names = session.run(read, "n").unwrap();
        assert_eq!(names.df.column("name").unwrap().str().unwrap().get(0), Some("a healing draught of the north"));
        assert_eq!(names.df.column("tag").unwrap().str().unwrap().get(0), Some("a long enough tag name"));
    }

    // Parquet and Arrow IPC keep every shape exactly; JSON lines writes
    // nulls and empty lists as JSON does; CSV, which has no nested values,
    // refuses nested columns with an error. None of them panics.
    fn every_writer_takes_every_nested_shape() {
        for (what, df) in shape_frames() {
            let written = riffle::engine::export(&df, ExportFormat::Parquet, Default::default())
                .unwrap_or_else(|e| panic!("parquet, {what}: {e:?}"));
            let back = parquet(written);
            assert_eq!(back.schema(), df.schema(), "parquet, {what}");
            assert!(back.equals_missing(&df), "parquet, {what}:\n{back}\n{df}");

            for compression in ["zstd", "none"] {
                let compression = compression.parse().unwrap();
                let written = riffle::engine::export(&df, ExportFormat::Parquet, compression).unwrap();
                assert!(parquet(written).equals_missing(&df), "parquet {compression:?}, {what}");
            }

            let written = riffle::engine::export(&df, ExportFormat::Arrow, Default::default())
                .unwrap_or_else(|e| panic!("arrow, {what}: {e:?}"));
            let back = ipc(written);
            assert_eq!(back.schema(), df.schema(), "arrow, {what}");
            assert!(back.equals_missing(&df), "arrow, {what}:\n{back}\n{df}");

            let written = riffle::engine::export(&df, ExportFormat::Json, Default::default())
                .unwrap_or_else(|e| panic!("json, {what}: {e:?}"));
            let text = String::from_utf8(written).unwrap();
            let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            assert_eq!(rows.len(), df.height(), "json, {what}: {text}");
            for row in rows.iter().filter(|r| r["k"] == "b") {
                for column in ["null_string", "null_struct", "null_struct_of_struct", "null_list", "null_list_of_structs", "null_struct_of_list"] {
                    assert!(row[column].is_null(), "json, {what}, {column}: {row}");
                }
                assert_eq!(row["empty_list"], serde_json::json!([]), "json, {what}: {row}");
                assert_eq!(row["list_of_null_structs"], serde_json::json!([null]), "json, {what}: {row}");
            }

            // The flat columns go to CSV; nested ones are refused, not a crash.
            let flat = df.select(["k", "null_string"]).unwrap();
            let csv = riffle::engine::export(&flat, ExportFormat::Csv, Default::default())
                .unwrap_or_else(|e| panic!("csv, {what}: {e:?}"));
            let csv = String::from_utf8(csv).unwrap();
            assert_eq!(csv.lines().count(), df.height() + 1, "csv, {what}: {csv}");
            assert!(csv.lines().skip(1).all(|l| l == "a,a string longer than twelve bytes" || l == "b,"), "csv, {what}: {csv}");
            let nested = riffle::engine::export(&df, ExportFormat::Csv, Default::default());
            if df.width() > 2 {
                let e = nested.expect_err("CSV has no nested values");
                assert!(e.message.contains("csv"), "csv, {what}: {e:?}");
            }

            // The preview the UI gets, and a later cell over the same rows.
            let mut session = Session::new();
            session.register("t", df.clone());
            let again = session.run("SELECT * FROM t", "q").unwrap_or_else(|e| panic!("select, {what}: {e:?}"));
            again.preview_ipc(100).unwrap_or_else(|e| panic!("preview, {what}: {e:?}"));
            assert_eq!(again.rows(), df.height());
        }
    }

    // Many rows, so that pages and row groups split: a page whose strings
    // are all null still writes, wherever the nulls fall.
    fn parquet_pages_of_only_null_strings_write() {
        let mut session = Session::new();
        let sql = "-- name: many\n\
            SELECT id, CASE WHEN id % 50000 = 7 THEN named_struct('s', CONCAT('value number ', CAST(id AS STRING)), 'n', id) END AS st,\n\
                   CASE WHEN id < 10 THEN CONCAT('a long enough string ', CAST(id AS STRING)) END AS s\n\
            FROM (SELECT explode(sequence(0, 299999)) AS id)";
        let many = session.run(sql, "c").unwrap();
        assert_eq!(many.rows(), 300_000);
        for format in [ExportFormat::Parquet, ExportFormat::Arrow, ExportFormat::Json, ExportFormat::Csv] {
            let df = if format == ExportFormat::Csv { many.df.select(["id", "s"]).unwrap() } else { many.df.clone() };
            let written = riffle::engine::export(&df, format, Default::default()).unwrap_or_else(|e| panic!("{format:?}: {e:?}"));
            match format {
                ExportFormat::Parquet => assert!(parquet(written).equals_missing(&df)),
                ExportFormat::Arrow => assert!(ipc(written).equals_missing(&df)),
                _ => assert_eq!(written.iter().filter(|b| **b == b'\n').count(), df.height() + usize::from(format == ExportFormat::Csv)),
            }
        }
    }
}
