//! Autosave: every change to any open notebook (text, kinds, order, cells
//! added or deleted, tabs opened or closed) is written to the browser's
//! IndexedDB at once, so a reload or a crashed tab brings everything back.
//!
//! Nothing typed is lost to a reload: an IndexedDB write still in flight
//! when the page goes away may never commit, so the newest workspace that
//! IndexedDB has not confirmed is kept in memory, and on `pagehide` (and when
//! the tab is hidden) written synchronously to localStorage
//! ([`FALLBACK_KEY`]). Each write carries a revision ([`SavedWorkspace::rev`]):
//! on load the newer of the two copies wins, and the localStorage one is
//! removed once IndexedDB has confirmed a write at least as new.
//!
//! There is no debounce: each change (each key) is written as soon as
//! Leptos runs the effect, in the same turn of the event loop.

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use riffle::notebook::Notebook as Document;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "riffle";
const STORE: &str = "workspace";
const KEY: &str = "current";
/// Where an earlier version kept a single notebook; read once, then moved.
const OLD_KEY: &str = "riffle.notebook";
/// The localStorage copy of a workspace IndexedDB had not confirmed when
/// the page was hidden or left.
const FALLBACK_KEY: &str = "riffle.workspace.pending";

#[derive(Serialize, Deserialize)]
pub struct SavedNotebook {
    pub id: u64,
    #[serde(default)]
    pub path: Option<String>,
    /// The file's text when last opened or saved (for "unsaved changes").
    #[serde(default)]
    pub saved: Option<String>,
    /// The `?open=` target the tab came from.
    #[serde(default)]
    pub source: Option<String>,
    pub doc: Document,
}

#[derive(Serialize, Deserialize)]
pub struct SavedWorkspace {
    /// Grows with every change, across visits (0 in an earlier version's
    /// copy): of IndexedDB's copy and the localStorage one, the higher wins.
    #[serde(default)]
    pub rev: u64,
    pub active: u64,
    pub notebooks: Vec<SavedNotebook>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Saved {
    Yes,
    Saving,
    Failed,
}

impl Saved {
    pub fn as_str(&self) -> &'static str {
        match self {
            Saved::Yes => "yes",
            Saved::Saving => "saving",
            Saved::Failed => "failed",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Saved::Yes => "All changes kept in this browser",
            Saved::Saving => "Keeping changes…",
            Saved::Failed => "Could not keep changes in this browser: use Save",
        }
    }
}

thread_local! {
    static DB: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
    /// The revision of the newest workspace loaded or written.
    static REV: Cell<u64> = const { Cell::new(0) };
    /// The newest workspace IndexedDB has not confirmed: its revision and JSON.
    static PENDING: RefCell<Option<(u64, String)>> = const { RefCell::new(None) };
    /// The revision of the localStorage copy this page knows of (read at load
    /// or written by [`flush`]), until IndexedDB confirms one at least as new.
    static FALLBACK_REV: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Waits for an IndexedDB request; its result, or its error as text.
async fn finished(request: &IdbRequest) -> Result<JsValue, String> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok = request.clone();
        let on_success = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &ok.result().unwrap_or(JsValue::UNDEFINED));
        });
        let on_error = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::NULL, &JsValue::from_str("IndexedDB request failed"));
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        request.set_onerror(Some(on_error.unchecked_ref()));
    });
    JsFuture::from(promise).await.map_err(|e| e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

async fn open() -> Result<IdbDatabase, String> {
    let factory =
        window().indexed_db().ok().flatten().ok_or("this browser gives the page no IndexedDB (a private window?)")?;
    let request = factory.open_with_u32(DATABASE, 1).map_err(|e| format!("{e:?}"))?;
    let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        let Some(target) = event.target() else { return };
        let request: web_sys::IdbOpenDbRequest = target.unchecked_into();
        if let Ok(db) = request.result().map(|r| r.unchecked_into::<IdbDatabase>())
            && !db.object_store_names().contains(STORE)
        {
            let _ = db.create_object_store(STORE);
        }
    });
    request.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = finished(&request).await?;
    drop(upgrade);
    Ok(db.unchecked_into())
}

fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

fn parse(text: &str, from: &str) -> Option<SavedWorkspace> {
    serde_json::from_str(text)
        .map_err(|e| web_sys::console::warn_1(&format!("riffle: the workspace in {from} does not parse ({e})").into()))
        .ok()
}

/// IndexedDB's copy of the workspace (and keeps the database open for [`keep`]).
async fn from_indexed_db() -> Option<SavedWorkspace> {
    let db = match open().await {
        Ok(db) => db,
        Err(e) => {
            web_sys::console::warn_1(&format!("riffle: autosave to IndexedDB is off: {e}").into());
            return None;
        }
    };
    let read = async {
        let store = db.transaction_with_str(STORE).ok()?.object_store(STORE).ok()?;
        let value = finished(&store.get(&JsValue::from_str(KEY)).ok()?).await.ok()?;
        value.as_string()
    };
    let text = read.await;
    DB.with(|slot| *slot.borrow_mut() = Some(db));
    parse(&text?, "IndexedDB")
}

