//! Result tables: the rows that came with a run, and for catalog tables any
//! of their rows, fetched from the engine as the table scrolls.
//!
//! A result that came whole (at most the first page) renders all its rows.
//! A bigger one is virtual: rows have a fixed height, the scroll viewport
//! holds spacers for the rows out of view, and only the rows in view (plus
//! a few) are in the DOM. Nested values show collapsed and expand on click;
//! a click selects a cell (Ctrl/Cmd+C copies it); the bar above copies the
//! rows in view as TSV, shows the schema tree and downloads the table.

use std::collections::HashSet;
use std::sync::Arc;

use leptos::prelude::*;
use riffle::CellError;
use riffle::protocol::{ColumnInfo, RunDone, ToEngine};
use wasm_bindgen::prelude::*;

use crate::client::EngineClient;
use rows::{Reply, Row, RowSource, Value};

/// Rows: decoding, pages and the engine's answers (`client.rs` hands them over).
pub mod rows;

/// A decoded result: the engine's summary and the rows that came with it.
#[derive(Clone, Debug)]
pub struct Preview {
    pub done: RunDone,
    pub rows: Arc<Vec<Row>>,
}

impl Preview {
    pub fn decode(done: RunDone, ipc: &[u8]) -> Result<Preview, String> {
        Ok(Preview { done, rows: Arc::new(rows::decode(ipc)?) })
    }
}

/// A virtual table's row height, in CSS pixels (style.css fixes it).
const ROW_PX: f64 = 24.0;
/// Its header's height (name and type on two lines).
const HEADER_PX: f64 = 40.0;
/// The tallest scroll content: browsers cap an element's height (Firefox
/// near 17.9M px), so longer tables scroll proportionally.
const MAX_CONTENT_PX: f64 = 15_000_000.0;
/// Rows rendered beyond each edge of the viewport.
const OVERSCAN: u64 = 8;
/// The viewport's height until it is measured (style.css: max-height).
const VIEWPORT_PX: f64 = 420.0;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = URL, js_name = createObjectURL, catch)]
    fn create_object_url(blob: &web_sys::Blob) -> Result<String, JsValue>;
    #[wasm_bindgen(js_namespace = URL, js_name = revokeObjectURL)]
    fn revoke_object_url(url: &str);
    #[wasm_bindgen(js_namespace = ["navigator", "clipboard"], js_name = writeText, catch)]
    fn clipboard_write_text(text: &str) -> Result<js_sys::Promise, JsValue>;
    #[wasm_bindgen(js_name = getSelection)]
    fn get_selection() -> JsValue;
}

/// Renders a result: its table, row count, notes, and for catalog tables
/// the bar with Copy rows, Schema and Download.
pub fn render(preview: Preview) -> impl IntoView {
    view! { <ResultView preview=preview /> }
}

/// Which rows a virtual table renders, and the spacers around them.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Window {
    start: u64,
    end: u64,
    top_px: f64,
    bottom_px: f64,
}

fn visible_window(total: u64, scroll_top: f64, view_px: f64) -> Window {
    let rows = total as f64;
    let content = (rows * ROW_PX).min(MAX_CONTENT_PX);
    let visible = ((view_px - HEADER_PX) / ROW_PX).max(1.0);
    let max_scroll = (HEADER_PX + content - view_px).max(0.0);
    let fraction = if max_scroll > 0.0 { (scroll_top / max_scroll).clamp(0.0, 1.0) } else { 0.0 };
    let first = fraction * (rows - visible).max(0.0);
    let start = (first.floor() as u64).saturating_sub(OVERSCAN);
    let end = ((first + visible).ceil() as u64 + OVERSCAN).min(total);
    let top_px = (scroll_top.clamp(0.0, max_scroll) - (first - start as f64) * ROW_PX).max(0.0);
    let bottom_px = (content - top_px - (end - start) as f64 * ROW_PX).max(0.0);
    Window { start, end, top_px, bottom_px }
}

#[derive(Clone, Debug, PartialEq)]
enum SchemaState {
    Closed,
    Loading,
    Open(String),
}

/// What one result table shares with its rows' views.
#[derive(Clone)]
struct Shared {
    columns: Arc<Vec<ColumnInfo>>,
    numeric: Arc<Vec<bool>>,
    selected: RwSignal<Option<(u64, usize)>>,
    expanded: RwSignal<HashSet<(u64, usize)>>,
}

