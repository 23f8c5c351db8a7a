//! The differential SQL suite, Spark side: every query of the corpus
//! (`crate/tests/sql/corpus/*.test`) runs on a REAL Spark Connect server over
//! the committed fixtures (`crate/tests/sql/fixtures/*.parquet`, as temporary
//! views of the same names), and Spark's answer, in the corpus's canonical
//! form, must be exactly the recorded one.
//!
//! Needs `RIFFLE_SPARK` (e.g. sc://127.0.0.1:15002, after
//! `bash scripts/spark.sh start`); without it the test prints a note and
//! passes, unless `RIFFLE_REQUIRE_SPARK=1` (CI). The server must run on this
//! machine: the views read the fixtures by absolute `file://` paths.
//!
//! `RIFFLE_SQL_RECORD=1` rewrites the recorded answers instead (everything
//! else in the files stays byte for byte); `RIFFLE_SQL_CASE=<id prefix>`
//! runs only matching cases. The SQL fuzzer's sample
//! (`crate/tests/sql/fuzz/sample.test`) is checked and recorded the same way
//! by its own test, `fuzz_sample_answers_are_sparks`.

#![allow(clippy::unwrap_used)]

mod common;

#[path = "../../crate/tests/sql/corpus.rs"]
mod corpus;

use std::io::Cursor;

use futures::StreamExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_ipc::reader::StreamReader;
use arrow_schema::{DataType, IntervalUnit, TimeUnit};
use corpus::{Answer, Case, Column, CorpusFile, Table, Value};
use riffle_gateway::spark::proto::execute_plan_response::ResponseType;
use riffle_gateway::spark::{SparkClient, SparkUrl};

fn sql_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crate/tests/sql").canonicalize().expect("crate/tests/sql exists")
}

/// The fixture tables: the Parquet files' names.
fn fixture_tables(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir.join("fixtures"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".parquet").map(String::from))
        .collect();
    out.sort();
    out
}

fn corpus_files(dir: &Path) -> Vec<(String, String)> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("corpus"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str().filter(|n| n.ends_with(".test")).map(String::from))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join("corpus").join(&n)).unwrap();
            (format!("corpus/{n}"), text)
        })
        .collect()
}

fn op_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The rows of a query as Arrow batches, or Spark's error message.
async fn query(client: &SparkClient, sql: &str) -> Result<(Option<arrow_schema::SchemaRef>, Vec<RecordBatch>), String> {
    let mut stream = client.sql(sql, &op_id()).await.map_err(status_message)?;
    let mut schema = None;
    let mut batches = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(response)) => {
                if let Some(ResponseType::ArrowBatch(batch)) = response.response_type {
                    let reader = StreamReader::try_new(Cursor::new(batch.data), None).map_err(|e| e.to_string())?;
                    schema.get_or_insert_with(|| reader.schema());
                    for b in reader {
                        batches.push(b.map_err(|e| e.to_string())?);
                    }
                }
            }
            Ok(None) => break,
            Err(status) => return Err(status_message(status)),
        }
    }
    Ok((schema, batches))
}

/// Spark's message for a query it refused. A server that cannot be reached
/// stops the run: its answer is not Spark's answer to the query, and must
/// never be recorded as one.
fn status_message(status: tonic::Status) -> String {
    use tonic::Code;
    if matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled | Code::Unauthenticated) {
        panic!("Spark Connect failed ({:?}): {}", status.code(), status.message());
    }
    status.message().to_string()
}

/// Spark's name of a type it sent as Arrow; `None` for the interval types,
/// whose Arrow form does not say which fields they have.
fn spark_type(dtype: &DataType) -> Option<String> {
    Some(match dtype {
        DataType::Null => "void".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 => "tinyint".into(),
        DataType::Int16 => "smallint".into(),
        DataType::Int32 => "int".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float32 => "float".into(),
        DataType::Float64 => "double".into(),
        DataType::Decimal128(p, s) => format!("decimal({p},{s})"),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => "binary".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp".into(),
        DataType::Timestamp(_, None) => "timestamp_ntz".into(),
        DataType::Time64(_) => "time".into(),
        DataType::List(f) | DataType::LargeList(f) => format!("array<{}>", spark_type(f.data_type())?),
        DataType::Struct(fields) => {
            let inner: Option<Vec<String>> =
                fields.iter().map(|f| Some(format!("{}:{}", f.name(), spark_type(f.data_type())?))).collect();
            format!("struct<{}>", inner?.join(","))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("map<{},{}>", spark_type(kv[0].data_type())?, spark_type(kv[1].data_type())?)
            }
            _ => return None,
        },
        _ => return None,
    })
}

fn micros(v: i64, unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => v * 1_000_000,
        TimeUnit::Millisecond => v * 1000,
        TimeUnit::Microsecond => v,
        TimeUnit::Nanosecond => v.div_euclid(1000),
    }
}

