//! The session's `spark.sql.ansi.enabled` while a query is planned, and
//! what a cast does with a value that does not convert under it: fail (ANSI),
//! NULL (`try_cast`), or NULL counted for the cell's note (legacy).

use std::cell::{Cell, RefCell};
use std::sync::{Arc, Mutex};

use polars::prelude::*;

use super::typed::{Typed, map_columns, refuse};

/// How a cast treats a value that does not convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Spark's ANSI CAST: the query fails.
    Ansi,
    /// `try_cast`: NULL.
    Try,
    /// CAST with `spark.sql.ansi.enabled=false`: Spark's legacy rules
    /// (NULL, counted for the cell's note; narrowing integers wrap).
    Legacy,
}

impl Mode {
    /// `strict` casts (CAST and Spark's implicit casts) follow the session's
    /// `spark.sql.ansi.enabled`; the others are `try_cast`.
    pub(crate) fn of(strict: bool) -> Mode {
        match (strict, session_ansi()) {
            (false, _) => Mode::Try,
            (true, true) => Mode::Ansi,
            (true, false) => Mode::Legacy,
        }
    }
}

thread_local! {
    /// `spark.sql.ansi.enabled` of the query being planned (planning runs on
    /// one thread; what runs later captures its [`Mode`]).
    static SESSION_ANSI: Cell<bool> = const { Cell::new(true) };
    /// The NULLs each legacy cast of the query made, for the cell's notes.
    static TALLIES: RefCell<Vec<Arc<Tally>>> = const { RefCell::new(Vec::new()) };
}

/// Whether the query being planned runs with `spark.sql.ansi.enabled=true`.
pub(crate) fn session_ansi() -> bool {
    SESSION_ANSI.with(Cell::get)
}

/// The refusal of what Spark answers differently with ANSI off.
pub(crate) fn legacy_refusal(what: &str) -> crate::CellError {
    refuse(
        format!("{what} under spark.sql.ansi.enabled=false is not supported in the browser engine"),
        "run the cell on Spark (-- engine: spark), or SET spark.sql.ansi.enabled = true",
    )
}

/// The session's `spark.sql.ansi.enabled` while a query is planned and run;
/// [`AnsiScope::notes`] then says how many NULLs its casts made.
pub(crate) struct AnsiScope {
    previous: bool,
}

impl AnsiScope {
    pub(crate) fn enter(ansi: bool) -> AnsiScope {
        let previous = SESSION_ANSI.with(|c| c.replace(ansi));
        TALLIES.with(|t| t.borrow_mut().clear());
        AnsiScope { previous }
    }

    /// One note per cast that made NULLs (the same note once):
    /// "CAST made 3 NULLs from values that do not convert to INT (first: '12x')".
    pub(crate) fn notes(&self) -> Vec<String> {
        let tallies = TALLIES.with(|t| std::mem::take(&mut *t.borrow_mut()));
        let mut out: Vec<String> = Vec::new();
        for tally in tallies {
            let (nulls, first) = tally.counts.lock().map(|c| c.clone()).unwrap_or_default();
            if nulls == 0 {
                continue;
            }
            let to = &tally.to;
            let (count, values) = if nulls == 1 {
                ("a NULL".to_string(), "a value that does not")
            } else {
                (format!("{nulls} NULLs"), "values that do not")
            };
            let first = first.map(|f| format!(" (first: '{f}')")).unwrap_or_default();
            let note = format!("CAST made {count} from {values} convert to {to}{first} (spark.sql.ansi.enabled=false)");
            // Two casts of the same values say the same.
            if !out.contains(&note) {
                out.push(note);
            }
        }
        out
    }
}

impl Drop for AnsiScope {
    fn drop(&mut self) {
        SESSION_ANSI.with(|c| c.set(self.previous));
        TALLIES.with(|t| t.borrow_mut().clear());
    }
}

/// The NULLs one legacy cast made, and the first value that did not convert.
struct Tally {
    to: String,
    counts: Mutex<(usize, Option<String>)>,
}

/// `converted` (the cast of `original`), counting for the cell's note the
/// rows where a value became NULL, when the mode is [`Mode::Legacy`].
pub(crate) fn counted(converted: Typed, original: Expr, mode: Mode) -> Typed {
    if mode != Mode::Legacy {
        return converted;
    }
    let tally = Arc::new(Tally {
        to: super::super::output::spark_type_name(&converted.dtype).to_uppercase(),
        counts: Mutex::new((0, None)),
    });
    TALLIES.with(|t| t.borrow_mut().push(tally.clone()));
    let out = converted.dtype.clone();
    let expr = map_columns(
        vec![converted.expr, original.cast(DataType::String)],
        out.clone(),
        move |columns: &mut [Column]| {
            let out = columns[0].as_materialized_series();
            let input = columns[1].as_materialized_series().str()?.clone();
            let made = out.is_null();
            let mut first = None;
            let mut nulls = 0;
            for (i, made) in made.into_iter().enumerate() {
                let at = if input.len() == 1 { 0 } else { i };
                if made == Some(true)
                    && let Some(text) = input.get(at)
                {
                    nulls += 1;
                    if first.is_none() {
                        first = Some(text.chars().take(80).collect::<String>());
                    }
                }
            }
            // Polars may hand a column over in pieces: the counts add up.
            if nulls > 0
                && let Ok(mut counts) = tally.counts.lock()
            {
                counts.0 += nulls;
                if counts.1.is_none() {
                    counts.1 = first;
                }
            }
            Ok(std::mem::take(&mut columns[0]))
        },
    );
    Typed::new(expr, out)
}
