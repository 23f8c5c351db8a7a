//! Queries to lazy frames: FROM, WHERE, GROUP BY, HAVING, windows, QUALIFY,
//! SELECT, DISTINCT, ORDER BY and LIMIT, in the order Spark evaluates them;
//! WITH tables; UNION, INTERSECT and EXCEPT; VALUES.

use std::cell::RefCell;
use std::collections::BTreeMap;

use polars::prelude::*;
use sqlparser::ast::{self, Expr as E, SelectItem, SetExpr, TableFactor};

use super::cast::{common_of, widen};
use super::expr::{Subs, Tr, auto_name, key};
use super::scope::{ColRef, Rel, fresh};
use super::typed::{Cx, SqlResult, Typed, polars_error, refuse};
use super::walk::{Found, find};
use super::{generate, group, join, window};

pub(crate) struct Planner<'a> {
    pub tables: &'a BTreeMap<String, DataFrame>,
    pub cx: Cx,
    /// WITH tables in scope, innermost last.
    ctes: RefCell<Vec<(String, DataFrame)>>,
    /// The scopes of the queries around a subquery being planned, innermost last.
    outer: RefCell<Vec<Vec<ColRef>>>,
    /// Notes for the cell (rows json_parse could not read).
    pub notes: RefCell<Vec<String>>,
}

/// A SELECT list entry after `*` is expanded.
pub(crate) struct Item {
    pub expr: E,
    pub name: String,
    pub explicit_alias: bool,
}

