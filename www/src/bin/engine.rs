//! The engine Web Worker: runs cells with Polars, off the UI thread.
//!
//! It posts `Ready` first, then takes requests one at a time. Sources are
//! fetched from the gateway (`/api/fs/read`), then parsed by the core.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use futures::StreamExt;
use riffle::engine::{
    Effect, FOOTER_GUESS, FileFormat, Footer, ParquetFooter, ProducePlan, Session, SourceData, SourceKind,
    SourceRequest, WritePlan, parquet_footer,
};
use riffle::ipc_progress::IpcProgress;
use riffle::lang::{Directives, Engine};
use riffle::notebook::CellKind;
use riffle::protocol::{BenchReport, BenchRequest, FromEngine, RunDone, RunProgress, RunRequest, ToEngine};
use riffle::spark::{Frame, FrameDecoder, HintLimits, SparkProgress, SparkSummary};
use riffle::{CellError, bench};
use riffle_www::{envelope, open};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, DedicatedWorkerGlobalScope, MessageEvent, ReadableStreamDefaultReader, RequestInit, Response,
};

struct Worker {
    scope: DedicatedWorkerGlobalScope,
    session: RefCell<Session>,
    queue: RefCell<VecDeque<ToEngine>>,
    busy: RefCell<bool>,
    /// The run in progress and the switch that aborts its downloads.
    current: RefCell<Option<(u64, AbortController)>>,
    /// "Run this on Spark" notes for the run in progress (big sources).
    hints: RefCell<Vec<String>>,
    /// From what size a source gets such a note (the gateway's settings,
    /// `GET /api/spark/status`, asked once).
    hint_limits: RefCell<Option<HintLimits>>,
    /// The end-to-end tests' hook: see [`TEST_PANIC_CELL`].
    test_panics: bool,
    /// This notebook's id for its own Spark session (random, one per engine
    /// worker; a restarted worker gets a new session, and rebuilds its tables).
    spark_session: String,
}

/// 32 random hex digits.
fn random_id() -> String {
    (0..4).map(|_| format!("{:08x}", (js_sys::Math::random() * f64::from(u32::MAX)) as u32)).collect()
}

/// With `?test_hooks=panic` on the worker's URL (the UI passes it on from
/// the page's), a cell whose whole text is this panics on purpose, so that
/// the end-to-end tests can check that the UI restarts the engine.
const TEST_PANIC_CELL: &str = "-- test: panic";

/// Whether the worker was started with the panic hook on.
fn test_panics(scope: &DedicatedWorkerGlobalScope) -> bool {
    js_sys::Reflect::get(scope, &"location".into())
        .and_then(|location| js_sys::Reflect::get(&location, &"search".into()))
        .ok()
        .and_then(|search| search.as_string())
        .is_some_and(|search| search.split(['?', '&']).any(|p| p == "test_hooks=panic"))
}

/// How often a download reports progress.
const PROGRESS_EVERY_MS: f64 = 100.0;
/// Files are fetched in ranges of this size...
const RANGE_BYTES: u64 = 8 * 1024 * 1024;
/// ...this many at a time (Chrome opens up to 6 connections to one host).
const PARALLEL_FETCHES: usize = 4;

/// The most input one source may bring into the worker: wasm32 memory ends
/// at 4 GiB, and parsing needs room besides the bytes.
const MAX_SOURCE_BYTES: u64 = 1_500_000_000;

/// A file download in ranges: what has arrived of how much.
struct Transfer<'a> {
    progress: Progress<'a>,
    bytes: Cell<u64>,
    total_bytes: u64,
    total_rows: Option<u64>,
    last_report: Cell<f64>,
}

/// Who a download reports progress to.
struct Progress<'a> {
    run: &'a RunRequest,
    what: &'a str,
    started: f64,
    /// The body is an Arrow IPC stream whose rows can be counted.
    counts_rows: bool,
}

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // A panic leaves the wasm instance unusable: tell the UI why, then log it.
    let crash_scope = scope.clone();
    std::panic::set_hook(Box::new(move |info| {
        let json = serde_json::to_string(&FromEngine::Crashed { message: info.to_string() }).unwrap_or_default();
        let (message, transfer) = envelope(&json, None);
        let _ = crash_scope.post_message_with_transfer(&message, &transfer);
        console_error_panic_hook::hook(info);
    }));
    let worker = Rc::new(Worker {
        scope: scope.clone(),
        session: RefCell::new(Session::new()),
        queue: RefCell::new(VecDeque::new()),
        busy: RefCell::new(false),
        current: RefCell::new(None),
        hints: RefCell::new(Vec::new()),
        hint_limits: RefCell::new(None),
        test_panics: test_panics(&scope),
        spark_session: random_id(),
    });
    let handler = {
        let worker = worker.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let request = open(&event.data()).and_then(|(json, _)| serde_json::from_str::<ToEngine>(&json).ok());
            match request {
                // Taken at once, not queued: the run it stops is what keeps the queue busy.
                Some(ToEngine::Cancel { run_id }) => worker.cancel(run_id),
                // Also at once: a result table's pages, schema and downloads
                // read a finished table, so scrolling never waits for a run.
                Some(request @ (ToEngine::Rows { .. } | ToEngine::Export { .. } | ToEngine::Schema { .. })) => {
                    worker.answer(request)
                }
                Some(request) => {
                    worker.queue.borrow_mut().push_back(request);
                    Worker::drain(worker.clone());
                }
                None => web_sys::console::error_1(&"engine: ignored a message it could not read".into()),
            }
        })
    };
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    worker.post(&FromEngine::Ready { engine: format!("polars {}", polars_version()) }, None);
}

