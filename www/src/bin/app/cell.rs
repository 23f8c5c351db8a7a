//! A cell's view: its head (kind, state, engine, run), editor or rendered
//! Markdown, progress and output, the Jupyter keys of command mode and drag
//! reordering; the chart form, the Save as form and the file preview.

use leptos::prelude::*;
use riffle::chart::{Aggregate, ChartKind, ChartSpec};
use riffle::notebook::CellKind;
use riffle::protocol::RunProgress;

use crate::client::{EngineClient, FilePreview};
use crate::state::{CellModel, CellState, Clock, Notebook, SparkStatus, focus_cell, focus_section, run_cell};
use crate::{editor, files, table};

/// The drag-and-drop type of a cell being reordered.
const CELL_DRAG: &str = "application/x-riffle-cell";

#[component]
pub(crate) fn CellView(cell: CellModel) -> impl IntoView {
    let client = expect_context::<EngineClient>();
    let notebook = expect_context::<Notebook>();
    let clock = expect_context::<Clock>();
    let spark = expect_context::<SparkStatus>();

    // Shift+Enter: run and move on (making a cell at the end), as in Jupyter.
    let run_and_advance = move |edit_next: bool| {
        run_cell(cell, client);
        let position = notebook.position(cell.id).unwrap_or_default();
        let len = notebook.cells.with_untracked(Vec::len);
        let next = if position + 1 < len { position + 1 } else { notebook.insert(len) };
        if edit_next { focus_cell(next) } else { focus_section(next) }
    };

    // Keys the editor hands over: Shift+Enter, Ctrl/Cmd+Enter, Esc, and
    // Up/Down past the first or last line (to the cell above or below).
    let on_editor_key = Callback::new(move |name: String| -> bool {
        let position = notebook.position(cell.id).unwrap_or_default();
        let len = notebook.cells.with_untracked(Vec::len);
        match name.as_str() {
            "escape" => {
                // Jupyter's command mode: the cell, not its text, has the focus.
                if cell.kind.get_untracked() == CellKind::Markdown
                    && !cell.source.with_untracked(|s| s.trim().is_empty())
                {
                    cell.editing.set(false);
                }
                focus_section(position);
                true
            }
            "run_next" => {
                run_and_advance(true);
                true
            }
            "run" => {
                run_cell(cell, client);
                true
            }
            "up_out" if position > 0 => {
                focus_cell(position - 1);
                true
            }
            "down_out" if position + 1 < len => {
                focus_cell(position + 1);
                true
            }
            _ => false,
        }
    });
    let error = Signal::derive(move || match cell.state.get() {
        CellState::Failed(e) => e.location.map(|l| (l.line, l.column, e.message.clone())),
        _ => None,
    });
    let completions = Signal::derive(move || serde_json::to_string(&client.catalog.get()).unwrap_or_default());
    let language =
        Signal::derive(move || if cell.kind.get() == CellKind::Markdown { "markdown" } else { "sql" }.to_string());
    let on_focus = Callback::new(move |()| notebook.current.set_value(Some(cell.id)));

    // Command mode (the cell itself has the focus), as in Jupyter: Enter
    // edits, A/B insert above/below, D D deletes, M/Y make it Markdown/SQL,
    // Up/Down (K/J) move between cells, Ctrl+Shift+Up/Down move the cell,
    // Shift+Enter runs and moves on, Ctrl+Enter runs in place.
    let last_d = StoredValue::new(-1e9_f64);
    let on_command = move |ev: web_sys::KeyboardEvent| {
        let typing =
            ev.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok()).is_some_and(|el| {
                matches!(el.tag_name().as_str(), "TEXTAREA" | "INPUT" | "SELECT" | "BUTTON")
                    || el.closest(".cell-editor").ok().flatten().is_some()
            });
        if typing {
            return;
        }
        let Some(position) = notebook.position(cell.id) else { return };
        let len = notebook.cells.with_untracked(Vec::len);
        let key = ev.key();
        if (ev.ctrl_key() || ev.meta_key()) && ev.shift_key() && matches!(key.as_str(), "ArrowUp" | "ArrowDown") {
            let to = if key == "ArrowUp" { position.saturating_sub(1) } else { position + 1 };
            if let Some(at) = notebook.move_to(cell.id, to) {
                focus_section(at);
            }
            ev.prevent_default();
            return;
        }
        if (ev.ctrl_key() || ev.meta_key()) && key == "Enter" {
            run_cell(cell, client);
            ev.prevent_default();
            return;
        }
        if ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        match key.as_str() {
            "Enter" if ev.shift_key() => run_and_advance(false),
            "Enter" => focus_cell(position),
            "a" | "A" => focus_section(notebook.insert(position)),
            "b" | "B" => focus_section(notebook.insert(position + 1)),
            "m" | "M" => {
                cell.kind.set(CellKind::Markdown);
                cell.state.set(CellState::Idle);
                cell.stale.set(false);
                cell.editing.set(cell.source.with_untracked(|s| s.trim().is_empty()));
            }
            "y" | "Y" => {
                cell.kind.set(CellKind::Sql);
                cell.editing.set(true);
            }
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

    let saving = RwSignal::new(false);
    let drop_target = RwSignal::new(false);
    let is_markdown = move || cell.kind.get() == CellKind::Markdown;
    let rendered = move || is_markdown() && !cell.editing.get();
    let on_spark = move || {
        cell.kind.get() == CellKind::Sql
            && cell.source.with(|s| riffle::lang::Directives::parse(s).engine == riffle::lang::Engine::Spark)
    };

    view! {
        <section
            class="cell"
            class:markdown=is_markdown
            class:stale=move || cell.stale.get()
            class:drop-target=move || drop_target.get()
            data-cell-id=cell.id.to_string()
            data-kind=move || match cell.kind.get() {
                CellKind::Markdown => "markdown",
                CellKind::Chart => "chart",
                CellKind::Sql => "sql",
            }
            data-state=move || state_name(&cell.state.get(), cell.stale.get())
            data-engine=move || if on_spark() { "spark" } else { "browser" }
            tabindex="-1"
            on:keydown=on_command
            on:dragover=move |ev: web_sys::DragEvent| {
                if carries_cell(&ev) {
                    ev.prevent_default();
                    drop_target.set(true);
                }
            }
            on:dragleave=move |_| drop_target.set(false)
            on:drop=move |ev: web_sys::DragEvent| {
                drop_target.set(false);
                let Some(dragged) = ev.data_transfer().and_then(|t| t.get_data(CELL_DRAG).ok()) else { return };
                let Ok(dragged) = dragged.parse::<u64>() else { return };
                ev.prevent_default();
                if let Some(to) = notebook.position(cell.id) {
                    notebook.move_to(dragged, to);
                }
            }
        >
            <div class="cell-head">
                <span
                    class="drag-handle"
                    draggable="true"
                    title="Drag to move this cell (or Esc, then Ctrl+Shift+Up/Down)"
                    aria-label="move cell"
                    on:dragstart=move |ev: web_sys::DragEvent| {
                        if let Some(t) = ev.data_transfer() {
                            let _ = t.set_data(CELL_DRAG, &cell.id.to_string());
                            t.set_effect_allowed("move");
                        }
                    }
                >"⠿"</span>
                <span class="cell-kind">{move || match cell.kind.get() {
                    CellKind::Markdown => "Markdown",
                    CellKind::Chart => "Chart",
                    CellKind::Sql => "SQL",
                }}</span>
                <span class="spacer"></span>
                {move || cell.stale.get().then(|| view! {
                    <button class="rerun" title="A table this cell reads has changed: run it again"
                        on:click=move |_| run_cell(cell, client)>"stale · re-run"</button>
                })}
                <span class="cell-state" data-memory-bytes=move || memory_of(&cell.state.get()).map(|b| b.to_string())
                    title=move || memory_of(&cell.state.get()).map(|b| format!("engine memory after this run: {}", megabytes(b)))>
                    {move || state_label(&cell.state.get(), clock.0.get())}
                </span>
                {move || (cell.kind.get() == CellKind::Sql).then(|| view! {
                    <button class="engine-toggle"
                        class:on=on_spark
                        aria-pressed=move || on_spark().to_string()
                        class:unavailable=move || matches!(spark.0.get(), Some(None))
                        title=move || match (on_spark(), spark.0.get()) {
                            (_, Some(None)) => "Spark is not configured: start the gateway with --spark sc://host:15002 \
                                (cargo xtask spark runs a local one)".to_string(),
                            (true, url) => format!(
                                "Runs on Spark at {} (-- engine: spark); click to run it in the browser",
                                url.flatten().unwrap_or_else(|| "the gateway's Spark".into())
                            ),
                            (false, url) => format!(
                                "Runs in this browser tab; click to run it on Spark at {} instead (adds -- engine: spark)",
                                url.flatten().unwrap_or_else(|| "the gateway's Spark".into())
                            ),
                        }
                        on:click=move |_| {
                            let engine = if on_spark() { riffle::lang::Engine::Browser } else { riffle::lang::Engine::Spark };
                            cell.source.update(|s| *s = riffle::lang::Directives::with_engine(s, engine));
                        }
                    >{move || if on_spark() { "⚡ Spark" } else { "Browser" }}</button>
                })}
                {move || (!is_markdown()).then(|| view! {
                    <button class="run-cell" title="Run this cell (Ctrl+Enter)" aria-label="run cell"
                        on:click=move |_| run_cell(cell, client)>"▶"</button>
                })}
            </div>
            {move || (cell.kind.get() == CellKind::Chart).then(|| view! { <ChartForm cell=cell /> })}
            {move || if rendered() {
                view! {
                    <div class="markdown-body" title="Double-click (or Enter) to edit"
                        on:dblclick=move |_| {
                            cell.editing.set(true);
                            focus_cell(notebook.position(cell.id).unwrap_or_default());
                        }
                        inner_html=move || riffle_www::markdown::to_html(&cell.source.get())
                    ></div>
                }.into_any()
            } else {
                view! {
                    <editor::CodeEditor
                        source=cell.source
                        language=language
                        on_key=on_editor_key
                        error=error
                        completions=completions
                        on_focus=on_focus
                    />
                }.into_any()
            }}
            {move || matches!(cell.state.get(), CellState::Running { .. } | CellState::Queued).then(|| view! {
                <div class="cell-progress">
                    {move || cell.progress.get().and_then(|p| progress_fraction(&p)).map(|f| view! {
                        <progress max="1" value=f.to_string()></progress>
                    })}
                    <span class="progress-label">
                        {move || match (cell.progress.get(), cell.state.get()) {
                            (Some(p), _) => p.label(),
                            (None, CellState::Queued) => "waiting for the cells before it…".into(),
                            _ => "running…".into(),
                        }}
                    </span>
                    <button class="cell-cancel" title="Stop this run"
                        on:click=move |_| client.stop(cell)>"Stop"</button>
                </div>
            })}
            <div class="cell-output">{move || output_view(cell.state.get())}</div>
            {move || saveable_table(&cell.state.get()).map(|table| view! {
                <div class="cell-actions">
                    <button class="add-chart" title="Add a chart of this table below"
                        on:click={
                            let table = table.clone();
                            move |_| add_chart(notebook, client, cell, &table)
                        }>"Chart…"</button>
                    <button class="save-as" title="Write this result to a file or directory"
                        on:click=move |_| saving.update(|s| *s = !*s)>"Save as…"</button>
                </div>
                {move || saving.get().then(|| view! { <SaveAsForm cell=cell table=table.clone() open=saving /> })}
            })}
        </section>
    }
}

/// Adds a chart cell of `table` below `cell`: a bar chart of its first
/// column against its first numeric one, ready to be changed in the form.
fn add_chart(notebook: Notebook, client: EngineClient, cell: CellModel, table: &str) {
    let columns = match cell.state.get_untracked() {
        CellState::Done(p) => p.done.schema.clone(),
        _ => Vec::new(),
    };
    let mut spec = ChartSpec::new(table, ChartKind::Bar);
    spec.x = columns.first().map(|c| c.name.clone());
    spec.y = columns.iter().skip(1).find(|c| numeric(&c.dtype)).map(|c| c.name.clone());
    spec.aggregate = if spec.y.is_some() { Aggregate::Sum } else { Aggregate::Count };
    let at = notebook.position(cell.id).map_or_else(|| notebook.cells.with_untracked(Vec::len), |p| p + 1);
    let index = notebook.insert_with(at, &spec.to_text());
    if let Some(added) = notebook.cells.with_untracked(|cells| cells.get(index).copied()) {
        added.kind.set(CellKind::Chart);
        run_cell(added, client);
    }
}

fn numeric(dtype: &str) -> bool {
    ["tinyint", "smallint", "int", "bigint", "float", "double", "decimal"].iter().any(|t| dtype.starts_with(t))
}

/// A chart cell's form: table, kind and encodings as menus. Each change
/// rewrites the cell's spec text (which stays editable below) and redraws.
#[component]
fn ChartForm(cell: CellModel) -> impl IntoView {
    let client = expect_context::<EngineClient>();
    let spec = Memo::new(move |_| ChartSpec::parse(&cell.source.get()).ok());
    let columns = move || {
        let table = spec.get().map(|s| s.table);
        client.catalog.with(|tables| {
            tables.iter().find(|t| Some(&t.name) == table.as_ref()).map(|t| t.columns.clone()).unwrap_or_default()
        })
    };
    let change = move |edit: &dyn Fn(&mut ChartSpec, String), value: String| {
        if let Some(mut s) = spec.get_untracked() {
            edit(&mut s, value);
            cell.source.set(s.to_text());
            run_cell(cell, client);
        }
    };
    let options = move |current: Option<String>, names: Vec<String>, none: Option<&'static str>| {
        let mut all: Vec<(String, String)> = none.map(|n| (String::new(), n.to_string())).into_iter().collect();
        all.extend(names.into_iter().map(|n| (n.clone(), n)));
        if let Some(c) = &current
            && !all.iter().any(|(v, _)| v == c)
        {
            all.push((c.clone(), c.clone()));
        }
        all.into_iter()
            .map(|(value, label)| {
                let selected = current.as_deref().unwrap_or_default() == value;
                view! { <option value=value selected=selected>{label}</option> }
            })
            .collect_view()
    };
    let column_names = move || columns().into_iter().map(|c| c.name).collect::<Vec<_>>();
    let opt = |v: String| (!v.is_empty()).then_some(v);
    view! {
        <div class="chart-form" hidden=move || spec.with(Option::is_none)>
            <label>"table "
                <select name="table" on:change=move |ev| change(&|s, v| s.table = v, event_target_value(&ev))>
                    {move || options(
                        spec.get().map(|s| s.table),
                        client.catalog.with(|t| t.iter().map(|t| t.name.clone()).collect()),
                        None,
                    )}
                </select>
            </label>
            <label>"kind "
                <select name="kind" on:change=move |ev| change(&|s, v| {
                    if let Some(k) = ChartKind::parse(&v) { s.kind = k }
                }, event_target_value(&ev))>
                    {move || options(
                        spec.get().map(|s| s.kind.as_str().to_string()),
                        ChartKind::ALL.iter().map(|k| k.as_str().to_string()).collect(),
                        None,
                    )}
                </select>
            </label>
            <label>"x "
                <select name="x" on:change=move |ev| change(&|s, v| s.x = opt(v), event_target_value(&ev))>
                    {move || options(spec.get().and_then(|s| s.x), column_names(), Some("—"))}
                </select>
            </label>
            <label>"y "
                <select name="y" on:change=move |ev| change(&|s, v| s.y = opt(v), event_target_value(&ev))>
                    {move || options(spec.get().and_then(|s| s.y), column_names(), Some("—"))}
                </select>
            </label>
            <label>"aggregate "
                <select name="aggregate" on:change=move |ev| change(&|s, v| {
                    if let Some(a) = Aggregate::parse(&v) { s.aggregate = a }
                }, event_target_value(&ev))>
                    {move || options(
                        spec.get().map(|s| s.aggregate.as_str().to_string()),
                        Aggregate::ALL.iter().map(|a| a.as_str().to_string()).collect(),
                        None,
                    )}
                </select>
            </label>
            <label>"color "
                <select name="color" on:change=move |ev| change(&|s, v| s.color = opt(v), event_target_value(&ev))>
                    {move || options(spec.get().and_then(|s| s.color), column_names(), Some("none"))}
                </select>
            </label>
        </div>
    }
}

