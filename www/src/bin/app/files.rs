//! The file panel: the gateway's storage roots (the local data directory, and
//! HDFS when configured) and one directory's entries, directories first.
//!
//! - Clicking a file adds a cell that reads it (`read_csv`, `read_json`,
//!   `read_parquet`, by extension) below the cell that last had the caret; a
//!   directory of part files has a button that adds one reading them all.
//! - The preview button shows a file's schema and first rows, read by the
//!   engine worker in a throwaway session (see `EngineClient::preview_file`).
//! - Files dropped on the page are uploaded into the directory shown
//!   (`PUT /api/fs/files`, the `File` itself as the body: never copied into wasm).
//! - Spark's bookkeeping (`_SUCCESS`, `_temporary`, dot files) is listed but dimmed.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use riffle_www::paths::{ancestry, join, parent, read_query, reader_for, root_len};

/// How many rows a preview shows.
const PREVIEW_ROWS: usize = 20;
/// Directories probed for part files per listing; more are left unprobed.
const PROBE_AT_MOST: usize = 50;

#[derive(Clone, Debug, PartialEq)]
pub struct Root {
    pub name: String,
    /// Canonical: `` for the local data directory, `hdfs:///` for HDFS.
    pub path: String,
    pub label: String,
    pub detail: String,
}