impl<'a> Planner<'a> {
    pub fn new(tables: &'a BTreeMap<String, DataFrame>, cx: Cx) -> Planner<'a> {
        Planner {
            tables,
            cx,
            ctes: RefCell::new(Vec::new()),
            outer: RefCell::new(Vec::new()),
            notes: RefCell::new(Vec::new()),
        }
    }

    /// Runs a query to a frame with the user's column names.
    pub fn run(&self, query: &ast::Query) -> SqlResult<DataFrame> {
        let rel = self.query(query)?;
        output(rel)
    }

    /// A subquery's frame, run now (scalar, IN and EXISTS subqueries).
    pub fn run_subquery(&self, query: &ast::Query, around: &[ColRef]) -> SqlResult<DataFrame> {
        self.outer.borrow_mut().push(around.to_vec());
        let result = self.query(query).and_then(|rel| {
            let exprs: Vec<Expr> = rel.cols.iter().map(|c| col(c.id.as_str())).collect();
            rel.lf.select(exprs).collect().map_err(|e| polars_error(&e))
        });
        self.outer.borrow_mut().pop();
        result
    }

    /// A name that only the query around a subquery has: a correlated reference.
    pub fn outer_column(&self, names: &[String]) -> SqlResult<Option<Typed>> {
        let outer = self.outer.borrow();
        for scope in outer.iter().rev() {
            if super::scope::resolve(scope, names)?.is_some() {
                return Err(refuse(
                    format!(
                        "the subquery refers to {} of the query around it (a correlated subquery), which the tab runs only as EXISTS / IN with equality conditions",
                        names.join(".")
                    ),
                    "rewrite it as a JOIN with a grouped subquery, or run the cell on Spark",
                ));
            }
        }
        Ok(None)
    }

    pub fn query(&self, q: &ast::Query) -> SqlResult<Rel> {
        if q.fetch.is_some()
            || !q.locks.is_empty()
            || !q.pipe_operators.is_empty()
            || q.for_clause.is_some()
            || q.settings.is_some()
            || q.format_clause.is_some()
        {
            return Err(refuse("FETCH, FOR UPDATE and pipe operators are not Spark SQL", "use LIMIT"));
        }
        let pushed = match &q.with {
            Some(with) => {
                if with.recursive {
                    return Err(refuse(
                        "WITH RECURSIVE is not supported in the tab",
                        "unroll it into joins, or run the cell on Spark",
                    ));
                }
                for cte in &with.cte_tables {
                    let rel = self.query(&cte.query)?;
                    let rel = rename_columns(
                        rel,
                        &cte.alias.columns.iter().map(|c| c.name.value.clone()).collect::<Vec<_>>(),
                    )?;
                    let df = output(rel)?;
                    self.ctes.borrow_mut().push((cte.alias.name.value.clone(), df));
                }
                with.cte_tables.len()
            }
            None => 0,
        };
        let result = self.query_body(q);
        let mut ctes = self.ctes.borrow_mut();
        let keep = ctes.len() - pushed;
        ctes.truncate(keep);
        result
    }

    fn query_body(&self, q: &ast::Query) -> SqlResult<Rel> {
        let order: Vec<ast::OrderByExpr> = match &q.order_by {
            None => Vec::new(),
            Some(ob) => match &ob.kind {
                ast::OrderByKind::Expressions(v)
                    if ob.interpolate.is_none() && v.iter().all(|o| o.with_fill.is_none()) =>
                {
                    v.clone()
                }
                ast::OrderByKind::Expressions(_) => {
                    return Err(refuse(
                        "ORDER BY ... WITH FILL / INTERPOLATE is not Spark SQL",
                        "fill gaps with a join to a calendar",
                    ));
                }
                ast::OrderByKind::All(_) => {
                    return Err(refuse("ORDER BY ALL is not supported in the tab", "name the columns to sort by"));
                }
            },
        };
        let (limit, offset) = limits(self, q.limit_clause.as_ref())?;
        match q.body.as_ref() {
            SetExpr::Select(select) => self.select(select, &order, limit, offset),
            other => {
                let rel = self.set_expr(other)?;
                let rel = sort_outputs(self, rel, &order)?;
                Ok(apply_limit(rel, limit, offset))
            }
        }
    }

    fn set_expr(&self, body: &SetExpr) -> SqlResult<Rel> {
        match body {
            SetExpr::Select(s) => self.select(s, &[], None, 0),
            SetExpr::Query(q) => self.query(q),
            SetExpr::Values(values) => self.values(values),
            SetExpr::SetOperation { op, set_quantifier, left, right } => {
                let l = self.set_expr(left)?;
                let r = self.set_expr(right)?;
                super::setops::set_operation(op, set_quantifier, l, r)
                    .map_err(|err| super::typed::at_span(err, sqlparser::ast::Spanned::span(right.as_ref())))
            }
            other => Err(refuse(format!("{other} is not a query the tab runs"), "write a SELECT")),
        }
    }

    fn values(&self, values: &ast::Values) -> SqlResult<Rel> {
        let rows = &values.rows;
        let width = rows.first().map(|r| r.content.len()).unwrap_or(0);
        if rows.iter().any(|r| r.content.len() != width) {
            return Err(refuse(
                "VALUES rows have different numbers of values",
                "give every row the same number of values",
            ));
        }
        let unit = unit_rel();
        let tr = Tr::new(self, &[]);
        let typed: Vec<Vec<Typed>> = rows
            .iter()
            .map(|r| r.content.iter().map(|e| tr.expr(e)).collect::<SqlResult<Vec<_>>>())
            .collect::<SqlResult<_>>()?;
        let mut types = Vec::new();
        for c in 0..width {
            let column: Vec<&DataType> = typed.iter().map(|r| &r[c].dtype).collect();
            types.push(common_of(&column, "VALUES")?);
        }
        let ids: Vec<String> = (0..width).map(|_| fresh("c")).collect();
        let mut frames = Vec::new();
        for row in typed {
            let exprs = row
                .into_iter()
                .zip(&types)
                .zip(&ids)
                .map(|((t, ty), id)| widen(t, ty).map(|w| w.expr.alias(id.as_str())))
                .collect::<SqlResult<Vec<_>>>()?;
            frames.push(unit.lf.clone().select(exprs));
        }
        let lf = concat(frames, UnionArgs::default()).map_err(|e| polars_error(&e))?;
        let cols = ids
            .into_iter()
            .zip(types)
            .enumerate()
            .map(|(i, (id, dtype))| ColRef {
                qual: Vec::new(),
                name: format!("col{}", i + 1),
                id,
                dtype,
                hidden: false,
            })
            .collect();
        Ok(Rel { lf, cols })
    }

    /// A table of the catalog, a WITH table or a source.
    pub fn table(&self, name: &ast::ObjectName) -> SqlResult<(DataFrame, String)> {
        let full = name.to_string();
        let last = name.0.last().map(|p| p.to_string()).unwrap_or_default().trim_matches('`').to_string();
        if let Some((_, df)) = self.ctes.borrow().iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(&last)) {
            return Ok((df.clone(), last));
        }
        let plain = full.trim_matches('`');
        if let Some(df) = self.tables.get(plain) {
            return Ok((df.clone(), last));
        }
        if let Some((_, df)) = self.tables.iter().find(|(n, _)| n.eq_ignore_ascii_case(plain)) {
            return Ok((df.clone(), last));
        }
        let names: Vec<String> = self
            .tables
            .keys()
            .filter(|n| !n.starts_with("__riffle"))
            .cloned()
            .chain(self.ctes.borrow().iter().map(|(n, _)| n.clone()))
            .collect();
        let hint = match super::super::suggest::nearest(plain, &names) {
            Some(near) => format!("did you mean {near}? Tables: {}", names.join(", ")),
            None if names.is_empty() => "no tables yet: name a cell's result with `-- name: t` on its first line, or read a file with read_csv('path')".into(),
            None => format!("tables in this notebook: {}", names.join(", ")),
        };
        let start = sqlparser::ast::Spanned::span(name).start;
        let place =
            (start.line > 0).then_some(crate::Location { line: start.line as u32, column: start.column as u32 });
        Err(refuse(format!("there is no table named {plain} (TABLE_OR_VIEW_NOT_FOUND)"), hint).at(place))
    }

