//! The notebook's model: a [`Workspace`] of [`Tab`]s, each a [`Notebook`] of
//! [`CellModel`]s (every field a signal) with its own engine worker, and
//! running cells, marking the ones whose tables changed as stale, and moving
//! the focus to a cell.

use leptos::prelude::*;
use riffle::CellError;
use riffle::notebook::{Cell, CellId, CellKind, Notebook as Document};
use riffle::protocol::{RunProgress, RunRequest};

use crate::client::{self, EngineClient};
use crate::table::Preview;
use crate::{autosave, editor, notebook_files};

/// How many result rows the UI asks the engine to send back.
const PREVIEW_ROWS: usize = 1_000;

const EXAMPLE_GROUP_BY: &str = "-- name: revenue_by_zone
SELECT zone, COUNT(*) AS trips, ROUND(SUM(fare), 2) AS revenue
FROM read_csv('samples/trips.csv')
GROUP BY zone
ORDER BY zone";

/// What a cell shows below its input.
#[derive(Clone, Debug)]
pub enum CellState {
    Idle,
    /// Sent to the engine, waiting for the cells before it.
    Queued,
    Running {
        /// `Date.now()` when the engine began it, for the elapsed timer.
        started_ms: f64,
    },
    Done(Preview),
    Failed(CellError),
}

/// One cell of the notebook. Copy: every field is a reactive handle.
#[derive(Clone, Copy)]
pub struct CellModel {
    pub id: u64,
    pub kind: RwSignal<CellKind>,
    /// The table name the file gave the cell (`name=` on its fence); a
    /// `-- name:` line in the source wins over it, `cell_<id>` is the default.
    pub name: RwSignal<Option<String>>,
    pub source: RwSignal<String>,
    pub state: RwSignal<CellState>,
    /// The newest run's id; results of older runs are dropped.
    pub run_id: RwSignal<u64>,
    /// What the running cell has downloaded so far.
    pub progress: RwSignal<Option<RunProgress>>,
    /// A table this cell read has changed since it ran.
    pub stale: RwSignal<bool>,
    /// A Markdown cell shows its source (not its rendering) while edited.
    pub editing: RwSignal<bool>,
}

impl CellModel {
    fn new(id: u64, kind: CellKind, source: &str) -> Self {
        CellModel::named(id, kind, None, source)
    }

    fn named(id: u64, kind: CellKind, name: Option<String>, source: &str) -> Self {
        CellModel {
            id,
            kind: RwSignal::new(kind),
            name: RwSignal::new(name),
            source: RwSignal::new(source.to_string()),
            state: RwSignal::new(CellState::Idle),
            run_id: RwSignal::new(0),
            progress: RwSignal::new(None),
            stale: RwSignal::new(false),
            editing: RwSignal::new(source.trim().is_empty()),
        }
    }
}

/// A notebook: its cells, in order.
#[derive(Clone, Copy)]
pub struct Notebook {
    pub cells: RwSignal<Vec<CellModel>>,
    next_id: StoredValue<u64>,
    /// The cell that last had the caret: panels add their cells below it.
    pub(crate) current: StoredValue<Option<u64>>,
    /// The notebook's reactive owner. Cells are made under it, not under
    /// whatever view adds them: a panel's row or a form is disposed when it
    /// re-renders, and would take the signals of the cells it added with it.
    owner: StoredValue<Option<Owner>>,
    /// The file's front matter lines besides its title, saved back as read.
    front_matter: StoredValue<Vec<String>>,
}

impl Notebook {
    fn from_document(doc: &Document) -> Self {
        let next_id = doc.cells.iter().map(|c| c.id.0).max().unwrap_or(0) + 1;
        let cells: Vec<CellModel> =
            doc.cells.iter().map(|c| CellModel::named(c.id.0, c.kind, c.name.clone(), &c.source)).collect();
        let notebook = Notebook {
            next_id: StoredValue::new(next_id),
            cells: RwSignal::new(cells),
            current: StoredValue::new(None),
            owner: StoredValue::new(Owner::current()),
            front_matter: StoredValue::new(doc.front_matter.clone()),
        };
        if notebook.cells.with_untracked(Vec::is_empty) {
            notebook.insert(0);
        }
        notebook
    }