/// One value of an Arrow array in the corpus's canonical form.
fn value(array: &ArrayRef, i: usize) -> Value {
    if array.is_null(i) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(i)),
        DataType::Int8 => Value::int(array.as_primitive::<Int8Type>().value(i)),
        DataType::Int16 => Value::int(array.as_primitive::<Int16Type>().value(i)),
        DataType::Int32 => Value::int(array.as_primitive::<Int32Type>().value(i)),
        DataType::Int64 => Value::int(array.as_primitive::<Int64Type>().value(i)),
        DataType::UInt8 => Value::int(array.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => Value::int(array.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => Value::int(array.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => Value::int(array.as_primitive::<UInt64Type>().value(i)),
        DataType::Float32 => Value::f32(array.as_primitive::<Float32Type>().value(i)),
        DataType::Float64 => Value::f64(array.as_primitive::<Float64Type>().value(i)),
        DataType::Decimal128(_, s) => Value::decimal(array.as_primitive::<Decimal128Type>().value(i), *s as usize),
        DataType::Utf8 => Value::Str(array.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Value::Str(array.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Value::Str(array.as_string_view().value(i).to_string()),
        DataType::Binary => Value::binary(array.as_binary::<i32>().value(i)),
        DataType::LargeBinary => Value::binary(array.as_binary::<i64>().value(i)),
        DataType::Date32 => Value::date(i64::from(array.as_primitive::<Date32Type>().value(i))),
        DataType::Timestamp(unit, _) => {
            let v = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(i),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(i),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(i),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(i),
            };
            Value::timestamp(micros(v, unit))
        }
        DataType::Duration(unit) => {
            let v = match unit {
                TimeUnit::Second => array.as_primitive::<DurationSecondType>().value(i),
                TimeUnit::Millisecond => array.as_primitive::<DurationMillisecondType>().value(i),
                TimeUnit::Microsecond => array.as_primitive::<DurationMicrosecondType>().value(i),
                TimeUnit::Nanosecond => array.as_primitive::<DurationNanosecondType>().value(i),
            };
            Value::int(micros(v, unit))
        }
        DataType::Interval(IntervalUnit::YearMonth) => {
            Value::int(array.as_primitive::<IntervalYearMonthType>().value(i))
        }
        DataType::Time64(arrow_schema::TimeUnit::Nanosecond) => {
            Value::time(array.as_primitive::<Time64NanosecondType>().value(i))
        }
        DataType::Time64(_) => Value::time(array.as_primitive::<Time64MicrosecondType>().value(i) * 1000),
        DataType::List(_) => {
            let inner = array.as_list::<i32>().value(i);
            Value::List((0..inner.len()).map(|j| value(&inner, j)).collect())
        }
        DataType::LargeList(_) => {
            let inner = array.as_list::<i64>().value(i);
            Value::List((0..inner.len()).map(|j| value(&inner, j)).collect())
        }
        DataType::Struct(fields) => {
            let s = array.as_struct();
            Value::Object(fields.iter().zip(s.columns()).map(|(f, c)| (f.name().clone(), value(c, i))).collect())
        }
        DataType::Map(_, _) => {
            let entries = array.as_map().value(i);
            let (keys, values) = (entries.column(0), entries.column(1));
            Value::List((0..entries.len()).map(|j| Value::List(vec![value(keys, j), value(values, j)])).collect())
        }
        other => Value::Str(format!("<unsupported Arrow type {other}>")),
    }
}

/// Spark's answer to a case, in canonical form.
async fn answer(client: &SparkClient, sql: &str) -> Answer {
    let (schema, batches) = match query(client, sql).await {
        Ok(r) => r,
        Err(message) => return Answer::Error(corpus::spark_error_class(&message)),
    };
    let mut names: Vec<String> = Vec::new();
    let mut types: Vec<Option<String>> = Vec::new();
    if let Some(schema) = &schema {
        for f in schema.fields() {
            names.push(f.name().clone());
            types.push(spark_type(f.data_type()));
        }
    }
    if schema.is_none() || types.iter().any(Option::is_none) {
        // Spark's own type names (intervals), or the columns of a result that sent no batch.
        let described = format!("DESCRIBE QUERY {sql}");
        let (_, rows) = query(client, &described).await.unwrap_or_else(|e| panic!("{described}: {e}"));
        let mut described = Vec::new();
        for b in &rows {
            for i in 0..b.num_rows() {
                let name = b.column(0).as_string::<i32>().value(i).to_string();
                let dtype = b.column(1).as_string::<i32>().value(i).to_string();
                described.push((name, dtype));
            }
        }
        if schema.is_none() {
            names = described.iter().map(|d| d.0.clone()).collect();
            types = vec![None; names.len()];
        }
        for (t, d) in types.iter_mut().zip(&described) {
            t.get_or_insert_with(|| d.1.clone());
        }
    }
    let columns = names.into_iter().zip(types).map(|(name, dtype)| Column { name, dtype: dtype.unwrap() }).collect();
    let mut rows = Vec::new();
    for b in &batches {
        let arrays: Vec<&ArrayRef> = b.columns().iter().collect();
        for i in 0..b.num_rows() {
            rows.push(arrays.iter().map(|a| value(a, i)).collect());
        }
    }
    Answer::Table(Table { columns, rows })
}

fn first_difference(recorded: &Answer, now: &Answer) -> String {
    let (a, b) = (recorded.lines(), now.lines());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        if x != y {
            let what = if i == 0 { "header".to_string() } else { format!("row {i}") };
            return format!("{what}: recorded {x}, Spark now {y}");
        }
    }
    format!("recorded {} lines, Spark now {}", a.len(), b.len())
}

#[tokio::test]
async fn corpus_answers_are_sparks() {
    let Some(url) = common::spark_url() else { return };
    let dir = sql_dir();
    check_on_spark(url, &corpus_files(&dir), "cases", &[], 1).await;
}

/// The fuzzer's recorded sample (`crate/tests/sql/fuzz/sample.test`, written
/// by the tab side's generator): checked and recorded like the corpus.
#[tokio::test]
async fn fuzz_sample_answers_are_sparks() {
    let Some(url) = common::spark_url() else { return };
    let dir = sql_dir();
    let path = dir.join("fuzz/sample.test");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // One shuffle partition: the fixtures are tiny, and 200 tasks per shuffle
    // make a thousand queries take an hour. The answers do not depend on it.
    let settings = ["SET spark.sql.shuffle.partitions=1"];
    // A thousand queries, several at a time (RIFFLE_SQL_SPARK_JOBS, default 8).
    let jobs = std::env::var("RIFFLE_SQL_SPARK_JOBS").ok().and_then(|j| j.parse().ok()).unwrap_or(8);
    check_on_spark(url, &[("fuzz/sample.test".to_string(), text)], "fuzzed cases", &settings, jobs).await;
}

/// Runs every case of `files` (name relative to crate/tests/sql, text) on
/// Spark: checks the recorded answers, or records them with RIFFLE_SQL_RECORD=1.
async fn check_on_spark(url: SparkUrl, texts: &[(String, String)], what: &str, settings: &[&str], jobs: usize) {
    let started = Instant::now();
    let record = std::env::var("RIFFLE_SQL_RECORD").is_ok_and(|v| !v.is_empty() && v != "0");
    let only = std::env::var("RIFFLE_SQL_CASE").ok().filter(|s| !s.is_empty());
    let dir = sql_dir();
    let tables = fixture_tables(&dir);
    let table_refs: Vec<&str> = tables.iter().map(String::as_str).collect();
    let files: Vec<CorpusFile> = corpus::parse_corpus(texts, &table_refs).unwrap_or_else(|e| panic!("{e}"));

    let client = Arc::new(SparkClient::new(url).unwrap());
    client.command("SET spark.sql.session.timeZone=UTC", &op_id()).await.unwrap_or_else(|e| panic!("SET: {e}"));
    for set in settings {
        client.command(set, &op_id()).await.unwrap_or_else(|e| panic!("{set}: {e}"));
    }
    for t in &tables {
        let path = dir.join("fixtures").join(format!("{t}.parquet"));
        let sql = format!(
            "CREATE OR REPLACE TEMPORARY VIEW {t} USING parquet OPTIONS (path 'file://{}')",
            path.display().to_string().replace('\'', "\\'")
        );
        client.command(&sql, &op_id()).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    let mut drift: Vec<String> = Vec::new();
    let (mut ran, mut errors) = (0, 0);
    for file in &files {
        let mut answers: Vec<(usize, Answer)> = Vec::new();
        let chosen: Vec<(usize, &Case)> = file
            .cases
            .iter()
            .enumerate()
            .filter(|(_, c)| only.as_ref().is_none_or(|p| c.id.starts_with(p.as_str())))
            .collect();
        // Up to `jobs` queries at once, their answers in the cases' order.
        let mut nows = futures::stream::iter(chosen.iter().map(|(_, c)| answer(&client, &c.sql)))
            .buffered(jobs.max(1))
            .collect::<Vec<Answer>>()
            .await
            .into_iter();
        for &(index, case) in &chosen {
            ran += 1;
            let now = nows.next().unwrap();
            if matches!(now, Answer::Error(_)) {
                errors += 1;
            }
            if only.is_some() {
                println!("{} ({}):\n{}", case.id, case.place(), now.lines().join("\n"));
            }
            if case.answer.as_ref() != Some(&now) {
                drift.push(describe(case, &now));
                answers.push((index, now));
            }
        }
        if record && !answers.is_empty() {
            let path = dir.join(&file.name);
            std::fs::write(&path, file.with_answers(&answers)).unwrap();
            println!("recorded {} answer(s) in {}", answers.len(), file.name);
        }
    }
    println!(
        "{ran} {what} on Spark in {:.1} s ({errors} refused by Spark), {} differ from the recorded answers",
        started.elapsed().as_secs_f64(),
        drift.len()
    );
    if !record {
        assert!(
            drift.is_empty(),
            "{} case(s) where Spark's answer is not the recorded one (RIFFLE_SQL_RECORD=1 records them):\n{}",
            drift.len(),
            drift.join("\n")
        );
    }
}

fn describe(case: &Case, now: &Answer) -> String {
    match &case.answer {
        None => format!("{} ({}): not recorded yet", case.id, case.place()),
        Some(recorded) => format!("{} ({}): {}", case.id, case.place(), first_difference(recorded, now)),
    }
}