    pub fn factor(&self, factor: &TableFactor) -> SqlResult<Rel> {
        match factor {
            TableFactor::Table {
                name,
                alias,
                args: None,
                sample: None,
                with_hints,
                version: None,
                partitions,
                json_path: None,
                index_directives,
                ..
            } if with_hints.is_empty() && partitions.is_empty() && index_directives.is_empty() => {
                let (df, short) = self.table(name)?;
                let schema = df.schema().clone();
                let qual = alias.as_ref().map(|a| a.name.value.clone()).unwrap_or(short);
                let rel = Rel::from_frame(df.lazy(), &schema, Some(&qual));
                match alias {
                    Some(a) if !a.columns.is_empty() => {
                        rename_columns(rel, &a.columns.iter().map(|c| c.name.value.clone()).collect::<Vec<_>>())
                    }
                    _ => Ok(rel),
                }
            }
            TableFactor::Derived { subquery, alias, lateral: false, sample: None } => {
                let rel = self.query(subquery)?;
                let rel = match alias {
                    Some(a) => {
                        let rel = rel.requalify(&a.name.value);
                        rename_columns(rel, &a.columns.iter().map(|c| c.name.value.clone()).collect::<Vec<_>>())?
                    }
                    None => rel,
                };
                Ok(rel)
            }
            TableFactor::NestedJoin { table_with_joins, alias } => {
                let rel = join::from_item(self, table_with_joins)?;
                Ok(match alias {
                    Some(a) => rel.requalify(&a.name.value),
                    None => rel,
                })
            }
            TableFactor::Pivot { .. } | TableFactor::Unpivot { .. } => group::pivot_factor(self, factor),
            TableFactor::Table { .. } | TableFactor::Derived { .. } => Err(refuse(
                format!(
                    "FROM {factor}: TABLESAMPLE, time travel (VERSION/TIMESTAMP AS OF), PARTITION and hints are not supported in the tab"
                ),
                "read the table whole and filter it with WHERE, or run the cell on Spark",
            )),
            other => Err(refuse(
                format!("FROM {other} is not supported in the tab"),
                "read a table, a WITH table, a subquery or a table function (read_csv, read_parquet, read_json, kafka)",
            )),
        }
    }

