//! The same reads in Riffle's engine and on a REAL Spark Connect server.
//!
//! Each case is one cell: a summary query (row counts, non-null counts,
//! sums, first and last values) over `read_csv`, `read_json` or
//! `read_parquet` with Spark's options, on a fixture built to need them.
//! The engine runs it natively over the fixture's bytes; Spark runs the
//! same cell (`-- engine: spark`, translated as the UI does) through the
//! gateway, which hands Spark the fixture's `file://` URL. The two tables
//! must be equal, column names and types included.
//!
//! Needs `RIFFLE_SPARK` (`bash scripts/spark.sh start`); without it the
//! test notes that and passes, unless `RIFFLE_REQUIRE_SPARK` is set (CI).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use polars::prelude::*;
use riffle::engine::{Session, SourceData, SourceKind, spark_cell, spark_result};
use riffle::spark::{Frame, FrameDecoder};
use riffle_gateway::{Config, app};
use tower::ServiceExt;

/// Reads known to differ from Spark today, each a bug to fix: the list may only shrink.
const KNOWN: [&str; 0] = [];

const KWH: &str = "`KWH/hh (per half hour) `";

/// The fixtures, each built to need an option.
fn fixtures(data: &Path) {
    let write = |name: &str, bytes: &[u8]| {
        let path = data.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    write("meter.csv", &std::fs::read(repo.join("data/samples/smart_meter.csv")).unwrap());
    write(
        "options.csv",
        b"# exported by hand\nid; name ;note\n1;  Ann;\"says \\\"hi\\\"; twice\"\n2;Bob  ;\"two\nlines\"\n# a comment\n3;Cy;plain\n",
    );
    // Latin-1: "Zoë", "Jürgen", "Ça".
    write("latin1.csv", b"id,name\n1,Zo\xeb\n2,J\xfcrgen\n3,\xc7a\n");
    write("malformed.csv", b"a,b,c\n1,2.5,x\nnope,3.5,y\n4,4.5\n5,5.5,z,extra\n6,bad,w\n7,7.5,v\n");
    write(
        "dates.csv",
        b"d,t,x,s\n13/11/2012,13/11/2012 00:30,1.5,\"\"\n01/02/2013,01/02/2013 23:59,NaN,a\n,,-Inf,\"\"\n",
    );
    write(
        "events.json",
        b"[\n  {\"id\": 1, \"kind\": \"buy\", \"amount\": 2.5, \"tags\": [\"a\"]},\n  {\"id\": 2, \"kind\": \"sell\", \"amount\": null},\n  {\"id\": 3, \"kind\": \"buy\", \"amount\": 4}\n]\n",
    );
    write(
        "lines.jsonl",
        b"{\"id\": 1, \"v\": 10}\n{\"id\": 2, \"v\": \"x\"}\nnot json\n{\"id\": 4, \"v\": 40}\n\n{\"id\": 5}\n",
    );
    write("comments.jsonl", b"{'id': 1, /* first */ 'v': 'a'}\n{\"id\": 2, \"v\": \"b\"} // second\n");
    let parquet = |df: DataFrame| {
        riffle::engine::export(&df, riffle::engine::ExportFormat::Parquet, riffle::engine::Compression::Snappy).unwrap()
    };
    write("merged/part-00000.parquet", &parquet(df!("id" => [1i64, 2], "name" => ["a", "b"]).unwrap()));
    write("merged/part-00001.parquet", &parquet(df!("id" => [3i64], "score" => [9.5f64]).unwrap()));
}

/// (what, the cell's query); each runs in both engines.
fn cases() -> Vec<(&'static str, String)> {
    let schema = format!(
        "schema => 'LCLid STRING, stdorToU STRING, DateTime TIMESTAMP, {KWH} DOUBLE, Acorn STRING, Acorn_grouped STRING'"
    );
    let meter_summary = |from: &str| {
        format!(
            "SELECT COUNT(*) AS n, COUNT({KWH}) AS readings, CAST(ROUND(SUM({KWH}) * 1000) AS BIGINT) AS wh, \
             COUNT(DISTINCT LCLid) AS homes, CAST(MIN(DateTime) AS STRING) AS first, \
             CAST(MAX(DateTime) AS STRING) AS last, COUNT(DateTime) AS stamps FROM {from}"
        )
    };
    vec![
        (
            "smart meter, schema and timestampFormat",
            meter_summary(&format!(
                "read_csv('meter.csv', nullValue => 'Null', timestampFormat => 'yyyy-MM-dd HH:mm:ss.SSSSSSS', {schema})"
            )),
        ),
        ("smart meter, inferred", meter_summary("read_csv('meter.csv', nullValue => 'Null')")),
        (
            "smart meter, average per Acorn group",
            format!(
                "SELECT Acorn_grouped, COUNT(*) AS n, CAST(ROUND(AVG({KWH}) * 1000000) AS BIGINT) AS avg_micro_kwh \
                 FROM read_csv('meter.csv', nullValue => 'Null') GROUP BY Acorn_grouped ORDER BY Acorn_grouped"
            ),
        ),
        (
            "smart meter, inferred types",
            format!(
                "SELECT typeof(DateTime) AS t, typeof({KWH}) AS k, typeof(LCLid) AS l \
                 FROM read_csv('meter.csv', nullValue => 'Null') LIMIT 1"
            ),
        ),
        (
            "sep, comment, quote, escape, multiLine, white space",
            "SELECT id, name, note, length(name) AS name_len FROM read_csv('options.csv', sep => ';', \
             comment => '#', multiLine => true, ignoreLeadingWhiteSpace => true, ignoreTrailingWhiteSpace => true) \
             ORDER BY id"
                .into(),
        ),
        ("Latin-1", "SELECT id, name FROM read_csv('latin1.csv', encoding => 'ISO-8859-1') ORDER BY id".into()),
        (
            "PERMISSIVE with a schema",
            "SELECT COUNT(*) AS n, COUNT(a) AS a, COUNT(b) AS b, COUNT(c) AS c, SUM(a) AS sum_a \
             FROM read_csv('malformed.csv', schema => 'a INT, b DOUBLE, c STRING')"
                .into(),
        ),
        (
            "DROPMALFORMED",
            "SELECT COUNT(*) AS n, COUNT(a) AS a, COUNT(b) AS b, COUNT(c) AS c, SUM(a) AS sum_a \
             FROM read_csv('malformed.csv', schema => 'a INT, b DOUBLE, c STRING', mode => 'DROPMALFORMED')"
                .into(),
        ),
        (
            "dateFormat, timestampFormat, nanValue, emptyValue",
            "SELECT CAST(d AS STRING) AS d, CAST(t AS STRING) AS t, CAST(x AS STRING) AS x, s \
             FROM read_csv('dates.csv', dateFormat => 'dd/MM/yyyy', timestampFormat => 'dd/MM/yyyy HH:mm', \
             emptyValue => '(empty)', schema => 'd DATE, t TIMESTAMP, x DOUBLE, s STRING') ORDER BY d NULLS LAST"
                .into(),
        ),
        (
            "JSON multiLine array",
            "SELECT COUNT(*) AS n, COUNT(amount) AS amounts, SUM(amount) AS total, SUM(size(tags)) AS tags \
             FROM read_json('events.json', multiLine => true)"
                .into(),
        ),
        (
            "JSON primitivesAsString",
            "SELECT id, typeof(id) AS t FROM read_json('events.json', multiLine => true, primitivesAsString => true) \
             ORDER BY id"
                .into(),
        ),
        (
            "JSON PERMISSIVE with a schema",
            "SELECT COUNT(*) AS n, COUNT(id) AS ids, COUNT(v) AS vs, SUM(v) AS total \
             FROM read_json('lines.jsonl', schema => 'id INT, v INT')"
                .into(),
        ),
        (
            "JSON DROPMALFORMED",
            "SELECT COUNT(*) AS n, COUNT(id) AS ids, SUM(v) AS total \
             FROM read_json('lines.jsonl', schema => 'id INT, v INT', mode => 'DROPMALFORMED')"
                .into(),
        ),
        (
            "JSON allowComments, allowSingleQuotes",
            "SELECT id, v FROM read_json('comments.jsonl', allowComments => true, allowSingleQuotes => true) ORDER BY id"
                .into(),
        ),
        (
            "Parquet mergeSchema",
            "SELECT id, name, score FROM read_parquet('merged', mergeSchema => true) ORDER BY id".into(),
        ),
    ]
}

/// The cell in Riffle's engine, natively, over the fixtures' bytes.
fn in_engine(data: &Path, query: &str) -> DataFrame {
    let mut session = Session::new();
    let prepared = session.prepare(query, "t").unwrap_or_else(|e| panic!("{query}: {e:?}"));
    let inputs = prepared
        .sources
        .iter()
        .map(|s| match &s.kind {
            SourceKind::File { path, .. } => SourceData { parts: parts(&data.join(path)) },
            other => panic!("a file source expected, got {other:?}"),
        })
        .collect();
    session.execute(prepared, inputs).unwrap_or_else(|e| panic!("{query}: {e:?}")).table.df
}

/// A file's bytes, or a directory's part files in name order.
fn parts(path: &Path) -> Vec<Vec<u8>> {
    if path.is_file() {
        return vec![std::fs::read(path).unwrap()];
    }
    let mut names: Vec<PathBuf> = std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with(['_', '.']))
        .collect();
    names.sort();
    names.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// The same cell on Spark, through the gateway.
async fn on_spark(router: &axum::Router, query: &str) -> Option<DataFrame> {
    // A read the translation refuses is reported, and fails the count below.
    let cell = match spark_cell(&format!("-- engine: spark\n{query}"), "t", "reads") {
        Ok(cell) => cell,
        Err(e) => {
            eprintln!("  not translated for Spark: {}", e.message);
            return None;
        }
    };
    let request = Request::post("/api/spark/run")
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(&cell.request).unwrap()))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(status.is_success(), "{query}: {status} {}", String::from_utf8_lossy(&bytes));
    let mut ipc = Vec::new();
    for frame in FrameDecoder::new().push(&bytes).unwrap() {
        match frame {
            Frame::Arrow(piece) => ipc.extend(piece),
            Frame::Summary(summary) => {
                if let Some(e) = summary.error {
                    return Some(df!("spark_failed" => [e.message.lines().next().unwrap_or_default()]).unwrap());
                }
            }
            Frame::Progress(_) => {}
        }
    }
    Some(spark_result(&ipc).unwrap_or_else(|e| panic!("{query}: {e:?}")))
}

