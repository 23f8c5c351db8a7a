//! `POST /api/spark/run`: sources as temporary views, then statements, on
//! Spark; the last statement's rows stream back.
//!
//! The request: `{"sources": [{"view", "format", "path", "options", "schema"}],
//! "statements": ["..."], "max_rows": n, "count_total": bool, "ansi": bool}`
//! (`ansi` runs `SET spark.sql.ansi.enabled` first). Each source
//! becomes a `CREATE OR REPLACE TEMPORARY VIEW` command (see `sources.rs`),
//! each statement but the last runs as a command, and the last as a query
//! whose Arrow batches come back. Each of these is one ExecutePlan with its
//! own operation id, interrupted on Spark when the browser goes away.
//!
//! The answer, `application/x-riffle-spark`, is a sequence of frames
//! `[kind: u8][length: u32 LE][payload]`:
//! - `P`: progress, JSON `{"statement", "statements", "stage", "tasks",
//!   "completed_tasks", "inflight_tasks", "input_bytes", "stages", "elapsed_ms"}`,
//!   once when each step starts and on each of Spark's ExecutionProgress reports;
//! - `A`: Arrow IPC bytes; all `A` payloads in order make ONE IPC stream
//!   (schema, batches, end-of-stream), even when there are no rows;
//! - `S`: the summary, JSON, always the last frame: `{"rows", "truncated",
//!   "total_rows", "operation_ids", "elapsed_ms", "error"}`.
//!
//! Errors found before the answer starts (Spark not configured or not
//! reachable, a bad request) are JSON errors with a status; everything later
//! is in the summary's `error`.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use serde::Deserialize;
use tokio::sync::mpsc;
use tonic::{Code, Status, Streaming};

use super::proto::ExecutePlanResponse;
use super::proto::execute_plan_response::{ExecutionProgress, ResponseType, StageInfo};
use super::reframe::Reframer;
use super::sources::{self, Source};
use super::{DEFAULT_MAX_ROWS, InterruptOnDrop, MAX_ROWS_LIMIT, SparkClient, command_plan, sql_plan, status_error};
use crate::storage::LocalStore;
use crate::{ApiError, AppState};

/// The answer's media type.
pub const CONTENT_TYPE: &str = "application/x-riffle-spark";
/// How long the gateway waits for Spark's first answer to the first step
/// before it starts its own: long enough to see a refused token or a lost
/// connection as an error status, short enough not to hold up progress.
const OPEN_WAIT: Duration = Duration::from_secs(1);

const EXAMPLE: &str = r#"{"sources": [{"view": "riffle_src_0", "format": "parquet", "path": "hdfs:///data/trips"}], "statements": ["SELECT count(*) FROM riffle_src_0"], "max_rows": 100000}"#;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    #[serde(default)]
    sources: Vec<Source>,
    statements: Vec<String>,
    #[serde(default)]
    max_rows: Option<u64>,
    #[serde(default)]
    count_total: Option<bool>,
    /// `spark.sql.ansi.enabled` for this run (the notebook's setting).
    #[serde(default)]
    ansi: Option<bool>,
    /// The notebook's session id (random, per engine worker): its own Spark session.
    #[serde(default)]
    session: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    View,
    Command,
    Query,
    Count,
}

impl Stage {
    fn name(self) -> &'static str {
        match self {
            Stage::View => "view",
            Stage::Command => "command",
            Stage::Query => "query",
            Stage::Count => "count",
        }
    }
}

/// One ExecutePlan: a source's view, a statement, or the count.
struct Step {
    stage: Stage,
    /// The statement it belongs to (0-based); views count as part of statement 0.
    statement: usize,
    sql: String,
    /// For a view: which one, for error messages.
    view: Option<String>,
}

/// A checked request.
struct Plan {
    steps: Vec<Step>,
    statements: usize,
    last: String,
    cap: u64,
    count_total: bool,
}

