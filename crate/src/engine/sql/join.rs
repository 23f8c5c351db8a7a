//! FROM items and joins: equi-join keys from the ON condition (`=` and the
//! NULL-safe `<=>`), the rest as a residual condition; USING and NATURAL;
//! LEFT/RIGHT/FULL outer joins with residual conditions through row ids;
//! LEFT SEMI and LEFT ANTI.

use std::ops::ControlFlow;

use polars::prelude::*;
use sqlparser::ast::{self, BinaryOperator, Expr as E, JoinConstraint, JoinOperator, Visit, Visitor};

use super::cast::{common, widen};
use super::expr::{Tr, mismatch};
use super::plan::Planner;
use super::scope::{ColRef, Rel, fresh, resolve};
use super::typed::{SqlResult, refuse};

pub(crate) fn from_item(planner: &Planner<'_>, twj: &ast::TableWithJoins) -> SqlResult<Rel> {
    let mut rel = planner.factor(&twj.relation)?;
    for j in &twj.joins {
        let right = planner.factor(&j.relation)?;
        rel = join(planner, rel, right, &j.join_operator)?;
    }
    Ok(rel)
}

pub(crate) fn cross(l: Rel, r: Rel) -> Rel {
    let mut cols = l.cols;
    cols.extend(r.cols);
    Rel { lf: l.lf.cross_join(r.lf, None), cols }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum How {
    Inner,
    Left,
    Right,
    Full,
    Semi,
    Anti,
}

fn join(planner: &Planner<'_>, l: Rel, r: Rel, op: &JoinOperator) -> SqlResult<Rel> {
    let (how, constraint) = match op {
        JoinOperator::Join(c) | JoinOperator::Inner(c) => (How::Inner, c),
        JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (How::Left, c),
        JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (How::Right, c),
        JoinOperator::FullOuter(c) => (How::Full, c),
        JoinOperator::Semi(c) | JoinOperator::LeftSemi(c) => (How::Semi, c),
        JoinOperator::Anti(c) | JoinOperator::LeftAnti(c) => (How::Anti, c),
        JoinOperator::CrossJoin(JoinConstraint::None) => return Ok(cross(l, r)),
        other => {
            return Err(refuse(
                format!("the join {other:?} is not supported in the tab").chars().take(120).collect::<String>(),
                "use [INNER|LEFT|RIGHT|FULL|LEFT SEMI|LEFT ANTI|CROSS] JOIN",
            ));
        }
    };
    let using: Option<Vec<String>> = match constraint {
        JoinConstraint::Using(names) => {
            Some(names.iter().map(|n| n.to_string().trim_matches('`').to_string()).collect())
        }
        JoinConstraint::Natural => Some(
            l.cols
                .iter()
                .filter(|c| !c.hidden && r.cols.iter().any(|d| !d.hidden && d.name.eq_ignore_ascii_case(&c.name)))
                .map(|c| c.name.clone())
                .collect(),
        ),
        _ => None,
    };
    if let Some(names) = using {
        return join_using(planner, l, r, how, &names);
    }
    let condition = match constraint {
        JoinConstraint::On(e) => Some(e.clone()),
        JoinConstraint::None if how == How::Inner => None,
        JoinConstraint::None => {
            return Err(refuse(
                format!("a {how:?} JOIN needs ON or USING"),
                "write LEFT JOIN z ON t.zone_id = z.zone_id",
            ));
        }
        _ => {
            return Err(refuse(
                "this join condition (USING ... AS alias) is not Spark SQL",
                "write ON a = b or USING (col)",
            ));
        }
    };
    let mut conjuncts = Vec::new();
    if let Some(c) = &condition {
        split_and(c, &mut conjuncts);
    }
    let mut keys: Vec<(E, E, bool)> = Vec::new();
    let mut residual: Vec<E> = Vec::new();
    for c in conjuncts {
        if let E::BinaryOp { left, op, right } = strip(&c)
            && matches!(op, BinaryOperator::Eq | BinaryOperator::Spaceship)
        {
            let null_safe = matches!(op, BinaryOperator::Spaceship);
            match (side(left, &l, &r)?, side(right, &l, &r)?) {
                (Side::Left, Side::Right) => {
                    keys.push(((**left).clone(), (**right).clone(), null_safe));
                    continue;
                }
                (Side::Right, Side::Left) => {
                    keys.push(((**right).clone(), (**left).clone(), null_safe));
                    continue;
                }
                _ => {}
            }
        }
        residual.push(c);
    }
    // Keys are all NULL-safe or all not; a mix keeps the NULL-safe ones as conditions.
    let any_strict = keys.iter().any(|k| !k.2);
    if any_strict {
        for k in keys.iter().filter(|k| k.2) {
            residual.push(E::BinaryOp {
                left: Box::new(k.0.clone()),
                op: BinaryOperator::Spaceship,
                right: Box::new(k.1.clone()),
            });
        }
        keys.retain(|k| !k.2);
    }
    let nulls_equal = !keys.is_empty() && !any_strict;
    execute(planner, l, r, how, &keys, &residual, nulls_equal)
}

fn strip(e: &E) -> &E {
    match e {
        E::Nested(inner) => strip(inner),
        other => other,
    }
}

fn split_and(e: &E, out: &mut Vec<E>) {
    match strip(e) {
        E::BinaryOp { left, op: BinaryOperator::And, right } => {
            split_and(left, out);
            split_and(right, out);
        }
        other => out.push(other.clone()),
    }
}

#[derive(PartialEq, Debug)]
enum Side {
    None,
    Left,
    Right,
    Both,
}

struct Names(Vec<Vec<String>>, usize);

impl Visitor for Names {
    type Break = ();
    fn pre_visit_query(&mut self, _: &ast::Query) -> ControlFlow<()> {
        self.1 += 1;
        ControlFlow::Continue(())
    }
    fn post_visit_query(&mut self, _: &ast::Query) -> ControlFlow<()> {
        self.1 -= 1;
        ControlFlow::Continue(())
    }
    fn pre_visit_expr(&mut self, e: &E) -> ControlFlow<()> {
        if self.1 == 0 {
            match e {
                E::Identifier(i) => self.0.push(vec![i.value.clone()]),
                E::CompoundIdentifier(ps) => self.0.push(ps.iter().map(|p| p.value.clone()).collect()),
                _ => {}
            }
        }
        ControlFlow::Continue(())
    }
}

fn side(e: &E, l: &Rel, r: &Rel) -> SqlResult<Side> {
    let mut names = Names(Vec::new(), 0);
    let _ = e.visit(&mut names);
    let mut out = Side::None;
    for n in names.0 {
        let in_l = resolve(&l.cols, &n).ok().flatten().is_some();
        let in_r = resolve(&r.cols, &n).ok().flatten().is_some();
        let s = match (in_l, in_r) {
            (true, false) => Side::Left,
            (false, true) => Side::Right,
            (true, true) => Side::Both,
            (false, false) => Side::None,
        };
        out = match (out, s) {
            (Side::None, s) => s,
            (o, Side::None) => o,
            (a, b) if a == b => a,
            _ => Side::Both,
        };
    }
    Ok(out)
}

fn execute(
    planner: &Planner<'_>,
    l: Rel,
    r: Rel,
    how: How,
    keys: &[(E, E, bool)],
    residual: &[E],
    nulls_equal: bool,
) -> SqlResult<Rel> {
    let tl = Tr { frame: Some(&l.lf), ..Tr::new(planner, &l.cols) };
    let trr = Tr { frame: Some(&r.lf), ..Tr::new(planner, &r.cols) };
    let mut lk = Vec::new();
    let mut rk = Vec::new();
    let mut lkeys = Vec::new();
    let mut rkeys = Vec::new();
    for (a, b, _) in keys {
        let x = tl.expr(a)?;
        let y = trr.expr(b)?;
        let t = common(&x.dtype, &y.dtype).ok_or_else(|| mismatch(&format!("ON {a} = {b}"), &x.dtype, &y.dtype))?;
        let (lid, rid) = (fresh("jl"), fresh("jr"));
        lk.push(widen(x, &t)?.expr.alias(lid.as_str()));
        rk.push(widen(y, &t)?.expr.alias(rid.as_str()));
        lkeys.push(col(lid.as_str()));
        rkeys.push(col(rid.as_str()));
    }
    let mut all_cols: Vec<ColRef> = l.cols.clone();
    all_cols.extend(r.cols.iter().cloned());
    let cond = if residual.is_empty() {
        None
    } else {
        let tr = Tr::new(planner, &all_cols);
        let mut c: Option<Expr> = None;
        for e in residual {
            let b = tr.condition(e)?.expr;
            c = Some(match c {
                None => b,
                Some(x) => x.and(b),
            });
        }
        c
    };
    let left = if lk.is_empty() { l.lf.clone() } else { l.lf.clone().with_columns(lk) };
    let right = if rk.is_empty() { r.lf.clone() } else { r.lf.clone().with_columns(rk) };
    let left_ids: Vec<Expr> = l.cols.iter().map(|c| col(c.id.as_str())).collect();
    let right_ids: Vec<Expr> = r.cols.iter().map(|c| col(c.id.as_str())).collect();
    let args = |h: JoinType| JoinArgs { nulls_equal, coalesce: JoinCoalesce::KeepColumns, ..JoinArgs::new(h) };
    // Matching pairs (inner join plus the residual condition).
    let pairs = |left: LazyFrame, right: LazyFrame| -> LazyFrame {
        let joined = if lkeys.is_empty() {
            left.cross_join(right, None)
        } else {
            left.join(right, lkeys.clone(), rkeys.clone(), args(JoinType::Inner))
        };
        match &cond {
            Some(c) => joined.filter(c.clone()),
            None => joined,
        }
    };
    let out_cols = |semi: bool| if semi { l.cols.clone() } else { all_cols.clone() };
    let lf = match how {
        How::Inner => pairs(left, right),
        How::Left | How::Right | How::Full | How::Semi | How::Anti if cond.is_none() && !lkeys.is_empty() => {
            let h = match how {
                How::Left => JoinType::Left,
                How::Right => JoinType::Right,
                How::Full => JoinType::Full,
                How::Semi => JoinType::Semi,
                _ => JoinType::Anti,
            };
            left.join(right, lkeys.clone(), rkeys.clone(), args(h))
        }
        How::Semi | How::Anti => {
            let li = fresh("li");
            let left = left.with_row_index(li.as_str(), None);
            let matched = pairs(left.clone(), right).select([col(li.as_str())]).unique(None, UniqueKeepStrategy::First);
            let h = if how == How::Semi { JoinType::Semi } else { JoinType::Anti };
            left.join(matched, [col(li.as_str())], [col(li.as_str())], JoinArgs::new(h))
        }
        How::Left | How::Right | How::Full => {
            let li = fresh("li");
            let ri = fresh("ri");
            let left = left.with_row_index(li.as_str(), None);
            let right = right.with_row_index(ri.as_str(), None);
            let matched = pairs(left.clone(), right.clone());
            let mut lsel = left_ids.clone();
            lsel.push(col(li.as_str()));
            let mut rsel = right_ids.clone();
            rsel.push(col(ri.as_str()));
            let mut both = lsel.clone();
            both.extend(rsel.iter().cloned());
            let matched = matched.select(both);
            let unmatched = |side: LazyFrame, id: &str, keep: Vec<Expr>| {
                side.join(matched.clone().select([col(id)]), [col(id)], [col(id)], JoinArgs::new(JoinType::Anti))
                    .select(keep)
            };
            let mut parts = vec![matched.clone()];
            if matches!(how, How::Left | How::Full) {
                parts.push(unmatched(left.clone(), &li, lsel.clone()));
            }
            if matches!(how, How::Right | How::Full) {
                parts.push(unmatched(right.clone(), &ri, rsel.clone()));
            }
            let args = UnionArgs { diagonal: true, ..Default::default() };
            concat(parts, args).map_err(|e| super::typed::polars_error(&e))?
        }
    };
    let semi = matches!(how, How::Semi | How::Anti);
    let cols = out_cols(semi);
    let keep: Vec<Expr> = cols.iter().map(|c| col(c.id.as_str())).collect();
    Ok(Rel { lf: lf.select(keep), cols })
}

fn join_using(planner: &Planner<'_>, l: Rel, r: Rel, how: How, names: &[String]) -> SqlResult<Rel> {
    let mut keys = Vec::new();
    let mut pairs = Vec::new();
    for n in names {
        let lc = resolve(&l.cols, std::slice::from_ref(n))?.map(|(c, _)| c.clone()).ok_or_else(|| {
            refuse(
                format!("USING ({n}): the left side has no column {n} (UNRESOLVED_USING_COLUMN_FOR_JOIN)"),
                "name a column both sides have",
            )
        })?;
        let rc = resolve(&r.cols, std::slice::from_ref(n))?.map(|(c, _)| c.clone()).ok_or_else(|| {
            refuse(
                format!("USING ({n}): the right side has no column {n} (UNRESOLVED_USING_COLUMN_FOR_JOIN)"),
                "name a column both sides have",
            )
        })?;
        keys.push((id_expr(&lc), id_expr(&rc), false));
        pairs.push((lc, rc));
    }
    let joined = execute(planner, l.clone(), r.clone(), how, &keys, &[], false)?;
    if matches!(how, How::Semi | How::Anti) {
        return Ok(joined);
    }
    // The USING columns once, first; each side's copy hidden.
    let mut lf = joined.lf;
    let mut cols: Vec<ColRef> = Vec::new();
    let mut coalesced = Vec::new();
    for (lc, rc) in &pairs {
        let t = common(&lc.dtype, &rc.dtype).unwrap_or(lc.dtype.clone());
        let id = fresh("us");
        let value = match how {
            How::Right => col(rc.id.as_str()).cast(t.clone()),
            How::Full => coalesce(&[col(lc.id.as_str()).cast(t.clone()), col(rc.id.as_str()).cast(t.clone())]),
            _ => col(lc.id.as_str()).cast(t.clone()),
        };
        coalesced.push(value.alias(id.as_str()));
        let mut qual = lc.qual.clone();
        qual.extend(rc.qual.iter().cloned());
        cols.push(ColRef { qual: Vec::new(), name: lc.name.clone(), id, dtype: t, hidden: false });
    }
    lf = lf.with_columns(coalesced);
    let is_key = |c: &ColRef| pairs.iter().any(|(a, b)| a.id == c.id || b.id == c.id);
    for c in l.cols.iter().chain(r.cols.iter()) {
        let mut c = c.clone();
        if is_key(&c) {
            c.hidden = true;
        }
        cols.push(c);
    }
    Ok(Rel { lf, cols })
}

fn id_expr(c: &ColRef) -> E {
    E::Identifier(ast::Ident::with_quote('`', &c.id))
}
