//! Window functions, after GROUP BY and HAVING: each window's partition and
//! order keys become columns, the frame is sorted by them, and the function
//! is computed per partition with `.over(..)`. Ties (peers) share the value
//! of aggregates under Spark's default frame, RANGE BETWEEN UNBOUNDED
//! PRECEDING AND CURRENT ROW.

use polars::prelude::*;
use sqlparser::ast::{self, Expr as E, Function, WindowFrameBound, WindowFrameUnits, WindowType};

use super::agg;
use super::cast::widen;
use super::expr::{Subs, Tr, key};
use super::func::arg_exprs;
use super::group::aggregate_call;
use super::plan::{Planner, direction, sort_frame};
use super::scope::{ColRef, Rel, fresh};
use super::typed::{Lit, SqlResult, Typed, refuse};

fn over(e: Expr, parts: &[Expr]) -> Expr {
    if parts.is_empty() { e } else { e.over(parts) }
}

/// A frame bound as a row offset: None is unbounded.
#[derive(Clone, Copy, PartialEq)]
enum Bound {
    Unbounded,
    Offset(i64),
}

pub(crate) fn compute(
    planner: &Planner<'_>,
    mut rel: Rel,
    cols: &[ColRef],
    subs: &Subs,
    grouped: bool,
    windows: &[Function],
    named: &[(String, ast::WindowSpec)],
) -> SqlResult<(Rel, Subs)> {
    let mut out: Subs = Vec::new();
    for f in windows {
        let spec = spec_of(f, named)?;
        let clauses = matches!(&f.args, ast::FunctionArguments::List(l) if !l.clauses.is_empty());
        if f.filter.is_some() || !f.within_group.is_empty() || clauses {
            return Err(refuse(
                format!(
                    "{}(...) FILTER / WITHIN GROUP / ORDER BY inside a window function is not supported in the tab",
                    f.name
                ),
                "compute the filtered value first, such as SUM(CASE WHEN c THEN x END) OVER (...)",
            ));
        }
        let tr = Tr { frame: Some(&rel.lf), subs, grouped, ..Tr::new(planner, cols) };
        let name = f.name.to_string().to_lowercase();
        let parts_t = spec.partition_by.iter().map(|p| tr.expr(p)).collect::<SqlResult<Vec<_>>>()?;
        let orders =
            spec.order_by.iter().map(|o| Ok((tr.expr(&o.expr)?, direction(o)))).collect::<SqlResult<Vec<_>>>()?;
        // Arguments, in the same scope.
        let raw = if is_count_star(f) { Vec::new() } else { arg_exprs(f)? };
        let args = raw.iter().map(|a| tr.expr(a)).collect::<SqlResult<Vec<_>>>()?;
        // Materialise keys, sort.
        let mut key_cols = Vec::new();
        let mut parts = Vec::new();
        for p in &parts_t {
            let id = fresh("wp");
            key_cols.push(p.expr.clone().alias(id.as_str()));
            parts.push(col(id.as_str()));
        }
        let mut order_ids = Vec::new();
        for (o, _) in &orders {
            let id = fresh("wo");
            key_cols.push(o.expr.clone().alias(id.as_str()));
            order_ids.push(col(id.as_str()));
        }
        let arg_ids: Vec<String> = args.iter().map(|_| fresh("wa")).collect();
        for (a, id) in args.iter().zip(&arg_ids) {
            key_cols.push(a.expr.clone().alias(id.as_str()));
        }
        let args: Vec<Typed> = args
            .iter()
            .zip(&arg_ids)
            .map(|(a, id)| Typed { expr: col(id.as_str()), dtype: a.dtype.clone(), lit: a.lit.clone() })
            .collect();
        let mut lf = rel.lf.clone();
        if !key_cols.is_empty() {
            lf = lf.with_columns(key_cols);
        }
        if !orders.is_empty() || !parts.is_empty() {
            let mut keys: Vec<(Expr, bool, bool)> = parts.iter().map(|p| (p.clone(), false, false)).collect();
            keys.extend(order_ids.iter().zip(&orders).map(|(o, (_, (desc, nl)))| (o.clone(), *desc, *nl)));
            lf = sort_frame(lf, keys);
        }
        // Row number, partition size, peer groups.
        let rn = fresh("rn");
        let n = fresh("n");
        let peer = fresh("peer");
        let flag = fresh("flag");
        lf = lf.with_columns([
            (over(int_range(lit(0), len(), 1, DataType::Int64), &parts) + lit(1i64)).alias(rn.as_str()),
            over(len().cast(DataType::Int64), &parts).alias(n.as_str()),
        ]);
        let mut new_peer = col(rn.as_str()).eq(lit(1i64));
        for o in &order_ids {
            new_peer = new_peer.or(over(o.clone().neq_missing(o.clone().shift(lit(1))), &parts));
        }
        lf = lf.with_column(new_peer.alias(flag.as_str()));
        lf = lf.with_column(over(col(flag.as_str()).cast(DataType::Int64).cum_sum(false), &parts).alias(peer.as_str()));
        let ctx = Ctx {
            parts: parts.clone(),
            rn: col(rn.as_str()),
            n: col(n.as_str()),
            peer: col(peer.as_str()),
            flag: col(flag.as_str()),
            ordered: !orders.is_empty(),
        };
        let frame = frame_of(&spec)?;
        let (steps, result) = function(&tr, f, &name, &args, &ctx, frame)
            .map_err(|err| super::typed::at_span(err, sqlparser::ast::Spanned::span(&E::Function(f.clone()))))?;
        for step in steps {
            lf = lf.with_columns(step);
        }
        let id = fresh("w");
        lf = lf.with_column(result.expr.alias(id.as_str()));
        rel.lf = lf;
        out.push((key(&E::Function(f.clone())), Typed::new(col(id.as_str()), result.dtype)));
    }
    Ok((rel, out))
}

