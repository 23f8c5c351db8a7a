//! The engine Web Worker: runs cells with Polars, off the UI thread.
//!
//! It posts `Ready` first, then takes requests one at a time. Sources are
//! fetched from the gateway (`/api/fs/read`), then parsed by the core.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use riffle::engine::{Effect, Session, SourceData, SourceKind, SourceRequest};
use riffle::protocol::{BenchReport, BenchRequest, FromEngine, RunDone, RunRequest, ToEngine};
use riffle::{CellError, bench};
use riffle_www::{envelope, open};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, Response};

struct Worker {
    scope: DedicatedWorkerGlobalScope,
    session: RefCell<Session>,
    queue: RefCell<VecDeque<ToEngine>>,
    busy: RefCell<bool>,
}

fn main() {
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    // A panic leaves the wasm instance unusable: tell the UI why, then log it.
    let crash_scope = scope.clone();
    std::panic::set_hook(Box::new(move |info| {
        let json = serde_json::to_string(&FromEngine::Crashed {
            message: info.to_string(),
        })
        .unwrap_or_default();
        let (message, transfer) = envelope(&json, None);
        let _ = crash_scope.post_message_with_transfer(&message, &transfer);
        console_error_panic_hook::hook(info);
    }));
    let worker = Rc::new(Worker {
        scope: scope.clone(),
        session: RefCell::new(Session::new()),
        queue: RefCell::new(VecDeque::new()),
        busy: RefCell::new(false),
    });
    let handler = {
        let worker = worker.clone();
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let request = open(&event.data())
                .and_then(|(json, _)| serde_json::from_str::<ToEngine>(&json).ok());
            match request {
                Some(request) => {
                    worker.queue.borrow_mut().push_back(request);
                    Worker::drain(worker.clone());
                }
                None => {
                    web_sys::console::error_1(&"engine: ignored a message it could not read".into())
                }
            }
        })
    };
    scope.set_onmessage(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
    worker.post(
        &FromEngine::Ready {
            engine: format!("polars {}", polars_version()),
        },
        None,
    );
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
                    ToEngine::Run(run) => this.run(run).await,
                    ToEngine::Bench(b) => this.bench(b),
                }
            }
            this.busy.replace(false);
        });
    }

    fn now(&self) -> f64 {
        self.scope
            .performance()
            .map(|p| p.now())
            .unwrap_or_default()
    }

    fn post(&self, message: &FromEngine, bytes: Option<&[u8]>) {
        let json = serde_json::to_string(message).unwrap_or_default();
        let (message, transfer) = envelope(&json, bytes);
        if let Err(e) = self.scope.post_message_with_transfer(&message, &transfer) {
            web_sys::console::error_2(&"engine: postMessage failed".into(), &e);
        }
    }

    async fn run(&self, run: RunRequest) {
        let started = self.now();
        match self.execute(&run).await {
            Ok((done, ipc)) => {
                let done = RunDone {
                    elapsed_ms: self.now() - started,
                    ..done
                };
                self.post(&FromEngine::Done(done), Some(&ipc));
            }
            Err(error) => self.post(
                &FromEngine::Failed {
                    run_id: run.run_id,
                    cell_id: run.cell_id,
                    error,
                },
                None,
            ),
        }
    }

    async fn execute(&self, run: &RunRequest) -> Result<(RunDone, Vec<u8>), CellError> {
        let prepared = self
            .session
            .borrow()
            .prepare(&run.source, &run.default_name)?;
        let mut inputs = Vec::with_capacity(prepared.sources.len());
        for source in &prepared.sources {
            inputs.push(self.fetch_source(source).await?);
        }
        let outcome = self.session.borrow_mut().execute(prepared, inputs)?;
        if let Some(effect) = &outcome.effect {
            return Err(unavailable(effect));
        }
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
            text: table.text,
        };
        Ok((done, ipc))
    }

    /// Fetches what a source reads: each part file of a path, or a Kafka range.
    async fn fetch_source(&self, source: &SourceRequest) -> Result<SourceData, CellError> {
        let what = source.describe();
        match &source.kind {
            SourceKind::File { path, .. } => {
                let listing = self
                    .fetch(&format!("/api/fs/parts?path={}", encode(path)), &what)
                    .await?;
                let listing: serde_json::Value = serde_json::from_slice(&listing).map_err(|e| {
                    CellError::new(format!("{what}: the gateway's file list is not JSON: {e}"))
                })?;
                let files: Vec<String> = listing["files"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|f| f["path"].as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut parts = Vec::with_capacity(files.len());
                for file in files {
                    parts.push(
                        self.fetch(&format!("/api/fs/read?path={}", encode(&file)), &what)
                            .await?,
                    );
                }
                Ok(SourceData { parts })
            }
            SourceKind::Kafka(range) => {
                let url = format!(
                    "/api/kafka/topics/{}/read?{}",
                    encode(&range.topic),
                    range.to_query()
                );
                Ok(SourceData::single(self.fetch(&url, &what).await?))
            }
        }
    }

    /// GETs a gateway URL; errors name `what` and carry the gateway's message.
    async fn fetch(&self, url: &str, what: &str) -> Result<Vec<u8>, CellError> {
        let failed = |why: String| CellError::new(format!("could not read {what}: {why}"));
        let response = JsFuture::from(self.scope.fetch_with_str(url))
            .await
            .map_err(|e| failed(format!("the gateway did not answer ({})", js_error(&e))))?;
        let response: Response = response.unchecked_into();
        let body = |r: &Response| r.array_buffer().map(JsFuture::from);
        if !response.ok() {
            let text = match response.text() {
                Ok(p) => JsFuture::from(p)
                    .await
                    .ok()
                    .and_then(|t| t.as_string())
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            let detail = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or(text);
            return Err(failed(format!("{} {}", response.status(), detail)));
        }
        let buffer = body(&response)
            .map_err(|e| failed(js_error(&e)))?
            .await
            .map_err(|e| failed(format!("the download broke off ({})", js_error(&e))))?;
        Ok(js_sys::Uint8Array::new(&buffer).to_vec())
    }

    fn bench(&self, request: BenchRequest) {
        let report = match bench::Workload::parse(&request.workload) {
            Some(workload) => {
                let mut session = workload.session(request.rows);
                let mut times_ms = Vec::with_capacity(request.iterations);
                let mut checksum = String::new();
                for _ in 0..request.iterations {
                    let t0 = self.now();
                    checksum = workload
                        .run(&mut session)
                        .unwrap_or_else(|e| format!("error: {e}"));
                    times_ms.push(self.now() - t0);
                }
                BenchReport {
                    workload: request.workload,
                    rows: request.rows,
                    times_ms,
                    checksum,
                }
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

/// What a cell's write or produce needs, and this gateway does not offer yet.
fn unavailable(effect: &Effect) -> CellError {
    match effect {
        Effect::Write(plan) => CellError::new(format!(
            "COPY made {} part file(s) ({} rows) for '{}', but this gateway cannot write files yet, so nothing was written",
            plan.parts.len(),
            plan.rows,
            plan.path
        )),
        Effect::Produce(plan) => CellError::new(format!(
            "INSERT INTO kafka('{}') made {} record(s), but this gateway has no Kafka connection yet, so nothing was sent",
            plan.topic, plan.records
        )),
    }
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