/// Every value as text, with its column's name and type.
fn table(df: &DataFrame) -> Vec<String> {
    let mut out: Vec<String> = df.get_columns().iter().map(|c| format!("{}: {}", c.name(), c.dtype())).collect();
    for i in 0..df.height() {
        let row: Vec<String> = df.get_columns().iter().map(|c| format!("{}", c.get(i).unwrap())).collect();
        out.push(row.join(" | "));
    }
    out
}

#[tokio::test]
async fn reads_give_sparks_answers() {
    let Some(url) = common::spark_url() else { return };
    let dir = std::env::temp_dir().join(format!("riffle-spark-reads-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("dist")).unwrap();
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    fixtures(&data);
    let config = Config::new(dir.join("dist"), data.clone(), None).unwrap().with_spark(url);
    let data = config.data_root().to_path_buf();
    let router = app(config);
    let mut differences = Vec::new();
    let mut compared = 0;
    let cases = cases();
    for (what, query) in &cases {
        let ours = table(&in_engine(&data, query));
        let Some(spark) = on_spark(&router, query).await else { continue };
        compared += 1;
        let spark = table(&spark);
        eprintln!("{what}: {}", if ours == spark { "same" } else { "DIFFERENT" });
        if ours != spark {
            differences.push(format!("{what}\n  {query}\n  Riffle: {ours:?}\n  Spark:  {spark:?}"));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(compared, cases.len(), "only {compared} of {} reads could be compared with Spark", cases.len());
    for d in &differences {
        eprintln!("{d}");
    }
    let unknown: Vec<&String> = differences.iter().filter(|d| !KNOWN.iter().any(|k| d.starts_with(k))).collect();
    assert!(unknown.is_empty(), "{} reads differ from Spark:\n{unknown:#?}", unknown.len());
    let fixed: Vec<&str> = KNOWN.iter().copied().filter(|k| !differences.iter().any(|d| d.starts_with(k))).collect();
    assert!(fixed.is_empty(), "these now agree with Spark; take them off KNOWN: {fixed:?}");
}
