//! The notebook UI (Leptos, client-side rendered). It never runs Polars:
//! cells go to the engine worker, and results come back as Arrow IPC.

mod client;
mod files;
mod table;
mod topics;

use leptos::prelude::*;
use riffle::CellError;
use riffle::protocol::{RunProgress, RunRequest};

use client::{EngineClient, FilePreview};
use table::Preview;

/// How many result rows the UI asks the engine to send back.
const PREVIEW_ROWS: usize = 1_000;

const EXAMPLE_GROUP_BY: &str = "-- name: revenue_by_zone
SELECT zone, COUNT(*) AS trips, ROUND(SUM(fare), 2) AS revenue
FROM read_csv('samples/trips.csv')
GROUP BY zone
ORDER BY zone";

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// What a cell shows below its input.
#[derive(Clone, Debug)]
pub enum CellState {
    Idle,
    Running,
    Done(Preview),
    Failed(CellError),
}

/// One cell of the notebook. Copy: every field is a reactive handle.
#[derive(Clone, Copy)]
pub struct CellModel {
    pub id: u64,
    pub source: RwSignal<String>,
    pub state: RwSignal<CellState>,
    /// The newest run's id; results of older runs are dropped.
    pub run_id: RwSignal<u64>,
    /// What the running cell has downloaded so far.
    pub progress: RwSignal<Option<RunProgress>>,
}

impl CellModel {
    fn new(id: u64, source: &str) -> Self {
        CellModel {
            id,
            source: RwSignal::new(source.to_string()),
            state: RwSignal::new(CellState::Idle),
            run_id: RwSignal::new(0),
            progress: RwSignal::new(None),
        }
    }
}

/// The notebook: its cells, in order.
#[derive(Clone, Copy)]
pub struct Notebook {
    pub cells: RwSignal<Vec<CellModel>>,
    next_id: StoredValue<u64>,
    /// The cell that last had the caret: panels add their cells below it.
    current: StoredValue<Option<u64>>,
    /// The notebook's reactive owner. Cells are made under it, not under
    /// whatever view adds them: a panel's row or a form is disposed when it
    /// re-renders, and would take the signals of the cells it added with it.
    owner: StoredValue<Option<Owner>>,
}

impl Notebook {
    fn new(sources: &[&str]) -> Self {
        Notebook::with_cells(sources.iter().enumerate().map(|(i, s)| (i as u64 + 1, s.to_string())).collect())
    }

    /// The notebook the last visit left in this browser, or a fresh one.
    fn restore_or(sources: &[&str]) -> Self {
        match autosave::load() {
            Some(doc) => Notebook::with_cells(doc.cells.into_iter().map(|c| (c.id.0, c.source)).collect()),
            None => Notebook::new(sources),
        }
    }

    fn with_cells(cells: Vec<(u64, String)>) -> Self {
        let next_id = cells.iter().map(|(id, _)| *id).max().unwrap_or(0) + 1;
        let cells: Vec<CellModel> = cells.iter().map(|(id, source)| CellModel::new(*id, source)).collect();
        Notebook {
            next_id: StoredValue::new(next_id),
            cells: RwSignal::new(cells),
            current: StoredValue::new(None),
            owner: StoredValue::new(Owner::current()),
        }
    }

    fn position(&self, id: u64) -> Option<usize> {
        self.cells.with_untracked(|cells| cells.iter().position(|c| c.id == id))
    }

    /// Inserts an empty cell at `index` and returns its position.
    fn insert(&self, index: usize) -> usize {
        self.insert_with(index, "")
    }

    /// Inserts a cell holding `source` at `index` and returns its position.
    pub fn insert_with(&self, index: usize, source: &str) -> usize {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let cell = match self.owner.get_value() {
            Some(owner) => owner.with(|| CellModel::new(id, source)),
            None => CellModel::new(id, source),
        };
        let mut at = index;
        self.cells.update(|cells| {
            at = index.min(cells.len());
            cells.insert(at, cell);
        });
        at
    }

    /// Inserts a cell holding `source` below the cell that last had the caret
    /// (at the end if none did) and returns its position.
    pub fn insert_below_current(&self, source: &str) -> usize {
        let at = match self.current.get_value().and_then(|id| self.position(id)) {
            Some(position) => position + 1,
            None => self.cells.with_untracked(Vec::len),
        };
        self.insert_with(at, source)
    }

    /// Deletes a cell; the notebook always keeps one (an empty one if need be).
    fn remove(&self, id: u64) {
        self.cells.update(|cells| cells.retain(|c| c.id != id));
        if self.cells.with_untracked(Vec::is_empty) {
            self.insert(0);
        }
    }

