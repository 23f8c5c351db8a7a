//! The notebook UI (Leptos, client-side rendered). It never runs Polars:
//! cells go to the engine worker, and results come back as Arrow IPC.
//!
//! State: a [`Workspace`] holds the open notebooks (tabs); each [`Tab`] has
//! its own [`Notebook`](state::Notebook) (cells, in order) and its own engine
//! worker ([`EngineClient`](client::EngineClient)). A notebook's view
//! provides both as context to its cells; the sidebar panels act on the
//! active tab.

mod autosave;
mod cell;
mod client;
mod editor;
mod export;
mod files;
mod notebook_files;
mod state;
mod table;
mod theme;
mod topics;

use leptos::prelude::*;

use cell::{CellView, FilePreviewView};
use state::{CellState, Clock, SparkStatus, Tab, Workspace, rerun_stale, run_all};

fn main() {
    console_error_panic_hook::set_once();
    // Leptos' own task runner starts with the mount, so not yet.
    wasm_bindgen_futures::spawn_local(async {
        // The autosaved workspace first (IndexedDB answers asynchronously),
        // so that the page never shows a notebook and then swaps it.
        let saved = autosave::load().await;
        leptos::mount::mount_to_body(move || view! { <App saved=saved /> });
    });
}

#[component]
fn App(saved: Option<autosave::SavedWorkspace>) -> impl IntoView {
    let workspace = Workspace::new(saved);
    autosave::keep(workspace);
    export::open_from_url(workspace);
    let files = files::Files::new();
    let clock = Clock(RwSignal::new(js_sys::Date::now()));
    set_interval(move || clock.0.set(js_sys::Date::now()), std::time::Duration::from_millis(100));
    let theme = theme::Theme::start();
    let spark = SparkStatus(RwSignal::new(None));
    leptos::task::spawn_local(async move {
        if let Ok(status) = files::get_json("/api/spark/status").await {
            let url = status["configured"]
                .as_bool()
                .unwrap_or(false)
                .then(|| status["url"].as_str().unwrap_or("?").to_string());
            spark.0.set(Some(url));
        }
    });
    provide_context(workspace);
    provide_context(files);
    provide_context(clock);
    provide_context(spark);

    if let Some(request) = client::bench_request_from_url() {
        workspace.current().client.bench(request);
    }

    let status = move || workspace.current().client.status.get();
    view! {
        <header class="bar">
            <h1>"Riffle"</h1>
            <span id="engine-status" data-state=move || status().as_str()>{move || status().label()}</span>
            <span class="spacer"></span>
            <span class="autosaved" data-saved=move || workspace.autosaved.get().as_str()>
                {move || workspace.autosaved.get().label()}
            </span>
            <button class="theme-toggle" title="Switch between light and dark"
                aria-label=move || format!("switch to the {} theme", theme.other())
                on:click=move |_| theme.toggle()>
                {move || if theme.dark.get() { "☀ Light" } else { "☾ Dark" }}
            </button>
        </header>
        <notebook_files::TabBar />
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
                <topics::KafkaBrowser />
                <For
                    each=move || workspace.tabs.get()
                    key=|tab| tab.id
                    children=move |tab| view! { <NotebookView tab=tab /> }
                />
            </main>
        </div>
    }
}

/// One notebook's page: its toolbar, file preview and cells. Every open
/// notebook stays mounted (hidden when not shown), so that switching tabs
/// keeps results, scroll positions and running cells.
#[component]
fn NotebookView(tab: Tab) -> impl IntoView {
    let workspace = expect_context::<Workspace>();
    let notebook = tab.notebook;
    let client = tab.client;
    provide_context(notebook);
    provide_context(client);
    provide_context(tab);
    let shown = move || workspace.active.get() == tab.id;
    let stale = move || notebook.cells.with(|cells| cells.iter().filter(|c| c.stale.get()).count());
    let running = move || {
        notebook.cells.with(|cells| {
            cells.iter().filter(|c| matches!(c.state.get(), CellState::Running { .. } | CellState::Queued)).count()
        })
    };
    view! {
        <div class="notebook" data-tab=tab.id.to_string() hidden=move || !shown()>
            <div class="toolbar" role="toolbar" aria-label="notebook">
                <button class="run-all" title="Run every cell, top to bottom" on:click=move |_| run_all(notebook, client)>
                    "▶▶ Run all"
                </button>
                <button class="rerun-stale" title="Run the cells whose tables changed since they ran"
                    disabled=move || stale() == 0
                    on:click=move |_| rerun_stale(notebook, client)>
                    {move || format!("↻ Re-run stale ({})", stale())}
                </button>
                <label class="auto-run" title="When a cell's table changes, run the cells that read it">
                    <input type="checkbox" prop:checked=move || client.auto_run.get()
                        on:change=move |ev| client.auto_run.set(event_target_checked(&ev)) />
                    " auto-run dependents"
                </label>
                <span class="spacer"></span>
                {move || (running() > 0).then(|| view! {
                    <span class="muted">{move || format!("{} running or queued", running())}</span>
                })}
                <notebook_files::SaveButtons tab=tab />
                <export::ExportMenu tab=tab />
            </div>
            <p class="restarted muted" hidden=move || client.restarts.get() == 0>
                {move || format!(
                    "The engine was restarted {} time(s), last {}; the tables of the cells that had run were rebuilt.",
                    client.restarts.get(),
                    client.restart_reason.get()
                )}
            </p>
            <FilePreviewView />
            <For
                each=move || notebook.cells.get()
                key=|cell| cell.id
                children=move |cell| view! { <CellView cell=cell /> }
            />
            <pre id="bench-result" hidden=move || client.bench_result.with(Option::is_none)>
                {move || client.bench_result.get().unwrap_or_default()}
            </pre>
        </div>
    }
}
