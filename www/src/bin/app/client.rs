//! The UI's handle on its engine worker.

use leptos::prelude::*;
use riffle::protocol::{BenchRequest, FromEngine, RunRequest, TableInfo, ToEngine};
use riffle_www::{CrashRestarts, envelope, open};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::state::{CellModel, CellState, Notebook};
use crate::table::Preview;

/// Where the worker's loader is, next to the page (see www/index.html).
const ENGINE_LOADER: &str = "./engine_loader.js";

#[derive(Clone, Debug, PartialEq)]
pub enum EngineStatus {
    Starting,
    Ready(String),
    Failed(String),
}

impl EngineStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            EngineStatus::Starting => "starting",
            EngineStatus::Ready(_) => "ready",
            EngineStatus::Failed(_) => "failed",
        }
    }

    pub fn label(&self) -> String {
        match self {
            EngineStatus::Starting => "engine starting…".into(),
            EngineStatus::Ready(engine) => format!("engine ready ({engine})"),
            EngineStatus::Failed(why) => format!("engine failed: {why}"),
        }
    }
}

/// The worker's URL: the loader, with the page's `test_hooks=panic` passed
/// on (the end-to-end tests' way to make the engine panic on purpose).
fn engine_url() -> String {
    let search = window().location().search().unwrap_or_default();
    let hooked = web_sys::UrlSearchParams::new_with_str(&search)
        .ok()
        .and_then(|params| params.get("test_hooks"))
        .is_some_and(|hook| hook == "panic");
    if hooked { format!("{ENGINE_LOADER}?test_hooks=panic") } else { ENGINE_LOADER.to_string() }
}

/// The `cell_id` of preview runs; cells' ids are numbers, so it is never one.
pub const PREVIEW_CELL: &str = "file-preview";

/// The file preview: a query of the UI's own, run in a throwaway session.
#[derive(Clone, Debug)]
pub enum FilePreview {
    Closed,
    Loading { path: String, progress: Option<String> },
    Ready { path: String, preview: Preview },
    Failed { path: String, error: riffle::CellError },
}

impl FilePreview {
    pub fn path(&self) -> Option<&str> {
        match self {
            FilePreview::Closed => None,
            FilePreview::Loading { path, .. } | FilePreview::Ready { path, .. } | FilePreview::Failed { path, .. } => {
                Some(path)
            }
        }
    }
}

/// How long a stopped run may take to notice before the worker is replaced:
/// Polars cannot be interrupted mid-computation, a fetch can.
const STOP_GRACE_MS: u64 = 800;

/// Copyable handle: the worker and the client's state live in Leptos' arena.
#[derive(Clone, Copy)]
pub struct EngineClient {
    worker: StoredValue<Option<Worker>, LocalStorage>,
    /// The notebook whose cells this worker runs.
    notebook: Notebook,
    /// Requests made before the worker said it was ready.
    pending: StoredValue<Vec<String>>,
    last_run_id: StoredValue<u64>,
    pub status: RwSignal<EngineStatus>,
    pub bench_result: RwSignal<Option<String>>,
    pub preview: RwSignal<FilePreview>,
    /// The newest preview's run; older ones' answers are dropped.
    preview_run: StoredValue<u64>,
    /// Counts the writes cells made (`COPY ... TO`), so that file lists refresh.
    pub writes: RwSignal<u64>,
    /// The catalog's tables and columns, for the editor's autocomplete.
    pub catalog: RwSignal<Vec<TableInfo>>,
    /// How many times the worker was replaced (a stop it could not take, or a crash).
    pub restarts: RwSignal<u32>,
    /// Why the worker was last replaced, for the notebook's notice.
    pub restart_reason: RwSignal<String>,
    /// The recent crashes, so that a crash loop ends.
    crashes: StoredValue<CrashRestarts>,
    /// Runs the cells that read a table again as soon as it changes.
    pub auto_run: RwSignal<bool>,
}

impl EngineClient {
    pub fn start(notebook: Notebook) -> EngineClient {
        let client = EngineClient {
            worker: StoredValue::new_local(None),
            notebook,
            pending: StoredValue::new(Vec::new()),
            last_run_id: StoredValue::new(0),
            status: RwSignal::new(EngineStatus::Starting),
            bench_result: RwSignal::new(None),
            preview: RwSignal::new(FilePreview::Closed),
            preview_run: StoredValue::new(0),
            writes: RwSignal::new(0),
            catalog: RwSignal::new(Vec::new()),
            restarts: RwSignal::new(0),
            restart_reason: RwSignal::new(String::new()),
            crashes: StoredValue::new(CrashRestarts::default()),
            auto_run: RwSignal::new(false),
        };
        client.spawn();
        client
    }

