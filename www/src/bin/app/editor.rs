//! The cell editor: CodeMirror 6 (www/editor, bundled by scripts/editor.sh
//! into `www/editor/dist/riffle-editor.js`) behind a Leptos component.
//!
//! [`CodeEditor`] creates one CodeMirror view when its `<div>` is mounted and
//! destroys it when the component is cleaned up. Typing goes into `source`;
//! a change of `source` from elsewhere (a reload, a programmatic set) goes
//! into the editor without coming back as a change. The JS closures are made
//! once per editor and dropped with it, never per keystroke.
//!
//! For tests and keyboard code: the editor's root is `.cm-editor.cm-riffle`
//! inside `div.cell-editor`; its text is in `.cm-content` (contenteditable,
//! so WebDriver's send_keys types into it); a cell with an error has
//! `data-error-line="N"` on the root. [`focus_editor_in`] puts the caret back
//! into the editor inside an element, where it was before.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/editor/dist/riffle-editor.js")]
extern "C" {
    /// One CodeMirror view with Riffle's extensions (www/editor/src/index.js).
    #[derive(Clone, Debug)]
    pub type EditorHandle;

    /// `options`: `{ language, on_change(text), on_key(name) -> bool, on_focus(), on_blur() }`.
    #[wasm_bindgen(catch)]
    fn create_editor(
        parent: &web_sys::HtmlElement,
        doc: &str,
        options: &js_sys::Object,
    ) -> Result<EditorHandle, JsValue>;

    #[wasm_bindgen(method)]
    pub fn get_value(this: &EditorHandle) -> String;
    /// Replaces the text without calling `on_change`.
    #[wasm_bindgen(method)]
    pub fn set_value(this: &EditorHandle, text: &str);
    #[wasm_bindgen(method)]
    pub fn focus(this: &EditorHandle);
    #[wasm_bindgen(method)]
    pub fn has_focus(this: &EditorHandle) -> bool;
    /// "sql" or "markdown"; anything else is an error.
    #[wasm_bindgen(method, catch)]
    pub fn set_language(this: &EditorHandle, language: &str) -> Result<(), JsValue>;
    /// `[{"name":"t","columns":[{"name":"a","dtype":"bigint"}]}]`; text that is not such JSON is an error.
    #[wasm_bindgen(method, catch)]
    pub fn set_completions(this: &EditorHandle, json: &str) -> Result<(), JsValue>;
    /// 1-based line and column, as `CellError`'s location.
    #[wasm_bindgen(method)]
    pub fn set_error(this: &EditorHandle, line: u32, column: u32, message: &str);
    #[wasm_bindgen(method)]
    pub fn clear_error(this: &EditorHandle);
    #[wasm_bindgen(method)]
    pub fn destroy(this: &EditorHandle);
}

/// A live editor and the closures its options object points at: they live
/// exactly as long as the editor.
struct Mounted {
    handle: EditorHandle,
    language: String,
    _closures: Closures,
}

struct Closures {
    _on_change: Closure<dyn FnMut(String)>,
    _on_key: Closure<dyn FnMut(String) -> bool>,
    _on_focus: Closure<dyn FnMut()>,
    _on_blur: Closure<dyn FnMut()>,
}