    fn select(
        &self,
        s: &ast::Select,
        order: &[ast::OrderByExpr],
        limit: Option<usize>,
        offset: usize,
    ) -> SqlResult<Rel> {
        if s.top.is_some()
            || s.into.is_some()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
            || s.prewhere.is_some()
            || !s.connect_by.is_empty()
        {
            return Err(refuse(
                "TOP, INTO, CLUSTER BY, DISTRIBUTE BY, SORT BY and CONNECT BY are not supported in the tab",
                "use ORDER BY and LIMIT",
            ));
        }
        // FROM
        let mut rel = match s.from.len() {
            0 => unit_rel(),
            _ => {
                let mut rel = join::from_item(self, &s.from[0])?;
                for item in &s.from[1..] {
                    let right = join::from_item(self, item)?;
                    rel = join::cross(rel, right);
                }
                rel
            }
        };
        for view in &s.lateral_views {
            rel = generate::lateral_view(self, rel, view)?;
        }
        // WHERE
        if let Some(w) = &s.selection {
            let tr = Tr { frame: Some(&rel.lf), ..Tr::new(self, &rel.cols) };
            let cond = tr.condition(w)?;
            rel.lf = rel.lf.clone().filter(cond.expr);
        }
        let windows = named_windows(s)?;
        // The SELECT list, with * expanded and generators (explode) applied.
        let mut items = expand_items(&rel, &s.projection, s.exclude.as_ref())?;
        rel = generate::select_generators(self, rel, &mut items)?;
        let aliases: Vec<(String, E)> =
            items.iter().filter(|i| i.explicit_alias).map(|i| (i.name.clone(), i.expr.clone())).collect();
        // Aggregates and windows anywhere in SELECT, HAVING, QUALIFY and ORDER BY.
        let mut exprs: Vec<&E> = items.iter().map(|i| &i.expr).collect();
        exprs.extend(s.having.iter());
        exprs.extend(s.qualify.iter());
        exprs.extend(order.iter().map(|o| &o.expr));
        let found: Found = find(&exprs);
        let group_exprs = match &s.group_by {
            ast::GroupByExpr::Expressions(v, mods) => match mods.as_slice() {
                [] => Some(v.clone()),
                // GROUP BY a, b WITH ROLLUP is GROUP BY ROLLUP(a, b).
                [ast::GroupByWithModifier::Rollup] => {
                    Some(vec![E::Rollup(v.iter().map(|e| vec![e.clone()]).collect())])
                }
                [ast::GroupByWithModifier::Cube] => Some(vec![E::Cube(v.iter().map(|e| vec![e.clone()]).collect())]),
                _ => {
                    return Err(refuse("GROUP BY ... WITH TOTALS is not Spark SQL", "write GROUP BY ROLLUP(a, b)"));
                }
            },
            ast::GroupByExpr::All(_) => None,
        };
        let grouped =
            !found.aggregates.is_empty() || s.having.is_some() || group_exprs.as_ref().is_none_or(|v| !v.is_empty());
        let mut subs: Subs = Vec::new();
        let mut scope_cols = rel.cols.clone();
        if grouped {
            let keys: Vec<E> = match group_exprs {
                Some(v) => v,
                None => items
                    .iter()
                    .filter(|i| {
                        let f = find(&[&i.expr]);
                        f.aggregates.is_empty() && f.windows.is_empty()
                    })
                    .map(|i| i.expr.clone())
                    .collect(),
            };
            let (grouped_rel, group_subs) = group::group(self, rel, &keys, &items, &aliases, &found.aggregates)?;
            rel = grouped_rel;
            subs = group_subs;
            // Names of the input stay resolvable, to say which is neither grouped nor aggregated.
            scope_cols = scope_cols.into_iter().map(|c| ColRef { id: fresh("ungrouped"), ..c }).collect();
        }
        let tr_for = |rel: &Rel, subs: &Subs| -> (Vec<ColRef>, Subs) { (rel.cols.clone(), subs.clone()) };
        let _ = tr_for;
        if let Some(h) = &s.having {
            let tr = Tr { subs: &subs, grouped, aliases: &aliases, ..Tr::new(self, &scope_cols) };
            let cond = tr.condition(h)?;
            rel.lf = rel.lf.clone().filter(cond.expr);
        }
        // Windows, after grouping.
        if !found.windows.is_empty() {
            let (with_windows, win_subs) =
                window::compute(self, rel, &scope_cols, &subs, grouped, &found.windows, &windows)?;
            rel = with_windows;
            subs.extend(win_subs);
        }
        if let Some(q) = &s.qualify {
            let tr = Tr { subs: &subs, grouped, aliases: &aliases, ..Tr::new(self, &scope_cols) };
            let cond = tr.condition(q)?;
            rel.lf = rel.lf.clone().filter(cond.expr);
        }
        // SELECT
        let tr = Tr { frame: Some(&rel.lf), subs: &subs, grouped, ..Tr::new(self, &scope_cols) };
        let mut outputs = Vec::new();
        let mut out_exprs = Vec::new();
        for item in &items {
            let t = tr.expr(&item.expr)?;
            let id = fresh("o");
            out_exprs.push(t.expr.alias(id.as_str()));
            outputs.push(ColRef { qual: Vec::new(), name: item.name.clone(), id, dtype: t.dtype, hidden: false });
        }
        let distinct = match &s.distinct {
            None | Some(ast::Distinct::All) => false,
            Some(ast::Distinct::Distinct) => true,
            Some(ast::Distinct::On(_)) => {
                return Err(refuse(
                    "DISTINCT ON is not Spark SQL",
                    "use ROW_NUMBER() OVER (PARTITION BY ...) = 1 in QUALIFY",
                ));
            }
        };
        // ORDER BY: an output's name or ordinal, else any expression of the input.
        let mut sort = Vec::new();
        let mut hidden = Vec::new();
        let mut hidden_ids: Vec<String> = Vec::new();
        for o in order {
            let (desc, nulls_last) = direction(o);
            let target = match &o.expr {
                E::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                    let n: usize = v.value.to_string().parse().unwrap_or(0);
                    let out = outputs.get(n.wrapping_sub(1)).ok_or_else(|| {
                        refuse(
                            format!("ORDER BY {n}: the SELECT list has {} columns", outputs.len()),
                            "order by a column's position, 1 to the number of columns",
                        )
                    })?;
                    col(out.id.as_str())
                }
                E::Identifier(i) if outputs.iter().filter(|c| c.name.eq_ignore_ascii_case(&i.value)).count() == 1 => {
                    let out = outputs
                        .iter()
                        .find(|c| c.name.eq_ignore_ascii_case(&i.value))
                        .map(|c| c.id.clone())
                        .unwrap_or_default();
                    col(out.as_str())
                }
                e => {
                    if let Some(pos) = items.iter().position(|i| key(&i.expr) == key(e)) {
                        col(outputs[pos].id.as_str())
                    } else {
                        if distinct {
                            return Err(refuse(
                                format!(
                                    "ORDER BY {e}: with SELECT DISTINCT, ORDER BY may only use the selected columns"
                                ),
                                "add it to the SELECT list, or order by a selected column",
                            ));
                        }
                        let t = tr.expr(e)?;
                        let id = fresh("s");
                        hidden.push(t.expr.alias(id.as_str()));
                        hidden_ids.push(id.clone());
                        col(id.as_str())
                    }
                }
            };
            sort.push((target, desc, nulls_last));
        }
        let mut all = out_exprs;
        all.extend(hidden.iter().cloned());
        // with_columns, then select: a SELECT of constants keeps one row per input row.
        let ids: Vec<Expr> =
            outputs.iter().map(|c| col(c.id.as_str())).chain(hidden_ids.iter().map(|h| col(h.as_str()))).collect();
        let mut lf = if rel.cols.is_empty() && scope_cols.is_empty() && !grouped {
            rel.lf.select(all)
        } else {
            rel.lf.with_columns(all).select(ids)
        };
        if distinct {
            lf = lf.unique_stable(None, UniqueKeepStrategy::First);
        }
        if !sort.is_empty() {
            lf = sort_frame(lf, sort);
        }
        if !hidden.is_empty() {
            lf = lf.select(outputs.iter().map(|c| col(c.id.as_str())).collect::<Vec<_>>());
        }
        Ok(apply_limit(Rel { lf, cols: outputs }, limit, offset))
    }
}

