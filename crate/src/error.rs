//! Errors written for the person at the keyboard: what went wrong, where in
//! the cell, and what to do about it.

use serde::{Deserialize, Serialize};

/// A position in a cell's source, 1-based like an editor shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub line: u32,
    pub column: u32,
}

/// An error that a cell shows to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct CellError {
    /// One or two sentences: what failed and where.
    pub message: String,
    /// The place in the cell the error points at, when known.
    pub location: Option<Location>,
    /// What the user can do about it, when there is something to say.
    pub hint: Option<String>,
}

impl CellError {
    pub fn new(message: impl Into<String>) -> Self {
        CellError { message: message.into(), location: None, hint: None }
    }

    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Reads the `Line: L, Column: C` that the SQL parser writes into its messages.
    pub fn located_in_message(message: &str) -> Option<Location> {
        let after = |key: &str| -> Option<u32> {
            let start = message.rfind(key)? + key.len();
            let digits: String =
                message[start..].chars().skip_while(|c| *c == ' ').take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        };
        Some(Location { line: after("Line:")?, column: after("Column:")? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parser_positions() {
        let msg = "sql parser error: Expected: end of statement, found: FORM at Line: 2, Column: 10";
        assert_eq!(CellError::located_in_message(msg), Some(Location { line: 2, column: 10 }));
        assert_eq!(CellError::located_in_message("no position here"), None);
    }
}
