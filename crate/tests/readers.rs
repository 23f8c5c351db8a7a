//! read_json's and read_parquet's Spark options, json_parse over empty and
//! invalid input, and CAST of non-UTF-8 binary, against fixtures built here
//! to need each one. Runs natively and in Chromium like `engine.rs`.

#![allow(clippy::unwrap_used)]

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

macro_rules! both {
    ($(fn $name:ident() $body:block)*) => {$(
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        fn $name() $body
    )*};
}

mod fixtures;

use fixtures::{ints, strings};
use polars::prelude::*;
use riffle::CellError;
use riffle::engine::{
    Compression, ExportFormat, KafkaRecord, Outcome, Session, SourceData, export, ipc_stream, kafka_frame,
};

/// Runs `sql` with one source answered by `parts`.
fn run(sql: &str, parts: Vec<Vec<u8>>) -> Result<Outcome, CellError> {
    let mut session = Session::new();
    let prepared = session.prepare(sql, "t")?;
    session.execute(prepared, vec![SourceData { parts }])
}

fn json(sql: &str, text: &str) -> Result<Outcome, CellError> {
    run(sql, vec![text.as_bytes().to_vec()])
}

fn names(df: &DataFrame) -> Vec<String> {
    df.get_column_names_str().iter().map(|s| s.to_string()).collect()
}

fn types(outcome: &Outcome) -> Vec<String> {
    outcome.table.schema().into_iter().map(|c| c.dtype).collect()
}

/// No message may name Polars' own API.
fn riffle_words(e: &CellError) {
    let all = format!("{} {}", e.message, e.hint.clone().unwrap_or_default());
    for word in ["infer_schema_length", "schema_overrides", "ignore_errors", "polars", "Polars"] {
        assert!(!all.contains(word), "{all}");
    }
}

fn topic(values: &[Option<Vec<u8>>]) -> SourceData {
    let records: Vec<KafkaRecord> = values
        .iter()
        .enumerate()
        .map(|(i, v)| KafkaRecord {
            value: v.clone(),
            topic: "events".into(),
            offset: i as i64,
            ..KafkaRecord::default()
        })
        .collect();
    SourceData::single(ipc_stream(&kafka_frame(&records).unwrap()).unwrap())
}

/// A Parquet file with one optional INT96 column `ts`, as Spark and Hive
/// write timestamps: nanoseconds of the day, then the Julian day, little endian.
fn int96_parquet(micros: &[i64]) -> Vec<u8> {
    use polars_parquet::parquet::CowBuffer;
    use polars_parquet::parquet::compression::CompressionOptions;
    use polars_parquet::parquet::metadata::SchemaDescriptor;
    use polars_parquet::parquet::page::{DataPage, DataPageHeader, DataPageHeaderV1, FormatEncoding, Page};
    use polars_parquet::parquet::schema::types::{ParquetType, PhysicalType};
    use polars_parquet::parquet::write::{
        Compressor, DynIter, DynStreamingIterator, FileWriter, Version, WriteOptions,
    };

    let schema = SchemaDescriptor::new(
        "spark_schema".into(),
        vec![ParquetType::from_physical("ts".into(), PhysicalType::Int96)],
    );
    let n = micros.len();
    // Definition levels: one RLE run of n ones, after its 4-byte length.
    let mut buffer = vec![2, 0, 0, 0, (n << 1) as u8, 1];
    for m in micros {
        let (day, of_day) = (m.div_euclid(86_400_000_000), m.rem_euclid(86_400_000_000));
        buffer.extend_from_slice(&((of_day * 1000) as u64).to_le_bytes());
        buffer.extend_from_slice(&((day + 2_440_588) as u32).to_le_bytes());
    }
    let header = DataPageHeaderV1 {
        num_values: n as i32,
        encoding: FormatEncoding::PLAIN,
        definition_level_encoding: FormatEncoding::RLE,
        repetition_level_encoding: FormatEncoding::RLE,
        statistics: None,
    };
    let page =
        DataPage::new(DataPageHeader::V1(header), CowBuffer::Owned(buffer), schema.columns()[0].descriptor.clone(), n);
    let pages = Compressor::new(std::iter::once(Ok(Page::Data(page))), CompressionOptions::Uncompressed, vec![]);
    let columns = DynIter::new(std::iter::once(Ok(DynStreamingIterator::new(pages))));
    let options = WriteOptions { write_statistics: false, version: Version::V1 };
    let mut writer = FileWriter::new(Vec::new(), schema, options, Some("parquet-mr (Spark)".into()));
    writer.write::<polars_parquet::parquet::error::ParquetError>(columns).unwrap();
    writer.end(None).unwrap();
    writer.into_inner()
}

