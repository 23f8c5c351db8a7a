//! Sharing a notebook: downloads of its plain-text file (`.riffle.md`), a
//! Jupyter notebook with its outputs (`.ipynb`, renders on GitHub) and a
//! self-contained web page (`.html`); and opening a notebook from `?open=`.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use riffle::notebook::{CellId, CellOutput, Notebook as Document, TableOutput};

use crate::state::{CellState, Notebook, Tab, Workspace};

/// Rows of each result that exports carry (the rest is summarised as
/// "N rows × M columns").
const EXPORT_ROWS: usize = 50;

/// What each cell shows now, as the exports embed it.
pub fn outputs(notebook: Notebook) -> BTreeMap<CellId, CellOutput> {
    let mut out = BTreeMap::new();
    for cell in notebook.cells.get_untracked() {
        let output = match cell.state.get_untracked() {
            CellState::Done(p) => CellOutput {
                // A chart exports as its drawing; its data stays in the notebook.
                table: (!p.done.schema.is_empty() && p.done.svg.is_none()).then(|| TableOutput {
                    name: p.done.table.clone(),
                    columns: p.done.schema.clone(),
                    rows: p
                        .rows
                        .iter()
                        .take(EXPORT_ROWS)
                        .map(|row| {
                            row.iter()
                                .map(|v| match v {
                                    crate::table::rows::Value::Null => None,
                                    v => Some(v.copy_text()),
                                })
                                .collect()
                        })
                        .collect(),
                    total_rows: p.done.rows,
                }),
                svg: p.done.svg.clone(),
                error: None,
                notes: p.done.notes.clone(),
            },
            CellState::Failed(e) => CellOutput {
                table: None,
                svg: None,
                error: Some(match e.location {
                    Some(l) => format!("line {}, column {}: {}", l.line, l.column, e.message),
                    None => e.message.clone(),
                }),
                notes: e.hint.into_iter().collect(),
            },
            _ => continue,
        };
        out.insert(CellId(cell.id), output);
    }
    out
}

/// A file name from the notebook's title.
fn file_stem(tab: Tab) -> String {
    // The file's name when there is a file; otherwise the title.
    let title = tab.path.get_untracked().map(|p| crate::notebook_files::title_of(&p)).unwrap_or_else(|| tab.title());
    let stem: String =
        title.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    if stem.trim_matches('-').is_empty() { "notebook".into() } else { stem }
}

/// The Export menu of a notebook's toolbar.
#[component]
pub fn ExportMenu(tab: Tab) -> impl IntoView {
    let status = RwSignal::new(None::<Result<String, String>>);
    let export = move |format: &'static str| {
        let doc = tab.notebook.document(Some(tab.title()));
        let stem = file_stem(tab);
        let (name, mime, text) = match format {
            "md" => (format!("{stem}.riffle.md"), "text/markdown", riffle::notebook::to_text(&doc)),
            "ipynb" => (format!("{stem}.ipynb"), "application/x-ipynb+json", {
                riffle::notebook::to_ipynb(&doc, &outputs(tab.notebook))
            }),
            _ => (format!("{stem}.html"), "text/html", riffle::notebook::to_html(&doc, &outputs(tab.notebook))),
        };
        status.set(Some(crate::table::save_file(&name, mime, text.as_bytes()).map(|()| format!("downloaded {name}"))));
    };
    view! {
        <details class="export-menu">
            <summary title="Download this notebook to share it">"Export ▾"</summary>
            <div class="export-options">
                <button data-export="md" title="Plain text, diff-friendly; no outputs" on:click=move |_| export("md")>
                    "Notebook file (.riffle.md)"
                </button>
                <button data-export="ipynb" title="Jupyter notebook with the outputs; renders on GitHub"
                    on:click=move |_| export("ipynb")>"Jupyter (.ipynb)"</button>
                <button data-export="html" title="One self-contained page with tables and charts"
                    on:click=move |_| export("html")>"Web page (.html)"</button>
            </div>
            {move || status.get().map(|s| match s {
                Ok(m) => view! { <span class="muted export-status">{m}</span> }.into_any(),
                Err(e) => view! { <span class="error export-status" role="alert">{e}</span> }.into_any(),
            })}
        </details>
    }
}

/// A notebook from a file's text, by its name: `.ipynb` (Jupyter),
/// `.json` (Riffle's earlier files), anything else the plain-text format.
pub fn parse(name: &str, text: &str) -> Result<Document, String> {
    let lower = name.to_ascii_lowercase();
    let lower = lower.split(['?', '#']).next().unwrap_or_default();
    if lower.ends_with(".ipynb") {
        riffle::notebook::from_ipynb(text).map_err(|e| format!("'{name}': {e}"))
    } else if lower.ends_with(".json") {
        serde_json::from_str(text).map_err(|e| format!("'{name}' is not a Riffle notebook ({e})"))
    } else {
        riffle::notebook::from_text(text).map_err(|e| format!("'{name}': {e}"))
    }
}

/// `?open=<data-directory path | /path on the gateway | https://…>`: opens
/// that notebook in a tab when the page loads (or shows it, if open already).
pub fn open_from_url(workspace: Workspace) {
    let Ok(search) = window().location().search() else { return };
    let Some(target) = web_sys::UrlSearchParams::new_with_str(&search).ok().and_then(|p| p.get("open")) else {
        return;
    };
    let remote = target.starts_with('/') || target.contains("://");
    let already = workspace.tabs.with_untracked(|tabs| {
        tabs.iter().find(|t| t.source.get_untracked().as_deref() == Some(target.as_str())).map(|t| t.id)
    });
    if let Some(id) = already {
        workspace.active.set(id);
        return;
    }
    spawn_local(async move {
        let url = if remote {
            target.clone()
        } else {
            format!("/api/fs/read?path={}", String::from(js_sys::encode_uri_component(&target)))
        };
        let result = match crate::notebook_files::fetch_text(&url).await {
            Ok(text) => parse(&target, &text).map(|doc| (doc, text)),
            Err(e) => Err(format!("could not open '{target}': {e}")),
        };
        match result {
            Ok((doc, _)) => {
                // A file in the data directory saves back to itself; one from
                // elsewhere asks for a name on Save.
                let path = (!remote).then(|| target.clone());
                let saved = path.as_ref().map(|_| crate::notebook_files::file_text(&doc));
                let id = workspace.open(&doc, path, saved);
                if let Some(tab) = workspace.tabs.with_untracked(|tabs| tabs.iter().find(|t| t.id == id).copied()) {
                    tab.source.set(Some(target));
                }
            }
            Err(e) => workspace.notice.set(Some(e)),
        }
    });
}