struct Ctx {
    parts: Vec<Expr>,
    rn: Expr,
    n: Expr,
    peer: Expr,
    flag: Expr,
    ordered: bool,
}

impl Ctx {
    fn over(&self, e: Expr) -> Expr {
        over(e, &self.parts)
    }
    fn over_peers(&self, e: Expr) -> Expr {
        let mut p = self.parts.clone();
        p.push(self.peer.clone());
        e.over(p)
    }
}

fn spec_of(f: &Function, named: &[(String, ast::WindowSpec)]) -> SqlResult<ast::WindowSpec> {
    let lookup = |name: &ast::Ident| {
        named.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name.value)).map(|(_, s)| s.clone()).ok_or_else(|| {
            refuse(
                format!("OVER {name}: there is no WINDOW {name} AS (...) in this SELECT"),
                "define it after HAVING: WINDOW w AS (PARTITION BY ...)",
            )
        })
    };
    match &f.over {
        Some(WindowType::NamedWindow(name)) => lookup(name),
        Some(WindowType::WindowSpec(spec)) => match &spec.window_name {
            Some(base) => {
                let mut s = lookup(base)?;
                if !spec.partition_by.is_empty() {
                    s.partition_by = spec.partition_by.clone();
                }
                if !spec.order_by.is_empty() {
                    s.order_by = spec.order_by.clone();
                }
                if spec.window_frame.is_some() {
                    s.window_frame = spec.window_frame.clone();
                }
                Ok(s)
            }
            None => Ok(spec.clone()),
        },
        None => Err(refuse("internal: a window call without OVER", "add OVER (...)")),
    }
}

/// The frame: (is ROWS, start, end); None for the default.
type Frame = Option<(bool, Bound, Bound)>;

