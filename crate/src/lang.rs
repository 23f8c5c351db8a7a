//! The cell language's header: `--` directives on a cell's first lines.
//!
//! ```sql
//! -- name: purchases
//! SELECT * FROM events WHERE event_type = 'purchase_sword'
//! ```

/// The directives a cell's leading comment lines set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- name: t`: the table the cell's result is registered as.
    pub name: Option<String>,
}

impl Directives {
    /// Reads `-- key: value` lines from the top of a cell, stopping at the
    /// first line that is neither blank nor a comment.
    pub fn parse(source: &str) -> Directives {
        let mut directives = Directives::default();
        for line in source.lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some(comment) = line.strip_prefix("--") else {
                break;
            };
            let Some((key, value)) = comment.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if key.trim().eq_ignore_ascii_case("name") && is_identifier(value) {
                directives.name = Some(value.to_string());
            }
        }
        directives
    }
}

/// A plain SQL identifier: a letter or `_`, then letters, digits or `_`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_directive() {
        let d = Directives::parse("\n-- name: purchases\n-- a note\nSELECT 1\n-- name: later");
        assert_eq!(d.name.as_deref(), Some("purchases"));
        assert_eq!(Directives::parse("SELECT 1").name, None);
        assert_eq!(Directives::parse("-- name: not valid!\nSELECT 1").name, None);
    }
}