    /// The document as saved: cell ids, kinds, names and text, in order.
    pub fn document(&self, title: Option<String>) -> Document {
        let cells = self.cells.with(|cells| {
            cells
                .iter()
                .map(|c| Cell { id: CellId(c.id), kind: c.kind.get(), name: c.name.get(), source: c.source.get() })
                .collect()
        });
        Document { title, cells, front_matter: self.front_matter.get_value() }
    }

    pub(crate) fn position(&self, id: u64) -> Option<usize> {
        self.cells.with_untracked(|cells| cells.iter().position(|c| c.id == id))
    }

    /// Inserts an empty cell at `index` and returns its position.
    pub(crate) fn insert(&self, index: usize) -> usize {
        self.insert_with(index, "")
    }

    /// Inserts a SQL cell holding `source` at `index` and returns its position.
    pub fn insert_with(&self, index: usize, source: &str) -> usize {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        let cell = match self.owner.get_value() {
            Some(owner) => owner.with(|| CellModel::new(id, CellKind::Sql, source)),
            None => CellModel::new(id, CellKind::Sql, source),
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
    pub(crate) fn remove(&self, id: u64) {
        self.cells.update(|cells| cells.retain(|c| c.id != id));
        if self.cells.with_untracked(Vec::is_empty) {
            self.insert(0);
        }
    }

    /// Moves a cell to position `to` (clamped); returns where it landed.
    pub(crate) fn move_to(&self, id: u64, to: usize) -> Option<usize> {
        let from = self.position(id)?;
        let mut at = to;
        self.cells.update(|cells| {
            let cell = cells.remove(from);
            at = to.min(cells.len());
            cells.insert(at, cell);
        });
        Some(at)
    }

    pub(crate) fn find(&self, id: u64) -> Option<CellModel> {
        self.cells.with_untracked(|cells| cells.iter().find(|c| c.id == id).copied())
    }
}

/// An open notebook: its cells, its engine worker, and the file it was
/// opened from or saved to.
#[derive(Clone, Copy)]
pub struct Tab {
    pub id: u64,
    pub notebook: Notebook,
    pub client: EngineClient,
    /// The notebook file in the data directory (`notebooks/x.riffle.md`).
    pub path: RwSignal<Option<String>>,
    /// The file's text when it was last opened or saved.
    pub saved: RwSignal<Option<String>>,
    /// The `?open=` target this tab was opened from, if any.
    pub source: RwSignal<Option<String>>,
    /// The document's own title (a file's front matter), kept through saves.
    pub doc_title: RwSignal<Option<String>>,
}

impl Tab {
    /// The tab's label: the file's name, else the document's title.
    pub fn label(&self) -> String {
        match (self.path.get(), self.doc_title.get()) {
            (Some(path), _) => notebook_files::title_of(&path),
            (None, Some(title)) => title,
            (None, None) => format!("Untitled {}", self.id),
        }
    }

    /// The document's title (its front matter), else the tab's label.
    pub fn title(&self) -> String {
        self.doc_title.get().unwrap_or_else(|| self.label())
    }

    /// The notebook now, as its file would hold it.
    pub fn file_text(&self) -> String {
        notebook_files::file_text(&self.notebook.document(self.doc_title.get()))
    }

    /// Whether the notebook differs from its file (or was never saved).
    pub fn unsaved(&self) -> bool {
        let text = self.file_text();
        match self.saved.get() {
            Some(saved) => saved != text,
            None => self.notebook.cells.with(|cells| cells.iter().any(|c| c.source.with(|s| !s.trim().is_empty()))),
        }
    }
}

/// The open notebooks and which one is shown.
#[derive(Clone, Copy)]
pub struct Workspace {
    pub tabs: RwSignal<Vec<Tab>>,
    pub active: RwSignal<u64>,
    next_tab: StoredValue<u64>,
    owner: StoredValue<Option<Owner>>,
    /// Whether the last autosave reached the browser's storage.
    pub autosaved: RwSignal<autosave::Saved>,
    /// A problem opening a notebook (`?open=`), shown above the tabs.
    pub notice: RwSignal<Option<String>>,
}

impl Workspace {
    pub(crate) fn new(saved: Option<autosave::SavedWorkspace>) -> Workspace {
        let workspace = Workspace {
            tabs: RwSignal::new(Vec::new()),
            active: RwSignal::new(0),
            next_tab: StoredValue::new(1),
            owner: StoredValue::new(Owner::current()),
            autosaved: RwSignal::new(autosave::Saved::Yes),
            notice: RwSignal::new(None),
        };
        match saved {
            Some(saved) if !saved.notebooks.is_empty() => {
                let active = saved.active;
                for nb in saved.notebooks {
                    let id = workspace.open(&nb.doc, nb.path, nb.saved);
                    if let Some(source) = nb.source {
                        workspace.tabs.with_untracked(|tabs| {
                            if let Some(tab) = tabs.iter().find(|t| t.id == id) {
                                tab.source.set(Some(source));
                            }
                        });
                    }
                    if nb.id == active {
                        workspace.active.set(id);
                    }
                }
            }
            _ => {
                let doc = Document {
                    title: None,
                    cells: ["SELECT 1 + 1 AS two", EXAMPLE_GROUP_BY, ""]
                        .iter()
                        .enumerate()
                        .map(|(i, s)| Cell {
                            id: CellId(i as u64 + 1),
                            kind: CellKind::Sql,
                            name: None,
                            source: s.to_string(),
                        })
                        .collect(),
                    front_matter: Vec::new(),
                };
                workspace.open(&doc, None, None);
            }
        }
        workspace
    }

    /// Opens a notebook in a new tab, with a worker of its own, and shows it.
    pub fn open(&self, doc: &Document, path: Option<String>, saved: Option<String>) -> u64 {
        let id = self.next_tab.get_value();
        self.next_tab.set_value(id + 1);
        let make = move || {
            let notebook = Notebook::from_document(doc);
            let client = EngineClient::start(notebook);
            Tab {
                id,
                notebook,
                client,
                path: RwSignal::new(path),
                saved: RwSignal::new(saved),
                source: RwSignal::new(None),
                doc_title: RwSignal::new(doc.title.clone()),
            }
        };
        let tab = match self.owner.get_value() {
            Some(owner) => owner.with(make),
            None => make(),
        };
        self.tabs.update(|tabs| tabs.push(tab));
        self.active.set(id);
        id
    }

    pub fn close(&self, id: u64) {
        if let Some(tab) = self.tabs.with_untracked(|tabs| tabs.iter().find(|t| t.id == id).copied()) {
            tab.client.shutdown();
        }
        self.tabs.update(|tabs| tabs.retain(|t| t.id != id));
        if self.tabs.with_untracked(Vec::is_empty) {
            self.open(&Document::default(), None, None);
        } else if self.active.get_untracked() == id
            && let Some(last) = self.tabs.with_untracked(|tabs| tabs.last().map(|t| t.id))
        {
            self.active.set(last);
        }
    }

    /// The tab shown now.
    pub fn current(&self) -> Tab {
        let active = self.active.get();
        self.tabs.with(|tabs| tabs.iter().find(|t| t.id == active).or(tabs.first()).copied()).expect("a tab is open")
    }
}

/// The notebook and engine of the tab shown now (for the sidebar's panels).
pub fn active() -> (Notebook, EngineClient) {
    let tab = expect_context::<Workspace>().current();
    (tab.notebook, tab.client)
}

/// The time, ticking while anything runs, for the cells' elapsed timers.
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<f64>);

/// Where Spark cells go: the gateway's `GET /api/spark/status`, asked once.
/// `None` until it answers; then the URL, or `None` inside when not configured.
#[derive(Clone, Copy)]
pub struct SparkStatus(pub RwSignal<Option<Option<String>>>);

/// Sends a cell to the engine (a Markdown cell just shows its rendering).
pub(crate) fn run_cell(cell: CellModel, client: EngineClient) {
    let kind = cell.kind.get_untracked();
    if kind == CellKind::Markdown {
        cell.editing.set(false);
        return;
    }
    client::mark("riffle-run");
    let run_id = client.next_run_id();
    cell.run_id.set(run_id);
    cell.progress.set(None);
    cell.state.set(CellState::Queued);
    client.run(RunRequest {
        run_id,
        cell_id: cell.id.to_string(),
        // The file's `name=`, else `cell_<id>`; the engine lets a `-- name:` line win.
        default_name: cell
            .name
            .get_untracked()
            .unwrap_or_else(|| riffle::notebook::default_table_name(riffle::notebook::CellId(cell.id))),
        source: cell.source.get_untracked(),
        preview_rows: PREVIEW_ROWS,
        kind,
    });
}

/// Runs every cell, top to bottom; the engine takes them in order.
pub(crate) fn run_all(notebook: Notebook, client: EngineClient) {
    for cell in notebook.cells.get_untracked() {
        if cell.source.with_untracked(|s| !s.trim().is_empty()) {
            run_cell(cell, client);
        }
    }
}

pub(crate) fn rerun_stale(notebook: Notebook, client: EngineClient) {
    for cell in notebook.cells.get_untracked() {
        if cell.stale.get_untracked() {
            run_cell(cell, client);
        }
    }
}

/// `origin` just ran and (re)made `table`: the cells that read it, directly
/// or through tables made from it, are now stale. With auto-run on, the ones
/// that read it directly run again (and theirs follow when they finish).
pub(crate) fn mark_stale(notebook: Notebook, origin: CellModel, table: &str, client: EngineClient) {
    let cells = notebook.cells.get_untracked();
    let mut changed = vec![table.to_string()];
    let mut stale: Vec<(CellModel, bool)> = Vec::new();
    let mut i = 0;
    while i < changed.len() {
        let t = changed[i].clone();
        for cell in &cells {
            if cell.id == origin.id || stale.iter().any(|(s, _)| s.id == cell.id) {
                continue;
            }
            if let CellState::Done(p) = cell.state.get_untracked()
                && p.done.reads.contains(&t)
            {
                stale.push((*cell, i == 0));
                if p.done.registered {
                    changed.push(p.done.table.clone());
                }
            }
        }
        i += 1;
    }
    for (cell, _) in &stale {
        cell.stale.set(true);
    }
    // A chart follows its table at once; other cells when auto-run is on.
    let auto = client.auto_run.get_untracked();
    for cell in &cells {
        let direct = stale.iter().any(|(s, direct)| *direct && s.id == cell.id);
        if direct && (auto || cell.kind.get_untracked() == CellKind::Chart) {
            run_cell(*cell, client);
        }
    }
}

/// Puts the caret in the cell at `index`, once it is on the page. A rendered
/// Markdown cell is switched to its source first.
pub(crate) fn focus_cell(index: usize) {
    request_animation_frame(move || {
        let Some(section) = visible_cell(index) else { return };
        if let Ok(Some(rendered)) = section.query_selector(".markdown-body") {
            // Its double-click handler switches it to editing and calls back here.
            if let Ok(event) = web_sys::Event::new("dblclick") {
                let _ = rendered.dispatch_event(&event);
            }
            return;
        }
        if !editor::focus_editor_in(&section) {
            // The editor is not on the page yet (a cell just added): next frame.
            request_animation_frame(move || {
                editor::focus_editor_in(&section);
            });
        }
    });
}

/// The section of the cell at `index` in the notebook shown now.
fn visible_cell(index: usize) -> Option<web_sys::Element> {
    let cells = document().query_selector_all(".notebook:not([hidden]) section.cell").ok()?;
    use wasm_bindgen::JsCast;
    cells.item(index as u32)?.dyn_into::<web_sys::Element>().ok()
}

/// Gives the cell at `index` the focus itself (command mode), once it is on the page.
pub(crate) fn focus_section(index: usize) {
    request_animation_frame(move || {
        if let Some(section) = visible_cell(index) {
            use wasm_bindgen::JsCast;
            if let Ok(el) = section.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    });
}