/// The engine's wasm memory now: its high-water mark, as it never shrinks.
fn memory_bytes() -> u64 {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size::<0>() as u64 * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
}

/// A chart cell: drawn from a catalog table; its rows are the chart's data.
fn chart(run: &RunRequest, session: &RefCell<Session>) -> Result<(RunDone, Vec<u8>), CellError> {
    let outcome = session.borrow().chart(&run.source, &run.default_name)?;
    let table = outcome.table;
    let shown = table.rows().min(run.preview_rows);
    let ipc = table.preview_ipc(shown)?;
    let done = RunDone {
        run_id: run.run_id,
        cell_id: run.cell_id.clone(),
        table: table.name.clone(),
        schema: table.schema(),
        rows: table.rows() as u64,
        shown: shown as u64,
        elapsed_ms: 0.0,
        notes: table.notes,
        text: None,
        registered: false,
        wrote: None,
        reads: outcome.reads,
        svg: Some(outcome.svg),
        memory_bytes: 0,
    };
    Ok((done, ipc))
}

fn polars_version() -> &'static str {
    "0.51.0"
}

impl Worker {
    /// Runs queued requests one after another; a single loop at a time.
    fn drain(this: Rc<Worker>) {
        if this.busy.replace(true) {
            return;
        }
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                let next = this.queue.borrow_mut().pop_front();
                let Some(request) = next else { break };
                match request {
                    ToEngine::Run(run) => this.run(run, false).await,
                    ToEngine::Preview(run) => this.run(run, true).await,
                    ToEngine::Bench(b) => this.bench(b).await,
                    ToEngine::Cancel { run_id } => this.cancel(run_id),
                    request @ (ToEngine::Rows { .. } | ToEngine::Export { .. } | ToEngine::Schema { .. }) => {
                        this.answer(request)
                    }
                }
            }
            this.busy.replace(false);
        });
    }

    fn now(&self) -> f64 {
        self.scope.performance().map(|p| p.now()).unwrap_or_default()
    }

    fn post(&self, message: &FromEngine, bytes: Option<&[u8]>) {
        let json = serde_json::to_string(message).unwrap_or_default();
        let (message, transfer) = envelope(&json, bytes);
        if let Err(e) = self.scope.post_message_with_transfer(&message, &transfer) {
            web_sys::console::error_2(&"engine: postMessage failed".into(), &e);
        }
    }

    /// Answers a result table's request about a catalog table: a page of
    /// rows, its schema tree, or the whole table encoded for download.
    fn answer(&self, request: ToEngine) {
        let (request_id, table) = match &request {
            ToEngine::Rows { request_id, table, .. }
            | ToEngine::Export { request_id, table, .. }
            | ToEngine::Schema { request_id, table } => (*request_id, table.clone()),
            _ => return,
        };
        let Ok(session) = self.session.try_borrow() else {
            let error = CellError::new(format!("the engine is busy with '{table}'")).hint("try again in a moment");
            self.post(&FromEngine::RequestFailed { request_id, error }, None);
            return;
        };
        let Some(df) = session.table(&table) else {
            let error = CellError::new(format!("the table '{table}' is no longer in the notebook's catalog"))
                .hint("run the cell that makes it again");
            self.post(&FromEngine::RequestFailed { request_id, error }, None);
            return;
        };
        let answer = match request {
            ToEngine::Rows { offset, limit, .. } => riffle::engine::page_ipc(df, &table, offset, limit).map(|ipc| {
                let total = df.height() as u64;
                (FromEngine::Rows { request_id, table: table.clone(), offset, total }, Some(ipc))
            }),
            ToEngine::Export { format, .. } => riffle::engine::download(df, &table, &format).map(|d| {
                let message = FromEngine::Exported {
                    request_id,
                    table: table.clone(),
                    format: d.format,
                    filename: d.filename,
                    mime: d.mime,
                };
                (message, Some(d.bytes))
            }),
            ToEngine::Schema { .. } => {
                let text = riffle::engine::print_schema(df.schema());
                Ok((FromEngine::SchemaText { request_id, table: table.clone(), text }, None))
            }
            _ => return,
        };
        drop(session);
        match answer {
            Ok((message, bytes)) => self.post(&message, bytes.as_deref()),
            Err(error) => self.post(&FromEngine::RequestFailed { request_id, error }, None),
        }
    }

    /// Aborts a run's downloads, or drops it from the queue if it has not started.
    fn cancel(&self, run_id: u64) {
        if let Some((current, controller)) = self.current.borrow().as_ref() {
            if *current == run_id {
                controller.abort();
                return;
            }
        }
        let mut dropped = Vec::new();
        self.queue.borrow_mut().retain(|r| match r {
            ToEngine::Run(run) | ToEngine::Preview(run) if run.run_id == run_id => {
                dropped.push(run.cell_id.clone());
                false
            }
            _ => true,
        });
        for cell_id in dropped {
            self.post(&FromEngine::Failed { run_id, cell_id, error: cancelled() }, None);
        }
    }

    fn signal(&self) -> Option<web_sys::AbortSignal> {
        self.current.borrow().as_ref().map(|(_, c)| c.signal())
    }

    /// Runs a cell in the notebook's session, or a preview in a throwaway
    /// one (so that its table never joins the catalog, and is freed at once).
    async fn run(&self, run: RunRequest, preview: bool) {
        let started = self.now();
        if !preview {
            self.post(&FromEngine::Started { run_id: run.run_id, cell_id: run.cell_id.clone() }, None);
        }
        if self.test_panics && run.source.trim() == TEST_PANIC_CELL {
            panic!("a panic on purpose (the test hook `{TEST_PANIC_CELL}`)");
        }
        *self.current.borrow_mut() = AbortController::new().ok().map(|c| (run.run_id, c));
        let result = if preview { self.preview(&run).await } else { self.execute(&run, &self.session, true).await };
        let aborted = self.signal().is_some_and(|s| s.aborted());
        *self.current.borrow_mut() = None;
        let result = if aborted { Err(cancelled()) } else { result };
        match result {
            Ok((done, ipc)) => {
                let done = RunDone { elapsed_ms: self.now() - started, memory_bytes: memory_bytes(), ..done };
                let registered = done.registered;
                self.post(&FromEngine::Done(done), Some(&ipc));
                if registered && !preview {
                    self.post(&FromEngine::Catalog { tables: self.session.borrow().catalog_info() }, None);
                }
            }
            Err(error) => self.post(&FromEngine::Failed { run_id: run.run_id, cell_id: run.cell_id, error }, None),
        }
    }

    /// A preview: the query in a session of its own, plus the result's
    /// schema tree (what `DESCRIBE` prints) as the answer's text.
    async fn preview(&self, run: &RunRequest) -> Result<(RunDone, Vec<u8>), CellError> {
        let session = RefCell::new(Session::new());
        let (mut done, ipc) = self.execute(run, &session, false).await?;
        let describe = session.borrow_mut().run(&format!("DESCRIBE {}", done.table), "describe");
        done.text = describe.ok().and_then(|t| t.text);
        done.registered = false;
        Ok((done, ipc))
    }

    /// Runs `run` in `session`; effects (writes, produces) only if `effects`.
    async fn execute(
        &self,
        run: &RunRequest,
        session: &RefCell<Session>,
        effects: bool,
    ) -> Result<(RunDone, Vec<u8>), CellError> {
        if run.kind == CellKind::Chart {
            return chart(run, session);
        }
        if Directives::parse(&run.source).engine == Engine::Spark {
            if !effects {
                return Err(CellError::new("a preview runs in the browser, not on Spark"));
            }
            return self.execute_on_spark(run, session).await;
        }
        self.hints.borrow_mut().clear();
        // current_timestamp() for this cell: the engine reads no clock of its own.
        session.borrow_mut().set_now((js_sys::Date::now() * 1000.0) as i64);
        let mut prepared = session.borrow().prepare(&run.source, &run.default_name)?;
        let reads = prepared.reads.clone();
        let mut inputs = Vec::with_capacity(prepared.sources.len());
        let started = self.now();
        for source in &mut prepared.sources {
            let (data, names) = self.fetch_source(source, run, started).await?;
            // So that an error names the part file that failed.
            source.part_names = names;
            inputs.push(data);
        }
        let outcome = session.borrow_mut().execute(prepared, inputs)?;
        let mut table = outcome.table;
        table.notes.extend(self.hints.borrow_mut().drain(..));
        let mut wrote = None;
        match &outcome.effect {
            None => {}
            Some(_) if !effects => return Err(CellError::new("a preview does not write or produce")),
            Some(Effect::Produce(plan)) => table.notes.push(self.produce(plan).await?),
            Some(Effect::Write(plan)) => {
                table.notes.push(self.write(plan).await?);
                wrote = Some(plan.path.clone());
            }
        }
        let registered = outcome.effect.is_none() && session.borrow().table(&table.name).is_some();
        let shown = table.rows().min(run.preview_rows);
        let ipc = table.preview_ipc(shown)?;
        let done = RunDone {
            run_id: run.run_id,
            cell_id: run.cell_id.clone(),
            table: table.name.clone(),
            schema: table.schema(),
            rows: table.rows() as u64,
            shown: shown as u64,
            elapsed_ms: 0.0,
            notes: table.notes,
            text: table.text,
            registered,
            wrote,
            reads,
            svg: None,
            memory_bytes: 0,
        };
        Ok((done, ipc))
    }

    /// Adds a "run it on Spark" note when a source is over the gateway's limits.
    async fn hint_if_big(&self, what: &str, bytes: Option<u64>, messages: Option<u64>) {
        if self.hint_limits.borrow().is_none() {
            let limits = match self.call("GET", "/api/spark/status", None, "").await {
                Ok(status) => HintLimits {
                    bytes: status["hint_bytes"].as_u64().unwrap_or(HintLimits::default().bytes),
                    messages: status["hint_messages"].as_u64().unwrap_or(HintLimits::default().messages),
                },
                Err(_) => HintLimits::default(),
            };
            *self.hint_limits.borrow_mut() = Some(limits);
        }
        let limits = self.hint_limits.borrow().unwrap_or_default();
        if let Some(hint) = riffle::spark::sizing_hint(what, bytes, messages, &limits) {
            self.hints.borrow_mut().push(hint);
        }
    }

    /// A `-- engine: spark` cell: the gateway runs it on Spark Connect and
    /// streams back progress, the rows (Arrow IPC, up to the row cap) and a
    /// summary. The rows join the catalog like any result.
    async fn execute_on_spark(
        &self,
        run: &RunRequest,
        session: &RefCell<Session>,
    ) -> Result<(RunDone, Vec<u8>), CellError> {
        // Each notebook has a Spark session of its own; a random part in the views'
        // names still keeps runs apart where a session is shared (`session_id=` in --spark).
        let tag = format!("{:08x}_{}", (js_sys::Math::random() * f64::from(u32::MAX)) as u32, run.run_id);
        let mut cell = riffle::engine::spark_cell(&run.source, &run.default_name, &tag)?;
        // One spark.sql.ansi.enabled for the notebook, whichever engine runs the cell.
        cell.request.ansi = Some(session.borrow().ansi_enabled());
        cell.request.session = Some(self.spark_session.clone());
        let body = serde_json::to_vec(&cell.request).map_err(|e| CellError::new(format!("internal: {e}")))?;
        let started = self.now();
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_body(&js_sys::Uint8Array::from(body.as_slice()));
        if let Ok(headers) = web_sys::Headers::new() {
            let _ = headers.set("content-type", "application/json");
            init.set_headers(&headers);
        }
        if let Some(signal) = self.signal() {
            init.set_signal(Some(&signal));
        }
        let response = JsFuture::from(self.scope.fetch_with_str_and_init("/api/spark/run", &init))
            .await
            .map_err(|e| CellError::new(format!("the gateway did not answer ({})", js_error(&e))))?;
        let response: Response = response.unchecked_into();
        if !response.ok() {
            let text = match response.text() {
                Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
                Err(_) => String::new(),
            };
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or(text);
            return Err(CellError::new(format!("could not run the cell on Spark: {message}"))
                .hint("remove -- engine: spark (or switch Spark off) to run it in the browser"));
        }
        let Some(stream) = response.body() else {
            return Err(CellError::new("the gateway's Spark answer had no body"));
        };
        let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut decoder = FrameDecoder::new();
        let mut ipc: Vec<u8> = Vec::new();
        let mut counter = IpcProgress::new();
        let mut latest = SparkProgress::default();
        let mut summary: Option<SparkSummary> = None;
        let mut last_report = 0.0;
        let broke_off = |why: String| {
            CellError::new(format!("the answer from Spark broke off ({why})"))
                .hint("run the cell again; the gateway's log says more")
        };
        while summary.is_none() {
            let chunk = JsFuture::from(reader.read()).await.map_err(|e| broke_off(js_error(&e)))?;
            if js_sys::Reflect::get(&chunk, &"done".into()).ok().is_some_and(|d| d.is_truthy()) {
                break;
            }
            let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) else { continue };
            let bytes = js_sys::Uint8Array::from(value).to_vec();
            let mut changed = false;
            for frame in decoder.push(&bytes).map_err(broke_off)? {
                match frame {
                    Frame::Progress(p) => {
                        latest = p;
                        changed = true;
                    }
                    Frame::Arrow(data) => {
                        counter.feed(&data);
                        ipc.extend_from_slice(&data);
                        changed = true;
                    }
                    Frame::Summary(s) => summary = Some(s),
                }
            }
            let now = self.now();
            if changed && now - last_report >= PROGRESS_EVERY_MS {
                last_report = now;
                let rows = (counter.rows > 0).then_some(counter.rows);
                self.post(
                    &FromEngine::Progress(RunProgress {
                        run_id: run.run_id,
                        cell_id: run.cell_id.clone(),
                        what: "Spark".into(),
                        rows,
                        total_rows: None,
                        bytes: ipc.len() as u64,
                        total_bytes: None,
                        elapsed_ms: now - started,
                        spark: Some(latest.clone()),
                    }),
                    None,
                );
            }
        }
        let Some(summary) = summary else {
            return Err(broke_off(format!("no summary after {} bytes of rows", ipc.len())));
        };
        if let Some(error) = summary.error {
            if error.kind == "interrupted" {
                return Err(cancelled());
            }
            let place = error
                .statement
                .filter(|_| cell.request.statements.len() > 1)
                .map(|i| format!(" (statement {} of {})", i + 1, cell.request.statements.len()))
                .unwrap_or_default();
            let location = cell.locate(error.statement.unwrap_or(0) as usize, &error.message);
            let hint = match error.kind.as_str() {
                "unreachable" => "start Spark (bash scripts/spark.sh start) or run the cell in the browser",
                _ if error.message.contains("TABLE_OR_VIEW_NOT_FOUND") => {
                    "Spark sees its own tables and the files you name, not this notebook's browser tables: \
                     read the source with read_parquet('...') or kafka('...') in this cell"
                }
                _ => "the message is Spark's; fix the SQL, or remove -- engine: spark to run it in the browser",
            };
            let message = error.message.strip_prefix("Spark: ").unwrap_or(&error.message);
            return Err(CellError::new(format!("Spark{place}: {message}")).at(location).hint(hint));
        }
        let df = riffle::engine::spark_result(&ipc)?;
        let mut notes = Vec::new();
        let seconds = summary.elapsed_ms as f64 / 1000.0;
        if summary.truncated {
            let total = summary.total_rows.map(riffle::protocol::thousands).unwrap_or_else(|| "more".into());
            notes.push(format!(
                "showing first {} of {total} rows: Spark's result is capped at {} rows (-- max_rows: N changes the cap)",
                riffle::protocol::thousands(summary.rows),
                riffle::protocol::thousands(cell.request.max_rows)
            ));
        }
        notes.push(format!(
            "ran on Spark in {seconds:.1} s ({} statement{}); {} rows came back",
            cell.request.statements.len(),
            if cell.request.statements.len() == 1 { "" } else { "s" },
            riffle::protocol::thousands(summary.rows)
        ));
        for path in &cell.writes {
            notes.push(format!("Spark wrote '{path}': part files, then _SUCCESS (INSERT OVERWRITE DIRECTORY)"));
        }
        let registered = !cell.ends_with_write;
        if registered {
            session.borrow_mut().register_external(&cell.table, df.clone());
        }
        let table = riffle::engine::ResultTable { notes, ..riffle::engine::ResultTable::new(cell.table.clone(), df) };
        let shown = table.rows().min(run.preview_rows);
        let ipc = table.preview_ipc(shown)?;
        let done = RunDone {
            run_id: run.run_id,
            cell_id: run.cell_id.clone(),
            table: table.name.clone(),
            schema: table.schema(),
            rows: table.rows() as u64,
            shown: shown as u64,
            elapsed_ms: 0.0,
            notes: table.notes,
            text: None,
            registered,
            wrote: cell.writes.last().cloned(),
            reads: Vec::new(),
            svg: None,
            memory_bytes: 0,
        };
        Ok((done, ipc))
    }

    /// Sends `INSERT INTO kafka(...)`'s records to the gateway's produce
    /// endpoint; every record must be acknowledged (acks=all).
    async fn produce(&self, plan: &ProducePlan) -> Result<String, CellError> {
        let what = format!("kafka('{}')", plan.topic);
        let url = format!("/api/kafka/topics/{}/produce?format=arrow&results=errors", encode(&plan.topic));
        let init = RequestInit::new();
        init.set_method("POST");
        let body = js_sys::Uint8Array::from(plan.ipc.as_slice());
        init.set_body(&body);
        if let Ok(headers) = web_sys::Headers::new() {
            let _ = headers.set("content-type", "application/vnd.apache.arrow.stream");
            init.set_headers(&headers);
        }
        if let Some(signal) = self.signal() {
            init.set_signal(Some(&signal));
        }
        let failed = |why: String| CellError::new(format!("could not produce to {what}: {why}"));
        let response = JsFuture::from(self.scope.fetch_with_str_and_init(&url, &init))
            .await
            .map_err(|e| failed(format!("the gateway did not answer ({})", js_error(&e))))?;
        let response: Response = response.unchecked_into();
        let text = match response.text() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if !response.ok() {
            let detail = body["error"].as_str().map(str::to_string).unwrap_or(text);
            return Err(failed(format!("{} {detail}", response.status())));
        }
        let produced = body["produced"].as_u64().unwrap_or_default();
        Ok(format!("produced {produced} record(s) to '{}', each acknowledged by the broker (acks=all)", plan.topic))
    }

    /// Carries out `COPY ... TO`: opens a write, stages each part file, and
    /// commits (parts into place, then `_SUCCESS`). On any failure or a
    /// cancel, the write is aborted and the old output stays as it was.
    async fn write(&self, plan: &WritePlan) -> Result<String, CellError> {
        let failed = |why: String| CellError::new(format!("could not write '{}': {why}", plan.path));
        let mode = serde_json::to_value(plan.mode).unwrap_or_default();
        let open = serde_json::json!({ "path": plan.path, "mode": mode }).to_string();
        let opened =
            self.call("POST", "/api/fs/writes", Some(open.as_bytes()), "application/json").await.map_err(failed)?;
        let id = opened["id"].as_str().unwrap_or_default().to_string();
        let mut bytes = 0;
        for (i, part) in plan.parts.iter().enumerate() {
            let name = plan.part_name(i, &id);
            let url = format!("/api/fs/writes/{id}/parts/{}", encode(&name));
            if let Err(why) = self.call("PUT", &url, Some(part), "application/octet-stream").await {
                let _ = self.call("DELETE", &format!("/api/fs/writes/{id}"), None, "").await;
                return Err(failed(why));
            }
            bytes += part.len();
        }
        let committed = match self.call("POST", &format!("/api/fs/writes/{id}/commit"), None, "").await {
            Ok(c) => c,
            Err(why) => {
                let _ = self.call("DELETE", &format!("/api/fs/writes/{id}"), None, "").await;
                return Err(failed(why));
            }
        };
        let replaced = committed["replaced"].as_u64().unwrap_or_default();
        Ok(format!(
            "wrote {} part file(s), {}, and _SUCCESS to '{}' ({} mode{})",
            plan.parts.len(),
            riffle::protocol::human_bytes(bytes as u64),
            plan.path,
            mode.as_str().unwrap_or_default(),
            if replaced > 0 { format!(", replacing {replaced} old file(s)") } else { String::new() }
        ))
    }

    /// One JSON call to the gateway: the body of a 2xx answer, or its error
    /// message. Aborted with the run (except the cleanup DELETE).
    async fn call(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
        content_type: &str,
    ) -> Result<serde_json::Value, String> {
        let init = RequestInit::new();
        init.set_method(method);
        if let Some(body) = body {
            init.set_body(&js_sys::Uint8Array::from(body));
            if let Ok(headers) = web_sys::Headers::new() {
                let _ = headers.set("content-type", content_type);
                init.set_headers(&headers);
            }
        }
        if method != "DELETE" {
            if let Some(signal) = self.signal() {
                init.set_signal(Some(&signal));
            }
        }
        let response = JsFuture::from(self.scope.fetch_with_str_and_init(url, &init))
            .await
            .map_err(|e| format!("the gateway did not answer ({})", js_error(&e)))?;
        let response: Response = response.unchecked_into();
        let text = match response.text() {
            Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
            Err(_) => String::new(),
        };
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if response.ok() {
            Ok(value)
        } else {
            Err(format!("{} {}", response.status(), value["error"].as_str().map(str::to_string).unwrap_or(text)))
        }
    }

    /// Fetches what a source reads: each part file of a path, or a Kafka range.
    async fn fetch_source(
        &self,
        source: &SourceRequest,
        run: &RunRequest,
        started: f64,
    ) -> Result<(SourceData, Vec<String>), CellError> {
        let what = source.describe();
        let progress = |counts_rows| Progress { run, what: &what, started, counts_rows };
        match &source.kind {
            SourceKind::File { path, format, .. } => {
                let url = format!("/api/fs/parts?path={}", encode(path));
                let listing = self.fetch(&url, &what, None).await?;
                let listing: serde_json::Value = serde_json::from_slice(&listing)
                    .map_err(|e| CellError::new(format!("{what}: the gateway's file list is not JSON: {e}")))?;
                let files: Vec<(String, u64)> = listing["files"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| Some((f["path"].as_str()?.to_string(), f["size"].as_u64().unwrap_or(0))))
                            .collect()
                    })
                    .unwrap_or_default();
                let total_bytes: u64 = files.iter().map(|(_, size)| size).sum();
                if total_bytes > MAX_SOURCE_BYTES {
                    return Err(CellError::new(format!(
                        "{what} is {}; the browser engine holds at most {} of input",
                        riffle::protocol::human_bytes(total_bytes),
                        riffle::protocol::human_bytes(MAX_SOURCE_BYTES)
                    ))
                    .hint("read fewer part files (a subdirectory or one part), or run this cell on Spark"));
                }
                self.hint_if_big(&what, Some(total_bytes), None).await;
                // Parquet: the footers first (two small range reads each), so
                // a file that is not Parquet fails before its data is fetched,
                // and progress can say how many rows are coming.
                let mut total_rows = None;
                if *format == FileFormat::Parquet {
                    let footers =
                        futures::future::try_join_all(files.iter().map(|(p, size)| self.footer(p, *size, &what)))
                            .await?;
                    total_rows = Some(footers.iter().map(|f| f.rows).sum());
                }
                let transfer = Transfer {
                    progress: progress(false),
                    bytes: Cell::new(0),
                    total_bytes,
                    total_rows,
                    last_report: Cell::new(self.now()),
                };
                // Every file in ranges of at most RANGE_BYTES, fetched
                // PARALLEL_FETCHES at a time, in order.
                let ranges: Vec<(usize, u64, u64)> = files
                    .iter()
                    .enumerate()
                    .flat_map(|(i, (_, size))| {
                        (0..size.div_ceil(RANGE_BYTES)).map(move |k| {
                            let offset = k * RANGE_BYTES;
                            (i, offset, RANGE_BYTES.min(size - offset))
                        })
                    })
                    .collect();
                let mut parts: Vec<Vec<u8>> =
                    files.iter().map(|(_, size)| Vec::with_capacity(*size as usize)).collect();
                let mut fetches = futures::stream::iter(ranges.iter().map(|&(i, offset, length)| {
                    let file = &files[i].0;
                    let url = format!("/api/fs/read?path={}&offset={offset}&length={length}", encode(file));
                    let (transfer, what) = (&transfer, what.as_str());
                    async move { (i, self.fetch_range(&url, what, length, transfer).await) }
                }))
                .buffered(PARALLEL_FETCHES);
                while let Some((i, bytes)) = fetches.next().await {
                    parts[i].extend_from_slice(&bytes?);
                }
                drop(fetches);
                self.post_transfer(&transfer, self.now());
                Ok((SourceData { parts }, files.into_iter().map(|(path, _)| path).collect()))
            }
            SourceKind::Kafka(range) => {
                let url = format!("/api/kafka/topics/{}/read?{}", encode(&range.topic), range.to_query());
                let bytes = self.fetch(&url, &what, Some(progress(true))).await?;
                let mut counter = IpcProgress::new();
                counter.feed(&bytes);
                self.hint_if_big(&what, None, Some(counter.rows)).await;
                Ok((SourceData::single(bytes), Vec::new()))
            }
        }
    }

    /// A Parquet file's footer, read by range from the end of the file.
    async fn footer(&self, path: &str, size: u64, what: &str) -> Result<ParquetFooter, CellError> {
        let mut tail_len = FOOTER_GUESS.min(size);
        loop {
            let offset = size - tail_len;
            let url = format!("/api/fs/read?path={}&offset={offset}&length={tail_len}", encode(path));
            let tail = if tail_len == 0 { Vec::new() } else { self.fetch(&url, what, None).await? };
            match parquet_footer(&tail, size, path)? {
                Footer::Read(footer) => return Ok(footer),
                Footer::NeedTail(n) if n > tail_len && n <= size => tail_len = n,
                Footer::NeedTail(_) => {
                    return Err(CellError::new(format!("could not read {what}: the footer of '{path}' is cut short")));
                }
            }
        }
    }

    /// GETs one byte range of a file, adding what arrives to the transfer's
    /// progress.
    async fn fetch_range(
        &self,
        url: &str,
        what: &str,
        length: u64,
        transfer: &Transfer<'_>,
    ) -> Result<Vec<u8>, CellError> {
        let failed = |why: String| CellError::new(format!("could not read {what}: {why}"));
        let response = self.get(url, what).await?;
        let Some(stream) = response.body() else { return Ok(Vec::new()) };
        let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut bytes = Vec::with_capacity(length as usize);
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(|e| {
                failed(format!("the download broke off after {} bytes ({})", bytes.len(), js_error(&e)))
            })?;
            if js_sys::Reflect::get(&chunk, &"done".into()).ok().is_some_and(|d| d.is_truthy()) {
                break;
            }
            let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) else { continue };
            let array: js_sys::Uint8Array = value.unchecked_into();
            let start = bytes.len();
            bytes.resize(start + array.length() as usize, 0);
            array.copy_to(&mut bytes[start..]);
            transfer.bytes.set(transfer.bytes.get() + array.length() as u64);
            let now = self.now();
            if now - transfer.last_report.get() >= PROGRESS_EVERY_MS {
                transfer.last_report.set(now);
                self.post_transfer(transfer, now);
            }
        }
        if bytes.len() as u64 != length {
            return Err(failed(format!("the download broke off after {} of {length} bytes", bytes.len())));
        }
        Ok(bytes)
    }

    fn post_transfer(&self, t: &Transfer<'_>, now: f64) {
        let p = &t.progress;
        self.post(
            &FromEngine::Progress(RunProgress {
                run_id: p.run.run_id,
                cell_id: p.run.cell_id.clone(),
                what: p.what.to_string(),
                rows: None,
                total_rows: t.total_rows,
                bytes: t.bytes.get(),
                total_bytes: Some(t.total_bytes),
                elapsed_ms: now - p.started,
                spark: None,
            }),
            None,
        );
    }

    /// A GET whose answer is 2xx, or the gateway's error message.
    async fn get(&self, url: &str, what: &str) -> Result<Response, CellError> {
        let failed = |why: String| CellError::new(format!("could not read {what}: {why}"));
        let init = RequestInit::new();
        if let Some(signal) = self.signal() {
            init.set_signal(Some(&signal));
        }
        let response = JsFuture::from(self.scope.fetch_with_str_and_init(url, &init))
            .await
            .map_err(|e| failed(format!("the gateway did not answer ({})", js_error(&e))))?;
        let response: Response = response.unchecked_into();
        if !response.ok() {
            let text = match response.text() {
                Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
                Err(_) => String::new(),
            };
            let detail = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or(text);
            return Err(failed(format!("{} {}", response.status(), detail)));
        }
        Ok(response)
    }

    /// GETs a gateway URL, streaming the body and reporting progress;
    /// errors name `what` and carry the gateway's message.
    async fn fetch(&self, url: &str, what: &str, progress: Option<Progress<'_>>) -> Result<Vec<u8>, CellError> {
        let failed = |why: String| CellError::new(format!("could not read {what}: {why}"));
        let response = self.get(url, what).await?;
        let Some(progress) = progress else {
            let buffer = response
                .array_buffer()
                .map(JsFuture::from)
                .map_err(|e| failed(js_error(&e)))?
                .await
                .map_err(|e| failed(format!("the download broke off ({})", js_error(&e))))?;
            return Ok(js_sys::Uint8Array::new(&buffer).to_vec());
        };
        let total_rows: Option<u64> =
            response.headers().get("x-riffle-messages").ok().flatten().and_then(|v| v.parse().ok());
        let Some(stream) = response.body() else { return Ok(Vec::new()) };
        let reader: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        let mut bytes = Vec::new();
        let mut counter = IpcProgress::new();
        let mut last_report = self.now();
        loop {
            let chunk = JsFuture::from(reader.read()).await.map_err(|e| {
                failed(format!("the download broke off after {} bytes ({})", bytes.len(), js_error(&e)))
            })?;
            let done = js_sys::Reflect::get(&chunk, &"done".into()).ok().is_some_and(|d| d.is_truthy());
            if done {
                break;
            }
            let Ok(value) = js_sys::Reflect::get(&chunk, &"value".into()) else { continue };
            let array: js_sys::Uint8Array = value.unchecked_into();
            let start = bytes.len();
            bytes.resize(start + array.length() as usize, 0);
            array.copy_to(&mut bytes[start..]);
            if progress.counts_rows {
                counter.feed(&bytes[start..]);
            } else {
                counter.bytes = bytes.len() as u64;
            }
            let now = self.now();
            if now - last_report >= PROGRESS_EVERY_MS {
                last_report = now;
                self.post_progress(&progress, &counter, total_rows, now);
            }
        }
        if progress.counts_rows && !counter.finished() {
            // A good stream ends with Arrow's end marker; without it the read
            // stopped half way (the broker went away, or it stalled).
            let total = total_rows.map_or("?".to_string(), |t| t.to_string());
            return Err(failed(format!(
                "the stream ended early, after {} of {total} rows; the gateway's log says why",
                counter.rows
            ))
            .hint("run the cell again; if it keeps failing, check that Kafka is up"));
        }
        self.post_progress(&progress, &counter, total_rows, self.now());
        Ok(bytes)
    }

    fn post_progress(&self, p: &Progress<'_>, counter: &IpcProgress, total_rows: Option<u64>, now: f64) {
        let message = FromEngine::Progress(RunProgress {
            run_id: p.run.run_id,
            cell_id: p.run.cell_id.clone(),
            what: p.what.to_string(),
            rows: p.counts_rows.then_some(counter.rows),
            total_rows: if p.counts_rows { total_rows } else { None },
            bytes: counter.bytes,
            total_bytes: None,
            elapsed_ms: now - p.started,
            spark: None,
        });
        self.post(&message, None);
    }

    /// W2: a whole topic through the gateway into a DataFrame, the way a
    /// `kafka('topic')` cell reads it (fetch, Arrow IPC decode, Kafka's
    /// columns, then a query over them). W3: a Parquet file the way a
    /// `read_parquet('hdfs:///...')` cell reads it (footer, ranges, decode).
    async fn bench_source(&self, request: &BenchRequest) -> BenchReport {
        let source = if request.workload.eq_ignore_ascii_case("w3") {
            let path = request.path.clone().unwrap_or_default();
            format!(
                "SELECT COUNT(*) AS n, SUM(amount) AS amount, SUM(LENGTH(player)) AS chars FROM read_parquet('{path}')"
            )
        } else {
            let topic = request.topic.clone().unwrap_or_default();
            format!(
                "SELECT COUNT(*) AS n, SUM(`offset`) AS offsets, SUM(LENGTH(CAST(value AS STRING))) AS chars FROM kafka('{topic}')"
            )
        };
        let mut times_ms = Vec::with_capacity(request.iterations);
        let mut checksum = String::new();
        for i in 0..request.iterations {
            let run = RunRequest {
                run_id: 0,
                cell_id: "bench".into(),
                default_name: format!("bench_{}_{i}", request.workload.to_lowercase()),
                source: source.clone(),
                preview_rows: 1,
                kind: CellKind::Sql,
            };
            let t0 = self.now();
            let result = self.execute(&run, &self.session, true).await;
            times_ms.push(self.now() - t0);
            checksum = match result {
                Ok((done, _)) => {
                    // The one result row, as text: n, offsets, chars.
                    let session = self.session.borrow();
                    match session.table(&done.table) {
                        Some(df) => riffle::bench::first_row_text(df),
                        None => "error: no result".into(),
                    }
                }
                Err(e) => format!("error: {}", e.message),
            };
        }
        BenchReport { workload: request.workload.clone(), rows: request.rows, times_ms, checksum }
    }

    async fn bench(&self, request: BenchRequest) {
        if ["w2", "w3"].iter().any(|w| request.workload.eq_ignore_ascii_case(w)) {
            let report = self.bench_source(&request).await;
            self.post(&FromEngine::BenchDone(report), None);
            return;
        }
        let report = match bench::Workload::parse(&request.workload) {
            Some(workload) => {
                let mut session = workload.session(request.rows);
                let mut times_ms = Vec::with_capacity(request.iterations);
                let mut checksum = String::new();
                for _ in 0..request.iterations {
                    let t0 = self.now();
                    checksum = workload.run(&mut session).unwrap_or_else(|e| format!("error: {e}"));
                    times_ms.push(self.now() - t0);
                }
                BenchReport { workload: request.workload, rows: request.rows, times_ms, checksum }
            }
            None => BenchReport {
                workload: request.workload.clone(),
                rows: 0,
                times_ms: Vec::new(),
                checksum: format!("error: unknown workload {}", request.workload),
            },
        };
        self.post(&FromEngine::BenchDone(report), None);
    }
}

fn cancelled() -> CellError {
    CellError::new("cancelled: the run was stopped before it finished")
        .hint("nothing was written; run the cell again when you want it")
}

fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

fn js_error(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