fn frame_of(spec: &ast::WindowSpec) -> SqlResult<Frame> {
    let Some(frame) = &spec.window_frame else { return Ok(None) };
    let rows = match frame.units {
        WindowFrameUnits::Rows => true,
        WindowFrameUnits::Range => false,
        WindowFrameUnits::Groups => {
            return Err(refuse("GROUPS frames are not Spark SQL", "use ROWS BETWEEN or RANGE BETWEEN"));
        }
    };
    let bound = |b: &WindowFrameBound, sign: i64| -> SqlResult<Bound> {
        Ok(match b {
            WindowFrameBound::CurrentRow => Bound::Offset(0),
            WindowFrameBound::Preceding(None) | WindowFrameBound::Following(None) => Bound::Unbounded,
            WindowFrameBound::Preceding(Some(e)) | WindowFrameBound::Following(Some(e)) => {
                let s = if matches!(b, WindowFrameBound::Preceding(_)) { -1 } else { 1 };
                let _ = sign;
                match e.as_ref() {
                    E::Value(v) => match &v.value {
                        ast::Value::Number(n, _) => Bound::Offset(s * n.parse::<i64>().map_err(|_| bad_frame(spec))?),
                        _ => return Err(bad_frame(spec)),
                    },
                    _ if !rows => {
                        return Err(refuse(
                            format!(
                                "the frame {} with an interval or expression offset is not supported in the tab",
                                frame_text(spec)
                            ),
                            "use ROWS BETWEEN n PRECEDING AND CURRENT ROW, or RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW",
                        ));
                    }
                    _ => return Err(bad_frame(spec)),
                }
            }
        })
    };
    let start = bound(&frame.start_bound, -1)?;
    let end = match &frame.end_bound {
        Some(b) => bound(b, 1)?,
        None => Bound::Offset(0),
    };
    // Which side is unbounded matters: UNBOUNDED PRECEDING vs FOLLOWING.
    let start = match (&frame.start_bound, start) {
        (WindowFrameBound::Following(None), _) => return Err(bad_frame(spec)),
        (_, s) => s,
    };
    let end = match (&frame.end_bound, end) {
        (Some(WindowFrameBound::Preceding(None)), _) => return Err(bad_frame(spec)),
        (_, e) => e,
    };
    if !rows {
        let ok = matches!(
            (start, end),
            (Bound::Unbounded, Bound::Offset(0))
                | (Bound::Unbounded, Bound::Unbounded)
                | (Bound::Offset(0), Bound::Unbounded)
                | (Bound::Offset(0), Bound::Offset(0))
        );
        if !ok {
            return Err(refuse(
                format!("the frame {} (RANGE with value offsets) is not supported in the tab", frame_text(spec)),
                "use ROWS BETWEEN n PRECEDING AND CURRENT ROW for a moving window over rows",
            ));
        }
    }
    Ok(Some((rows, start, end)))
}

fn frame_text(spec: &ast::WindowSpec) -> String {
    spec.to_string()
}

fn bad_frame(spec: &ast::WindowSpec) -> crate::CellError {
    refuse(
        format!("the window frame {} is not valid", frame_text(spec)),
        "write ROWS BETWEEN 2 PRECEDING AND CURRENT ROW",
    )
}

fn need_order(name: &str, ctx: &Ctx) -> SqlResult<()> {
    if ctx.ordered {
        Ok(())
    } else {
        Err(refuse(
            format!("{name}() needs an ordered window (WINDOW_FUNCTION_WITHOUT_ORDER)"),
            format!("write {name}() OVER (PARTITION BY ... ORDER BY ...)"),
        ))
    }
}

type Steps = Vec<Vec<Expr>>;