/// A one-row relation without columns (SELECT without FROM).
pub(crate) fn unit_rel() -> Rel {
    let lf = DataFrame::new(vec![Column::new("__unit".into(), [0i32])]).map(|df| df.lazy()).unwrap_or_default();
    Rel { lf, cols: Vec::new() }
}

fn named_windows(s: &ast::Select) -> SqlResult<Vec<(String, ast::WindowSpec)>> {
    let mut out: Vec<(String, ast::WindowSpec)> = Vec::new();
    for ast::NamedWindowDefinition(name, def) in &s.named_window {
        let spec = match def {
            ast::NamedWindowExpr::WindowSpec(spec) => spec.clone(),
            ast::NamedWindowExpr::NamedWindow(other) => {
                out.iter().find(|(n, _)| n.eq_ignore_ascii_case(&other.value)).map(|(_, s)| s.clone()).ok_or_else(
                    || refuse(format!("WINDOW {name} AS {other}: there is no window {other}"), "define it first"),
                )?
            }
        };
        out.push((name.value.clone(), spec));
    }
    Ok(out)
}

fn expand_items(
    rel: &Rel,
    projection: &[SelectItem],
    exclude: Option<&ast::ExcludeSelectItem>,
) -> SqlResult<Vec<Item>> {
    if exclude.is_some() {
        return Err(refuse("SELECT ... EXCLUDE (...) is not Spark SQL", "write SELECT * EXCEPT (a, b)"));
    }
    let mut items = Vec::new();
    let column_item = |c: &ColRef| {
        let mut parts: Vec<ast::Ident> = c.qual.first().map(|q| vec![ast::Ident::new(q)]).unwrap_or_default();
        parts.push(ast::Ident::with_quote('`', &c.name));
        let expr = if parts.len() == 1 { E::Identifier(parts.remove(0)) } else { E::CompoundIdentifier(parts) };
        Item { expr, name: c.name.clone(), explicit_alias: false }
    };
    for item in projection {
        match item {
            SelectItem::UnnamedExpr(e) => {
                items.push(Item { expr: e.clone(), name: auto_name(e), explicit_alias: false })
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                items.push(Item { expr: expr.clone(), name: alias.value.clone(), explicit_alias: true })
            }
            SelectItem::ExprWithAliases { expr, aliases } => {
                // posexplode(x) AS (p, v): the generator names its outputs.
                let names: Vec<String> = aliases.iter().map(|a| a.value.clone()).collect();
                items.push(Item { expr: expr.clone(), name: names.join("\u{1}"), explicit_alias: true });
            }
            SelectItem::Wildcard(opts) => {
                let except = excepted(opts)?;
                let mut any = false;
                for c in rel.cols.iter().filter(|c| !c.hidden && !except.contains(&c.name.to_lowercase())) {
                    items.push(column_item(c));
                    any = true;
                }
                if !any && rel.cols.is_empty() {
                    return Err(refuse("SELECT * needs a FROM", "write SELECT * FROM t"));
                }
            }
            SelectItem::QualifiedWildcard(kind, opts) => {
                let except = excepted(opts)?;
                let qual = match kind {
                    ast::SelectItemQualifiedWildcardKind::ObjectName(n) => n.to_string(),
                    ast::SelectItemQualifiedWildcardKind::Expr(e) => e.to_string(),
                };
                let q = qual.trim_matches('`').to_lowercase();
                let matching: Vec<&ColRef> = rel.cols.iter().filter(|c| c.qual.contains(&q)).collect();
                if !matching.is_empty() {
                    for c in matching.into_iter().filter(|c| !except.contains(&c.name.to_lowercase())) {
                        items.push(column_item(c));
                    }
                    continue;
                }
                // s.*: the fields of a struct column.
                let parts: Vec<String> = qual.split('.').map(|p| p.trim_matches('`').to_string()).collect();
                let Some((c, fields)) = super::scope::resolve(&rel.cols, &parts)? else {
                    return Err(refuse(
                        format!("{qual}.*: there is no table or struct named {qual} here"),
                        "write t.* with a table's name or alias from FROM",
                    ));
                };
                let mut dtype = c.dtype.clone();
                for f in &fields {
                    dtype = match &dtype {
                        DataType::Struct(fs) => fs
                            .iter()
                            .find(|x| x.name().eq_ignore_ascii_case(f))
                            .map(|x| x.dtype().clone())
                            .unwrap_or(DataType::Null),
                        _ => DataType::Null,
                    };
                }
                let DataType::Struct(fs) = dtype else {
                    return Err(refuse(format!("{qual}.*: {qual} is not a struct"), "expand structs only: s.*"));
                };
                let base: Vec<ast::Ident> = parts.iter().map(|p| ast::Ident::with_quote('`', p)).collect();
                for f in fs {
                    let mut path = base.clone();
                    path.push(ast::Ident::with_quote('`', f.name().as_str()));
                    items.push(Item {
                        expr: E::CompoundIdentifier(path),
                        name: f.name().to_string(),
                        explicit_alias: false,
                    });
                }
            }
        }
    }
    Ok(items)
}

