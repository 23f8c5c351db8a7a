//! The engine Web Worker: runs cells with Polars, off the UI thread.
//!
//! It posts `Ready` first, then takes requests one at a time. Sources are
//! fetched from the gateway (`/api/fs/read`), then parsed by the core.

mod bench;
mod effects;
mod fetch;
mod run;
mod spark;

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use riffle::CellError;
use riffle::engine::Session;
use riffle::protocol::{FromEngine, ToEngine};
use riffle::spark::HintLimits;
use riffle_www::{envelope, open};
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, DedicatedWorkerGlobalScope, MessageEvent};

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
        if let Some((current, controller)) = self.current.borrow().as_ref()
            && *current == run_id
        {
            controller.abort();
            return;
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