    /// Starts a worker; its messages come to `receive` until it is replaced.
    fn spawn(&self) {
        let client = *self;
        self.status.set(EngineStatus::Starting);
        let worker = match Worker::new(&engine_url()) {
            Ok(worker) => worker,
            Err(e) => {
                self.status.set(EngineStatus::Failed(format!("{e:?}")));
                return;
            }
        };
        let generation = self.restarts.get_untracked();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            // A replaced worker's last words are not this notebook's news.
            if client.restarts.get_untracked() == generation {
                client.receive(&event.data());
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            // A crash report (`Crashed`), if one came first, already replaced
            // this worker; then the trap that follows it is old news.
            if client.restarts.get_untracked() != generation {
                return;
            }
            match client.status.get_untracked() {
                // It ran and died without a report: replace it all the same.
                EngineStatus::Ready(_) => client.crashed(&event.message()),
                // It never started (the wasm did not load): a new one would not either.
                EngineStatus::Starting => client.status.set(EngineStatus::Failed(event.message())),
                EngineStatus::Failed(_) => {}
            }
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        self.worker.set_value(Some(worker));
    }

    /// Stops a cell's run. The engine aborts downloads at once; a computation
    /// inside Polars cannot be interrupted, so if the run has not ended after
    /// a moment the worker is terminated and a new one rebuilds the catalog.
    pub fn stop(&self, cell: CellModel) {
        let run_id = cell.run_id.get_untracked();
        self.cancel(run_id);
        let client = *self;
        set_timeout(
            move || {
                let still_running = cell.run_id.get_untracked() == run_id
                    && matches!(cell.state.get_untracked(), CellState::Running { .. } | CellState::Queued);
                if still_running {
                    client.restart();
                }
            },
            std::time::Duration::from_millis(STOP_GRACE_MS),
        );
    }

    /// Stop's last resort: a new worker (see [`Self::replace`]); the running
    /// cell fails as cancelled.
    pub fn restart(&self) {
        let cancelled = riffle::CellError::new("cancelled: the engine was stopped in the middle of this cell").hint(
            "the engine restarted and rebuilt the tables of the cells above; run this cell again when you want it",
        );
        self.replace(cancelled, "to stop a computation".into());
    }

    /// The worker panicked (or died): a new one takes over and rebuilds the
    /// catalog, and the cell that was running says why. Only when crashes
    /// keep coming is the engine left stopped.
    fn crashed(&self, message: &str) {
        let now = js_sys::Date::now();
        let restart = self.crashes.try_update_value(|c| c.restart_after_crash(now)).unwrap_or(false);
        if !restart {
            self.give_up(message);
            return;
        }
        web_sys::console::error_1(&format!("engine crashed, restarting it: {message}").into());
        let error = riffle::CellError::new(format!("the engine crashed while running this cell and was restarted: {message}"))
            .hint("the tables of the cells above were rebuilt, so the notebook goes on; this cell hit a bug in the engine, please report it with its query");
        self.replace(error, format!("after a crash ({message})"));
    }

    /// Crashes came too often to restart again: the engine stays stopped.
    fn give_up(&self, message: &str) {
        self.worker.update_value(|w| {
            if let Some(worker) = w.take() {
                worker.terminate();
            }
        });
        self.status.set(EngineStatus::Failed(format!("the engine crashed: {message}")));
        let error = riffle::CellError::new(format!("the engine crashed while running this cell: {message}"))
            .hint("it crashed several times in a minute, so it was not restarted again; reload the page to start it, and please report this as a bug");
        for cell in self.notebook.cells.get_untracked() {
            if matches!(cell.state.get_untracked(), CellState::Running { .. } | CellState::Queued) {
                cell.state.set(CellState::Failed(error.clone()));
            }
        }
        if let FilePreview::Loading { path, .. } = self.preview.get_untracked() {
            self.preview.set(FilePreview::Failed { path, error });
        }
    }

    /// Terminates the worker and starts a new one: the running cell fails
    /// with `running`, queued cells go back to idle, and the cells whose
    /// tables were in the catalog run again, in notebook order.
    fn replace(&self, running: riffle::CellError, why: String) {
        self.restart_reason.set(why);
        self.worker.update_value(|w| {
            if let Some(worker) = w.take() {
                worker.terminate();
            }
        });
        self.pending.set_value(Vec::new());
        self.restarts.update(|n| *n += 1);
        self.catalog.set(Vec::new());
        let cells = self.notebook.cells.get_untracked();
        let mut rebuild = Vec::new();
        for cell in &cells {
            match cell.state.get_untracked() {
                CellState::Running { .. } => cell.state.set(CellState::Failed(running.clone())),
                CellState::Queued => cell.state.set(CellState::Idle),
                CellState::Done(p) if p.done.registered => rebuild.push(*cell),
                _ => {}
            }
        }
        if let FilePreview::Loading { path, .. } = self.preview.get_untracked() {
            self.preview
                .set(FilePreview::Failed { path, error: riffle::CellError::new("cancelled: the engine restarted") });
        }
        self.spawn();
        for cell in rebuild {
            crate::state::run_cell(cell, *self);
        }
    }

    /// Stops the worker for good (its notebook was closed).
    pub fn shutdown(&self) {
        self.restarts.update(|n| *n += 1);
        self.worker.update_value(|w| {
            if let Some(worker) = w.take() {
                worker.terminate();
            }
        });
    }

    pub fn next_run_id(&self) -> u64 {
        let id = self.last_run_id.get_value() + 1;
        self.last_run_id.set_value(id);
        id
    }

    pub fn run(&self, request: RunRequest) {
        self.send(&ToEngine::Run(request));
    }

    /// Previews `path` by running `source` (a query over it) in the engine,
    /// off the notebook's catalog; the answer lands in `self.preview`.
    pub fn preview_file(&self, path: &str, source: String, rows: usize) {
        let previous = self.preview_run.get_value();
        if matches!(self.preview.get_untracked(), FilePreview::Loading { .. }) {
            self.cancel(previous);
        }
        let run_id = self.next_run_id();
        self.preview_run.set_value(run_id);
        self.preview.set(FilePreview::Loading { path: path.to_string(), progress: None });
        self.send(&ToEngine::Preview(RunRequest {
            run_id,
            cell_id: PREVIEW_CELL.into(),
            default_name: "file_preview".into(),
            source,
            preview_rows: rows,
            kind: riffle::notebook::CellKind::Sql,
        }));
    }

    pub fn close_preview(&self) {
        if matches!(self.preview.get_untracked(), FilePreview::Loading { .. }) {
            self.cancel(self.preview_run.get_value());
        }
        self.preview.set(FilePreview::Closed);
    }

    /// Stops a run: the engine aborts its downloads and reports it cancelled.
    pub fn cancel(&self, run_id: u64) {
        if let Ok(json) = serde_json::to_string(&ToEngine::Cancel { run_id }) {
            self.post(&json);
        }
    }

    /// Sends a result table's request (rows, schema, download); the answer
    /// goes to `table::rows::deliver`.
    pub fn request(&self, request: &ToEngine) {
        self.send(request);
    }

    pub fn bench(&self, request: BenchRequest) {
        self.send(&ToEngine::Bench(request));
    }

    fn send(&self, request: &ToEngine) {
        let Ok(json) = serde_json::to_string(request) else {
            return;
        };
        if matches!(self.status.get_untracked(), EngineStatus::Ready(_)) {
            self.post(&json);
        } else {
            self.pending.update_value(|p| p.push(json));
        }
    }

    fn post(&self, json: &str) {
        let (message, transfer) = envelope(json, None);
        self.worker.with_value(|w| {
            if let Some(worker) = w
                && let Err(e) = worker.post_message_with_transfer(&message, &transfer)
            {
                web_sys::console::error_2(&"could not post to the engine".into(), &e);
            }
        });
    }

    fn receive(&self, data: &JsValue) {
        let notebook = self.notebook;
        let Some((json, bytes)) = open(data) else {
            return;
        };
        let message = match serde_json::from_str::<FromEngine>(&json) {
            Ok(m) => m,
            Err(e) => {
                web_sys::console::error_1(&format!("unreadable engine message: {e}").into());
                return;
            }
        };
        match message {
            FromEngine::Ready { engine } => {
                mark("riffle-engine-ready");
                self.status.set(EngineStatus::Ready(engine));
                for json in self.pending.try_update_value(std::mem::take).unwrap_or_default() {
                    self.post(&json);
                }
            }
            FromEngine::Progress(progress) if progress.cell_id == PREVIEW_CELL => {
                if progress.run_id == self.preview_run.get_value() {
                    self.preview.update(|p| {
                        if let FilePreview::Loading { progress: label, .. } = p {
                            *label = Some(progress.label());
                        }
                    });
                }
            }
            FromEngine::Started { run_id, cell_id } => {
                if let Some(cell) = current_cell(notebook, &cell_id, run_id) {
                    cell.state.set(CellState::Running { started_ms: js_sys::Date::now() });
                }
            }
            FromEngine::Catalog { tables } => self.catalog.set(tables),
            FromEngine::Progress(progress) => {
                if let Some(cell) = current_cell(notebook, &progress.cell_id, progress.run_id) {
                    cell.progress.set(Some(progress));
                }
            }
            FromEngine::Done(done) if done.cell_id == PREVIEW_CELL => {
                if done.run_id != self.preview_run.get_value() {
                    return;
                }
                let Some(path) = self.preview.with_untracked(|p| p.path().map(str::to_string)) else { return };
                let state = match Preview::decode(done, bytes.as_deref().unwrap_or_default()) {
                    Ok(preview) => FilePreview::Ready { path, preview },
                    Err(e) => FilePreview::Failed {
                        path,
                        error: riffle::CellError::new(format!("could not read the preview: {e}")),
                    },
                };
                self.preview.set(state);
            }
            FromEngine::Done(done) => {
                mark("riffle-result");
                if done.wrote.is_some() {
                    self.writes.update(|n| *n += 1);
                }
                let Some(cell) = current_cell(notebook, &done.cell_id, done.run_id) else {
                    return;
                };
                let table = done.registered.then(|| done.table.clone());
                let state = match Preview::decode(done, bytes.as_deref().unwrap_or_default()) {
                    Ok(preview) => CellState::Done(preview),
                    Err(e) => CellState::Failed(riffle::CellError::new(format!("could not read the result: {e}"))),
                };
                cell.state.set(state);
                cell.stale.set(false);
                if let Some(table) = table {
                    crate::state::mark_stale(notebook, cell, &table, *self);
                }
            }
            FromEngine::Failed { run_id, cell_id, error } if cell_id == PREVIEW_CELL => {
                if run_id == self.preview_run.get_value()
                    && let Some(path) = self.preview.with_untracked(|p| p.path().map(str::to_string))
                {
                    self.preview.set(FilePreview::Failed { path, error });
                }
            }
            FromEngine::Failed { run_id, cell_id, error } => {
                if let Some(cell) = current_cell(notebook, &cell_id, run_id) {
                    cell.state.set(CellState::Failed(error));
                }
            }
            FromEngine::Crashed { message } => self.crashed(&message),
            message @ (FromEngine::Rows { .. }
            | FromEngine::Exported { .. }
            | FromEngine::SchemaText { .. }
            | FromEngine::RequestFailed { .. }) => crate::table::rows::deliver(message, bytes),
            FromEngine::BenchDone(report) => {
                self.bench_result.set(serde_json::to_string(&report).ok());
            }
        }
    }
}

/// The cell a result is for, if that result is from its newest run.
fn current_cell(notebook: Notebook, cell_id: &str, run_id: u64) -> Option<crate::state::CellModel> {
    let cell = notebook.find(cell_id.parse().ok()?)?;
    (cell.run_id.get_untracked() == run_id).then_some(cell)
}

/// `?bench=w0&rows=1000000&iterations=5` runs a benchmark when the engine is ready.
pub fn bench_request_from_url() -> Option<BenchRequest> {
    let search = window().location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    let workload = params.get("bench")?;
    let number = |key: &str, default: usize| params.get(key).and_then(|v| v.parse().ok()).unwrap_or(default);
    Some(BenchRequest {
        workload,
        rows: number("rows", 1_000_000),
        iterations: number("iterations", 5),
        topic: params.get("topic"),
        path: params.get("path"),
    })
}

/// A User Timing mark (`performance.mark`), for the page-load benchmark (W4):
/// engine ready, a cell sent, a cell's result received.
pub fn mark(name: &str) {
    if let Some(performance) = window().performance() {
        let _ = performance.mark(name);
    }
}