fn excepted(opts: &ast::WildcardAdditionalOptions) -> SqlResult<Vec<String>> {
    let mut out = Vec::new();
    if let Some(e) = &opts.opt_except {
        out.push(e.first_element.value.to_lowercase());
        out.extend(e.additional_elements.iter().map(|i| i.value.to_lowercase()));
    }
    if let Some(ex) = &opts.opt_exclude {
        match ex {
            ast::ExcludeSelectItem::Single(n) => out.push(n.to_string().to_lowercase()),
            ast::ExcludeSelectItem::Multiple(ns) => out.extend(ns.iter().map(|n| n.to_string().to_lowercase())),
        }
    }
    if opts.opt_replace.is_some() || opts.opt_rename.is_some() || opts.opt_ilike.is_some() {
        return Err(refuse("* REPLACE / RENAME / ILIKE are not Spark SQL", "list the columns"));
    }
    Ok(out)
}

/// Spark's defaults: ASC NULLS FIRST, DESC NULLS LAST.
pub(crate) fn direction(o: &ast::OrderByExpr) -> (bool, bool) {
    let desc = matches!(o.options.sort, Some(ast::OrderBySort::Desc));
    let nulls_first = o.options.nulls_first.unwrap_or(!desc);
    (desc, !nulls_first)
}