fn statement_text(text: &str) -> &str {
    let mut s = text.trim();
    while let Some(rest) = s.strip_suffix(';') {
        s = rest.trim_end();
    }
    s
}

impl Plan {
    /// `confine`: the data root the statements' own paths must stay in
    /// (none with `--spark-allow-local`).
    fn new(
        request: RunRequest,
        local: &LocalStore,
        kafka_bootstrap: Option<&str>,
        confine: Option<&LocalStore>,
    ) -> Result<Plan, ApiError> {
        if request.statements.is_empty() {
            return Err(ApiError::bad_request(format!("there are no statements to run: send {EXAMPLE}")));
        }
        let cap = request.max_rows.unwrap_or(DEFAULT_MAX_ROWS);
        if cap == 0 || cap > MAX_ROWS_LIMIT {
            return Err(ApiError::bad_request(format!("max_rows must be between 1 and {MAX_ROWS_LIMIT}, not {cap}")));
        }
        let mut steps = Vec::new();
        if let Some(ansi) = request.ansi {
            // The gateway's one session is shared, so the setting is sent on every run.
            let sql = format!("SET spark.sql.ansi.enabled={ansi}");
            steps.push(Step { stage: Stage::Command, statement: 0, sql, view: None });
        }
        for source in &request.sources {
            steps.push(Step {
                stage: Stage::View,
                statement: 0,
                sql: sources::view_statement(source, local, kafka_bootstrap)?,
                view: Some(source.view.clone()),
            });
        }
        let statements = request.statements.len();
        let mut last = String::new();
        for (i, text) in request.statements.iter().enumerate() {
            let sql = statement_text(text);
            if sql.is_empty() {
                return Err(ApiError::bad_request(format!("statement {} of {statements} is empty", i + 1)));
            }
            if let Some(root) = confine {
                super::confine::check(sql, root).map_err(|why| {
                    ApiError::forbidden(format!("statement {} of {statements} was not sent to Spark: {why}", i + 1))
                })?;
            }
            let stage = if i + 1 == statements { Stage::Query } else { Stage::Command };
            last = sql.to_string();
            steps.push(Step { stage, statement: i, sql: sql.to_string(), view: None });
        }
        Ok(Plan { steps, statements, last, cap, count_total: request.count_total.unwrap_or(true) })
    }
}

type Opening = Pin<Box<dyn Future<Output = Result<Streaming<ExecutePlanResponse>, Status>> + Send>>;

fn open(client: &Arc<SparkClient>, step: &Step, operation_id: &str) -> Opening {
    let client = client.clone();
    let plan = match step.stage {
        Stage::View | Stage::Command => command_plan(&step.sql),
        Stage::Query | Stage::Count => sql_plan(&step.sql),
    };
    let operation_id = operation_id.to_string();
    Box::pin(async move { client.execute(plan, &operation_id).await })
}

/// Errors that mean Spark cannot be used at all, rather than that a statement failed.
fn is_reach_error(status: &Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::Unauthenticated | Code::PermissionDenied | Code::DeadlineExceeded)
}

