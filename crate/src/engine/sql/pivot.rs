//! `PIVOT (agg [AS a], ... FOR col IN (v1 [AS n1], ...))`: one aggregate per
//! value, grouped by the input's other columns; and `UNPIVOT [INCLUDE NULLS]
//! (value FOR name IN (c1 [AS n1], ...))`.

use std::ops::ControlFlow;

use polars::prelude::*;
use sqlparser::ast::{self, BinaryOperator, Expr as E, TableFactor, Visit, Visitor};

use super::cast::{common_of, widen};
use super::expr::{Tr, auto_name, key};
use super::group::aggregate_call;
use super::plan::Planner;
use super::scope::{ColRef, Rel, fresh, resolve};
use super::typed::{SqlResult, polars_error, refuse};

struct Columns(Vec<Vec<String>>);

impl Visitor for Columns {
    type Break = ();
    fn pre_visit_expr(&mut self, e: &E) -> ControlFlow<()> {
        match e {
            E::Identifier(i) => self.0.push(vec![i.value.clone()]),
            E::CompoundIdentifier(ps) => self.0.push(ps.iter().map(|p| p.value.clone()).collect()),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn value_name(e: &ast::ExprWithAlias) -> String {
    match &e.alias {
        Some(a) => a.value.clone(),
        None => auto_name(&e.expr),
    }
}

pub(crate) fn pivot_factor(planner: &Planner<'_>, factor: &TableFactor) -> SqlResult<Rel> {
    match factor {
        TableFactor::Pivot { table, aggregate_functions, value_column, value_source, default_on_null, alias } => {
            if default_on_null.is_some() {
                return Err(refuse(
                    "PIVOT ... DEFAULT ON NULL is not Spark SQL",
                    "wrap the pivoted columns in coalesce(...)",
                ));
            }
            let ast::PivotValueSource::List(values) = value_source else {
                return Err(refuse(
                    "PIVOT ... IN (ANY) or IN (subquery) is not supported",
                    "list the values: FOR col IN ('a', 'b')",
                ));
            };
            let [pivot_col] = value_column.as_slice() else {
                return Err(refuse(
                    "PIVOT over several columns is not supported in the tab",
                    "pivot on one column, or concatenate the columns first",
                ));
            };
            let rel = planner.factor(table)?;
            // The columns the aggregates and the pivot read; the rest are the group keys.
            let mut used = Columns(Vec::new());
            for a in aggregate_functions {
                let _ = a.expr.visit(&mut used);
            }
            let _ = pivot_col.visit(&mut used);
            let mut used_ids = Vec::new();
            for n in &used.0 {
                if let Ok(Some((c, _))) = resolve(&rel.cols, n) {
                    used_ids.push(c.id.clone());
                }
            }
            let keys: Vec<ColRef> =
                rel.cols.iter().filter(|c| !c.hidden && !used_ids.contains(&c.id)).cloned().collect();
            let input = Tr { frame: Some(&rel.lf), ..Tr::new(planner, &rel.cols) };
            let mut aggs = Vec::new();
            let mut cols: Vec<ColRef> = keys.iter().map(|k| ColRef { qual: Vec::new(), ..k.clone() }).collect();
            // Per value and aggregate expression: its aggregates (filtered to the value), then the expression over them.
            let mut finals = Vec::new();
            for v in values {
                for a in aggregate_functions {
                    let found = super::walk::find(&[&a.expr]).aggregates;
                    if found.is_empty() {
                        return Err(refuse(
                            format!("PIVOT ({}): an aggregate is expected", a.expr),
                            "write PIVOT (sum(x) FOR col IN (...))",
                        ));
                    }
                    let matches = E::BinaryOp {
                        left: Box::new(pivot_col.clone()),
                        op: BinaryOperator::Eq,
                        right: Box::new(v.expr.clone()),
                    };
                    let mut subs = Vec::new();
                    for f in found {
                        let mut g = f.clone();
                        g.filter = Some(Box::new(match g.filter.take() {
                            Some(existing) => E::BinaryOp {
                                left: existing,
                                op: BinaryOperator::And,
                                right: Box::new(matches.clone()),
                            },
                            None => matches.clone(),
                        }));
                        let name = g.name.to_string().to_lowercase();
                        let t = aggregate_call(&input, &g, &name)?;
                        let id = fresh("pa");
                        aggs.push(t.expr.alias(id.as_str()));
                        subs.push((key(&E::Function(f.clone())), super::typed::Typed::new(col(id.as_str()), t.dtype)));
                    }
                    let out_name = if aggregate_functions.len() == 1 {
                        value_name(v)
                    } else {
                        format!(
                            "{}_{}",
                            value_name(v),
                            a.alias.as_ref().map(|x| x.value.clone()).unwrap_or_else(|| auto_name(&a.expr))
                        )
                    };
                    finals.push((a.expr.clone(), subs, out_name));
                }
            }
            let lf = if keys.is_empty() {
                rel.lf.select(aggs)
            } else {
                rel.lf.group_by(keys.iter().map(|k| col(k.id.as_str())).collect::<Vec<_>>()).agg(aggs)
            };
            let mut exprs: Vec<Expr> = keys.iter().map(|k| col(k.id.as_str())).collect();
            for (e, subs, out_name) in finals {
                let tr = Tr { subs: &subs, grouped: true, ..Tr::new(planner, &[]) };
                let t = tr.expr(&e)?;
                let id = fresh("pv");
                exprs.push(t.expr.alias(id.as_str()));
                cols.push(ColRef { qual: Vec::new(), name: out_name, id, dtype: t.dtype, hidden: false });
            }
            let lf = lf.select(exprs);
            let out = Rel { lf, cols };
            Ok(match alias {
                Some(a) => out.requalify(&a.name.value),
                None => out,
            })
        }
        TableFactor::Unpivot { table, value, name, columns, null_inclusion, alias } => {
            let rel = planner.factor(table)?;
            let E::Identifier(value_ident) = value else {
                return Err(refuse(
                    "UNPIVOT of several value columns is not supported in the tab",
                    "write UNPIVOT (value FOR name IN (a, b))",
                ));
            };
            let mut picked = Vec::new();
            for c in columns {
                let parts: Vec<String> = match &c.expr {
                    E::Identifier(i) => vec![i.value.clone()],
                    E::CompoundIdentifier(ps) => ps.iter().map(|p| p.value.clone()).collect(),
                    other => {
                        return Err(refuse(
                            format!("UNPIVOT ... IN ({other}): name columns"),
                            "write IN (a, b AS label)",
                        ));
                    }
                };
                let (col_ref, _) = resolve(&rel.cols, &parts)?.ok_or_else(|| {
                    refuse(format!("UNPIVOT: there is no column {}", parts.join(".")), "name columns of the table")
                })?;
                let label = c.alias.as_ref().map(|a| a.value.clone()).unwrap_or_else(|| col_ref.name.clone());
                picked.push((col_ref.clone(), label));
            }
            let t = common_of(&picked.iter().map(|(c, _)| &c.dtype).collect::<Vec<_>>(), "UNPIVOT")?;
            let others: Vec<ColRef> =
                rel.cols.iter().filter(|c| !c.hidden && !picked.iter().any(|(p, _)| p.id == c.id)).cloned().collect();
            let (name_id, value_id) = (fresh("un"), fresh("uv"));
            let mut frames = Vec::new();
            for (c, label) in &picked {
                let mut exprs: Vec<Expr> = others.iter().map(|o| col(o.id.as_str())).collect();
                exprs.push(lit(label.clone()).alias(name_id.as_str()));
                exprs.push(widen(c.typed(), &t)?.expr.alias(value_id.as_str()));
                frames.push(rel.lf.clone().select(exprs));
            }
            let mut lf = concat(frames, UnionArgs::default()).map_err(|e| polars_error(&e))?;
            if !matches!(null_inclusion, Some(ast::NullInclusion::IncludeNulls)) {
                lf = lf.filter(col(value_id.as_str()).is_not_null());
            }
            let mut cols: Vec<ColRef> = others;
            cols.push(ColRef {
                qual: Vec::new(),
                name: name.value.clone(),
                id: name_id,
                dtype: DataType::String,
                hidden: false,
            });
            cols.push(ColRef {
                qual: Vec::new(),
                name: value_ident.value.clone(),
                id: value_id,
                dtype: t,
                hidden: false,
            });
            let out = Rel { lf, cols };
            Ok(match alias {
                Some(a) => out.requalify(&a.name.value),
                None => out,
            })
        }
        _ => Err(refuse("internal: not a PIVOT", "report it")),
    }
}
