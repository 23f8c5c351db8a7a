//! UNION, INTERSECT and EXCEPT (with ALL): columns matched by position and
//! widened to a common type, names from the left side.

use polars::prelude::*;
use sqlparser::ast::{SetOperator, SetQuantifier};

use super::cast::{common_of, widen};
use super::scope::{ColRef, Rel, fresh};
use super::typed::{SqlResult, polars_error, refuse};

pub(crate) fn set_operation(op: &SetOperator, quantifier: &SetQuantifier, l: Rel, r: Rel) -> SqlResult<Rel> {
    let lc: Vec<&ColRef> = l.cols.iter().filter(|c| !c.hidden).collect();
    let rc: Vec<&ColRef> = r.cols.iter().filter(|c| !c.hidden).collect();
    let word = format!("{op}");
    if lc.len() != rc.len() {
        return Err(refuse(
            format!(
                "{word}: the left side has {} columns and the right side {} (NUM_COLUMNS_MISMATCH)",
                lc.len(),
                rc.len()
            ),
            "select the same number of columns on both sides",
        ));
    }
    let mut lexprs = Vec::new();
    let mut rexprs = Vec::new();
    let mut cols = Vec::new();
    for (a, b) in lc.iter().zip(&rc) {
        let t = common_of(&[&a.dtype, &b.dtype], &word)?;
        let id = fresh("u");
        lexprs.push(widen(a.typed(), &t)?.expr.alias(id.as_str()));
        rexprs.push(widen(b.typed(), &t)?.expr.alias(id.as_str()));
        cols.push(ColRef { qual: Vec::new(), name: a.name.clone(), id, dtype: t, hidden: false });
    }
    let left = l.lf.select(lexprs);
    let right = r.lf.select(rexprs);
    let ids: Vec<Expr> = cols.iter().map(|c| col(c.id.as_str())).collect();
    let all = matches!(quantifier, SetQuantifier::All);
    if !matches!(quantifier, SetQuantifier::All | SetQuantifier::Distinct | SetQuantifier::None) {
        return Err(refuse(
            format!("{word} {quantifier} is not supported in the tab"),
            format!("write {word} or {word} ALL"),
        ));
    }
    let lf = match op {
        SetOperator::Union => {
            let u = concat([left, right], UnionArgs::default()).map_err(|e| polars_error(&e))?;
            if all { u } else { u.unique_stable(None, UniqueKeepStrategy::First) }
        }
        SetOperator::Intersect | SetOperator::Except | SetOperator::Minus => {
            let how = if matches!(op, SetOperator::Intersect) { JoinType::Semi } else { JoinType::Anti };
            let (left, right, keys) = if all {
                // Multisets: the n-th copy of a row matches the n-th copy on the other side.
                let n = fresh("n");
                let number = |lf: LazyFrame| {
                    lf.with_column(int_range(lit(0), len(), 1, DataType::Int64).over(ids.clone()).alias(n.as_str()))
                };
                let mut keys = ids.clone();
                keys.push(col(n.as_str()));
                (number(left), number(right), keys)
            } else {
                (left.unique_stable(None, UniqueKeepStrategy::First), right, ids.clone())
            };
            let args = JoinArgs { nulls_equal: true, ..JoinArgs::new(how) };
            left.join(right, keys.clone(), keys, args).select(ids.clone())
        }
    };
    Ok(Rel { lf, cols })
}