#[component]
fn ResultView(preview: Preview) -> impl IntoView {
    let client = use_context::<EngineClient>();
    let Preview { done, rows } = preview;
    let head: Vec<Row> = Arc::unwrap_or_clone(rows);
    let widths = column_widths(&done.schema, &head);
    let source = RowSource::new(done.table.clone(), done.rows, head, done.registered && client.is_some());
    let virtual_table = source.pageable;
    let catalog = done.registered && client.is_some();

    let count = if !virtual_table && done.shown < done.rows {
        format!("showing first {} of {} rows", riffle::text::thousands(done.shown), riffle::text::thousands(done.rows))
    } else {
        format!("{} {}", riffle::text::thousands(done.rows), if done.rows == 1 { "row" } else { "rows" })
    };
    let n_columns = done.schema.len();
    let summary =
        format!("{count} × {n_columns} {} · {}", if n_columns == 1 { "column" } else { "columns" }, done.table);
    let shared = Shared {
        numeric: Arc::new(done.schema.iter().map(|c| is_numeric(&c.dtype)).collect()),
        columns: Arc::new(done.schema.clone()),
        selected: RwSignal::new(None),
        expanded: RwSignal::new(HashSet::new()),
    };
    let selected = shared.selected;

    let viewport = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0_f64);
    let view_px = RwSignal::new(VIEWPORT_PX);
    let status = RwSignal::new(None::<String>);
    let error = source.error;
    let schema = RwSignal::new(SchemaState::Closed);
    let menu = RwSignal::new(false);
    let busy = RwSignal::new(None::<&'static str>);
    let table = StoredValue::new(done.table.clone());

    let win = Memo::new(move |_| visible_window(source.total, scroll_top.get(), view_px.get()));
    let range = Memo::new(move |_| win.with(|w| (w.start, w.end)));
    if virtual_table && let Some(client) = client {
        Effect::new(move |_| {
            let (start, end) = range.get();
            source.version.track();
            if !source.failed() {
                source.ensure(client, start, end);
            }
        });
        Effect::new(move |_| {
            if let Some(el) = viewport.get() {
                view_px.set(f64::from(el.client_height()).max(ROW_PX));
            }
        });
    }

    let on_scroll = move |ev: web_sys::Event| {
        if !virtual_table {
            return;
        }
        let el = event_target::<web_sys::Element>(&ev);
        scroll_top.set(f64::from(el.scroll_top()));
        let height = f64::from(el.client_height());
        if height > 0.0 && height != view_px.get_untracked() {
            view_px.set(height);
        }
    };

    let on_keydown = move |ev: web_sys::KeyboardEvent| {
        // Keys in the table are not the notebook's command keys (A, B, D D).
        if ev.key() != "Escape" {
            ev.stop_propagation();
        }
        if !(ev.ctrl_key() || ev.meta_key()) || !ev.key().eq_ignore_ascii_case("c") || has_text_selection() {
            return;
        }
        let Some((index, column)) = selected.get_untracked() else { return };
        let Some(value) = source.row(index).and_then(|row| row.into_iter().nth(column)) else { return };
        ev.prevent_default();
        copy(value.copy_text(), "copied the cell", status);
    };

    let copy_rows = {
        let columns = shared.columns.clone();
        move |_| {
            let indices = rows_in_view(viewport);
            let mut text = columns.iter().map(|c| tsv_field(&c.name)).collect::<Vec<_>>().join("\t");
            let mut copied = 0;
            for index in indices {
                if let Some(row) = source.row(index) {
                    text.push('\n');
                    text.push_str(&row.iter().map(|v| tsv_field(&v.copy_text())).collect::<Vec<_>>().join("\t"));
                    copied += 1;
                }
            }
            copy(text, &format!("copied {copied} {} as TSV", if copied == 1 { "row" } else { "rows" }), status);
        }
    };

    let toggle_schema = move |_| match schema.get_untracked() {
        SchemaState::Closed => {
            let Some(client) = client else { return };
            error.set(None);
            schema.set(SchemaState::Loading);
            let table = table.get_value();
            rows::ask(
                client,
                |request_id| ToEngine::Schema { request_id, table },
                move |reply| match reply {
                    Reply::Schema(text) => {
                        let _ = schema.try_set(SchemaState::Open(text));
                    }
                    Reply::Failed(e) => {
                        let _ = schema.try_set(SchemaState::Closed);
                        let _ = error.try_set(Some(e));
                    }
                    _ => {}
                },
            );
        }
        _ => schema.set(SchemaState::Closed),
    };

    let download = move |format: &'static str| {
        let Some(client) = client else { return };
        menu.set(false);
        error.set(None);
        busy.set(Some(format));
        status.set(Some(format!("encoding {} as {}…", table.get_value(), format_label(format))));
        let table = table.get_value();
        rows::ask(
            client,
            |request_id| ToEngine::Export { request_id, table, format: format.to_string() },
            move |reply| {
                let _ = busy.try_set(None);
                match reply {
                    Reply::Exported { filename, mime, bytes } => match save_file(&filename, &mime, &bytes) {
                        Ok(()) => {
                            let size = riffle::text::human_bytes(bytes.len() as u64);
                            let _ = status.try_set(Some(format!("downloaded {filename} ({size})")));
                        }
                        Err(why) => {
                            let _ = status.try_set(None);
                            let _ = error.try_set(Some(
                                CellError::new(format!("could not save {filename}: {why}"))
                                    .hint("check that the browser allows downloads from this page"),
                            ));
                        }
                    },
                    Reply::Failed(e) => {
                        let _ = status.try_set(None);
                        let _ = error.try_set(Some(e));
                    }
                    _ => {}
                }
            },
        );
    };

    let body = if virtual_table {
        let shared = shared.clone();
        let n = n_columns.max(1);
        view! {
            <tr class="spacer" aria-hidden="true">
                <td colspan=n style:height=move || format!("{}px", win.with(|w| w.top_px))></td>
            </tr>
            <For
                each=move || {
                    source.version.track();
                    let (start, end) = range.get();
                    (start..end).map(|i| (i, source.row(i))).collect::<Vec<_>>()
                }
                key=|(i, row)| (*i, row.is_some())
                children=move |(i, row)| row_view(i, row, &shared)
            />
            <tr class="spacer" aria-hidden="true">
                <td colspan=n style:height=move || format!("{}px", win.with(|w| w.bottom_px))></td>
            </tr>
        }
        .into_any()
    } else {
        let total = source.head_len();
        (0..total).map(|i| row_view(i, source.row(i), &shared)).collect_view().into_any()
    };

    view! {
        <div class="result-view" data-mode=if virtual_table { "virtual" } else { "all" }>
            <div class="result-bar">
                <button class="copy-rows" title="Copy the rows in view as tab-separated text, with a header"
                    on:click=copy_rows>"Copy rows"</button>
                {catalog.then(|| view! {
                    <button class="show-schema" title="The schema as Spark's printSchema() prints it"
                        class:active=move || schema.get() != SchemaState::Closed
                        on:click=toggle_schema>"Schema"</button>
                    <span class="download">
                        <button class="download" title="Download the whole table"
                            disabled=move || busy.get().is_some()
                            on:click=move |_| menu.update(|m| *m = !*m)>"Download ▾"</button>
                        {move || menu.get().then(|| view! {
                            <span class="download-menu">
                                {["parquet", "csv", "json"].into_iter().map(|f| view! {
                                    <button data-format=f on:click=move |_| download(f)>{format_label(f)}</button>
                                }).collect_view()}
                            </span>
                        })}
                    </span>
                })}
                <span class="result-status" role="status">{move || status.get()}</span>
            </div>
            {move || error.get().map(|e| view! {
                <div class="result-error" role="alert">
                    {e.message}
                    {e.hint.map(|h| view! { <div class="hint">{h}</div> })}
                </div>
            })}
            {move || match schema.get() {
                SchemaState::Closed => None,
                SchemaState::Loading => Some(view! { <p class="muted">"reading the schema…"</p> }.into_any()),
                SchemaState::Open(text) => Some(view! { <pre class="schema-tree">{text}</pre> }.into_any()),
            }}
            <div class="result-viewport" node_ref=viewport on:scroll=on_scroll on:keydown=on_keydown>
                <table class="result" class:virtual=virtual_table data-table=done.table.clone()>
                    <thead>
                        <tr>
                            {done
                                .schema
                                .into_iter()
                                .zip(widths)
                                .map(|(c, w)| {
                                    let style = if virtual_table { format!("min-width: {w}ch") } else { String::new() };
                                    view! { <th style=style>{c.name}<span class="dtype">{c.dtype}</span></th> }
                                })
                                .collect_view()}
                        </tr>
                    </thead>
                    <tbody>{body}</tbody>
                </table>
            </div>
            <div class="row-count" data-rows=done.rows.to_string()>{summary}</div>
            {done.text.map(|text| view! { <pre class="schema-text">{text}</pre> })}
            {(!done.notes.is_empty())
                .then(|| {
                    view! {
                        <ul class="notes">
                            {done.notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}
                        </ul>
                    }
                })}
        </div>
    }
}

