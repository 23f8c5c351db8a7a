//! `PIVOT (agg FOR col IN (v1, v2 AS name))` and `UNPIVOT`.

use sqlparser::ast::TableFactor;

use super::plan::Planner;
use super::scope::Rel;
use super::typed::{SqlResult, refuse};

pub(crate) fn pivot_factor(planner: &Planner<'_>, factor: &TableFactor) -> SqlResult<Rel> {
    let _ = planner;
    let _ = factor;
    Err(refuse("PIVOT and UNPIVOT are not supported in the tab yet", "write one SUM(CASE WHEN col = v THEN x END) AS v per value, and GROUP BY the other columns"))
}
