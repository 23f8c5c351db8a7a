//! Running a cell in the browser: in the notebook's session or, for a
//! preview, a throwaway one; chart cells; the effects a cell asks for.

use std::cell::RefCell;

use riffle::CellError;
use riffle::engine::{Effect, Session};
use riffle::lang::{Directives, Engine};
use riffle::notebook::CellKind;
use riffle::protocol::{FromEngine, RunDone, RunRequest};
use web_sys::AbortController;

use super::{TEST_PANIC_CELL, Worker, cancelled};

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

impl Worker {
    /// Runs a cell in the notebook's session, or a preview in a throwaway
    /// one (so that its table never joins the catalog, and is freed at once).
    pub(crate) async fn run(&self, run: RunRequest, preview: bool) {
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
    pub(crate) async fn execute(
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
}
