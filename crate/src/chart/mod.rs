//! Chart cells: a spec ([`ChartSpec`], plain text the UI can edit) and, with
//! the `engine` feature, its rendering to SVG from a Polars frame.

pub mod spec;

#[cfg(feature = "engine")]
pub mod render;
#[cfg(feature = "engine")]
mod svg;

pub use spec::{Aggregate, ChartKind, ChartSpec};

#[cfg(feature = "engine")]
pub use render::{Chart, render};