pub(crate) fn sort_frame(lf: LazyFrame, keys: Vec<(Expr, bool, bool)>) -> LazyFrame {
    let desc: Vec<bool> = keys.iter().map(|k| k.1).collect();
    let nulls_last: Vec<bool> = keys.iter().map(|k| k.2).collect();
    let exprs: Vec<Expr> = keys.into_iter().map(|k| k.0).collect();
    lf.sort_by_exprs(
        exprs,
        SortMultipleOptions::default()
            .with_order_descending_multi(desc)
            .with_nulls_last_multi(nulls_last)
            .with_maintain_order(true),
    )
}

/// ORDER BY over a set operation's outputs.
fn sort_outputs(planner: &Planner<'_>, rel: Rel, order: &[ast::OrderByExpr]) -> SqlResult<Rel> {
    if order.is_empty() {
        return Ok(rel);
    }
    let tr = Tr::new(planner, &rel.cols);
    let mut keys = Vec::new();
    for o in order {
        let (desc, nulls_last) = direction(o);
        let e = match &o.expr {
            E::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                let n: usize = v.value.to_string().parse().unwrap_or(0);
                let c = rel
                    .cols
                    .get(n.wrapping_sub(1))
                    .ok_or_else(|| refuse(format!("ORDER BY {n} is out of range"), "order by a column's position"))?;
                col(c.id.as_str())
            }
            e => tr.expr(e)?.expr,
        };
        keys.push((e, desc, nulls_last));
    }
    Ok(Rel { lf: sort_frame(rel.lf, keys), cols: rel.cols })
}