const MALFORMED: &str = "{\"id\": 1, \"name\": \"a\"}\n\
                         {\"id\": 2, \"name\": \"b\"}\n\
                         {\"id\": 3, \"name\" \"c\"}\n\
                         {\"id\": 4, \"name\": \"d\"}\n\
                         {\"id\": \"five\", \"name\": \"e\"}\n";

both! {
    fn multi_line_reads_a_record_over_lines() {
        let text = "{\n  \"id\": 7,\n  \"tags\": [\"x\", \"y\"]\n}\n";
        let sql = "SELECT * FROM read_json('one.json', multiLine => true)";
        let out = json(sql, text).unwrap();
        assert_eq!(ints(&out.table.df, "id"), [7]);
        // Without it, each line is a record, and none is whole.
        let out = json("SELECT * FROM read_json('one.json')", text).unwrap();
        assert_eq!(names(&out.table.df), ["_corrupt_record"]);
        assert_eq!(out.table.rows(), 4);
        let note = out.table.notes.join("\n");
        assert!(note.contains("4 of 4 records were malformed") && note.contains("'one.json' line 1"), "{note}");
        assert!(note.contains("multiLine => true"), "{note}");
        // A whole array over lines reads without the option, as before.
        let out = json("SELECT * FROM read_json('a.json')", "[\n {\"id\": 1},\n {\"id\": 2}\n]").unwrap();
        assert_eq!(ints(&out.table.df, "id"), [1, 2]);
    }

    fn primitives_as_string_keeps_the_text() {
        let text = "{\"n\": 12, \"ok\": true, \"x\": 1.5, \"s\": \"a\", \"nested\": {\"k\": 3}}\n";
        let out = json("SELECT * FROM read_json('p.json')", text).unwrap();
        assert_eq!(types(&out), ["bigint", "boolean", "double", "string", "struct<k:bigint>"]);
        let out = json("SELECT * FROM read_json('p.json', primitivesAsString => true)", text).unwrap();
        assert_eq!(types(&out), ["string", "string", "string", "string", "struct<k:string>"]);
        assert_eq!(strings(&out.table.df, "n"), ["12"]);
        assert_eq!(strings(&out.table.df, "ok"), ["true"]);
    }

    fn allow_comments_and_single_quotes() {
        let text = "// exported by the game server\n\
                    {\"id\": 1, /* first */ \"name\": \"a\"}\n\
                    {'id': 2, 'name': 'it\\'s'}\n";
        let plain = json("SELECT * FROM read_json('c.json')", text).unwrap();
        assert!(plain.table.notes.join(" ").contains("3 of 3 records were malformed"), "{:?}", plain.table.notes);
        let sql = "SELECT id, name FROM read_json('c.json', allowComments => true, allowSingleQuotes => true) ORDER BY id";
        let out = json(sql, text).unwrap();
        assert_eq!(ints(&out.table.df, "id"), [1, 2]);
        assert_eq!(strings(&out.table.df, "name"), ["a", "it's"]);
        assert!(out.table.notes.is_empty(), "{:?}", out.table.notes);
        // Comments only: the single-quoted record stays malformed, on its line.
        let out = json("SELECT * FROM read_json('c.json', allowComments => true)", text).unwrap();
        let note = out.table.notes.join(" ");
        assert!(note.contains("1 of 2 records") && note.contains("line 3"), "{note}");
    }

    fn modes_count_drop_or_stop_at_the_right_line() {
        // Inferred: line 3 is not JSON; line 5's id is text, so id is a string column.
        let out = json("SELECT * FROM read_json('m.jsonl')", MALFORMED).unwrap();
        assert_eq!(out.table.rows(), 5);
        assert_eq!(names(&out.table.df), ["id", "name", "_corrupt_record"]);
        let note = out.table.notes.join(" ");
        assert!(note.contains("1 of 5 records were malformed") && note.contains("'m.jsonl' line 3"), "{note}");
        assert_eq!(strings(&out.table.df, "_corrupt_record")[2], "{\"id\": 3, \"name\" \"c\"}");

        // A schema: line 5 does not fit it either.
        let schema = "schema => 'id INT, name STRING'";
        let out = json(&format!("SELECT * FROM read_json('m.jsonl', {schema})"), MALFORMED).unwrap();
        assert_eq!(out.table.rows(), 5);
        assert_eq!(names(&out.table.df), ["id", "name"]);
        assert_eq!(strings(&out.table.df, "name"), ["a", "b", "<null>", "d", "e"]);
        assert_eq!(strings(&out.table.df, "id"), ["1", "2", "<null>", "4", "<null>"]);
        assert!(out.table.notes.join(" ").contains("2 of 5 records"), "{:?}", out.table.notes);

        let sql = format!("SELECT * FROM read_json('m.jsonl', {schema}, mode => 'DROPMALFORMED')");
        let out = json(&sql, MALFORMED).unwrap();
        assert_eq!(ints(&out.table.df, "id"), [1, 2, 4]);
        let note = out.table.notes.join(" ");
        assert!(note.contains("dropped 2 malformed of 5 records") && note.contains("line 3"), "{note}");

        let sql = format!("SELECT * FROM read_json('m.jsonl', {schema}, mode => 'FAILFAST')");
        let e = json(&sql, MALFORMED).unwrap_err();
        assert!(e.message.contains("'m.jsonl' line 3") && e.message.contains("\"name\" \"c\""), "{}", e.message);
        riffle_words(&e);
        // The first bad line is the one reported: here line 5, the text id.
        let fixed = MALFORMED.replace("\"name\" \"c\"", "\"name\": \"c\"");
        let e = json(&sql, &fixed).unwrap_err();
        assert!(e.message.contains("line 5") && e.message.contains("\"five\" is not INT"), "{}", e.message);

        // The corrupt record column, named by the option, in the schema.
        let sql = "SELECT id, bad FROM read_json('m.jsonl', schema => 'id INT, bad STRING', columnNameOfCorruptRecord => 'bad')";
        let out = json(sql, MALFORMED).unwrap();
        let bad = strings(&out.table.df, "bad");
        assert_eq!(bad[0], "<null>");
        assert_eq!(bad[4], "{\"id\": \"five\", \"name\": \"e\"}");

        let e = json("SELECT * FROM read_json('m.jsonl', mode => 'LENIENT')", MALFORMED).unwrap_err();
        assert!(e.hint.unwrap_or_default().contains("DROPMALFORMED"));
    }

    fn date_and_timestamp_formats() {
        let text = "{\"d\": \"13/11/2012\", \"t\": \"13/11/2012 00:30\"}\n{\"d\": \"2012-11-14\", \"t\": \"2012-11-14 01:00:00\"}\n";
        let schema = "schema => 'd DATE, t TIMESTAMP'";
        let sql = format!(
            "SELECT CAST(d AS STRING) AS d, CAST(t AS STRING) AS t FROM read_json('d.json', {schema}, \
             dateFormat => 'dd/MM/yyyy', timestampFormat => 'dd/MM/yyyy HH:mm')"
        );
        let out = json(&sql, text).unwrap();
        assert_eq!(strings(&out.table.df, "d"), ["2012-11-13", "<null>"]);
        assert_eq!(strings(&out.table.df, "t"), ["2012-11-13 00:30:00", "<null>"]);
        let note = out.table.notes.join(" ");
        assert!(note.contains("line 2") && note.contains("does not match dateFormat 'dd/MM/yyyy'"), "{note}");
        // Without the formats, Spark's own forms parse and the others do not.
        let sql = format!("SELECT CAST(d AS STRING) AS d, CAST(t AS STRING) AS t FROM read_json('d.json', {schema})");
        let out = json(&sql, text).unwrap();
        assert_eq!(strings(&out.table.df, "d"), ["<null>", "2012-11-14"]);
        assert_eq!(strings(&out.table.df, "t"), ["<null>", "2012-11-14 01:00:00"]);
        let e = json(&format!("SELECT * FROM read_json('d.json', {schema}, dateFormat => 'dd/MM/yyyy', timestampFormat => 'dd/MM/yyyy HH:mm', mode => 'FAILFAST')"), text)
            .unwrap_err();
        assert!(e.message.contains("line 2") && e.message.contains("field d"), "{}", e.message);
        let e = json("SELECT * FROM read_json('d.json', dateFormat => 'bb')", text).unwrap_err();
        assert!(e.message.contains("dateFormat 'bb'"), "{}", e.message);
    }

    fn sampling_ratio_infers_from_a_sample() {
        let mut text = String::new();
        for i in 0..20 {
            if i == 5 {
                text.push_str(&format!("{{\"id\": {i}, \"rare\": \"x\"}}\n"));
            } else {
                text.push_str(&format!("{{\"id\": {i}}}\n"));
            }
        }
        let all = json("SELECT * FROM read_json('s.jsonl')", &text).unwrap();
        assert_eq!(names(&all.table.df), ["id", "rare"]);
        let sampled = json("SELECT * FROM read_json('s.jsonl', samplingRatio => 0.25)", &text).unwrap();
        assert_eq!(names(&sampled.table.df), ["id"]);
        assert_eq!(sampled.table.rows(), 20);
        assert!(sampled.table.notes.join(" ").contains("5 of 20 records"), "{:?}", sampled.table.notes);
        let e = json("SELECT * FROM read_json('s.jsonl', samplingRatio => 2)", &text).unwrap_err();
        assert!(e.message.contains("samplingRatio"), "{}", e.message);
    }

    fn unknown_options_are_named() {
        let e = json("SELECT * FROM read_json('x.json', multiline_ => true)", "{}").unwrap_err();
        assert!(e.message.contains("unknown option `multiline_`"), "{}", e.message);
        assert!(e.hint.clone().unwrap_or_default().contains("multiLine"), "{:?}", e.hint);
        riffle_words(&e);
        let e = json("SELECT * FROM read_json('x.json', multiLine => 'yes')", "{}").unwrap_err();
        assert!(e.message.contains("multiLine must be true or false"), "{}", e.message);
    }

    fn parquet_parts_with_different_schemas() {
        let a = df!("id" => [1i64, 2], "name" => ["a", "b"]).unwrap();
        let b = df!("id" => [3i64], "score" => [0.5f64]).unwrap();
        let parts = vec![
            export(&a, ExportFormat::Parquet, Compression::Snappy).unwrap(),
            export(&b, ExportFormat::Parquet, Compression::Snappy).unwrap(),
        ];
        let e = run("SELECT * FROM read_parquet('out/p')", parts.clone()).unwrap_err();
        assert!(e.message.contains("part file 1 of 'out/p' has (id BIGINT, name STRING)"), "{}", e.message);
        assert!(e.message.contains("part file 2 of 'out/p' has (id BIGINT, score DOUBLE)"), "{}", e.message);
        assert!(e.hint.clone().unwrap_or_default().contains("mergeSchema => true"), "{:?}", e.hint);
        let out = run("SELECT * FROM read_parquet('out/p', mergeSchema => true) ORDER BY id", parts).unwrap();
        assert_eq!(names(&out.table.df), ["id", "name", "score"]);
        assert_eq!(strings(&out.table.df, "name"), ["a", "b", "<null>"]);
        assert_eq!(strings(&out.table.df, "score"), ["<null>", "<null>", "0.5"]);
        // The same column with two types cannot be merged.
        let c = df!("id" => ["x"]).unwrap();
        let parts = vec![
            export(&a, ExportFormat::Parquet, Compression::Snappy).unwrap(),
            export(&c, ExportFormat::Parquet, Compression::Snappy).unwrap(),
        ];
        let e = run("SELECT * FROM read_parquet('out/p', mergeSchema => true)", parts).unwrap_err();
        assert!(e.message.contains("column id is BIGINT in part file 1") && e.message.contains("STRING in part file 2"), "{}", e.message);
    }

    fn parquet_errors_name_the_part_files() {
        let run_named = |sql: &str, parts: Vec<Vec<u8>>, names: &[&str]| {
            let mut session = Session::new();
            let mut prepared = session.prepare(sql, "t").unwrap();
            prepared.sources[0].part_names = names.iter().map(|n| n.to_string()).collect();
            session.execute(prepared, vec![SourceData { parts }])
        };
        let a = export(&df!("id" => [1i64]).unwrap(), ExportFormat::Parquet, Compression::Snappy).unwrap();
        let b = export(&df!("id" => ["x"]).unwrap(), ExportFormat::Parquet, Compression::Snappy).unwrap();
        let names = ["part-00000.parquet", "part-00001.parquet"];
        let e = run_named("SELECT * FROM read_parquet('out/p')", vec![a.clone(), b.clone()], &names).unwrap_err();
        assert!(e.message.contains("'out/p/part-00000.parquet' has (id BIGINT)"), "{}", e.message);
        assert!(e.message.contains("'out/p/part-00001.parquet' has (id STRING)"), "{}", e.message);
        assert!(!e.message.contains("part file 1"), "{}", e.message);
        let e = run_named("SELECT * FROM read_parquet('out/p/', mergeSchema => true)", vec![a.clone(), b], &names)
            .unwrap_err();
        assert!(
            e.message.contains("column id is BIGINT in 'out/p/part-00000.parquet' but STRING in 'out/p/part-00001.parquet'"),
            "{}",
            e.message
        );
        // Not Parquet at all: named, with the reader to use.
        let csv = b"id,name\n1,a\n2,b\n".to_vec();
        let e = run_named("SELECT * FROM read_parquet('out/p')", vec![a.clone(), csv], &names).unwrap_err();
        assert!(e.message.contains("'out/p/part-00001.parquet' is not a Parquet file"), "{}", e.message);
        assert!(e.hint.clone().unwrap_or_default().contains("read_csv"), "{:?}", e.hint);
        riffle_words(&e);
        // Cut short: starts as Parquet, has no footer.
        let e = run_named("SELECT * FROM read_parquet('out/p')", vec![a[..a.len() / 2].to_vec(), a.clone()], &names)
            .unwrap_err();
        assert!(e.message.contains("'out/p/part-00000.parquet' is cut short or damaged"), "{}", e.message);
        riffle_words(&e);
        // Markers right, footer damaged.
        let mut damaged = a.clone();
        let n = damaged.len();
        for byte in &mut damaged[n - 40..n - 8] {
            *byte = 0xff;
        }
        let e = run_named("SELECT * FROM read_parquet('out/p')", vec![a.clone(), damaged], &names).unwrap_err();
        assert!(e.message.contains("'out/p/part-00001.parquet' is a damaged Parquet file"), "{}", e.message);
        // A single file read by its path is named by it; without names, parts are numbered.
        let e = run_named("SELECT * FROM read_parquet('x/one.parquet')", vec![b"{}".to_vec()], &["one.parquet"])
            .unwrap_err();
        assert!(e.message.starts_with("'x/one.parquet' is not a Parquet file"), "{}", e.message);
        assert!(e.hint.clone().unwrap_or_default().contains("read_json"), "{:?}", e.hint);
        let e = run("SELECT * FROM read_parquet('out/p')", vec![a, b"nope".to_vec()]).unwrap_err();
        assert!(e.message.starts_with("part file 2 of 'out/p' is not a Parquet file"), "{}", e.message);
    }

    fn int96_timestamps_read_as_timestamp() {
        // 2012-11-13 00:30:00 and 1999-12-31 23:59:59.123456, UTC.
        let micros = [1_352_766_600_000_000i64, 946_684_799_123_456];
        let bytes = int96_parquet(&micros);
        let sql = "SELECT ts, CAST(ts AS STRING) AS text FROM read_parquet('hive/part-0.parquet')";
        let out = run(sql, vec![bytes.clone()]).unwrap();
        assert_eq!(types(&out), ["timestamp", "string"]);
        assert_eq!(strings(&out.table.df, "text"), ["2012-11-13 00:30:00", "1999-12-31 23:59:59.123456"]);
        let footer = riffle::engine::parquet_footer(&bytes, bytes.len() as u64, "p").unwrap();
        let riffle::engine::Footer::Read(footer) = footer else { panic!("the whole file was given") };
        assert_eq!(footer.columns, [("ts".to_string(), "timestamp".to_string())]);
    }

    fn json_parse_over_an_empty_topic() {
        let mut session = Session::new();
        let sql = "-- name: parsed\nSELECT json_parse(CAST(value AS STRING)) AS e FROM kafka('events')";
        let out = session.execute(session.prepare(sql, "c").unwrap(), vec![topic(&[])]).unwrap();
        assert_eq!(out.table.rows(), 0);
        assert_eq!(types(&out), ["struct<>"]);
        let star = session.run("SELECT e.* FROM parsed", "s").unwrap();
        assert_eq!(star.df.width(), 0);
        let e = session.run("SELECT e.event_type FROM parsed", "f").unwrap_err();
        assert!(e.message.contains("no field event_type"), "{}", e.message);
        assert!(e.hint.clone().unwrap_or_default().contains("schema => 'event_type STRING"), "{:?}", e.hint);

        let sql = "-- name: typed\nSELECT json_parse(CAST(value AS STRING), schema => 'event_type STRING, n INT') AS e FROM kafka('events')";
        session.execute(session.prepare(sql, "c").unwrap(), vec![topic(&[])]).unwrap();
        let star = session.run("SELECT e.* FROM typed", "s").unwrap();
        assert_eq!(names(&star.df), ["event_type", "n"]);
        assert_eq!(star.rows(), 0);
        let field = session.run("SELECT e.event_type FROM typed", "f").unwrap();
        assert_eq!(field.rows(), 0);
    }

    fn json_parse_over_invalid_messages() {
        let bad = [Some(b"{oops".to_vec()), Some(b"42".to_vec()), None];
        let mut session = Session::new();
        let sql = "-- name: parsed\nSELECT json_parse(CAST(value AS STRING)) AS e, offset FROM kafka('events')";
        let out = session.execute(session.prepare(sql, "c").unwrap(), vec![topic(&bad)]).unwrap();
        assert_eq!(out.table.rows(), 3);
        assert!(out.table.notes.join(" ").contains("2 of 3 rows were not valid JSON"), "{:?}", out.table.notes);
        let star = session.run("SELECT e.*, offset FROM parsed", "s").unwrap();
        assert_eq!(names(&star.df), ["offset"]);
        assert_eq!(star.rows(), 3);
        // The DDL as the second argument, as from_json takes it.
        let sql = "-- name: typed\nSELECT json_parse(CAST(value AS STRING), 'event_type STRING') AS e FROM kafka('events')";
        session.execute(session.prepare(sql, "c").unwrap(), vec![topic(&bad)]).unwrap();
        let field = session.run("SELECT e.event_type AS t FROM typed", "f").unwrap();
        assert_eq!(strings(&field.df, "t"), ["<null>", "<null>", "<null>"]);
        // A value of the wrong type is null, the rest of the row stays.
        let mixed = [Some(br#"{"a": "x", "b": "y"}"#.to_vec()), Some(br#"{"a": 1, "b": "z"}"#.to_vec())];
        let sql = "-- name: m\nSELECT json_parse(CAST(value AS STRING), schema => 'a INT, b STRING') AS e FROM kafka('events')";
        session.execute(session.prepare(sql, "c").unwrap(), vec![topic(&mixed)]).unwrap();
        let out = session.run("SELECT e.a AS a, e.b AS b FROM m", "f").unwrap();
        assert_eq!(strings(&out.df, "a"), ["<null>", "1"]);
        assert_eq!(strings(&out.df, "b"), ["y", "z"]);
        let e = session.run("SELECT json_parse('{}', schema => 'INT') AS e", "x").unwrap_err();
        assert!(e.message.contains("not the fields of a struct"), "{}", e.message);
    }

    fn cast_of_binary_that_is_not_utf8() {
        let values = [Some(b"plain".to_vec()), Some(vec![0x66, 0xff, 0x6f, 0xc3]), None];
        let mut session = Session::new();
        let sql = "SELECT CAST(value AS STRING) AS v FROM kafka('events')";
        let out = session.execute(session.prepare(sql, "c").unwrap(), vec![topic(&values)]).unwrap();
        assert_eq!(strings(&out.table.df, "v"), ["plain", "f\u{FFFD}o\u{FFFD}", "<null>"]);
    }
}