/// One row: its values, or placeholders while its page loads.
fn row_view(index: u64, row: Option<Row>, shared: &Shared) -> AnyView {
    let Some(row) = row else {
        let cells = shared.columns.iter().map(|_| view! { <td class="placeholder">"…"</td> }).collect_view();
        return view! { <tr class="loading" data-row=index.to_string()>{cells}</tr> }.into_any();
    };
    let cells =
        row.into_iter().enumerate().map(|(column, value)| cell_view(index, column, value, shared)).collect_view();
    view! { <tr data-row=index.to_string()>{cells}</tr> }.into_any()
}

fn cell_view(row: u64, column: usize, value: Value, shared: &Shared) -> AnyView {
    let numeric = shared.numeric.get(column).copied().unwrap_or(false);
    let (selected, expanded) = (shared.selected, shared.expanded);
    let key = (row, column);
    let mut class = String::from(if numeric { "num" } else { "text" });
    if matches!(value, Value::Null) {
        class.push_str(" null");
    }
    if value.is_nested() {
        class.push_str(" nested");
    }
    let is_open = move || expanded.with(|e| e.contains(&key));
    let content = if value.is_nested() {
        let summary = value.summary();
        let toggle = move |ev: web_sys::MouseEvent| {
            ev.stop_propagation();
            selected.set(Some(key));
            expanded.update(|e| {
                if !e.remove(&key) {
                    e.insert(key);
                }
            });
        };
        view! {
            <button class="nested-toggle" aria-expanded=move || is_open().to_string() on:click=toggle>
                {summary}
            </button>
            {move || is_open().then(|| tree_view(&value))}
        }
        .into_any()
    } else {
        value.summary().into_any()
    };
    view! {
        <td
            class=class
            tabindex="-1"
            class:selected=move || selected.get() == Some(key)
            class:expanded=is_open
            on:click=move |_| selected.set(Some(key))
        >
            {content}
        </td>
    }
    .into_any()
}

