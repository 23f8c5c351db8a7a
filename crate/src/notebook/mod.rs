//! The notebook document: an ordered list of cells with stable ids.
//!
//! The model is independent of any file format; it round-trips losslessly
//! through serde and through the plain-text format ([`to_text`],
//! [`from_text`]). Sharing formats carry outputs too: a Jupyter notebook
//! ([`to_ipynb`], [`from_ipynb`]) and a self-contained web page ([`to_html`]).

mod html;
mod ipynb;
mod output;
mod text;

pub use html::to_html;
pub use ipynb::{from_ipynb, to_ipynb};
pub use output::{CellOutput, TableOutput};
pub use text::{TEXT_EXTENSION, from_text, to_text};

use serde::{Deserialize, Serialize};

/// A notebook file that cannot be read: what is wrong, where (a 1-based line
/// of a text file, when there is one), and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct FormatError {
    pub line: Option<usize>,
    pub message: String,
}

impl FormatError {
    pub(crate) fn at(line: usize, message: impl Into<String>) -> FormatError {
        FormatError { line: Some(line), message: message.into() }
    }
    pub(crate) fn new(message: impl Into<String>) -> FormatError {
        FormatError { line: None, message: message.into() }
    }
}

/// A cell's stable id. It never changes when cells move, so a cell's default
/// table name (`cell_3`) stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CellId(pub u64);

impl std::fmt::Display for CellId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellKind {
    Sql,
    Markdown,
    Chart,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cell {
    pub id: CellId,
    pub kind: CellKind,
    /// The table the cell's result is registered as; `cell_<id>` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub source: String,
}

impl Cell {
    /// The name of the cell's result table.
    pub fn table_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| default_table_name(self.id))
    }
}

/// `cell_<id>`: the table name of a cell that does not name its result.
pub fn default_table_name(id: CellId) -> String {
    format!("cell_{}", id.0)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notebook {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub cells: Vec<Cell>,
    /// The text file's front matter lines other than `title:`, as written
    /// (without their newline); never `---`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub front_matter: Vec<String>,
}

impl Notebook {
    pub fn new() -> Notebook {
        Notebook::default()
    }

    /// An id no cell has yet.
    fn fresh_id(&self) -> CellId {
        CellId(self.cells.iter().map(|c| c.id.0).max().unwrap_or(0) + 1)
    }

    /// Inserts a cell at `index` (clamped to the end) and returns its id.
    pub fn insert(&mut self, index: usize, kind: CellKind, source: impl Into<String>) -> CellId {
        let id = self.fresh_id();
        let index = index.min(self.cells.len());
        self.cells.insert(index, Cell { id, kind, name: None, source: source.into() });
        id
    }

    /// Appends a cell and returns its id.
    pub fn push(&mut self, kind: CellKind, source: impl Into<String>) -> CellId {
        self.insert(self.cells.len(), kind, source)
    }

    pub fn position(&self, id: CellId) -> Option<usize> {
        self.cells.iter().position(|c| c.id == id)
    }

    pub fn get(&self, id: CellId) -> Option<&Cell> {
        self.cells.iter().find(|c| c.id == id)
    }

    pub fn get_mut(&mut self, id: CellId) -> Option<&mut Cell> {
        self.cells.iter_mut().find(|c| c.id == id)
    }

    pub fn remove(&mut self, id: CellId) -> Option<Cell> {
        let at = self.position(id)?;
        Some(self.cells.remove(at))
    }

    /// Moves a cell to `index` (clamped); returns whether it exists.
    pub fn move_to(&mut self, id: CellId, index: usize) -> bool {
        let Some(cell) = self.remove(id) else {
            return false;
        };
        let index = index.min(self.cells.len());
        self.cells.insert(index, cell);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_round_trip() {
        let mut nb = Notebook::new();
        let a = nb.push(CellKind::Markdown, "# Trips");
        let b = nb.push(CellKind::Sql, "SELECT 1");
        let c = nb.insert(1, CellKind::Chart, "kind: bar");
        assert_eq!((a, b, c), (CellId(1), CellId(2), CellId(3)));
        assert!(nb.move_to(b, 0));
        assert_eq!(nb.cells.iter().map(|c| c.id.0).collect::<Vec<_>>(), [2, 1, 3]);
        nb.get_mut(c).unwrap().name = Some("chart".into());
        assert_eq!(nb.get(b).unwrap().table_name(), "cell_2");
        nb.remove(a);
        assert_eq!(nb.push(CellKind::Sql, ""), CellId(4));

        let text = serde_json::to_string(&nb).unwrap();
        assert_eq!(serde_json::from_str::<Notebook>(&text).unwrap(), nb);
    }
}