fn function(
    tr: &Tr<'_>,
    f: &Function,
    name: &str,
    args: &[Typed],
    ctx: &Ctx,
    frame: Frame,
) -> SqlResult<(Steps, Typed)> {
    let int = |e: Expr| Typed::new(e.cast(DataType::Int32), DataType::Int32);
    let rank = || ctx.over(when(ctx.flag.clone()).then(ctx.rn.clone()).otherwise(lit(0i64)).cum_max(false));
    match name {
        "row_number" => {
            need_order(name, ctx)?;
            Ok((vec![], int(ctx.rn.clone())))
        }
        "rank" => {
            need_order(name, ctx)?;
            Ok((vec![], int(rank())))
        }
        "dense_rank" => {
            need_order(name, ctx)?;
            Ok((vec![], int(ctx.peer.clone())))
        }
        "percent_rank" => {
            need_order(name, ctx)?;
            let r = rank().cast(DataType::Float64);
            let n = ctx.n.clone().cast(DataType::Float64);
            let e = when(ctx.n.clone().eq(lit(1i64))).then(lit(0.0)).otherwise((r - lit(1.0)) / (n - lit(1.0)));
            Ok((vec![], Typed::new(e, DataType::Float64)))
        }
        "cume_dist" => {
            need_order(name, ctx)?;
            let last = ctx.over_peers(ctx.rn.clone().max()).cast(DataType::Float64);
            Ok((vec![], Typed::new(last / ctx.n.clone().cast(DataType::Float64), DataType::Float64)))
        }
        "ntile" => {
            need_order(name, ctx)?;
            let k = args.first().and_then(|a| a.lit_int()).filter(|k| *k > 0).ok_or_else(|| {
                refuse("ntile(n) takes a positive integer constant", "write ntile(4) OVER (ORDER BY x)")
            })?;
            let i = ctx.rn.clone() - lit(1i64);
            let n = ctx.n.clone();
            let q = n.clone().floor_div(lit(k));
            let r = n % lit(k);
            let big = r.clone() * (q.clone() + lit(1i64));
            let bucket = when(q.clone().eq(lit(0i64)))
                .then(ctx.rn.clone())
                .when(i.clone().lt(big.clone()))
                .then(i.clone().floor_div(q.clone() + lit(1i64)) + lit(1i64))
                .otherwise(r + (i - big).floor_div(q) + lit(1i64));
            Ok((vec![], int(bucket)))
        }
        "lag" | "lead" => {
            need_order(name, ctx)?;
            let x = args.first().ok_or_else(|| {
                refuse(
                    format!("{name}(x[, offset[, default]]) needs a value"),
                    format!("write {name}(x) OVER (ORDER BY t)"),
                )
            })?;
            let offset = match args.get(1) {
                None => 1,
                Some(o) => o.lit_int().ok_or_else(|| {
                    refuse(format!("{name}: the offset must be an integer constant"), format!("write {name}(x, 2)"))
                })?,
            };
            let default = args.get(2).cloned().unwrap_or_else(|| Typed::constant(Lit::Null));
            // The result has the value's type; the default is cast to it, as Spark does.
            let t = if x.dtype == DataType::Null { default.dtype.clone() } else { x.dtype.clone() };
            let xv = widen(x.clone(), &t)?.expr;
            let dv = super::cast::cast(default, &t, true)?.expr;
            let signed = if name == "lag" { offset } else { -offset };
            let shifted = ctx.over(xv.shift(lit(signed)));
            let inside = if signed >= 0 {
                ctx.rn.clone().gt(lit(signed))
            } else {
                (ctx.rn.clone() - lit(signed)).lt_eq(ctx.n.clone())
            };
            Ok((vec![], Typed::new(when(inside).then(shifted).otherwise(dv), t)))
        }
        "first_value" | "last_value" | "first" | "last" | "nth_value" | "any_value" => {
            value_function(name, f, args, ctx, frame)
        }
        _ => {
            let is_agg = agg::is_aggregate(name) || name == "count";
            if !is_agg {
                return Err(refuse(
                    format!("{name}() is not a window function the tab computes"),
                    "the window functions are row_number, rank, dense_rank, percent_rank, cume_dist, ntile, lag, lead, first_value, last_value, nth_value and the aggregates",
                ));
            }
            if let ast::FunctionArguments::List(list) = &f.args
                && matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct))
            {
                return Err(refuse(
                    format!(
                        "{name}(DISTINCT ...) OVER (...) is not allowed in Spark (DISTINCT_WINDOW_FUNCTION_UNSUPPORTED)"
                    ),
                    "compute the distinct aggregate in a grouped subquery and join it back",
                ));
            }
            aggregate_window(tr, f, name, args, ctx, frame)
        }
    }
}

