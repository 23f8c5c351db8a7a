//! `-- engine: spark` cells: run by the gateway on Spark Connect, streamed
//! back as progress, Arrow IPC rows and a summary.

use std::cell::RefCell;

use riffle::CellError;
use riffle::engine::Session;
use riffle::ipc_progress::IpcProgress;
use riffle::protocol::{FromEngine, RunDone, RunProgress, RunRequest};
use riffle::spark::{Frame, FrameDecoder, SparkProgress, SparkSummary};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, RequestInit, Response};

use super::fetch::PROGRESS_EVERY_MS;
use super::{Worker, cancelled, js_error};

impl Worker {
    /// A `-- engine: spark` cell: the gateway runs it on Spark Connect and
    /// streams back progress, the rows (Arrow IPC, up to the row cap) and a
    /// summary. The rows join the catalog like any result.
    pub(crate) async fn execute_on_spark(
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
            let total = summary.total_rows.map(riffle::text::thousands).unwrap_or_else(|| "more".into());
            notes.push(format!(
                "showing first {} of {total} rows: Spark's result is capped at {} rows (-- max_rows: N changes the cap)",
                riffle::text::thousands(summary.rows),
                riffle::text::thousands(cell.request.max_rows)
            ));
        }
        notes.push(format!(
            "ran on Spark in {seconds:.1} s ({} statement{}); {} rows came back",
            cell.request.statements.len(),
            if cell.request.statements.len() == 1 { "" } else { "s" },
            riffle::text::thousands(summary.rows)
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
}
