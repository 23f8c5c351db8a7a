//! Code shared by the two browser binaries: the envelope that carries a
//! protocol message between the UI thread and an engine worker.
//!
//! A message is a JS array `[json, buffer]`: the JSON text of a
//! [`riffle::protocol`] message and, for results, an `ArrayBuffer` of Arrow IPC
//! that is transferred (moved), not copied.

pub mod paths;

/// Markdown cells' sanitising renderer, shared with the core's HTML export.
pub use riffle::markdown;

use js_sys::{Array, ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

/// Builds the message and the transfer list for `postMessage`.
pub fn envelope(json: &str, bytes: Option<&[u8]>) -> (Array, Array) {
    let message = Array::new();
    let transfer = Array::new();
    message.push(&JsValue::from_str(json));
    match bytes {
        Some(bytes) => {
            let view = Uint8Array::new_with_length(bytes.len() as u32);
            view.copy_from(bytes);
            let buffer = view.buffer();
            message.push(&buffer);
            transfer.push(&buffer);
        }
        None => {
            message.push(&JsValue::NULL);
        }
    }
    (message, transfer)
}

/// Opens an envelope: the JSON text and the bytes, if any.
pub fn open(data: &JsValue) -> Option<(String, Option<Vec<u8>>)> {
    let array = data.dyn_ref::<Array>()?;
    let json = array.get(0).as_string()?;
    let bytes = array.get(1).dyn_into::<ArrayBuffer>().ok().map(|b| Uint8Array::new(&b).to_vec());
    Some((json, bytes))
}
