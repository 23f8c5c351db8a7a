//! Riffle's core: the notebook document, the cell language, the engine and the
//! wire protocol between the UI and the engine worker.
//!
//! This crate does no IO. When a cell needs bytes (a file, a Kafka range) the
//! engine names a [`engine::SourceRequest`]; the host (the browser worker, or a
//! native test) fetches the bytes and hands them back. It builds both natively
//! and for `wasm32-unknown-unknown`.

pub mod chart;
pub mod error;
pub mod ipc_progress;
pub mod lang;
pub mod markdown;
pub mod notebook;
pub mod paths;
pub mod protocol;
pub mod spark;
pub mod text;

#[cfg(feature = "engine")]
pub mod bench;
#[cfg(feature = "engine")]
pub mod engine;

pub use error::{CellError, Location};