impl Root {
    fn local() -> Root {
        Root { name: "local".into(), path: String::new(), label: "data directory".into(), detail: String::new() }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub name: String,
    pub path: String,
    pub directory: bool,
    pub size: u64,
    pub modified_ms: i64,
    /// False for Spark's bookkeeping (`_SUCCESS`, `_temporary`, dot files).
    pub data: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Listing {
    Loading,
    Ready(Vec<Entry>),
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
enum UploadState {
    Uploading,
    Done(u64),
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Upload {
    id: u64,
    path: String,
    size: u64,
    state: UploadState,
}

/// The panel's state. Copy: every field is a reactive handle.
#[derive(Clone, Copy)]
pub struct Files {
    roots: RwSignal<Vec<Root>>,
    roots_error: RwSignal<Option<String>>,
    /// The directory shown, canonical (see [`Root::path`]).
    pub dir: RwSignal<String>,
    listing: RwSignal<Listing>,
    /// Directories (by path) whose data files one reader reads: its name.
    datasets: RwSignal<Vec<(String, &'static str)>>,
    /// Numbers listings, so that a slow answer for a directory left since is dropped.
    generation: StoredValue<u64>,
    uploads: RwSignal<Vec<Upload>>,
    next_upload: StoredValue<u64>,
    /// A remark about the last action, such as a file no reader reads.
    notice: RwSignal<Option<String>>,
}

impl Files {
    pub fn new() -> Files {
        let files = Files {
            roots: RwSignal::new(vec![Root::local()]),
            roots_error: RwSignal::new(None),
            dir: RwSignal::new(String::new()),
            listing: RwSignal::new(Listing::Loading),
            datasets: RwSignal::new(Vec::new()),
            generation: StoredValue::new(0),
            uploads: RwSignal::new(Vec::new()),
            next_upload: StoredValue::new(0),
            notice: RwSignal::new(None),
        };
        files.load_roots();
        files.open(String::new());
        files
    }

    fn load_roots(self) {
        spawn_local(async move {
            match get_json("/api/fs/roots").await {
                Ok(body) => {
                    let roots: Vec<Root> = body["roots"]
                        .as_array()
                        .map(|roots| {
                            roots
                                .iter()
                                .map(|r| Root {
                                    name: text(&r["name"]),
                                    path: text(&r["path"]),
                                    label: text(&r["label"]),
                                    detail: text(&r["detail"]),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    self.roots_error.set(None);
                    self.roots.set(if roots.is_empty() { vec![Root::local()] } else { roots });
                }
                Err(why) => self.roots_error.set(Some(format!("storage roots: {why}"))),
            }
        });
    }

    /// Shows directory `path`.
    pub fn open(self, path: String) {
        self.notice.set(None);
        self.dir.set(path);
        self.listing.set(Listing::Loading);
        self.reload();
    }

    /// Lists the directory shown again; the old listing stays until the new one comes.
    pub fn reload(self) {
        let path = self.dir.get_untracked();
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        if !matches!(self.listing.get_untracked(), Listing::Ready(_)) {
            self.listing.set(Listing::Loading);
        }
        spawn_local(async move {
            let listing = match get_json(&format!("/api/fs/list?path={}", encode(&path))).await {
                Ok(body) => Listing::Ready(body["entries"].as_array().map(|e| entries(e)).unwrap_or_default()),
                Err(why) => Listing::Failed(why),
            };
            if self.generation.get_value() != generation {
                return;
            }
            let directories: Vec<String> = match &listing {
                Listing::Ready(entries) => {
                    entries.iter().filter(|e| e.directory && e.data).map(|e| e.path.clone()).collect()
                }
                _ => Vec::new(),
            };
            self.datasets.set(Vec::new());
            self.listing.set(listing);
            // Which directories hold part files of one format, for their read button.
            for dir in directories.into_iter().take(PROBE_AT_MOST) {
                if let Ok(reader) = dataset_reader(&dir).await {
                    if self.generation.get_value() != generation {
                        return;
                    }
                    self.datasets.update(|d| d.push((dir, reader)));
                }
            }
        });
    }

    /// Uploads the files of a drop into the directory shown.
    pub fn upload_dropped(self, ev: &web_sys::DragEvent) {
        let Some(list) = ev.data_transfer().and_then(|t| t.files()) else { return };
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.item(i)).collect();
        if files.is_empty() {
            return;
        }
        let dir = self.dir.get_untracked();
        spawn_local(async move {
            for file in files {
                self.upload(&dir, file).await;
            }
            self.reload();
        });
    }

    async fn upload(self, dir: &str, file: web_sys::File) {
        let path = join(dir, &file.name());
        let id = self.next_upload.get_value() + 1;
        self.next_upload.set_value(id);
        let size = file.size() as u64;
        self.uploads.update(|u| {
            u.retain(|u| u.state == UploadState::Uploading || u.id + 4 > id);
            u.push(Upload { id, path: path.clone(), size, state: UploadState::Uploading });
        });
        let set = |state: UploadState| {
            self.uploads.update(|u| {
                if let Some(u) = u.iter_mut().find(|u| u.id == id) {
                    u.state = state;
                }
            })
        };
        let state = match put_file(&path, &file, false).await {
            Err(PutError::Exists(_)) => {
                let question = format!("'{path}' already exists. Replace it?");
                if window().confirm_with_message(&question).unwrap_or(false) {
                    match put_file(&path, &file, true).await {
                        Ok(bytes) => UploadState::Done(bytes),
                        Err(PutError::Exists(why) | PutError::Failed(why)) => UploadState::Failed(why),
                    }
                } else {
                    UploadState::Failed("it already exists; kept the old one".into())
                }
            }
            Ok(bytes) => UploadState::Done(bytes),
            Err(PutError::Failed(why)) => UploadState::Failed(why),
        };
        set(state);
    }
}

/// Whether a drag carries files (not text dragged within the page).
pub fn carries_files(ev: &web_sys::DragEvent) -> bool {
    ev.data_transfer().is_some_and(|t| t.types().iter().any(|t| t.as_string().as_deref() == Some("Files")))
}

fn text(value: &serde_json::Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn entries(values: &[serde_json::Value]) -> Vec<Entry> {
    let mut out: Vec<Entry> = values
        .iter()
        .map(|e| Entry {
            name: text(&e["name"]),
            path: text(&e["path"]),
            directory: e["kind"].as_str() == Some("directory"),
            size: e["size"].as_u64().unwrap_or_default(),
            modified_ms: e["modified_ms"].as_i64().unwrap_or_default(),
            data: e["data"].as_bool().unwrap_or(true),
        })
        .collect();
    // The gateway sorts too; this keeps directories first whatever it does.
    out.sort_by(|a, b| b.directory.cmp(&a.directory).then_with(|| a.name.cmp(&b.name)));
    out
}

/// The breadcrumbs of `path`: (label, path), the root first, labelled as the gateway names it.
fn crumbs(path: &str, roots: &[Root]) -> Vec<(String, String)> {
    let mut out = ancestry(path);
    if let Some((label, root)) = out.first_mut() {
        *label = roots
            .iter()
            .find(|r| r.path == *root)
            .map(|r| r.label.clone())
            .unwrap_or_else(|| if root.is_empty() { "data directory".into() } else { root.clone() });
    }
    out
}

/// The reader of a directory whose data files share one format.
async fn dataset_reader(dir: &str) -> Result<&'static str, String> {
    let body = get_json(&format!("/api/fs/parts?path={}", encode(dir))).await?;
    let names: Vec<String> =
        body["files"].as_array().map(|f| f.iter().map(|f| text(&f["path"])).collect()).unwrap_or_default();
    let readers: Vec<Option<&'static str>> = names.iter().map(|n| reader_for(n)).collect();
    match readers.first() {
        Some(Some(first)) if readers.iter().all(|r| r == &Some(*first)) => Ok(first),
        _ => Err(format!("'{dir}' holds no part files of one format that Riffle reads")),
    }
}

/// A GET of the gateway's JSON API: the body, or the error it gave.
pub(crate) async fn get_json(url: &str) -> Result<serde_json::Value, String> {
    let response = JsFuture::from(window().fetch_with_str(url))
        .await
        .map_err(|_| "the gateway did not answer".to_string())?
        .unchecked_into::<web_sys::Response>();
    json_body(response).await
}

async fn json_body(response: web_sys::Response) -> Result<serde_json::Value, String> {
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if response.ok() {
        Ok(body)
    } else {
        let why = body["error"].as_str().map(str::to_string).unwrap_or(text);
        Err(format!("{} {why}", response.status()))
    }
}

enum PutError {
    /// 409: something is at that path (the gateway's message says what).
    Exists(String),
    Failed(String),
}

/// `PUT /api/fs/files?path=…`: the browser streams the `File` from disk.
async fn put_file(path: &str, file: &web_sys::File, overwrite: bool) -> Result<u64, PutError> {
    let url = format!("/api/fs/files?path={}{}", encode(path), if overwrite { "&overwrite=true" } else { "" });
    let init = web_sys::RequestInit::new();
    init.set_method("PUT");
    init.set_body(file.as_ref());
    let response = JsFuture::from(window().fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|_| PutError::Failed("the gateway did not answer".into()))?
        .unchecked_into::<web_sys::Response>();
    let conflict = response.status() == 409;
    let body = json_body(response)
        .await
        .map_err(|why| if conflict { PutError::Exists(why) } else { PutError::Failed(why) })?;
    Ok(body["bytes"].as_u64().unwrap_or_default())
}

fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

/// "2025-03-01 14:05" in the browser's time zone.
fn local_time(ms: i64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes()
    )
}

fn iso_time(ms: i64) -> String {
    String::from(js_sys::Date::new(&JsValue::from_f64(ms as f64)).to_iso_string())
}

#[component]
pub fn FileBrowser() -> impl IntoView {
    let files = expect_context::<Files>();
    let workspace = expect_context::<crate::state::Workspace>();

    // A cell's COPY wrote somewhere: the listing may have changed.
    Effect::watch(
        move || workspace.tabs.with(|tabs| tabs.iter().map(|t| t.client.writes.get()).sum::<u64>()),
        move |_, _, _| files.reload(),
        false,
    );

    let add_cell = move |source: String| {
        let (notebook, _) = crate::state::active();
        let index = notebook.insert_below_current(&source);
        crate::state::focus_cell(index);
    };
    let read_file = move |entry: &Entry| match reader_for(&entry.name) {
        Some(reader) => add_cell(read_query(reader, &entry.path)),
        None => files
            .notice
            .set(Some(format!("no reader for '{}': Riffle reads .csv, .json, .jsonl and .parquet files", entry.name))),
    };
    let preview = move |path: String, reader: &str| {
        let (_, client) = crate::state::active();
        client.preview_file(&path, read_query(reader, &path), PREVIEW_ROWS);
    };

    let row = move |entry: Entry| {
        let class = format!(
            "entry {}{}",
            if entry.directory { "directory" } else { "file" },
            if entry.data { "" } else { " meta" }
        );
        let kind = if entry.directory { "directory" } else { "file" };
        let size = if entry.directory { String::new() } else { riffle::text::human_bytes(entry.size) };
        let (modified, when) = if entry.modified_ms > 0 {
            (local_time(entry.modified_ms), iso_time(entry.modified_ms))
        } else {
            (String::new(), String::new())
        };
        let reader = if entry.directory { None } else { reader_for(&entry.name) };
        let title = match (entry.directory, reader) {
            (true, _) => "Open this directory",
            (false, Some(_)) => "Add a cell that reads this file",
            (false, None) => "Riffle has no reader for this file type",
        };
        let dir_path = entry.path.clone();
        let dataset = move || {
            let dir_path = dir_path.clone();
            files.datasets.with(|d| d.iter().find(|(p, _)| *p == dir_path).map(|(_, r)| *r))
        };
        let on_click = {
            let entry = entry.clone();
            move |_| {
                if entry.directory {
                    files.open(entry.path.clone());
                } else {
                    read_file(&entry);
                }
            }
        };
        let path = entry.path.clone();
        let buttons = move || {
            let path = path.clone();
            let reader = reader.or_else(&dataset);
            reader.map(|reader| {
                let read_path = path.clone();
                let preview_path = path.clone();
                view! {
                    {entry.directory.then(|| view! {
                        <button class="read-dir" title=format!("Add a cell: {reader}('{read_path}')")
                            on:click=move |ev| {
                                ev.stop_propagation();
                                add_cell(read_query(reader, &read_path));
                            }>{reader}</button>
                    })}
                    <button class="preview" title="Preview: schema and first rows"
                        on:click=move |ev| {
                            ev.stop_propagation();
                            preview(preview_path.clone(), reader);
                        }>"view"</button>
                }
            })
        };
        view! {
            <tr class=class data-path=entry.path.clone() data-kind=kind title=title on:click=on_click>
                <td class="name">
                    {if entry.directory { "▸ " } else { "" }}{entry.name.clone()}
                    <span class="row-buttons">{buttons}</span>
                </td>
                <td class="num size" data-bytes=entry.size.to_string()>{size}</td>
                <td class="modified" title=when>{modified}</td>
            </tr>
        }
    };

    view! {
        <section id="files" data-dir=move || files.dir.get()>
            <div class="aside-head">
                <h2>"Files"</h2>
                <button class="refresh" title="Refresh" on:click=move |_| {
                    files.load_roots();
                    files.reload();
                }>"↻"</button>
            </div>
            <div class="roots">
                {move || files.roots.get().into_iter().map(|root| {
                    let path = root.path.clone();
                    let active = move || {
                        let dir = files.dir.get();
                        dir[..root_len(&dir)] == *path
                    };
                    let target = root.path.clone();
                    view! {
                        <button class="root" class:active=active data-root=root.name.clone() title=root.detail.clone()
                            on:click=move |_| files.open(target.clone())>{root.label.clone()}</button>
                    }
                }).collect_view()}
            </div>
            {move || files.roots_error.get().map(|why| view! { <p class="files-error">{why}</p> })}
            <nav class="crumbs">
                <button class="up" title="Up one directory"
                    disabled=move || parent(&files.dir.get()).is_none()
                    on:click=move |_| {
                        if let Some(up) = parent(&files.dir.get_untracked()) {
                            files.open(up);
                        }
                    }>"↑"</button>
                {move || {
                    let all = crumbs(&files.dir.get(), &files.roots.get());
                    let last = all.len() - 1;
                    all.into_iter().enumerate().map(|(i, (label, path))| view! {
                        {(i > 0).then_some(" / ")}
                        <button class="crumb" data-path=path.clone() disabled=i == last
                            on:click=move |_| files.open(path.clone())>{label}</button>
                    }).collect_view()
                }}
            </nav>
            {move || files.notice.get().map(|n| view! { <p class="files-notice">{n}</p> })}
            {move || match files.listing.get() {
                Listing::Loading => view! { <p class="muted">"loading…"</p> }.into_any(),
                Listing::Failed(why) => view! { <p class="files-error" role="alert">{why}</p> }.into_any(),
                Listing::Ready(entries) if entries.is_empty() => {
                    view! { <p class="muted empty">"empty directory"</p> }.into_any()
                }
                Listing::Ready(entries) => view! {
                    <table class="files">
                        <thead><tr><th>"name"</th><th class="num">"size"</th><th>"modified"</th></tr></thead>
                        <tbody>{entries.into_iter().map(row).collect_view()}</tbody>
                    </table>
                }.into_any(),
            }}
            <ul class="uploads">
                {move || files.uploads.get().into_iter().map(|u| {
                    let (state, label) = match &u.state {
                        UploadState::Uploading => {
                            ("uploading", format!("uploading {} ({})…", u.path, riffle::text::human_bytes(u.size)))
                        }
                        UploadState::Done(bytes) => ("done", format!("uploaded {}: {} bytes", u.path, riffle::text::thousands(*bytes))),
                        UploadState::Failed(why) => ("failed", format!("could not upload {}: {why}", u.path)),
                    };
                    view! { <li class="upload" data-path=u.path.clone() data-state=state>{label}</li> }
                }).collect_view()}
            </ul>
            <p class="drop-hint muted">"Drop files on the page to upload them here."</p>
        </section>
    }
}