/// `POST /api/spark/run`.
pub(crate) async fn run(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    state.spark.client.as_ref().ok_or_else(super::not_configured)?;
    let request: RunRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the Spark run request is not valid ({e}); send {EXAMPLE}")))?;
    let client = state.spark.client_for(request.session.as_deref())?;
    let confine = (!state.spark.allow_local).then_some(&state.stores.local);
    let plan = Plan::new(request, &state.stores.local, state.spark.kafka_bootstrap.as_deref(), confine)?;
    let started = Instant::now();
    client.connect().await.map_err(|status| status_error(client.url(), &status))?;
    // Open the first step before answering: a lost connection or a refused
    // token is an error status, not a frame.
    let operation_id = uuid::Uuid::new_v4().to_string();
    let mut guard = InterruptOnDrop::new(client.clone(), operation_id.clone());
    let mut opening = open(&client, &plan.steps[0], &operation_id);
    let first: Opening = tokio::select! {
        opened = &mut opening => {
            if let Err(status) = &opened
                && is_reach_error(status)
            {
                guard.armed = false;
                return Err(status_error(client.url(), status));
            }
            Box::pin(async move { opened })
        }
        _ = tokio::time::sleep(OPEN_WAIT) => opening,
    };
    let (tx, mut rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    let runner = Runner { client, tx, started, statements: plan.statements, operation_ids: Vec::new() };
    tokio::spawn(runner.run(plan, (operation_id, first, guard)));
    let body = Body::from_stream(futures::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    Response::builder()
        .header(header::CONTENT_TYPE, CONTENT_TYPE)
        .header(header::CACHE_CONTROL, "no-store")
        .body(body)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

/// What went wrong after the answer started, for the summary.
#[derive(Debug)]
struct RunError {
    message: String,
    kind: &'static str,
    statement: usize,
}

/// How one step ended.
enum StepEnd {
    Complete,
    /// The row cap was reached (and the operation interrupted).
    Capped,
    Failed(RunError),
    /// The browser went away: stop everything.
    Gone,
}

/// Where a step's Arrow batches go.
enum Sink<'a> {
    Discard,
    Rows(&'a mut Reframer),
    Count(&'a mut Option<u64>),
}

/// Stages seen in a step's ExecutionProgress reports, by id.
#[derive(Default)]
struct Progress {
    stages: BTreeMap<i64, StageInfo>,
    inflight: i64,
}

impl Progress {
    fn update(&mut self, report: &ExecutionProgress) {
        for stage in &report.stages {
            self.stages.insert(stage.stage_id, stage.clone());
        }
        self.inflight = report.num_inflight_tasks;
    }
}

struct Runner {
    client: Arc<SparkClient>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    started: Instant,
    statements: usize,
    operation_ids: Vec<String>,
}

fn frame(kind: u8, payload: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(5 + payload.len());
    out.put_u8(kind);
    out.put_u32_le(payload.len() as u32);
    out.put_slice(payload);
    out.freeze()
}

/// The count in a `SELECT count(*)` answer.
fn read_count(data: Bytes) -> Option<u64> {
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(data), None).ok()?;
    for batch in reader {
        let batch = batch.ok()?;
        if batch.num_rows() > 0 {
            let column = batch.column(0).as_any().downcast_ref::<arrow_array::Int64Array>()?;
            return u64::try_from(column.value(0)).ok();
        }
    }
    None
}

impl Runner {
    async fn send(&self, kind: u8, payload: &[u8]) -> bool {
        self.tx.send(Ok(frame(kind, payload))).await.is_ok()
    }

    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Sends a progress frame unless it says what the last one said (Spark
    /// repeats its reports, and its first one is the zeros of the start).
    async fn send_progress(&self, step: &Step, progress: &Progress, last: &mut Option<[i64; 5]>) -> bool {
        let stages = progress.stages.values();
        let figures = [
            stages.clone().map(|s| s.num_tasks).sum::<i64>(),
            stages.clone().map(|s| s.num_completed_tasks).sum::<i64>(),
            progress.inflight,
            stages.map(|s| s.input_bytes_read).sum::<i64>(),
            progress.stages.len() as i64,
        ];
        if last.replace(figures) == Some(figures) {
            return true;
        }
        let [tasks, completed_tasks, inflight_tasks, input_bytes, stages] = figures;
        let json = serde_json::json!({
            "statement": step.statement,
            "statements": self.statements,
            "stage": step.stage.name(),
            "tasks": tasks,
            "completed_tasks": completed_tasks,
            "inflight_tasks": inflight_tasks,
            "input_bytes": input_bytes,
            "stages": stages,
            "elapsed_ms": self.elapsed_ms(),
        });
        self.send(b'P', json.to_string().as_bytes()).await
    }

    fn error(&self, step: &Step, status: &Status) -> RunError {
        let kind = match status.code() {
            _ if super::unreachable(status) => "unreachable",
            Code::DeadlineExceeded => "unreachable",
            Code::Cancelled => "interrupted",
            _ if status.message().contains("[OPERATION_CANCELED]") => "interrupted",
            _ => "spark",
        };
        let message = status_error(self.client.url(), status).message;
        let message = match &step.view {
            Some(view) => format!("creating the source view {view}: {message}"),
            None => message,
        };
        RunError { message, kind, statement: step.statement }
    }

    /// Runs one step to its end: progress frames as Spark reports, Arrow batches into `sink`.
    async fn drive(&self, step: &Step, opening: Opening, mut guard: InterruptOnDrop, mut sink: Sink<'_>) -> StepEnd {
        let mut last = None;
        if !self.send_progress(step, &Progress::default(), &mut last).await {
            return StepEnd::Gone;
        }
        let mut stream = tokio::select! {
            _ = self.tx.closed() => return StepEnd::Gone,
            opened = opening => match opened {
                Ok(stream) => stream,
                Err(status) => {
                    guard.armed = false;
                    return StepEnd::Failed(self.error(step, &status));
                }
            },
        };
        let mut progress = Progress::default();
        loop {
            let message = tokio::select! {
                _ = self.tx.closed() => return StepEnd::Gone,
                message = stream.message() => message,
            };
            let response = match message {
                Ok(Some(response)) => response,
                Ok(None) => {
                    guard.armed = false;
                    return StepEnd::Complete;
                }
                Err(status) => {
                    guard.armed = false;
                    return StepEnd::Failed(self.error(step, &status));
                }
            };
            match response.response_type {
                Some(ResponseType::ExecutionProgress(report)) => {
                    progress.update(&report);
                    if !self.send_progress(step, &progress, &mut last).await {
                        return StepEnd::Gone;
                    }
                }
                Some(ResponseType::ArrowBatch(batch)) => match &mut sink {
                    Sink::Discard => {}
                    Sink::Count(count) => {
                        if let Some(n) = read_count(batch.data) {
                            **count = Some(n);
                        }
                    }
                    Sink::Rows(reframer) => {
                        let bytes = match reframer.push(batch.data) {
                            Ok(bytes) => bytes,
                            Err(e) => {
                                drop(stream);
                                guard.interrupt_now().await;
                                let message = format!("{e} (from {})", self.client.url().display());
                                return StepEnd::Failed(RunError {
                                    message,
                                    kind: "gateway",
                                    statement: step.statement,
                                });
                            }
                        };
                        if !bytes.is_empty() && !self.send(b'A', &bytes).await {
                            return StepEnd::Gone;
                        }
                        if reframer.truncated {
                            drop(stream);
                            guard.interrupt_now().await;
                            return StepEnd::Capped;
                        }
                    }
                },
                _ => {}
            }
        }
    }

    async fn run(mut self, plan: Plan, first: (String, Opening, InterruptOnDrop)) {
        // The run's views are its own: gone when it ends, however it ends.
        let _views = DropViews {
            client: self.client.clone(),
            views: plan.steps.iter().filter_map(|s| s.view.clone()).collect(),
        };
        let mut reframer = Reframer::new(plan.cap);
        let mut first = Some(first);
        let mut error = None;
        let mut capped = false;
        for step in &plan.steps {
            let (operation_id, opening, guard) = match first.take() {
                Some(first) => first,
                None => {
                    let operation_id = uuid::Uuid::new_v4().to_string();
                    let guard = InterruptOnDrop::new(self.client.clone(), operation_id.clone());
                    let opening = open(&self.client, step, &operation_id);
                    (operation_id, opening, guard)
                }
            };
            self.operation_ids.push(operation_id);
            let sink = if step.stage == Stage::Query { Sink::Rows(&mut reframer) } else { Sink::Discard };
            match self.drive(step, opening, guard, sink).await {
                StepEnd::Complete => {}
                StepEnd::Capped => {
                    capped = true;
                    break;
                }
                StepEnd::Failed(e) => {
                    error = Some(e);
                    break;
                }
                StepEnd::Gone => return,
            }
        }
        // The rows are complete: the browser can show them while the count runs.
        if !self.send(b'A', &reframer.finish()).await {
            return;
        }
        let total_rows = match (&error, capped) {
            (Some(_), _) => None,
            (None, false) => Some(reframer.rows),
            (None, true) if plan.count_total => match self.count(&plan).await {
                Some(count) => count,
                None => return, // The browser went away.
            },
            (None, true) => None,
        };
        let elapsed_ms = self.elapsed_ms();
        tracing::info!(
            operations = ?self.operation_ids, rows = reframer.rows, truncated = capped, ?total_rows, elapsed_ms,
            error = ?error, "Spark run"
        );
        let summary = serde_json::json!({
            "rows": reframer.rows,
            "truncated": capped,
            "total_rows": total_rows,
            "operation_ids": self.operation_ids,
            "elapsed_ms": elapsed_ms,
            "error": error.map(|e| serde_json::json!({
                "message": e.message,
                "kind": e.kind,
                "statement": e.statement,
            })),
        });
        let _ = self.send(b'S', summary.to_string().as_bytes()).await;
    }

    /// Counts the last statement's rows; `None` when the browser went away,
    /// `Some(None)` when the count failed.
    async fn count(&mut self, plan: &Plan) -> Option<Option<u64>> {
        let step = Step {
            stage: Stage::Count,
            statement: plan.statements - 1,
            // On its own lines, so a trailing `-- comment` cannot swallow the parenthesis.
            sql: format!("SELECT count(*) FROM (\n{}\n) AS riffle_count", plan.last),
            view: None,
        };
        let operation_id = uuid::Uuid::new_v4().to_string();
        let guard = InterruptOnDrop::new(self.client.clone(), operation_id.clone());
        let opening = open(&self.client, &step, &operation_id);
        self.operation_ids.push(operation_id.clone());
        let mut count = None;
        match self.drive(&step, opening, guard, Sink::Count(&mut count)).await {
            StepEnd::Gone => None,
            StepEnd::Complete => Some(count),
            StepEnd::Failed(e) => {
                tracing::info!(%operation_id, error = %e.message, "could not count a capped Spark result");
                Some(None)
            }
            StepEnd::Capped => Some(None),
        }
    }
}

/// Drops a run's source views from the gateway's Spark session when dropped
/// (they would otherwise pile up there, one set per run). Best effort.
struct DropViews {
    client: Arc<SparkClient>,
    views: Vec<String>,
}

impl Drop for DropViews {
    fn drop(&mut self) {
        if self.views.is_empty() {
            return;
        }
        let (client, views) = (self.client.clone(), std::mem::take(&mut self.views));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for view in views {
                    // View names were checked to be plain identifiers (sources.rs).
                    let sql = format!("DROP VIEW IF EXISTS {view}");
                    if let Err(e) = client.command(&sql, &uuid::Uuid::new_v4().to_string()).await {
                        tracing::debug!(%view, error = %e, "could not drop a Spark source view");
                    }
                }
            });
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_kind_length_payload() {
        assert_eq!(&frame(b'S', b"{}")[..], &[b'S', 2, 0, 0, 0, b'{', b'}']);
        assert_eq!(frame(b'A', &[]).len(), 5);
    }

    #[test]
    fn statements_lose_trailing_semicolons() {
        assert_eq!(statement_text("  SELECT 1 ;; \n"), "SELECT 1");
        assert_eq!(statement_text(" ; "), "");
    }
}