/// A nested value as an indented key/value view, JSON-ish.
fn tree_view(value: &Value) -> AnyView {
    match value {
        Value::Struct(fields) => view! {
            <div class="nested-tree">
                {fields
                    .iter()
                    .map(|(name, v)| view! {
                        <div class="kv"><span class="key">{name.clone()}</span>": "{leaf_or_tree(v)}</div>
                    })
                    .collect_view()}
            </div>
        }
        .into_any(),
        Value::List(items) => view! {
            <div class="nested-tree">
                {items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| view! {
                        <div class="kv"><span class="key index">{i.to_string()}</span>": "{leaf_or_tree(v)}</div>
                    })
                    .collect_view()}
            </div>
        }
        .into_any(),
        other => leaf_or_tree(other),
    }
}

fn leaf_or_tree(value: &Value) -> AnyView {
    match value {
        Value::Struct(f) if f.is_empty() => view! { <span class="leaf">"{}"</span> }.into_any(),
        Value::List(i) if i.is_empty() => view! { <span class="leaf">"[]"</span> }.into_any(),
        Value::Struct(_) | Value::List(_) => tree_view(value),
        Value::Null => view! { <span class="leaf null">"null"</span> }.into_any(),
        Value::Number(n) => view! { <span class="leaf num">{n.clone()}</span> }.into_any(),
        Value::Text(_) => view! { <span class="leaf text">{value.json()}</span> }.into_any(),
    }
}