/// The workspace the last visit left in this browser: the newer of
/// IndexedDB's copy and the one a page left in localStorage as it went.
pub async fn load() -> Option<SavedWorkspace> {
    let stored = from_indexed_db().await;
    let storage = local_storage();
    let fallback = storage.as_ref().and_then(|s| s.get_item(FALLBACK_KEY).ok().flatten());
    let fallback = fallback.and_then(|text| parse(&text, "localStorage"));
    let newest = match (stored, fallback) {
        (Some(stored), Some(fallback)) if fallback.rev > stored.rev => {
            FALLBACK_REV.with(|r| r.set(Some(fallback.rev)));
            Some(fallback)
        }
        (Some(stored), _) => {
            // IndexedDB has it all: the fallback (if any) is spent.
            if let Some(storage) = &storage {
                let _ = storage.remove_item(FALLBACK_KEY);
            }
            Some(stored)
        }
        (None, Some(fallback)) => {
            FALLBACK_REV.with(|r| r.set(Some(fallback.rev)));
            Some(fallback)
        }
        (None, None) => None,
    };
    if let Some(saved) = newest {
        REV.with(|r| r.set(saved.rev));
        return Some(saved);
    }
    // An earlier version's single notebook, from localStorage.
    let doc = serde_json::from_str::<Document>(&storage?.get_item(OLD_KEY).ok().flatten()?).ok()?;
    Some(SavedWorkspace {
        rev: 0,
        active: 1,
        notebooks: vec![SavedNotebook { id: 1, path: None, saved: None, source: None, doc }],
    })
}

/// Writes the workspace whenever anything in it changes. Writes are
/// transactions on one store, so IndexedDB applies them in order.
pub fn keep(workspace: crate::state::Workspace) {
    flush_when_leaving();
    let sequence = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let active = workspace.active.get();
        let notebooks = workspace.tabs.with(|tabs| {
            tabs.iter()
                .map(|t| SavedNotebook {
                    id: t.id,
                    path: t.path.get(),
                    saved: t.saved.get(),
                    source: t.source.get(),
                    doc: t.notebook.document(t.doc_title.get()),
                })
                .collect()
        });
        let rev = REV.with(|r| {
            r.set(r.get() + 1);
            r.get()
        });
        let Ok(json) = serde_json::to_string(&SavedWorkspace { rev, active, notebooks }) else { return };
        let put = DB.with(|slot| {
            let db = slot.borrow();
            let db = db.as_ref().ok_or("no database")?;
            let tx =
                db.transaction_with_str_and_mode(STORE, IdbTransactionMode::Readwrite).map_err(|_| "transaction")?;
            tx.object_store(STORE)
                .and_then(|s| s.put_with_key(&JsValue::from_str(&json), &JsValue::from_str(KEY)))
                .map_err(|_| "put")
        });
        PENDING.with(|p| *p.borrow_mut() = Some((rev, json)));
        let n = sequence.get_value() + 1;
        sequence.set_value(n);
        match put {
            Ok(request) => {
                workspace.autosaved.set(Saved::Saving);
                leptos::task::spawn_local(async move {
                    let result = finished(&request).await;
                    if result.is_ok() {
                        confirmed(rev);
                    }
                    if sequence.get_value() == n {
                        workspace.autosaved.set(if result.is_ok() { Saved::Yes } else { Saved::Failed });
                    }
                });
            }
            Err(_) => workspace.autosaved.set(Saved::Failed),
        }
    });
}

/// IndexedDB has the workspace at `rev` (and so every earlier one).
fn confirmed(rev: u64) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.as_ref().is_some_and(|(pending, _)| *pending <= rev) {
            *p = None;
        }
    });
    if FALLBACK_REV.with(|r| r.get()).is_some_and(|fallback| fallback <= rev) {
        if let Some(storage) = local_storage() {
            let _ = storage.remove_item(FALLBACK_KEY);
        }
        FALLBACK_REV.with(|r| r.set(None));
    }
}

/// Writes the workspace IndexedDB has not confirmed yet, if any, to
/// localStorage, synchronously: it is there before the page goes.
fn flush() {
    let Some((rev, json)) = PENDING.with(|p| p.borrow().clone()) else { return };
    let Some(storage) = local_storage() else { return };
    match storage.set_item(FALLBACK_KEY, &json) {
        Ok(()) => FALLBACK_REV.with(|r| r.set(Some(rev))),
        Err(e) => web_sys::console::warn_1(
            &format!("riffle: could not keep the last changes in localStorage as the page went: {e:?}").into(),
        ),
    }
}

/// [`flush`] on `pagehide` (a reload, a navigation, a closed tab) and when the
/// tab is hidden (a mobile browser may then discard it without a `pagehide`).
fn flush_when_leaving() {
    let on_pagehide = Closure::<dyn FnMut()>::new(flush);
    let _ = window().add_event_listener_with_callback("pagehide", on_pagehide.as_ref().unchecked_ref());
    on_pagehide.forget();
    let on_visibility = Closure::<dyn FnMut()>::new(|| {
        if document().hidden() {
            flush();
        }
    });
    let _ = document().add_event_listener_with_callback("visibilitychange", on_visibility.as_ref().unchecked_ref());
    on_visibility.forget();
}