fn value_function(name: &str, f: &Function, args: &[Typed], ctx: &Ctx, frame: Frame) -> SqlResult<(Steps, Typed)> {
    let x = args
        .first()
        .ok_or_else(|| refuse(format!("{name}(x) needs a value"), format!("write {name}(x) OVER (...)")))?;
    let ignore_nulls = matches!(f.null_treatment, Some(ast::NullTreatment::IgnoreNulls))
        || args.get(1).and_then(|a| a.lit_bool()).unwrap_or(false);
    let dtype = x.dtype.clone();
    let v = x.expr.clone();
    let first = name.starts_with("first") || name == "any_value";
    let whole = match frame {
        None => !ctx.ordered,
        Some((_, Bound::Unbounded, Bound::Unbounded)) => true,
        _ => false,
    };
    let unsupported = || {
        refuse(
            format!(
                "{name}() over the frame {} is not supported in the tab",
                frame.map(|_| "given").unwrap_or("default")
            ),
            "use the default frame, ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW, or ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING",
        )
    };
    if name == "nth_value" {
        let k = args.get(1).and_then(|a| a.lit_int()).filter(|k| *k > 0).ok_or_else(|| {
            refuse("nth_value(x, n) takes a positive integer constant n", "write nth_value(x, 2) OVER (ORDER BY t)")
        })?;
        if ignore_nulls {
            return Err(unsupported());
        }
        let nth = ctx.over(v.slice(lit(k - 1), lit(1)).first());
        let end = if whole {
            ctx.n.clone()
        } else {
            match frame {
                None | Some((false, Bound::Unbounded, Bound::Offset(0))) => ctx.over_peers(ctx.rn.clone().max()),
                Some((true, Bound::Unbounded, Bound::Offset(0))) => ctx.rn.clone(),
                _ => return Err(unsupported()),
            }
        };
        return Ok((
            vec![],
            Typed::new(when(end.gt_eq(lit(k))).then(nth).otherwise(lit(NULL).cast(dtype.clone())), dtype),
        ));
    }
    let source = if ignore_nulls { v.clone().drop_nulls() } else { v.clone() };
    if whole {
        let e = if first { ctx.over(source.first()) } else { ctx.over(source.last()) };
        return Ok((vec![], Typed::new(e, dtype)));
    }
    if matches!(frame, Some((true, Bound::Offset(0), Bound::Unbounded))) {
        let e = if first {
            if ignore_nulls { ctx.over(v.fill_null_with_strategy(FillNullStrategy::Backward(None))) } else { v }
        } else {
            ctx.over(source.last())
        };
        if !first && ignore_nulls {
            return Err(unsupported());
        }
        return Ok((vec![], Typed::new(e, dtype)));
    }
    let running_rows = matches!(frame, Some((true, Bound::Unbounded, Bound::Offset(0))));
    let running_range = matches!(frame, None | Some((false, Bound::Unbounded, Bound::Offset(0))));
    if !(running_rows || running_range) {
        return Err(unsupported());
    }
    if first {
        let e = if ignore_nulls {
            let seen = ctx.over(v.clone().is_not_null().cast(DataType::Int64).cum_sum(false));
            let seen = if running_range {
                let id = fresh("seen");
                let e = when(ctx.over_peers(col(id.as_str()).last()).gt(lit(0i64)))
                    .then(ctx.over(source.first()))
                    .otherwise(lit(NULL).cast(dtype.clone()));
                return Ok((vec![vec![seen.alias(id.as_str())]], Typed::new(e, dtype)));
            } else {
                seen
            };
            when(seen.gt(lit(0i64))).then(ctx.over(source.first())).otherwise(lit(NULL).cast(dtype.clone()))
        } else {
            ctx.over(v.first())
        };
        return Ok((vec![], Typed::new(e, dtype)));
    }
    // last_value up to the current row (and its peers).
    if ignore_nulls && running_range {
        let id = fresh("filled");
        let filled = ctx.over(v.fill_null_with_strategy(FillNullStrategy::Forward(None)));
        return Ok((vec![vec![filled.alias(id.as_str())]], Typed::new(ctx.over_peers(col(id.as_str()).last()), dtype)));
    }
    let current = if ignore_nulls { ctx.over(v.fill_null_with_strategy(FillNullStrategy::Forward(None))) } else { v };
    let e = if running_range { ctx.over_peers(current.last()) } else { current };
    Ok((vec![], Typed::new(e, dtype)))
}