/// The indices of the rows whose middle is inside the viewport, below the header.
fn rows_in_view(viewport: NodeRef<leptos::html::Div>) -> Vec<u64> {
    let Some(el) = viewport.get_untracked() else { return Vec::new() };
    let top = f64::from(el.scroll_top()) + HEADER_PX;
    let bottom = f64::from(el.scroll_top() + el.client_height());
    let Ok(nodes) = el.query_selector_all("tbody tr[data-row]") else { return Vec::new() };
    let mut out = Vec::new();
    for i in 0..nodes.length() {
        let Some(tr) = nodes.item(i).and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok()) else { continue };
        let middle = f64::from(tr.offset_top()) + f64::from(tr.offset_height()) / 2.0;
        if middle >= top
            && middle <= bottom
            && let Some(index) = tr.get_attribute("data-row").and_then(|r| r.parse().ok())
        {
            out.push(index);
        }
    }
    out
}

/// A TSV field: tabs and line breaks would break the row, so they become spaces.
fn tsv_field(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

/// Whether the user selected text on the page (then Ctrl+C copies that, as usual).
fn has_text_selection() -> bool {
    let selection = get_selection();
    !selection.is_null()
        && !selection.is_undefined()
        && !String::from(js_sys::Object::from(selection).to_string()).is_empty()
}

/// Puts `text` on the clipboard and says so in `status`.
fn copy(text: String, done: &str, status: RwSignal<Option<String>>) {
    let promise = match clipboard_write_text(&text) {
        Ok(p) => p,
        Err(_) => {
            status.set(Some("could not copy: this page has no clipboard access".into()));
            return;
        }
    };
    let done = done.to_string();
    wasm_bindgen_futures::spawn_local(async move {
        let message = match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => done,
            Err(e) => format!(
                "could not copy: {}",
                e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| "refused".into())
            ),
        };
        let _ = status.try_set(Some(message));
    });
}

/// Saves bytes as a file through a temporary `<a download>` link.
pub(crate) fn save_file(filename: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let why = |e: JsValue| format!("{e:?}");
    // `new Blob([bytes], { type: mime })`, without web-sys' BlobPropertyBag.
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"type".into(), &mime.into()).map_err(why)?;
    let constructor: js_sys::Function =
        js_sys::Reflect::get(&js_sys::global(), &"Blob".into()).map_err(why)?.dyn_into().map_err(why)?;
    let blob: web_sys::Blob = js_sys::Reflect::construct(&constructor, &js_sys::Array::of2(&parts, &options))
        .map_err(why)?
        .dyn_into()
        .map_err(why)?;
    let url = create_object_url(&blob).map_err(why)?;
    let document = document();
    let link = document.create_element("a").map_err(why)?;
    link.set_attribute("href", &url).map_err(why)?;
    link.set_attribute("download", filename).map_err(why)?;
    link.set_attribute("hidden", "").map_err(why)?;
    let body = document.body().ok_or("the page has no body")?;
    body.append_child(&link).map_err(why)?;
    link.unchecked_ref::<web_sys::HtmlElement>().click();
    link.remove();
    // Revoked later: revoking at once can cancel the download.
    set_timeout(move || revoke_object_url(&url), std::time::Duration::from_secs(60));
    Ok(())
}

fn format_label(format: &str) -> &'static str {
    match format {
        "parquet" => "Parquet",
        "csv" => "CSV",
        _ => "JSON lines",
    }
}

/// Column widths in characters, from the names, types and first rows, so
/// that a virtual table's columns do not jump as rows scroll by.
fn column_widths(schema: &[ColumnInfo], rows: &[Row]) -> Vec<usize> {
    schema
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let values = rows.iter().take(200).filter_map(|r| r.get(i)).map(|v| v.summary().chars().count());
            let widest = values.chain([c.name.chars().count(), c.dtype.chars().count()]).max().unwrap_or(0);
            (widest + 2).clamp(6, 40)
        })
        .collect()
}

/// Numbers align right, everything else left.
fn is_numeric(dtype: &str) -> bool {
    ["tinyint", "smallint", "int", "bigint", "hugeint", "float", "double", "decimal"]
        .iter()
        .any(|t| dtype == *t || dtype.starts_with(&format!("{t} ")) || dtype.starts_with(&format!("{t}(")))
}
