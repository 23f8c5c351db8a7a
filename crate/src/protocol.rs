//! Messages between the UI thread and an engine worker.
//!
//! Each message is a JSON text; a result's rows travel beside it as Arrow IPC
//! in a transferable `ArrayBuffer`, so they are moved, not copied.

use crate::text::{human_bytes, thousands};
use serde::{Deserialize, Serialize};

use crate::CellError;
use crate::notebook::CellKind;

/// UI → engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToEngine {
    /// Run one cell.
    Run(RunRequest),
    /// Run a query of the UI's own, such as a file preview, in a throwaway
    /// session: its result is shown but never joins the notebook's catalog,
    /// and it may not write (`COPY`, `INSERT INTO kafka`). The answer is
    /// `Done` (with `text` holding the schema tree) or `Failed`, as for a cell.
    Preview(RunRequest),
    /// Run a benchmark workload and report the time of each iteration.
    Bench(BenchRequest),
    /// Stop a run: its downloads are aborted and it fails with "cancelled".
    Cancel { run_id: u64 },
    /// Rows `offset..offset + limit` of a catalog table, for a result table
    /// that scrolls past the rows that came with `Done`. The answer is `Rows`
    /// (the rows as Arrow IPC beside it) or `RequestFailed`.
    Rows { request_id: u64, table: String, offset: u64, limit: u64 },
    /// A whole catalog table encoded as a file to download: `format` is
    /// `parquet`, `csv` or `json` (JSON lines). The answer is `Exported` (the
    /// file's bytes beside it) or `RequestFailed`.
    Export { request_id: u64, table: String, format: String },
    /// A catalog table's schema as `printSchema()` prints it. The answer is
    /// `SchemaText` or `RequestFailed`.
    Schema { request_id: u64, table: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    pub run_id: u64,
    pub cell_id: String,
    /// The table name used when the cell has no `-- name:` directive.
    pub default_name: String,
    pub source: String,
    /// How many rows of the result to send back for display.
    pub preview_rows: usize,
    /// What `source` is: SQL, or a chart spec ([`crate::chart::ChartSpec`]).
    #[serde(default = "sql_kind")]
    pub kind: CellKind,
}

fn sql_kind() -> CellKind {
    CellKind::Sql
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchRequest {
    pub workload: String,
    pub rows: usize,
    /// W2: the Kafka topic to read through the gateway.
    #[serde(default)]
    pub topic: Option<String>,
    /// W3: the file to read through the gateway (`hdfs:///...`).
    #[serde(default)]
    pub path: Option<String>,
    pub iterations: usize,
}

/// Engine → UI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromEngine {
    /// Sent once, first, when the worker can take requests.
    Ready { engine: String },
    /// A cell's run began (the ones before it in the queue are done).
    Started { run_id: u64, cell_id: String },
    /// A cell finished; the preview rows follow as Arrow IPC.
    Done(RunDone),
    /// A running cell's downloads so far; sent a few times a second.
    Progress(RunProgress),
    /// A cell failed.
    Failed { run_id: u64, cell_id: String, error: CellError },
    /// A benchmark finished.
    BenchDone(BenchReport),
    /// The engine panicked; it can take no more requests and must be restarted.
    Crashed { message: String },
    /// The notebook's catalog after a run: its tables and their columns,
    /// for the editor's autocomplete.
    Catalog { tables: Vec<TableInfo> },
    /// Rows of a catalog table (`ToEngine::Rows`), as Arrow IPC beside this
    /// message, starting at `offset`; `total` is the table's row count now.
    Rows { request_id: u64, table: String, offset: u64, total: u64 },
    /// A table encoded for download (`ToEngine::Export`); the bytes follow.
    Exported { request_id: u64, table: String, format: String, filename: String, mime: String },
    /// A table's printSchema tree (`ToEngine::Schema`).
    SchemaText { request_id: u64, table: String, text: String },
    /// A `Rows`, `Export` or `Schema` request could not be answered.
    RequestFailed { request_id: u64, error: CellError },
}

