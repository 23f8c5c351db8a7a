//! The UI's handle on its engine worker.

use leptos::prelude::*;
use riffle::protocol::{BenchRequest, FromEngine, RunRequest, ToEngine};
use riffle_www::{envelope, open};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::table::Preview;
use crate::{CellState, Notebook};

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

/// Copyable handle: the worker and the client's state live in Leptos' arena.
#[derive(Clone, Copy)]
pub struct EngineClient {
    worker: StoredValue<Option<Worker>, LocalStorage>,
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
}

impl EngineClient {
    pub fn start(notebook: Notebook) -> EngineClient {
        let client = EngineClient {
            worker: StoredValue::new_local(None),
            pending: StoredValue::new(Vec::new()),
            last_run_id: StoredValue::new(0),
            status: RwSignal::new(EngineStatus::Starting),
            bench_result: RwSignal::new(None),
            preview: RwSignal::new(FilePreview::Closed),
            preview_run: StoredValue::new(0),
            writes: RwSignal::new(0),
        };
        let worker = match Worker::new(ENGINE_LOADER) {
            Ok(worker) => worker,
            Err(e) => {
                client.status.set(EngineStatus::Failed(format!("{e:?}")));
                return client;
            }
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            client.receive(notebook, &event.data());
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            // A crash report, if one came first, says more than the trap does.
            if !matches!(client.status.get_untracked(), EngineStatus::Failed(_)) {
                client.status.set(EngineStatus::Failed(event.message()));
            }
        });
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        client.worker.set_value(Some(worker));
        client
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
            if let Some(worker) = w {
                if let Err(e) = worker.post_message_with_transfer(&message, &transfer) {
                    web_sys::console::error_2(&"could not post to the engine".into(), &e);
                }
            }
        });
    }

    fn receive(&self, notebook: Notebook, data: &JsValue) {
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
                if done.wrote.is_some() {
                    self.writes.update(|n| *n += 1);
                }
                let Some(cell) = current_cell(notebook, &done.cell_id, done.run_id) else {
                    return;
                };
                let state = match Preview::decode(done, bytes.as_deref().unwrap_or_default()) {
                    Ok(preview) => CellState::Done(preview),
                    Err(e) => CellState::Failed(riffle::CellError::new(format!("could not read the result: {e}"))),
                };
                cell.state.set(state);
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
            FromEngine::Crashed { message } => {
                self.status.set(EngineStatus::Failed(format!("the engine crashed: {message}")));
                let error = riffle::CellError::new(format!("the engine crashed while running this cell: {message}"))
                    .hint("reload the page to restart the engine; please report this as a bug");
                for cell in notebook.cells.get_untracked() {
                    if matches!(cell.state.get_untracked(), CellState::Running) {
                        cell.state.set(CellState::Failed(error.clone()));
                    }
                }
                if let FilePreview::Loading { path, .. } = self.preview.get_untracked() {
                    self.preview.set(FilePreview::Failed { path, error });
                }
            }
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
fn current_cell(notebook: Notebook, cell_id: &str, run_id: u64) -> Option<crate::CellModel> {
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
