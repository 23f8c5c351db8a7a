//! Notebook files and tabs: open notebooks from the data directory's
//! `notebooks/` folder, save them there, and show which have unsaved changes.
//! Each tab is a notebook with its own engine worker.

use leptos::prelude::*;
use leptos::task::spawn_local;
use riffle::notebook::Notebook as Document;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::state::{Tab, Workspace};

pub use riffle_www::paths::{notebook_path as path_for, notebook_title as title_of};

const FOLDER: &str = riffle_www::paths::NOTEBOOKS;
const EXTENSION: &str = riffle_www::paths::NOTEBOOK_EXTENSION;

fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

/// The text a notebook file holds: the plain-text format.
pub fn file_text(doc: &Document) -> String {
    riffle::notebook::to_text(doc)
}

/// GET `url`'s text, or the gateway's (or the network's) error.
pub async fn fetch_text(url: &str) -> Result<String, String> {
    request("GET", url, None).await
}

/// A request to the gateway; the body's text, or the gateway's error.
async fn request(method: &str, url: &str, body: Option<&str>) -> Result<String, String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&wasm_bindgen::JsValue::from_str(body));
    }
    let response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| "the gateway did not answer; is `riffle serve` running?".to_string())?;
    let response: web_sys::Response = response.unchecked_into();
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    if response.ok() {
        Ok(text)
    } else {
        let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        Err(body["error"].as_str().map(str::to_string).unwrap_or(text))
    }
}

/// Writes the tab's notebook to `path` (replacing what is there).
async fn save_to(tab: Tab, path: String) -> Result<(), String> {
    let text = tab.file_text();
    request("POST", &format!("/api/fs/mkdir?path={}", encode(FOLDER)), None).await?;
    request("PUT", &format!("/api/fs/files?path={}&overwrite=true", encode(&path)), Some(&text)).await?;
    tab.path.set(Some(path));
    tab.saved.set(Some(text));
    Ok(())
}

/// Reads a notebook file (`.riffle.md`, `.ipynb`, or an earlier `.riffle.json`).
async fn read(path: &str) -> Result<(Document, String), String> {
    let text = request("GET", &format!("/api/fs/read?path={}", encode(path)), None).await?;
    let doc = crate::export::parse(path, &text)?;
    Ok((doc, text))
}