/// A table of the catalog, as the editor's autocomplete shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    pub rows: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDone {
    pub run_id: u64,
    pub cell_id: String,
    /// The name the result is registered under.
    pub table: String,
    pub schema: Vec<ColumnInfo>,
    /// Rows in the whole result.
    pub rows: u64,
    /// Rows in the preview that came with this message.
    pub shown: u64,
    pub elapsed_ms: f64,
    /// Short remarks: bad JSON rows, an empty Kafka range, what a write did.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Text to show as is, such as DESCRIBE's printSchema tree.
    #[serde(default)]
    pub text: Option<String>,
    /// Whether `table` is in the catalog, so that later cells can query it
    /// (a query's result is; `DESCRIBE`'s and `COPY`'s summaries are not).
    #[serde(default)]
    pub registered: bool,
    /// The path a `COPY ... TO` wrote, so that file lists can refresh.
    #[serde(default)]
    pub wrote: Option<String>,
    /// The catalog tables the cell read, so that the UI can mark the cells
    /// that read a table stale when the table changes.
    #[serde(default)]
    pub reads: Vec<String>,
    /// A chart cell's drawing (an `<svg>` element); its preview rows are the
    /// chart's aggregated data.
    #[serde(default)]
    pub svg: Option<String>,
    /// The engine's memory when the run ended, in bytes: its peak so far,
    /// since a wasm instance's memory only grows (0 where unknown).
    #[serde(default)]
    pub memory_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunProgress {
    pub run_id: u64,
    pub cell_id: String,
    /// What is being fetched, such as "kafka('events')".
    pub what: String,
    /// Rows (messages) received so far, when the source counts rows.
    pub rows: Option<u64>,
    /// The rows the source will send in all, when it says.
    pub total_rows: Option<u64>,
    pub bytes: u64,
    /// The bytes there are to fetch, when known (files).
    #[serde(default)]
    pub total_bytes: Option<u64>,
    pub elapsed_ms: f64,
    /// A cell running on Spark: its tasks and statements, from Spark's
    /// progress reports (`bytes` is then what came back so far).
    #[serde(default)]
    pub spark: Option<crate::spark::SparkProgress>,
}

impl RunProgress {
    /// "12,000 of 100,000 messages · 1.2 MB · 0.4 s"
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(spark) = &self.spark {
            let detail = spark.label();
            if !detail.is_empty() {
                parts.push(detail);
            }
            if self.bytes > 0 {
                parts.push(format!("{} received", human_bytes(self.bytes)));
            }
            parts.push(format!("{:.1} s", self.elapsed_ms / 1000.0));
            return format!("{}: {}", self.what, parts.join(" · "));
        }
        match (self.rows, self.total_rows) {
            (Some(r), Some(t)) => parts.push(format!("{} of {} rows", thousands(r), thousands(t))),
            (Some(r), None) => parts.push(format!("{} rows", thousands(r))),
            (None, Some(t)) => parts.push(format!("{} rows", thousands(t))),
            (None, None) => {}
        }
        match self.total_bytes {
            Some(t) => parts.push(format!("{} of {}", human_bytes(self.bytes), human_bytes(t))),
            None => parts.push(human_bytes(self.bytes)),
        }
        parts.push(format!("{:.1} s", self.elapsed_ms / 1000.0));
        format!("{}: {}", self.what, parts.join(" · "))
    }
}