/// A cell's source editor.
///
/// - `source`: the text; typing sets it, and setting it elsewhere replaces the editor's text.
/// - `language`: "sql" or "markdown".
/// - `on_key`: "run_next" (Shift+Enter), "run" (Ctrl/Cmd+Enter), "escape",
///   "up_out" (ArrowUp on the first line), "down_out" (ArrowDown on the last
///   line); return true when the key was handled, false to let the editor have it.
/// - `error`: `(line, column, message)`, 1-based, underlined with the message on hover.
/// - `completions`: the catalog as JSON (`[{"name":"t","columns":[{"name":"a","dtype":"bigint"}]}]`),
///   for autocomplete; an empty string is no tables.
#[component]
pub fn CodeEditor(
    source: RwSignal<String>,
    #[prop(into)] language: Signal<String>,
    on_key: Callback<String, bool>,
    #[prop(into)] error: Signal<Option<(u32, u32, String)>>,
    #[prop(into)] completions: Signal<String>,
    #[prop(optional)] on_focus: Option<Callback<()>>,
    #[prop(optional)] on_blur: Option<Callback<()>>,
) -> impl IntoView {
    let node = NodeRef::<html::Div>::new();
    let editor: StoredValue<Option<Mounted>, LocalStorage> = StoredValue::new_local(None);
    // Bumped once the editor exists, so that the effects below apply their first values to it.
    let ready = RwSignal::new(false);
    let handle = move || editor.with_value(|m| m.as_ref().map(|m| m.handle.clone()));

    Effect::new(move |_| {
        let Some(div) = node.get() else { return };
        if editor.with_value(Option::is_some) {
            return;
        }
        let language = language.get_untracked();
        let closures = Closures {
            _on_change: Closure::new(move |text: String| source.set(text)),
            _on_key: Closure::new(move |name: String| on_key.run(name)),
            _on_focus: Closure::new(move || {
                if let Some(f) = on_focus {
                    f.run(())
                }
            }),
            _on_blur: Closure::new(move || {
                if let Some(f) = on_blur {
                    f.run(())
                }
            }),
        };
        let options = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| {
            // Reflect::set fails only on a frozen object or a non-object target, never on a fresh Object.
            let _ = js_sys::Reflect::set(&options, &JsValue::from_str(key), value);
        };
        set("language", &JsValue::from_str(&language));
        set("on_change", closures._on_change.as_ref());
        set("on_key", closures._on_key.as_ref());
        set("on_focus", closures._on_focus.as_ref());
        set("on_blur", closures._on_blur.as_ref());
        match create_editor(&div, &source.get_untracked(), &options) {
            Ok(handle) => {
                editor.set_value(Some(Mounted { handle, language, _closures: closures }));
                ready.set(true);
            }
            Err(e) => {
                let message = js_error_text(&e);
                web_sys::console::error_2(&JsValue::from_str("riffle: the cell editor could not start:"), &e);
                div.set_text_content(Some(&format!(
                    "The editor could not start ({message}). Reload the page; if it persists, rebuild the UI with `cargo xtask build`."
                )));
            }
        }
    });

    // The text from elsewhere (typing already matches, so it is not echoed).
    Effect::new(move |_| {
        let text = source.get();
        if !ready.get() {
            return;
        }
        if let Some(h) = handle()
            && h.get_value() != text
        {
            h.set_value(&text);
        }
    });

    Effect::new(move |_| {
        let wanted = language.get();
        if !ready.get() {
            return;
        }
        let changed = editor.with_value(|m| m.as_ref().is_some_and(|m| m.language != wanted));
        if !changed {
            return;
        }
        if let Some(h) = handle() {
            match h.set_language(&wanted) {
                Ok(()) => editor.update_value(|m| {
                    if let Some(m) = m {
                        m.language = wanted;
                    }
                }),
                Err(e) => web_sys::console::error_1(&e),
            }
        }
    });

    Effect::new(move |_| {
        let error = error.get();
        if !ready.get() {
            return;
        }
        if let Some(h) = handle() {
            match error {
                Some((line, column, message)) => h.set_error(line, column, &message),
                None => h.clear_error(),
            }
        }
    });

    Effect::new(move |_| {
        let json = completions.get();
        if !ready.get() {
            return;
        }
        if let Some(h) = handle()
            && let Err(e) = h.set_completions(&json)
        {
            web_sys::console::error_1(&e);
        }
    });

    on_cleanup(move || {
        // The closures drop after the view is gone (destroy() also detaches them from the options).
        if let Some(m) = editor.try_update_value(Option::take).flatten() {
            m.handle.destroy();
        }
    });

    view! { <div class="cell-editor" node_ref=node></div> }
}

/// Puts the caret into the cell editor inside `el` (or `el` itself), where it
/// was before; returns false when there is no editor there. Focusing
/// `.cm-content` directly also works, but the browser may then put the caret
/// at the start; this goes through CodeMirror's own focus.
pub fn focus_editor_in(el: &web_sys::Element) -> bool {
    let root = if el.matches(".cm-riffle").unwrap_or(false) {
        Some(el.clone())
    } else {
        el.query_selector(".cm-riffle").ok().flatten()
    };
    let Some(root) = root else { return false };
    if let Ok(handle) = js_sys::Reflect::get(&root, &JsValue::from_str("riffleEditor"))
        && !handle.is_undefined()
    {
        handle.unchecked_into::<EditorHandle>().focus();
        return true;
    }
    match root.query_selector(".cm-content").ok().flatten().and_then(|c| c.dyn_into::<web_sys::HtmlElement>().ok()) {
        Some(content) => content.focus().is_ok(),
        None => false,
    }
}

fn js_error_text(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("{e:?}"))
}
