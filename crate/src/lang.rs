//! The cell language's header: `--` directives on a cell's first lines.
//!
//! ```sql
//! -- name: purchases
//! SELECT * FROM events WHERE event_type = 'purchase_sword'
//! ```
//!
//! `-- engine: spark` hands the cell to Spark Connect through the gateway;
//! `-- max_rows: 500000` sets how many of its rows come back (the row cap).

/// The directives a cell's leading comment lines set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directives {
    /// `-- name: t`: the table the cell's result is registered as.
    pub name: Option<String>,
    /// `-- engine: spark` (or `browser`, the default).
    pub engine: Engine,
    /// `-- max_rows: N`: the row cap for a result computed elsewhere (Spark).
    pub max_rows: Option<u64>,
    /// Directive lines that could not be understood: (line, message).
    pub problems: Vec<(u32, String)>,
}

/// Where a SQL cell runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Engine {
    /// Polars, in the notebook's Web Worker.
    #[default]
    Browser,
    /// A Spark cluster, through the gateway's Spark Connect client.
    Spark,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Browser => "browser",
            Engine::Spark => "spark",
        }
    }
}

impl Directives {
    /// Reads `-- key: value` lines from the top of a cell, stopping at the
    /// first line that is neither blank nor a comment.
    pub fn parse(source: &str) -> Directives {
        let mut directives = Directives::default();
        for (index, line) in source.lines().enumerate() {
            let number = index as u32 + 1;
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
            let key = key.trim().to_ascii_lowercase();
            match key.as_str() {
                "name" if is_identifier(value) => directives.name = Some(value.to_string()),
                "engine" => match value.to_ascii_lowercase().as_str() {
                    "spark" => directives.engine = Engine::Spark,
                    "browser" | "polars" | "local" => directives.engine = Engine::Browser,
                    _ => directives.problems.push((
                        number,
                        format!("-- engine: {value} is not an engine; write -- engine: spark or -- engine: browser"),
                    )),
                },
                "max_rows" | "max-rows" => match value.replace(['_', ','], "").parse::<u64>() {
                    Ok(n) if n > 0 => directives.max_rows = Some(n),
                    _ => directives.problems.push((
                        number,
                        format!(
                            "-- max_rows: {value} is not a row count; write a whole number such as -- max_rows: 500000"
                        ),
                    )),
                },
                _ => {}
            }
        }
        directives
    }

    /// The text with `-- engine: spark` set (`on`) or removed, keeping every
    /// other line as typed: the UI's Spark toggle edits the cell this way.
    pub fn with_engine(source: &str, engine: Engine) -> String {
        let mut out = String::new();
        if engine == Engine::Spark {
            out.push_str("-- engine: spark\n");
        }
        let mut header = true;
        // Each line with its own ending, so blank lines and `\r\n` stay as typed.
        for line in source.split_inclusive('\n') {
            let trimmed = line.trim();
            if header && !trimmed.is_empty() && !trimmed.starts_with("--") {
                header = false;
            }
            let is_engine = header
                && trimmed
                    .strip_prefix("--")
                    .and_then(|c| c.split_once(':'))
                    .is_some_and(|(k, _)| k.trim().eq_ignore_ascii_case("engine"));
            if !is_engine {
                out.push_str(line);
            }
        }
        out
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

    #[test]
    fn engine_and_row_cap_directives() {
        let d = Directives::parse("-- name: big\n-- engine: Spark\n-- max_rows: 250_000\nSELECT 1");
        assert_eq!((d.engine, d.max_rows, d.problems.len()), (Engine::Spark, Some(250_000), 0));
        assert_eq!(Directives::parse("SELECT 1\n-- engine: spark").engine, Engine::Browser);
        let bad = Directives::parse("-- engine: hive\n-- max_rows: lots\nSELECT 1");
        assert_eq!(bad.engine, Engine::Browser);
        assert_eq!(bad.problems.iter().map(|p| p.0).collect::<Vec<_>>(), vec![1, 2]);
        assert!(bad.problems[0].1.contains("-- engine: spark"), "{:?}", bad.problems);
    }

    #[test]
    fn the_spark_toggle_edits_only_the_engine_line() {
        let on = Directives::with_engine("-- name: t\nSELECT 1 -- engine: x\n", Engine::Spark);
        assert_eq!(on, "-- engine: spark\n-- name: t\nSELECT 1 -- engine: x\n");
        assert_eq!(Directives::parse(&on).engine, Engine::Spark);
        assert_eq!(Directives::with_engine(&on, Engine::Spark), on);
        let off = Directives::with_engine(&on, Engine::Browser);
        assert_eq!(off, "-- name: t\nSELECT 1 -- engine: x\n");
        assert_eq!(Directives::with_engine("SELECT 2", Engine::Spark), "-- engine: spark\nSELECT 2");
        // Blank lines and line endings stay, however often the switch is pressed
        // (each press used to drop one trailing blank line).
        let typed = "-- name: t\r\n\nSELECT 3\n\n\n";
        let on = Directives::with_engine(typed, Engine::Spark);
        assert_eq!(on, format!("-- engine: spark\n{typed}"));
        assert_eq!(Directives::with_engine(&on, Engine::Spark), on);
        assert_eq!(Directives::with_engine(&on, Engine::Browser), typed);
        assert_eq!(Directives::with_engine("\n\n", Engine::Spark), "-- engine: spark\n\n\n");
    }
}
