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

/// How many crashes in a row the UI answers with a new engine worker.
///
/// A panic kills the worker's wasm instance; the UI replaces the worker and
/// rebuilds the catalog, as Stop does. The cell that crashed is not re-run,
/// so the same crash does not come back by itself; but if crashes keep
/// coming (`MAX` within `WINDOW_MS`), the engine is left stopped and the
/// cells say so, rather than restarting forever.
#[derive(Debug, Default, Clone)]
pub struct CrashRestarts {
    /// When the recent crashes happened (ms since the epoch).
    times: Vec<f64>,
}

impl CrashRestarts {
    pub const MAX: usize = 3;
    pub const WINDOW_MS: f64 = 60_000.0;

    /// Records a crash at `now_ms`; whether to start a new worker.
    pub fn restart_after_crash(&mut self, now_ms: f64) -> bool {
        self.times.retain(|t| now_ms - t < Self::WINDOW_MS);
        self.times.push(now_ms);
        self.times.len() <= Self::MAX
    }
}

#[cfg(test)]
mod tests {
    use super::CrashRestarts;

    #[test]
    fn crashes_restart_until_they_come_too_often() {
        let mut crashes = CrashRestarts::default();
        assert!(crashes.restart_after_crash(1_000.0));
        assert!(crashes.restart_after_crash(2_000.0));
        assert!(crashes.restart_after_crash(3_000.0));
        assert!(!crashes.restart_after_crash(4_000.0), "a fourth crash within a minute stops");
        // Once the earlier ones are a minute old, a crash restarts again.
        let mut spaced = CrashRestarts::default();
        for i in 0..10 {
            assert!(spaced.restart_after_crash(i as f64 * 30_000.0), "crash {i}");
        }
    }
}