    fn find(&self, id: u64) -> Option<CellModel> {
        self.cells.with_untracked(|cells| cells.iter().find(|c| c.id == id).copied())
    }
}

#[component]
fn App() -> impl IntoView {
    let notebook = Notebook::restore_or(&["SELECT 1 + 1 AS two", EXAMPLE_GROUP_BY, ""]);
    autosave::keep(notebook);
    let client = EngineClient::start(notebook);
    let files = files::Files::new();
    provide_context(notebook);
    provide_context(client);
    provide_context(files);

    if let Some(request) = client::bench_request_from_url() {
        client.bench(request);
    }

    let status = client.status;
    view! {
        <header class="bar">
            <h1>"Riffle"</h1>
            <span
                id="engine-status"
                data-state=move || status.get().as_str()
            >
                {move || status.get().label()}
            </span>
            <span class="hint-keys">"Shift+Enter runs a cell and moves on · Ctrl+Enter runs it in place · Esc, then A/B add, D D deletes, Enter edits"</span>
        </header>
        // Files dropped anywhere on the page are uploaded into the directory
        // the file panel shows (and never open in the tab instead).
        <div
            class="layout"
            on:dragover=move |ev: web_sys::DragEvent| {
                if files::carries_files(&ev) {
                    ev.prevent_default();
                }
            }
            on:drop=move |ev: web_sys::DragEvent| {
                if files::carries_files(&ev) {
                    ev.prevent_default();
                    files.upload_dropped(&ev);
                }
            }
        >
        <aside class="sidebar">
            <files::FileBrowser />
            <topics::TopicList />
        </aside>
        <main>
            <FilePreviewView />
            <For
                each=move || notebook.cells.get()
                key=|cell| cell.id
                children=move |cell| view! { <CellView cell=cell /> }
            />
            <pre id="bench-result" hidden=move || client.bench_result.with(Option::is_none)>
                {move || client.bench_result.get().unwrap_or_default()}
            </pre>
        </main>
        </div>
    }
}

/// Sends a cell to the engine.
fn run_cell(cell: CellModel, client: EngineClient) {
    let run_id = client.next_run_id();
    cell.run_id.set(run_id);
    cell.progress.set(None);
    cell.state.set(CellState::Running);
    client.run(RunRequest {
        run_id,
        cell_id: cell.id.to_string(),
        default_name: riffle::notebook::default_table_name(riffle::notebook::CellId(cell.id)),
        source: cell.source.get_untracked(),
        preview_rows: PREVIEW_ROWS,
    });
}