fn carries_cell(ev: &web_sys::DragEvent) -> bool {
    ev.data_transfer().is_some_and(|t| t.types().iter().any(|t| t.as_string().as_deref() == Some(CELL_DRAG)))
}

/// Done out of the total, when the source says how much there is.
fn progress_fraction(p: &RunProgress) -> Option<f64> {
    if let Some(spark) = &p.spark {
        return (spark.tasks > 0).then(|| (spark.completed_tasks as f64 / spark.tasks as f64).clamp(0.0, 1.0));
    }
    let fraction = match (p.rows, p.total_rows, p.total_bytes) {
        (Some(r), Some(t), _) if t > 0 => r as f64 / t as f64,
        (_, _, Some(t)) if t > 0 => p.bytes as f64 / t as f64,
        _ => return None,
    };
    Some(fraction.clamp(0.0, 1.0))
}

fn state_name(state: &CellState, stale: bool) -> &'static str {
    match state {
        _ if stale => "stale",
        CellState::Idle => "idle",
        CellState::Queued => "queued",
        CellState::Running { .. } => "running",
        CellState::Done(_) => "done",
        CellState::Failed(_) => "error",
    }
}

fn state_label(state: &CellState, now_ms: f64) -> String {
    match state {
        CellState::Idle => String::new(),
        CellState::Queued => "queued".into(),
        CellState::Running { started_ms } => format!("running {}", duration((now_ms - started_ms).max(0.0))),
        CellState::Done(p) => format!("done in {}", duration(p.done.elapsed_ms)),
        CellState::Failed(_) => "error".into(),
    }
}