/// A column's name and its type as Spark users read it (`bigint`, `string`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    pub dtype: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    pub workload: String,
    pub rows: usize,
    /// Milliseconds, one per iteration.
    pub times_ms: Vec<f64>,
    /// A check value so that native and browser runs can be compared.
    pub checksum: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_json() {
        let msgs = vec![
            FromEngine::Ready { engine: "polars".into() },
            FromEngine::Failed { run_id: 3, cell_id: "c1".into(), error: CellError::new("boom").hint("try again") },
        ];
        for m in msgs {
            let text = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<FromEngine>(&text).unwrap(), m);
        }
        let run = ToEngine::Run(RunRequest {
            run_id: 1,
            cell_id: "c".into(),
            default_name: "cell_1".into(),
            source: "SELECT 1".into(),
            preview_rows: 10,
            kind: CellKind::Sql,
        });
        let progress = FromEngine::Progress(RunProgress {
            run_id: 1,
            cell_id: "c".into(),
            what: "kafka('events')".into(),
            rows: Some(12_000),
            total_rows: Some(100_000),
            bytes: 1_234_567,
            total_bytes: None,
            elapsed_ms: 400.0,
            spark: None,
        });
        let text = serde_json::to_string(&progress).unwrap();
        assert_eq!(serde_json::from_str::<FromEngine>(&text).unwrap(), progress);
        if let FromEngine::Progress(p) = progress {
            assert_eq!(p.label(), "kafka('events'): 12,000 of 100,000 rows · 1.2 MB · 0.4 s");
            let file =
                RunProgress { rows: None, total_bytes: Some(100_000_000), what: "read_parquet('t')".into(), ..p };
            assert_eq!(file.label(), "read_parquet('t'): 100,000 rows · 1.2 MB of 100.0 MB · 0.4 s");
            let spark = crate::spark::SparkProgress {
                statement: 1,
                statements: 2,
                tasks: 40,
                completed_tasks: 12,
                ..Default::default()
            };
            let on_spark = RunProgress { what: "Spark".into(), bytes: 0, spark: Some(spark), ..file };
            assert_eq!(on_spark.label(), "Spark: statement 2 of 2 · 12 of 40 tasks · 0.4 s");
        }
        let text = serde_json::to_string(&run).unwrap();
        assert!(text.contains(r#""type":"run""#), "{text}");
        assert_eq!(serde_json::from_str::<ToEngine>(&text).unwrap(), run);
        if let ToEngine::Run(request) = run {
            let preview = ToEngine::Preview(request);
            let text = serde_json::to_string(&preview).unwrap();
            assert!(text.contains(r#""type":"preview""#), "{text}");
            assert_eq!(serde_json::from_str::<ToEngine>(&text).unwrap(), preview);
        }
        // Older engines' answers, without the newer fields, still read.
        let done =
            r#"{"type":"done","run_id":1,"cell_id":"c","table":"t","schema":[],"rows":0,"shown":0,"elapsed_ms":1.0}"#;
        match serde_json::from_str::<FromEngine>(done).unwrap() {
            FromEngine::Done(d) => assert!(!d.registered && d.wrote.is_none() && d.svg.is_none()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn run_requests_say_their_kind() {
        // A request without a kind (an older UI) is SQL.
        let old =
            r#"{"type":"run","run_id":1,"cell_id":"c","default_name":"cell_1","source":"SELECT 1","preview_rows":5}"#;
        match serde_json::from_str::<ToEngine>(old).unwrap() {
            ToEngine::Run(r) => assert_eq!(r.kind, CellKind::Sql),
            other => panic!("{other:?}"),
        }
        let chart = ToEngine::Run(RunRequest {
            run_id: 2,
            cell_id: "c".into(),
            default_name: "cell_2".into(),
            source: "table: t\nkind: bar\n".into(),
            preview_rows: 5,
            kind: CellKind::Chart,
        });
        let text = serde_json::to_string(&chart).unwrap();
        assert!(text.contains(r#""kind":"chart""#), "{text}");
        assert_eq!(serde_json::from_str::<ToEngine>(&text).unwrap(), chart);
    }

    #[test]
    fn result_requests_round_trip_as_json() {
        let requests = vec![
            ToEngine::Rows { request_id: 7, table: "trips".into(), offset: 999_500, limit: 500 },
            ToEngine::Export { request_id: 8, table: "trips".into(), format: "parquet".into() },
            ToEngine::Schema { request_id: 9, table: "trips".into() },
        ];
        for r in requests {
            let text = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<ToEngine>(&text).unwrap(), r, "{text}");
        }
        let text =
            serde_json::to_string(&ToEngine::Rows { request_id: 1, table: "t".into(), offset: 0, limit: 5 }).unwrap();
        assert_eq!(text, r#"{"type":"rows","request_id":1,"table":"t","offset":0,"limit":5}"#);
        let answers = vec![
            FromEngine::Rows { request_id: 7, table: "trips".into(), offset: 999_500, total: 1_000_000 },
            FromEngine::Exported {
                request_id: 8,
                table: "trips".into(),
                format: "csv".into(),
                filename: "trips.csv".into(),
                mime: "text/csv".into(),
            },
            FromEngine::SchemaText { request_id: 9, table: "trips".into(), text: "root\n".into() },
            FromEngine::RequestFailed {
                request_id: 10,
                error: CellError::new("no table 'trips'").hint("run the cell that makes it"),
            },
        ];
        for a in answers {
            let text = serde_json::to_string(&a).unwrap();
            assert_eq!(serde_json::from_str::<FromEngine>(&text).unwrap(), a, "{text}");
        }
        let failed = r#"{"type":"request_failed","request_id":3,"error":{"message":"boom"}}"#;
        match serde_json::from_str::<FromEngine>(failed) {
            Ok(FromEngine::RequestFailed { request_id: 3, error }) => assert_eq!(error.message, "boom"),
            other => panic!("{other:?}"),
        }
    }
}
