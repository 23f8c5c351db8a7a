//! What a query's names refer to: the columns of a relation, each with the
//! table names that qualify it and the internal column it lives in.

use std::sync::atomic::{AtomicUsize, Ordering};

use polars::prelude::*;

use super::typed::{SqlResult, Typed, refuse};
use crate::CellError;

/// A column the query can name.
#[derive(Debug, Clone)]
pub(crate) struct ColRef {
    /// The table names (lowercase) that qualify it: `t` in `t.fare`.
    pub qual: Vec<String>,
    /// The name the user sees.
    pub name: String,
    /// The column of the frame that holds it (unique in the plan).
    pub id: String,
    pub dtype: DataType,
    /// Left out of `*` (the right side's copy of a USING column).
    pub hidden: bool,
}

impl ColRef {
    pub fn typed(&self) -> Typed {
        Typed::new(col(self.id.as_str()), self.dtype.clone())
    }
}

/// A relation being planned: a lazy frame whose columns are the internal ids.
#[derive(Clone)]
pub(crate) struct Rel {
    pub lf: LazyFrame,
    pub cols: Vec<ColRef>,
}

static NEXT_ID: AtomicUsize = AtomicUsize::new(0);

/// A fresh internal column name.
pub(crate) fn fresh(prefix: &str) -> String {
    format!("__{prefix}{}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

impl Rel {
    /// A frame as a relation: its columns get fresh ids, qualified by `qual`.
    pub fn from_frame(lf: LazyFrame, schema: &Schema, qual: Option<&str>) -> Rel {
        let mut cols = Vec::new();
        let mut exprs = Vec::new();
        for (name, dtype) in schema.iter() {
            let id = fresh("c");
            exprs.push(col(name.clone()).alias(id.as_str()));
            cols.push(ColRef {
                qual: qual.map(|q| vec![q.to_lowercase()]).unwrap_or_default(),
                name: name.to_string(),
                id,
                dtype: dtype.clone(),
                hidden: false,
            });
        }
        let lf = if exprs.is_empty() { lf } else { lf.select(exprs) };
        Rel { lf, cols }
    }

    /// Renames the qualifier of every column (`FROM (...) AS t`, `FROM trips t`).
    pub fn requalify(mut self, qual: &str) -> Rel {
        for c in &mut self.cols {
            c.qual = vec![qual.to_lowercase()];
        }
        self
    }
}

/// Resolves `a`, `t.a` or `t.a.field...`: the column and the struct fields after it.
pub(crate) fn resolve<'a>(cols: &'a [ColRef], parts: &[String]) -> SqlResult<Option<(&'a ColRef, Vec<String>)>> {
    let lower: Vec<String> = parts.iter().map(|p| p.to_lowercase()).collect();
    // Internal names, which the planner writes into rewritten expressions.
    if parts[0].starts_with("__")
        && let Some(c) = cols.iter().find(|c| c.id == parts[0])
    {
        return Ok(Some((c, parts[1..].to_vec())));
    }
    if lower.len() >= 2 {
        let qualified: Vec<&ColRef> =
            cols.iter().filter(|c| c.qual.contains(&lower[0]) && c.name.to_lowercase() == lower[1]).collect();
        if qualified.len() == 1 {
            return Ok(Some((qualified[0], parts[2..].to_vec())));
        }
        if qualified.len() > 1 {
            return Err(ambiguous(&parts[..2].join(".")));
        }
    }
    let plain: Vec<&ColRef> = cols.iter().filter(|c| c.name.to_lowercase() == lower[0]).collect();
    // The two copies of a USING column: the visible one.
    let visible: Vec<&ColRef> = plain.iter().copied().filter(|c| !c.hidden).collect();
    let plain = if plain.len() > 1 && visible.len() == 1 { visible } else { plain };
    match plain.len() {
        0 => Ok(None),
        1 => Ok(Some((plain[0], parts[1..].to_vec()))),
        _ => Err(ambiguous(&parts[0])),
    }
}

fn ambiguous(name: &str) -> CellError {
    refuse(
        format!("the column name {name} is ambiguous: more than one table in FROM has it (AMBIGUOUS_REFERENCE)"),
        format!("qualify it with its table's name or alias, such as t.{name}"),
    )
}