/// The engine's memory when a browser run finished (Spark runs say 0).
fn memory_of(state: &CellState) -> Option<u64> {
    match state {
        CellState::Done(p) if p.done.memory_bytes > 0 => Some(p.done.memory_bytes),
        _ => None,
    }
}

/// 64 MB, 1,210 MB.
fn megabytes(bytes: u64) -> String {
    let mb = bytes / 1_000_000;
    if mb >= 1000 { format!("{},{:03} MB", mb / 1000, mb % 1000) } else { format!("{mb} MB") }
}

/// 12 ms, 1.4 s, 2 min 5 s.
fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.1} s", ms / 1000.0)
    } else {
        format!("{} min {:.0} s", (ms / 60_000.0).floor(), (ms % 60_000.0) / 1000.0)
    }
}

fn output_view(state: CellState) -> AnyView {
    match state {
        CellState::Idle | CellState::Queued | CellState::Running { .. } => ().into_any(),
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
        CellState::Done(preview) => match preview.done.svg.clone() {
            // Our own renderer's SVG (labels escaped there), then its data.
            Some(svg) => view! {
                <figure class="chart" inner_html=svg></figure>
                <details class="chart-data">
                    <summary>"Data"</summary>
                    {table::render(preview)}
                </details>
            }
            .into_any(),
            None => table::render(preview).into_any(),
        },
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
pub(crate) fn FilePreviewView() -> impl IntoView {
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