/// The notebook files in `notebooks/`, newest first.
async fn list() -> Result<Vec<String>, String> {
    let text = match request("GET", &format!("/api/fs/list?path={}", encode(FOLDER)), None).await {
        Ok(text) => text,
        // No folder yet: no notebooks yet.
        Err(e) if e.contains("not found") || e.contains("does not exist") || e.contains("no such") => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(e),
    };
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    let mut files: Vec<(i64, String)> = body["entries"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["kind"].as_str() == Some("file"))
                .filter_map(|e| {
                    let path = e["path"].as_str()?;
                    let known = [EXTENSION, ".riffle.json", ".ipynb"].iter().any(|x| path.ends_with(x));
                    known.then(|| (e["modified_ms"].as_i64().unwrap_or_default(), path.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort_by_key(|f| std::cmp::Reverse(f.0));
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// The tabs: one per open notebook, with a dot for unsaved changes.
#[component]
pub fn TabBar() -> impl IntoView {
    let workspace = expect_context::<Workspace>();
    let open_list = RwSignal::new(None::<Result<Vec<String>, String>>);
    let show_open = move || {
        if open_list.with_untracked(Option::is_some) {
            open_list.set(None);
            return;
        }
        open_list.set(Some(Ok(Vec::new())));
        spawn_local(async move { open_list.set(Some(list().await)) });
    };
    let open_path = move |path: String| {
        open_list.set(None);
        let already = workspace.tabs.with_untracked(|tabs| {
            tabs.iter().find(|t| t.path.get_untracked().as_deref() == Some(path.as_str())).map(|t| t.id)
        });
        if let Some(id) = already {
            workspace.active.set(id);
            return;
        }
        spawn_local(async move {
            match read(&path).await {
                Ok((doc, _)) => {
                    // Saving writes the plain-text format: an .ipynb or an
                    // earlier .json file is saved as .riffle.md next to it.
                    let native = path.ends_with(EXTENSION);
                    let text = file_text(&doc);
                    let save_as =
                        if native { path } else { riffle_www::paths::notebook_path(&title_of(&path)).unwrap_or(path) };
                    workspace.open(&doc, Some(save_as), native.then_some(text));
                }
                Err(e) => open_list.set(Some(Err(e))),
            }
        });
    };
    view! {
        {move || workspace.notice.get().map(|n| view! {
            <div class="open-notice" role="alert">{n}
                <button class="dismiss" aria-label="dismiss" on:click=move |_| workspace.notice.set(None)>"×"</button>
            </div>
        })}
        <nav class="tabs" role="tablist" aria-label="open notebooks">
            <For
                each=move || workspace.tabs.get()
                key=|tab| tab.id
                children=move |tab| {
                    let selected = move || workspace.active.get() == tab.id;
                    view! {
                        <span class="tab" class:active=selected role="tab" aria-selected=move || selected().to_string()
                            data-tab=tab.id.to_string()>
                            <button class="tab-title" on:click=move |_| workspace.active.set(tab.id)
                                title=move || tab.path.get().unwrap_or_else(|| "not saved to a file yet".into())>
                                {move || tab.label()}
                                <span class="unsaved-dot" hidden=move || !tab.unsaved() title="unsaved changes">" ●"</span>
                            </button>
                            <button class="tab-close" aria-label="close notebook" title="Close this notebook (its engine stops)"
                                on:click=move |_| {
                                    let sure = !tab.unsaved()
                                        || window()
                                            .confirm_with_message(&format!("'{}' has unsaved changes. Close it anyway?", tab.label()))
                                            .unwrap_or(false);
                                    if sure {
                                        workspace.close(tab.id);
                                    }
                                }>"×"</button>
                        </span>
                    }
                }
            />
            <button class="new-notebook" title="A new, empty notebook with its own engine"
                on:click=move |_| {
                    workspace.open(&Document::default(), None, None);
                }>"+ New"</button>
            <button class="open-notebook" title="Open a notebook from the data directory's notebooks/ folder"
                on:click=move |_| show_open()>"Open…"</button>
            {move || open_list.get().map(|listing| match listing {
                Err(e) => view! { <div class="open-list error" role="alert">{e}</div> }.into_any(),
                Ok(paths) if paths.is_empty() => view! {
                    <div class="open-list muted">"No notebooks in "<code>{FOLDER}"/"</code>" yet: Save writes them there."</div>
                }.into_any(),
                Ok(paths) => view! {
                    <ul class="open-list">
                        {paths.into_iter().map(|p| {
                            let label = title_of(&p);
                            let path = p.clone();
                            view! { <li><button class="open-file" data-path=p on:click=move |_| open_path(path.clone())>{label}</button></li> }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </nav>
    }
}

/// Save / Save as, and what the file holds compared with the page.
#[component]
pub fn SaveButtons(tab: Tab) -> impl IntoView {
    let message = RwSignal::new(None::<Result<String, String>>);
    let save = move |ask: bool| {
        let path = match tab.path.get_untracked() {
            Some(path) if !ask => path,
            current => {
                let suggestion =
                    current.as_deref().map(title_of).unwrap_or_else(|| tab.label().to_lowercase().replace(' ', "-"));
                let Some(name) = window()
                    .prompt_with_message_and_default(
                        "Save the notebook as (in the data directory's notebooks/ folder):",
                        &suggestion,
                    )
                    .ok()
                    .flatten()
                else {
                    return;
                };
                match path_for(&name) {
                    Some(path) => path,
                    None => {
                        message.set(Some(Err(format!(
                            "'{name}' is not a notebook name: use letters, digits, spaces, '-', '_' or '.'"
                        ))));
                        return;
                    }
                }
            }
        };
        message.set(None);
        spawn_local(async move {
            let result = save_to(tab, path.clone()).await;
            message.set(Some(result.map(|()| format!("saved to {path}"))));
        });
    };
    // Ctrl/Cmd+S saves the notebook shown.
    let workspace = expect_context::<Workspace>();
    let handle = window_event_listener(leptos::ev::keydown, move |ev| {
        if (ev.ctrl_key() || ev.meta_key())
            && ev.key().eq_ignore_ascii_case("s")
            && workspace.active.get_untracked() == tab.id
        {
            ev.prevent_default();
            save(false);
        }
    });
    on_cleanup(move || handle.remove());
    view! {
        <span class="file-state" data-unsaved=move || tab.unsaved().to_string()>
            {move || match message.get() {
                Some(Err(e)) => view! { <span class="error" role="alert">{e}</span> }.into_any(),
                _ if tab.unsaved() => view! { <span class="unsaved">"Unsaved changes"</span> }.into_any(),
                _ => view! { <span class="muted">{move || tab.path.get().map(|p| format!("Saved · {p}")).unwrap_or_default()}</span> }.into_any(),
            }}
        </span>
        <button class="save-notebook" title="Save to the data directory (Ctrl+S)" on:click=move |_| save(false)>"Save"</button>
        <button class="save-notebook-as" title="Save under another name" on:click=move |_| save(true)>"Save as…"</button>
    }
}