fn limits(planner: &Planner<'_>, clause: Option<&ast::LimitClause>) -> SqlResult<(Option<usize>, usize)> {
    let number = |e: &E, what: &str| -> SqlResult<usize> {
        let t = Tr::new(planner, &[]).expr(e)?;
        t.lit_int().and_then(|n| usize::try_from(n).ok()).ok_or_else(|| {
            refuse(format!("{what} must be a non-negative integer constant, not {e}"), format!("write {what} 10"))
        })
    };
    Ok(match clause {
        None => (None, 0),
        Some(ast::LimitClause::LimitOffset { limit, offset, limit_by }) => {
            if !limit_by.is_empty() {
                return Err(refuse("LIMIT BY is not Spark SQL", "use ROW_NUMBER() in QUALIFY"));
            }
            let limit = limit.as_ref().map(|l| number(l, "LIMIT")).transpose()?;
            let offset = offset.as_ref().map(|o| number(&o.value, "OFFSET")).transpose()?.unwrap_or(0);
            (limit, offset)
        }
        Some(ast::LimitClause::OffsetCommaLimit { offset, limit }) => {
            (Some(number(limit, "LIMIT")?), number(offset, "OFFSET")?)
        }
    })
}

fn apply_limit(rel: Rel, limit: Option<usize>, offset: usize) -> Rel {
    let lf = match (limit, offset) {
        (None, 0) => rel.lf,
        (None, o) => rel.lf.slice(o as i64, IdxSize::MAX),
        (Some(l), o) => rel.lf.slice(o as i64, l as IdxSize),
    };
    Rel { lf, cols: rel.cols }
}

fn rename_columns(mut rel: Rel, names: &[String]) -> SqlResult<Rel> {
    if names.is_empty() {
        return Ok(rel);
    }
    let visible: Vec<usize> = (0..rel.cols.len()).filter(|&i| !rel.cols[i].hidden).collect();
    if visible.len() != names.len() {
        return Err(refuse(
            format!("the alias names {} columns but the table has {}", names.len(), visible.len()),
            "name every column, or none",
        ));
    }
    for (i, n) in visible.into_iter().zip(names) {
        rel.cols[i].name = n.clone();
    }
    Ok(rel)
}

/// The final frame: the user's column names.
pub(crate) fn output(rel: Rel) -> SqlResult<DataFrame> {
    let visible: Vec<&ColRef> = rel.cols.iter().filter(|c| !c.hidden).collect();
    let mut seen = std::collections::BTreeSet::new();
    for c in &visible {
        if !seen.insert(c.name.to_lowercase()) {
            return Err(refuse(
                format!(
                    "duplicate column names: the result has two columns named {}, which a table of the notebook cannot hold",
                    c.name
                ),
                format!("give one of them another alias, such as {}_2", c.name),
            ));
        }
    }
    let exprs: Vec<Expr> = visible.iter().map(|c| col(c.id.as_str()).alias(c.name.as_str())).collect();
    let lf = if exprs.is_empty() {
        rel.lf.select([lit(NULL).alias("__empty")]).select(Vec::<Expr>::new())
    } else {
        rel.lf.select(exprs)
    };
    lf.collect().map_err(|e| polars_error(&e))
}