/// Puts the caret in the cell at `index`, once it is on the page.
pub(crate) fn focus_cell(index: usize) {
    request_animation_frame(move || {
        let inputs = document().query_selector_all("textarea.cell-input");
        if let Ok(inputs) = inputs {
            if let Some(node) = inputs.item(index as u32) {
                use wasm_bindgen::JsCast;
                if let Ok(el) = node.dyn_into::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
    });
}

/// Gives the cell at `index` the focus itself (command mode), once it is on the page.
pub(crate) fn focus_section(index: usize) {
    request_animation_frame(move || {
        let cells = document().query_selector_all("section.cell");
        if let Ok(cells) = cells {
            if let Some(node) = cells.item(index as u32) {
                use wasm_bindgen::JsCast;
                if let Ok(el) = node.dyn_into::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
    });
}

#[component]
fn CellView(cell: CellModel) -> impl IntoView {
    let client = expect_context::<EngineClient>();
    let notebook = expect_context::<Notebook>();

    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        if ev.key() == "Escape" {
            // Jupyter's command mode: the cell, not its text, has the focus.
            ev.prevent_default();
            focus_section(notebook.position(cell.id).unwrap_or_default());
            return;
        }
        if ev.key() != "Enter" {
            return;
        }
        if ev.shift_key() {
            ev.prevent_default();
            run_cell(cell, client);
            // Jupyter's habit: move to the next cell, making one at the end.
            let position = notebook.position(cell.id).unwrap_or_default();
            let len = notebook.cells.with_untracked(Vec::len);
            let next = if position + 1 < len { position + 1 } else { notebook.insert(len) };
            focus_cell(next);
        } else if ev.ctrl_key() || ev.meta_key() {
            ev.prevent_default();
            run_cell(cell, client);
        }
    };

    // Command mode (the cell itself has the focus), as in Jupyter: Enter
    // edits, A/B insert above/below, D D deletes, Up/Down (K/J) move, and
    // Shift+Enter runs and moves on.
    let last_d = StoredValue::new(-1e9_f64);
    let on_command = move |ev: web_sys::KeyboardEvent| {
        let typing = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .is_some_and(|el| matches!(el.tag_name().as_str(), "TEXTAREA" | "INPUT" | "SELECT" | "BUTTON"));
        if typing || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        let Some(position) = notebook.position(cell.id) else { return };
        let len = notebook.cells.with_untracked(Vec::len);
        match ev.key().as_str() {
            "Enter" if ev.shift_key() => {
                run_cell(cell, client);
                let next = if position + 1 < len { position + 1 } else { notebook.insert(len) };
                focus_section(next);
            }
            "Enter" => focus_cell(position),
            "a" | "A" => focus_section(notebook.insert(position)),
            "b" | "B" => focus_section(notebook.insert(position + 1)),
            "ArrowUp" | "k" | "K" => focus_section(position.saturating_sub(1)),
            "ArrowDown" | "j" | "J" => focus_section((position + 1).min(len.saturating_sub(1))),
            "d" | "D" => {
                let now = js_sys::Date::now();
                if now - last_d.get_value() > 1000.0 {
                    last_d.set_value(now);
                } else {
                    last_d.set_value(-1e9);
                    notebook.remove(cell.id);
                    focus_section(position.min(notebook.cells.with_untracked(Vec::len).saturating_sub(1)));
                }
            }
            _ => return,
        }
        ev.prevent_default();
    };

    let rows = move || (cell.source.with(|s| s.lines().count()).max(1) + 1).min(30);
    let saving = RwSignal::new(false);

    view! {
        <section class="cell" data-cell-id=cell.id.to_string() tabindex="-1" on:keydown=on_command>
            <div class="cell-head">
                <span>"SQL"</span>
                <span class="cell-state">{move || state_label(&cell.state.get())}</span>
            </div>
            <textarea
                class="cell-input"
                spellcheck="false"
                rows=move || rows().to_string()
                prop:value=move || cell.source.get()
                on:input=move |ev| cell.source.set(event_target_value(&ev))
                on:focus=move |_| notebook.current.set_value(Some(cell.id))
                on:keydown=on_keydown
            ></textarea>
            {move || matches!(cell.state.get(), CellState::Running).then(|| view! {
                <div class="cell-progress">
                    <span class="progress-label">
                        {move || cell.progress.get().map(|p| p.label()).unwrap_or_else(|| "running…".into())}
                    </span>
                    <button class="cell-cancel" title="Stop this run"
                        on:click=move |_| client.cancel(cell.run_id.get_untracked())>"Stop"</button>
                </div>
            })}
            <div class="cell-output">{move || output_view(cell.state.get())}</div>
            {move || saveable_table(&cell.state.get()).map(|table| view! {
                <div class="cell-actions">
                    <button class="save-as" title="Write this result to a file or directory"
                        on:click=move |_| saving.update(|s| *s = !*s)>"Save as…"</button>
                </div>
                {move || saving.get().then(|| view! { <SaveAsForm cell=cell table=table.clone() open=saving /> })}
            })}
        </section>
    }
}

fn state_label(state: &CellState) -> String {
    match state {
        CellState::Idle => String::new(),
        CellState::Running => "running…".into(),
        CellState::Done(p) => format!("done in {:.0} ms", p.done.elapsed_ms),
        CellState::Failed(_) => "error".into(),
    }
}

fn output_view(state: CellState) -> AnyView {
    match state {
        CellState::Idle | CellState::Running => ().into_any(),
        CellState::Failed(error) => {
            let location = error.location.map(|l| format!("line {}, column {}: ", l.line, l.column));
            view! {
                <div class="cell-error" role="alert">
                    {location}{error.message}
                    {error.hint.map(|h| view! { <div class="hint">{h}</div> })}
                </div>
            }
            .into_any()
        }
        CellState::Done(preview) => table::render(preview).into_any(),
    }
}

/// The table a cell's result is registered under, when later cells can read it.
fn saveable_table(state: &CellState) -> Option<String> {
    match state {
        CellState::Done(p) if p.done.registered => Some(p.done.table.clone()),
        _ => None,
    }
}

/// Asks where and how to write a result, then adds a `COPY` cell below the
/// result's cell and runs it.
#[component]
fn SaveAsForm(cell: CellModel, table: String, open: RwSignal<bool>) -> impl IntoView {
    let client = expect_context::<EngineClient>();
    let notebook = expect_context::<Notebook>();
    let files = expect_context::<files::Files>();
    let dir = files.dir.get_untracked();
    let default_path = if dir.is_empty() { format!("out/{table}") } else { riffle_www::paths::join(&dir, &table) };
    let path = RwSignal::new(default_path);
    let format = RwSignal::new("parquet".to_string());
    let mode = RwSignal::new("error".to_string());
    let on_submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let target = path.get_untracked().trim().to_string();
        if target.is_empty() {
            return;
        }
        let source = riffle_www::paths::copy_query(&table, &target, &format.get_untracked(), &mode.get_untracked());
        let at = notebook.position(cell.id).map_or_else(|| notebook.cells.with_untracked(Vec::len), |p| p + 1);
        let index = notebook.insert_with(at, &source);
        if let Some(added) = notebook.cells.with_untracked(|cells| cells.get(index).copied()) {
            run_cell(added, client);
        }
        open.set(false);
    };
    let choice = |signal: RwSignal<String>, options: &'static [&'static str]| {
        options
            .iter()
            .map(move |o| view! { <option value=*o selected=signal.get_untracked() == *o>{*o}</option> })
            .collect_view()
    };
    view! {
        <form class="save-as" on:submit=on_submit>
            <label>"path "<input name="path" type="text" spellcheck="false"
                prop:value=move || path.get()
                on:input=move |ev| path.set(event_target_value(&ev)) /></label>
            <label>"format "<select name="format" on:change=move |ev| format.set(event_target_value(&ev))>
                {choice(format, &["parquet", "csv", "json"])}
            </select></label>
            <label>"mode "<select name="mode" title="error: refuse if the path holds data"
                on:change=move |ev| mode.set(event_target_value(&ev))>
                {choice(mode, &["error", "overwrite", "append"])}
            </select></label>
            <button type="submit" class="save">"Save"</button>
            <button type="button" class="cancel" on:click=move |_| open.set(false)>"Cancel"</button>
        </form>
    }
}

/// The file preview: a file's schema and first rows, read by the engine.
#[component]
fn FilePreviewView() -> impl IntoView {
    let client = expect_context::<EngineClient>();
    move || {
        let preview = client.preview.get();
        let path = preview.path()?.to_string();
        let (state, body) = match preview {
            FilePreview::Closed => return None,
            FilePreview::Loading { progress, .. } => {
                ("loading", view! { <p class="muted">{progress.unwrap_or_else(|| "reading…".into())}</p> }.into_any())
            }
            FilePreview::Ready { mut preview, .. } => {
                // The schema tree first, then the rows.
                let tree = preview.done.text.take();
                let body = view! {
                    {tree.map(|t| view! { <pre class="schema-text preview-schema">{t}</pre> })}
                    {table::render(preview)}
                };
                ("ready", body.into_any())
            }
            FilePreview::Failed { error, .. } => (
                "failed",
                view! {
                    <div class="cell-error" role="alert">
                        {error.message}
                        {error.hint.map(|h| view! { <div class="hint">{h}</div> })}
                    </div>
                }
                .into_any(),
            ),
        };
        Some(view! {
            <section id="file-preview" data-path=path.clone() data-state=state>
                <div class="cell-head">
                    <span>"Preview · "<code>{path.clone()}</code></span>
                    <button class="close-preview" title="Close the preview" on:click=move |_| client.close_preview()>
                        "×"
                    </button>
                </div>
                <div class="preview-body">{body}</div>
            </section>
        })
    }
}

/// Autosave: every change to the cells (text, order, added, deleted) is
/// written to the browser's localStorage for this gateway's origin at once,
/// so a reload or a crashed tab brings the notebook back exactly.
mod autosave {
    use leptos::prelude::*;
    use riffle::notebook::{Cell, CellId, CellKind, Notebook as Document};

    const KEY: &str = "riffle.notebook";

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    pub fn load() -> Option<Document> {
        let text = storage()?.get_item(KEY).ok().flatten()?;
        match serde_json::from_str::<Document>(&text) {
            Ok(doc) if !doc.cells.is_empty() => Some(doc),
            Ok(_) => None,
            Err(e) => {
                web_sys::console::warn_1(&format!("riffle: the autosaved notebook does not parse ({e})").into());
                None
            }
        }
    }

    pub fn keep(notebook: super::Notebook) {
        Effect::new(move |_| {
            let cells = notebook.cells.with(|cells| {
                cells
                    .iter()
                    .map(|c| Cell { id: CellId(c.id), kind: CellKind::Sql, name: None, source: c.source.get() })
                    .collect()
            });
            let doc = Document { title: None, cells };
            let (Some(storage), Ok(json)) = (storage(), serde_json::to_string(&doc)) else { return };
            if let Err(e) = storage.set_item(KEY, &json) {
                web_sys::console::error_2(&"riffle: could not autosave the notebook".into(), &e);
            }
        });
    }
}