fn aggregate_window(
    tr: &Tr<'_>,
    f: &Function,
    name: &str,
    args: &[Typed],
    ctx: &Ctx,
    frame: Frame,
) -> SqlResult<(Steps, Typed)> {
    // The whole partition: the aggregate itself, per partition.
    let whole = match frame {
        None => !ctx.ordered,
        Some((_, Bound::Unbounded, Bound::Unbounded)) => true,
        _ => false,
    };
    let wildcard = matches!(&f.args, ast::FunctionArguments::List(l) if l.args.iter().any(|a| matches!(a, ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard))));
    let mut args: Vec<Typed> = args.to_vec();
    if name == "count" && (wildcard || args.first().is_some_and(|a| a.lit.as_ref().is_some_and(|l| *l != Lit::Null))) {
        args.clear();
    }
    if whole {
        let a = agg::aggregate(name, &args, false, &tr.planner.cx)
            .unwrap_or_else(|| Err(refuse(format!("{name}() is not supported in the tab"), "see docs/sql.md")))?;
        let _ = aggregate_call;
        return Ok((vec![], Typed::new(ctx.over(a.expr), a.dtype)));
    }
    let (rows, start, end) = frame.unwrap_or((false, Bound::Unbounded, Bound::Offset(0)));
    // The result type Spark gives the aggregate.
    let typed = agg::aggregate(name, &args, false, &tr.planner.cx)
        .unwrap_or_else(|| Err(refuse(format!("{name}() is not supported in the tab"), "see docs/sql.md")))?;
    let out_type = typed.dtype.clone();
    let x = match args.first() {
        Some(a) => a.expr.clone(),
        // count(*): every row counts.
        None => ctx.rn.clone(),
    };
    let not_null = x.clone().is_not_null().cast(DataType::Int64);
    let numeric = matches!(name, "sum" | "avg" | "mean" | "count");
    let refuse_frame = || {
        refuse(
            format!("{name}() over this frame is not supported in the tab"),
            "sum, count, avg, min and max run over ROWS frames and the default frame; other aggregates over the whole partition",
        )
    };
    let peers = !rows;
    if numeric {
        // Prefix sums of decimals at the input's scale and full precision (Polars keeps a sum's precision).
        let sum_type = match (&out_type, args.first().map(|a| &a.dtype)) {
            (DataType::Decimal(..), Some(DataType::Decimal(_, s))) => DataType::Decimal(Some(38), *s),
            (DataType::Decimal(..), _) => out_type.clone(),
            _ if name == "count" => out_type.clone(),
            _ => DataType::Float64,
        };
        let xs = if name == "count" {
            not_null.clone()
        } else {
            x.clone().cast(if cast_int(&out_type) { DataType::Int64 } else { sum_type.clone() }).fill_null(lit(0))
        };
        let s = fresh("cs");
        let c = fresh("cc");
        let total_s = fresh("ts");
        let total_c = fresh("tc");
        let step1 =
            vec![ctx.over(xs.cum_sum(false)).alias(s.as_str()), ctx.over(not_null.cum_sum(false)).alias(c.as_str())];
        let step2 = vec![
            ctx.over(col(s.as_str()).last()).alias(total_s.as_str()),
            ctx.over(col(c.as_str()).last()).alias(total_c.as_str()),
        ];
        // Prefix value at row index j (0-based) of the partition: 0 before the start, the total after the end.
        let idx = ctx.rn.clone() - lit(1i64);
        let at = |name: &str, total: &str, offset: i64, fill_zero: Expr| -> Expr {
            let j = idx.clone() + lit(offset);
            when(j.clone().lt(lit(0i64)))
                .then(fill_zero)
                .when(j.gt_eq(ctx.n.clone()))
                .then(col(total))
                .otherwise(ctx.over(col(name).shift(lit(-offset))))
        };
        let zero = lit(0).cast(if name == "count" || cast_int(&out_type) { DataType::Int64 } else { sum_type.clone() });
        let (upper_s, upper_c) = match end {
            Bound::Unbounded => (col(total_s.as_str()), col(total_c.as_str())),
            Bound::Offset(e) if peers => {
                let _ = e;
                (ctx.over_peers(col(s.as_str()).last()), ctx.over_peers(col(c.as_str()).last()))
            }
            Bound::Offset(e) => (at(&s, &total_s, e, zero.clone()), at(&c, &total_c, e, lit(0i64))),
        };
        let (lower_s, lower_c) = match start {
            Bound::Unbounded => (zero.clone(), lit(0i64)),
            Bound::Offset(b) if peers => {
                // RANGE CURRENT ROW AND ...: from the first peer.
                let _ = b;
                (
                    ctx.over_peers(col(s.as_str()).first()) - ctx.over_peers(xs_first(&s)),
                    ctx.over_peers(col(c.as_str()).first()) - ctx.over_peers(first_count(&c)),
                )
            }
            Bound::Offset(b) => (at(&s, &total_s, b - 1, zero.clone()), at(&c, &total_c, b - 1, lit(0i64))),
        };
        let sum = upper_s - lower_s;
        let count = upper_c - lower_c;
        let e = match name {
            "count" => count,
            "sum" => when(count.clone().gt(lit(0i64))).then(sum).otherwise(lit(NULL)),
            _ => when(count.clone().gt(lit(0i64)))
                .then(sum.cast(DataType::Float64) / count.cast(DataType::Float64))
                .otherwise(lit(NULL)),
        };
        let e = e.cast(out_type.clone());
        return Ok((vec![step1, step2], Typed::new(e, out_type)));
    }
    if matches!(name, "min" | "max") {
        let mut steps: Steps = Vec::new();
        let running = match (start, end) {
            (Bound::Unbounded, Bound::Offset(0)) => {
                let r = if name == "min" { x.cum_min(false) } else { x.cum_max(false) };
                let r = ctx.over(r.fill_null_with_strategy(FillNullStrategy::Forward(None)));
                if peers {
                    // The running value in a column first: a window inside a window is not one.
                    let id = fresh("run");
                    steps.push(vec![r.alias(id.as_str())]);
                    ctx.over_peers(col(id.as_str()).last())
                } else {
                    r
                }
            }
            (Bound::Offset(b), Bound::Offset(0)) if rows && b <= 0 => {
                let opts =
                    RollingOptionsFixedWindow { window_size: (1 - b) as usize, min_periods: 1, ..Default::default() };
                ctx.over(if name == "min" { x.rolling_min(opts) } else { x.rolling_max(opts) })
            }
            _ => return Err(refuse_frame()),
        };
        return Ok((steps, Typed::new(running.cast(out_type.clone()), out_type)));
    }
    Err(refuse_frame())
}

fn is_count_star(f: &Function) -> bool {
    matches!(&f.args, ast::FunctionArguments::List(l) if l.args.iter().any(|a| matches!(a, ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard))))
}

fn cast_int(t: &DataType) -> bool {
    matches!(t, DataType::Int64)
}

fn xs_first(_s: &str) -> Expr {
    lit(0)
}

fn first_count(_c: &str) -> Expr {
    lit(0i64)
}
