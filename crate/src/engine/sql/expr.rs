//! SQL expressions to typed Polars expressions, in a scope of columns.

use polars::prelude::*;
use sqlparser::ast::{self, BinaryOperator as Op, Expr as E, UnaryOperator, Value as V};

use super::cast::{self, common, common_of, is_numeric, widen};
use super::plan::Planner;
use super::scope::{ColRef, resolve};
use super::typed::{Lit, SqlResult, Typed, refuse};
use super::{agg, datetime, func, nested, strings};

use super::arith::arith;
pub(crate) use super::literal::interval_text;
use super::literal::{interval_parts, value};
pub(crate) use super::naming::auto_name;

/// Replacements: an expression (its lowercase SQL text) already computed as a column.
pub(crate) type Subs = Vec<(String, Typed)>;

pub(crate) fn key(e: &E) -> String {
    e.to_string().to_lowercase().replace('`', "")
}

/// Translates expressions of one scope.
#[derive(Clone)]
pub(crate) struct Tr<'a> {
    pub planner: &'a Planner<'a>,
    pub cols: &'a [ColRef],
    /// The relation's frame, for functions that look at the data first (json_parse).
    pub frame: Option<&'a LazyFrame>,
    pub subs: &'a [(String, Typed)],
    /// After GROUP BY: a column must be a group key (in `subs`) or inside an aggregate.
    pub grouped: bool,
    /// Select-list aliases, which GROUP BY and HAVING may name.
    pub aliases: &'a [(String, E)],
    /// Lambda variables in scope: each is the list element, `col("")`.
    pub lambda: Vec<(String, DataType)>,
}

impl<'a> Tr<'a> {
    pub fn new(planner: &'a Planner<'a>, cols: &'a [ColRef]) -> Tr<'a> {
        Tr { planner, cols, frame: None, subs: &[], grouped: false, aliases: &[], lambda: Vec::new() }
    }

    /// Translates `e`; an error without a place points at `e` in the cell.
    pub fn expr(&self, e: &E) -> SqlResult<Typed> {
        self.expr_at(e).map_err(|err| {
            if err.location.is_some() {
                return err;
            }
            let start = sqlparser::ast::Spanned::span(e).start;
            if start.line == 0 {
                return err;
            }
            let location = crate::Location { line: start.line as u32, column: start.column as u32 };
            err.at(Some(location))
        })
    }

    fn expr_at(&self, e: &E) -> SqlResult<Typed> {
        if !self.subs.is_empty() {
            let k = key(e);
            if let Some((_, t)) = self.subs.iter().find(|(s, _)| *s == k) {
                return Ok(t.clone());
            }
        }
        match e {
            E::Nested(inner) => self.expr(inner),
            E::Value(v) => value(&v.value),
            E::Identifier(ident) => self.column(std::slice::from_ref(ident)),
            E::CompoundIdentifier(parts) => self.column(parts),
            E::CompoundFieldAccess { root, access_chain } => {
                let mut out = self.expr(root)?;
                for access in access_chain {
                    out = match access {
                        ast::AccessExpr::Dot(E::Identifier(f)) => field(out, &f.value)?,
                        ast::AccessExpr::Dot(other) => {
                            return Err(refuse(format!("unsupported field access .{other}"), "write s.field"));
                        }
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                            nested::index(out, self.expr(index)?)?
                        }
                        ast::AccessExpr::Subscript(_) => {
                            return Err(refuse(
                                "array slices a[i:j] are not Spark SQL",
                                "use slice(arr, start, length)",
                            ));
                        }
                    };
                }
                Ok(out)
            }
            E::BinaryOp { left, op, right } => self.binary(left, op, right),
            E::UnaryOp { op, expr } => self.unary(op, expr),
            E::IsNull(x) => Ok(Typed::new(self.expr(x)?.expr.is_null(), DataType::Boolean)),
            E::IsNotNull(x) => Ok(Typed::new(self.expr(x)?.expr.is_not_null(), DataType::Boolean)),
            E::IsTrue(x) => Ok(Typed::new(self.boolean(x)?.expr.eq_missing(lit(true)), DataType::Boolean)),
            E::IsNotTrue(x) => Ok(Typed::new(self.boolean(x)?.expr.eq_missing(lit(true)).not(), DataType::Boolean)),
            E::IsFalse(x) => Ok(Typed::new(self.boolean(x)?.expr.eq_missing(lit(false)), DataType::Boolean)),
            E::IsNotFalse(x) => Ok(Typed::new(self.boolean(x)?.expr.eq_missing(lit(false)).not(), DataType::Boolean)),
            E::IsUnknown(x) => Ok(Typed::new(self.boolean(x)?.expr.is_null(), DataType::Boolean)),
            E::IsNotUnknown(x) => Ok(Typed::new(self.boolean(x)?.expr.is_not_null(), DataType::Boolean)),
            E::IsDistinctFrom(a, b) => {
                let (a, b) = self.pair(a, b, "IS DISTINCT FROM")?;
                Ok(Typed::new(a.expr.eq_missing(b.expr).not(), DataType::Boolean))
            }
            E::IsNotDistinctFrom(a, b) => {
                let (a, b) = self.pair(a, b, "IS NOT DISTINCT FROM")?;
                Ok(Typed::new(a.expr.eq_missing(b.expr), DataType::Boolean))
            }
            E::Between { expr, negated, low, high } => {
                let x = self.expr(expr)?;
                let lo = self.expr(low)?;
                let hi = self.expr(high)?;
                let t = common_of(&[&x.dtype, &lo.dtype, &hi.dtype], "BETWEEN")?;
                let (x, lo, hi) = (widen(x, &t)?, widen(lo, &t)?, widen(hi, &t)?);
                let r = x.expr.clone().gt_eq(lo.expr).and(x.expr.lt_eq(hi.expr));
                Ok(Typed::new(if *negated { r.not() } else { r }, DataType::Boolean))
            }
            E::In { expr, target: ast::InTarget::List(list), negated, .. } => {
                let x = self.expr(expr)?;
                let items = list.iter().map(|i| self.expr(i)).collect::<SqlResult<Vec<_>>>()?;
                let mut types: Vec<&DataType> = items.iter().map(|i| &i.dtype).collect();
                types.push(&x.dtype);
                let t = common_of(&types, "IN")?;
                let x = widen(x, &t)?;
                let mut any: Option<Expr> = None;
                for item in items {
                    let eq = x.expr.clone().eq(widen(item, &t)?.expr);
                    any = Some(match any {
                        None => eq,
                        Some(a) => a.or(eq),
                    });
                }
                let r = any.unwrap_or_else(|| lit(false));
                Ok(Typed::new(if *negated { r.not() } else { r }, DataType::Boolean))
            }
            E::In { expr, target: ast::InTarget::Subquery(q), negated, .. } if matches!(strip(expr), E::Tuple(_)) => {
                let E::Tuple(items) = strip(expr) else { unreachable!("matched above") };
                let items = items.iter().map(|i| self.expr(i)).collect::<SqlResult<Vec<_>>>()?;
                let r = super::subquery::in_tuple(self, items, q)?;
                Ok(Typed::new(if *negated { r.not() } else { r }, DataType::Boolean))
            }
            E::In { expr, target: ast::InTarget::Subquery(q), negated, .. } => {
                let x = self.expr(expr)?;
                let r = super::subquery::in_subquery(self, x, q)?;
                Ok(Typed::new(if *negated { r.not() } else { r }, DataType::Boolean))
            }
            E::Exists { subquery, negated } => {
                let r = super::subquery::exists(self, subquery)?;
                Ok(Typed::new(if *negated { r.not() } else { r }, DataType::Boolean))
            }
            E::Subquery(q) => super::subquery::scalar(self, q),
            E::Like { negated, any, expr, pattern, escape_char }
            | E::ILike { negated, any, expr, pattern, escape_char } => {
                let ci = matches!(e, E::ILike { .. });
                let x = self.expr(expr)?;
                let x = if x.dtype == DataType::String { x } else { cast::cast(x, &DataType::String, true)? };
                let escape = match escape_char.as_deref() {
                    None => None,
                    Some(E::Value(v)) => match &v.value {
                        V::SingleQuotedString(s) | V::DoubleQuotedString(s) if s.chars().count() == 1 => {
                            s.chars().next()
                        }
                        _ => return Err(refuse("LIKE ... ESCAPE takes one character", "write ESCAPE '\\\\'")),
                    },
                    Some(_) => return Err(refuse("LIKE ... ESCAPE takes one character", "write ESCAPE '!'")),
                };
                let patterns: Vec<&E> = match (any, pattern.as_ref()) {
                    (true, E::Tuple(items)) => items.iter().collect(),
                    (_, E::Nested(p)) if *any => vec![p.as_ref()],
                    (_, p) => vec![p],
                };
                let mut out: Option<Expr> = None;
                for p in patterns {
                    let m = strings::like(x.clone(), &self.expr(p)?, escape, ci)?.expr;
                    out = Some(match out {
                        None => m,
                        Some(o) => o.or(m),
                    });
                }
                let r = out.unwrap_or_else(|| lit(false));
                Ok(Typed::new(if *negated { r.not() } else { r }, DataType::Boolean))
            }
            E::RLike { negated, expr, pattern, .. } => {
                let r = self.call_family("rlike", vec![self.expr(expr)?, self.expr(pattern)?])?;
                Ok(if *negated { Typed::new(r.expr.not(), DataType::Boolean) } else { r })
            }
            E::Case { operand, conditions, else_result, .. } => {
                self.case(operand.as_deref(), conditions, else_result.as_deref())
            }
            E::Cast { format: Some(f), .. } => Err(refuse(
                format!("CAST ... FORMAT {f} is not Spark SQL"),
                "use to_date(s, 'yyyy-MM-dd'), to_timestamp or date_format with a pattern",
            )),
            E::Cast { kind, expr, data_type, .. } => {
                let to = cast::sql_type(data_type)?;
                let x = self.expr(expr)?;
                let ansi = !matches!(kind, ast::CastKind::TryCast | ast::CastKind::SafeCast);
                cast::cast(x, &to, ansi)
            }
            E::TypedString(ts) => {
                let text = match &ts.value.value {
                    V::SingleQuotedString(s) | V::DoubleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                let to = cast::sql_type(&ts.data_type)?;
                cast::cast(Typed::constant(Lit::Str(text)), &to, true)
            }
            E::Extract { field, expr, .. } => {
                let field = Typed::constant(Lit::Str(field.to_string()));
                self.call_family("date_part", vec![field, self.expr(expr)?])
            }
            E::Ceil { expr, field } | E::Floor { expr, field } => {
                let name = if matches!(e, E::Ceil { .. }) { "ceil" } else { "floor" };
                let mut args = vec![self.expr(expr)?];
                match field {
                    ast::CeilFloorKind::Scale(v) => args.push(value(&v.value)?),
                    ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) => {}
                    ast::CeilFloorKind::DateTimeField(f) => {
                        return Err(refuse(format!("{name}(x TO {f}) is not Spark SQL"), "use date_trunc"));
                    }
                }
                self.call_family(name, args)
            }
            E::Position { expr, r#in } => self.call_family("position", vec![self.expr(expr)?, self.expr(r#in)?]),
            E::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.expr(expr)?];
                args.push(match substring_from {
                    Some(f) => self.expr(f)?,
                    None => Typed::constant(Lit::Int(1)),
                });
                if let Some(f) = substring_for {
                    args.push(self.expr(f)?);
                }
                self.call_family("substring", args)
            }
            E::Trim { trim_where, trim_what, expr, trim_characters } => {
                let name = match trim_where {
                    Some(ast::TrimWhereField::Leading) => "ltrim",
                    Some(ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "trim",
                };
                let mut args = vec![self.expr(expr)?];
                if let Some(w) = trim_what {
                    args.push(self.expr(w)?);
                }
                if let Some(chars) = trim_characters {
                    // Spark's function form trim(trimStr, str): the string comes second.
                    let [s] = chars.as_slice() else {
                        return Err(refuse(
                            "trim takes a string and the characters to trim",
                            "write trim(BOTH 'x' FROM s)",
                        ));
                    };
                    args.insert(0, self.expr(s)?);
                }
                self.call_family(name, args)
            }
            E::Overlay { expr, overlay_what, overlay_from, overlay_for } => {
                let mut args = vec![self.expr(expr)?, self.expr(overlay_what)?, self.expr(overlay_from)?];
                if let Some(f) = overlay_for {
                    args.push(self.expr(f)?);
                }
                self.call_family("overlay", args)
            }
            E::Function(f) => func::function(self, f),
            E::Struct { values, fields } => {
                if !fields.is_empty() {
                    return Err(refuse(
                        "STRUCT<...>(...) with field types is not Spark SQL",
                        "write struct(a, b) or named_struct('a', a, 'b', b)",
                    ));
                }
                func::struct_of(self, values)
            }
            E::Array(a) => {
                let args = a.elem.iter().map(|x| self.expr(x)).collect::<SqlResult<Vec<_>>>()?;
                self.call_family("array", args)
            }
            E::Interval(_) => Err(refuse(
                "an INTERVAL value on its own is not supported in the tab (interval types are not)",
                "add it to a date or timestamp (ts + INTERVAL 1 HOUR), or use datediff / timestampdiff for differences",
            )),
            E::Lambda(_) => Err(refuse(
                "a lambda (x -> ...) is only an argument of transform, filter, exists or forall",
                "write transform(arr, x -> x + 1)",
            )),
            E::Wildcard(_) | E::QualifiedWildcard(..) => {
                Err(refuse("* is only allowed in the SELECT list or count(*)", "name the columns"))
            }
            E::GroupingSets(_) | E::Cube(_) | E::Rollup(_) => {
                Err(refuse("GROUPING SETS, CUBE and ROLLUP belong in GROUP BY", "write GROUP BY ROLLUP(a, b)"))
            }
            other => Err(refuse(
                format!("the expression {other} is not supported in the tab"),
                "rewrite it with Spark SQL's functions (see docs/sql.md), or run the cell on Spark",
            )),
        }
    }

    pub fn boolean(&self, e: &E) -> SqlResult<Typed> {
        let t = self.expr(e)?;
        match t.dtype {
            DataType::Boolean => Ok(t),
            DataType::Null => Ok(t.cast_to(DataType::Boolean)),
            _ => Err(refuse(
                format!(
                    "{e} is a {}, not a boolean (DATATYPE_MISMATCH)",
                    super::super::output::spark_type_name(&t.dtype)
                ),
                "compare it, such as x = 1 or x IS NOT NULL",
            )),
        }
    }

    /// A WHERE, HAVING, QUALIFY or ON condition: a boolean, and not a bare NULL.
    pub fn condition(&self, e: &E) -> SqlResult<Typed> {
        let t = self.expr(e)?;
        match t.dtype {
            DataType::Boolean => Ok(t),
            _ => Err(refuse(
                format!(
                    "the condition {e} is a {}, not a boolean (DATATYPE_MISMATCH.FILTER_NOT_BOOLEAN)",
                    super::super::output::spark_type_name(&t.dtype)
                ),
                "write a comparison, such as x = 1 or x IS NOT NULL",
            )),
        }
    }

    fn pair(&self, a: &E, b: &E, what: &str) -> SqlResult<(Typed, Typed)> {
        let a = self.expr(a)?;
        let b = self.expr(b)?;
        let t = common(&a.dtype, &b.dtype).ok_or_else(|| mismatch(what, &a.dtype, &b.dtype))?;
        Ok((widen(a, &t)?, widen(b, &t)?))
    }

    pub fn call_family(&self, name: &str, args: Vec<Typed>) -> SqlResult<Typed> {
        func::family(self, name, &args)
    }

    fn column(&self, parts: &[ast::Ident]) -> SqlResult<Typed> {
        let names: Vec<String> = parts.iter().map(|p| p.value.clone()).collect();
        if let Some((_, dtype)) = self.lambda.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(&names[0])) {
            let mut out = Typed::new(col(""), dtype.clone());
            for f in &names[1..] {
                out = field(out, f)?;
            }
            return Ok(out);
        }
        for i in (1..names.len()).rev() {
            let prefix = names[..i].join(".").to_lowercase();
            if let Some((_, t)) = self.subs.iter().find(|(k, _)| *k == prefix) {
                let mut out = t.clone();
                for f in &names[i..] {
                    out = field(out, f)?;
                }
                return Ok(out);
            }
        }
        match resolve(self.cols, &names)? {
            Some((c, fields)) => {
                if self.grouped {
                    // HAVING may name a select alias that is also an input column.
                    if names.len() == 1
                        && let Some((_, e)) = self.aliases.iter().find(|(a, _)| a.eq_ignore_ascii_case(&names[0]))
                    {
                        let inner = Tr { aliases: &[], ..self.clone() };
                        return inner.expr(e);
                    }
                    return Err(refuse(
                        format!(
                            "the column {} is neither in GROUP BY nor inside an aggregate (MISSING_AGGREGATION)",
                            names.join(".")
                        ),
                        format!("add it to GROUP BY, or aggregate it, such as first({})", names.join(".")),
                    ));
                }
                let mut out = c.typed();
                for f in &fields {
                    out = field(out, f)?;
                }
                Ok(out)
            }
            None => {
                if names.len() == 1
                    && let Some((_, e)) = self.aliases.iter().find(|(a, _)| a.eq_ignore_ascii_case(&names[0]))
                {
                    let inner = Tr { aliases: &[], ..self.clone() };
                    return inner.expr(e);
                }
                if let Some(outer) = self.planner.outer_column(&names)? {
                    return Ok(outer);
                }
                let known: Vec<String> = self.cols.iter().filter(|c| !c.hidden).map(|c| c.name.clone()).collect();
                let hint = match super::super::suggest::nearest(&names.join("."), &known) {
                    Some(near) => {
                        format!("did you mean {}? Columns: {}", super::super::suggest::quoted(&near), known.join(", "))
                    }
                    None => format!("the columns here are {}", known.join(", ")),
                };
                Err(refuse(format!("there is no column named {} here (UNRESOLVED_COLUMN)", names.join(".")), hint))
            }
        }
    }

    fn unary(&self, op: &UnaryOperator, e: &E) -> SqlResult<Typed> {
        match op {
            UnaryOperator::Not => {
                let t = self.boolean(e)?;
                Ok(Typed::new(t.expr.not(), DataType::Boolean))
            }
            UnaryOperator::Plus => self.expr(e),
            UnaryOperator::Minus => {
                let t = self.expr(e)?;
                match &t.lit {
                    Some(Lit::Int(n)) => return Ok(Typed::constant(Lit::Int(-n))),
                    Some(Lit::Float(x)) => return Ok(Typed::constant(Lit::Float(-x))),
                    Some(Lit::Decimal(u, s)) => return Ok(Typed::constant(Lit::Decimal(-u, *s))),
                    _ => {}
                }
                if !is_numeric(&t.dtype) {
                    return Err(refuse(format!("-{e}: {e} is not a number"), "negate numbers only"));
                }
                let dtype = t.dtype.clone();
                Ok(Typed::new(lit(0).cast(dtype.clone()) - t.expr, dtype))
            }
            other => Err(refuse(format!("the operator {other} is not Spark SQL"), "use a function")),
        }
    }

    fn case(&self, operand: Option<&E>, conditions: &[ast::CaseWhen], otherwise: Option<&E>) -> SqlResult<Typed> {
        let operand = operand.map(|o| self.expr(o)).transpose()?;
        let mut conds = Vec::new();
        let mut results = Vec::new();
        for w in conditions {
            let c = match &operand {
                Some(o) => {
                    let v = self.expr(&w.condition)?;
                    let t = common(&o.dtype, &v.dtype).ok_or_else(|| mismatch("CASE", &o.dtype, &v.dtype))?;
                    widen(o.clone(), &t)?.expr.eq(widen(v, &t)?.expr)
                }
                None => self.boolean(&w.condition)?.expr,
            };
            conds.push(c);
            results.push(self.expr(&w.result)?);
        }
        let other = match otherwise {
            Some(o) => self.expr(o)?,
            None => Typed::constant(Lit::Null),
        };
        let mut types: Vec<&DataType> = results.iter().map(|r| &r.dtype).collect();
        types.push(&other.dtype);
        let t = common_of(&types, "CASE")?;
        let other = widen(other, &t)?.expr;
        let mut chain: Option<polars::prelude::ChainedThen> = None;
        let mut first: Option<polars::prelude::Then> = None;
        for (c, r) in conds.into_iter().zip(results) {
            let r = widen(r, &t)?.expr;
            match (first.take(), chain.take()) {
                (None, None) => first = Some(when(c).then(r)),
                (Some(f), None) => chain = Some(f.when(c).then(r)),
                (_, Some(ch)) => chain = Some(ch.when(c).then(r)),
            }
        }
        let expr = match (first, chain) {
            (Some(f), None) => f.otherwise(other),
            (_, Some(ch)) => ch.otherwise(other),
            (None, None) => other,
        };
        Ok(Typed::new(expr, t))
    }

    fn binary(&self, l: &E, op: &Op, r: &E) -> SqlResult<Typed> {
        match op {
            Op::And | Op::Or => {
                let a = self.boolean(l)?;
                let b = self.boolean(r)?;
                let e = if matches!(op, Op::And) { a.expr.and(b.expr) } else { a.expr.or(b.expr) };
                return Ok(Typed::new(e, DataType::Boolean));
            }
            Op::StringConcat => return self.call_family("concat", vec![self.expr(l)?, self.expr(r)?]),
            Op::Regexp => return self.call_family("rlike", vec![self.expr(l)?, self.expr(r)?]),
            _ => {}
        }
        // Dates and timestamps plus or minus an interval.
        if matches!(op, Op::Plus | Op::Minus)
            && let E::Interval(iv) = strip(r)
        {
            let (months, days, micros) = interval_parts(self, iv)?;
            let sign = if matches!(op, Op::Minus) { -1 } else { 1 };
            return datetime::add_interval(self.expr(l)?, sign * months, sign * days, i64::from(sign) * micros);
        }
        if matches!(op, Op::Plus)
            && let E::Interval(iv) = strip(l)
        {
            let (months, days, micros) = interval_parts(self, iv)?;
            return datetime::add_interval(self.expr(r)?, months, days, micros);
        }
        let a = self.expr(l)?;
        let b = self.expr(r)?;
        arith(self, op, a, b, l, r)
    }
}

fn strip(e: &E) -> &E {
    match e {
        E::Nested(inner) => strip(inner),
        other => other,
    }
}

pub(crate) fn mismatch(what: &str, a: &DataType, b: &DataType) -> super::super::super::CellError {
    refuse(
        format!(
            "{what}: {} and {} cannot be compared or combined (DATATYPE_MISMATCH)",
            super::super::output::spark_type_name(a),
            super::super::output::spark_type_name(b)
        ),
        "CAST one side to the other's type",
    )
}

/// A struct's field.
pub(crate) fn field(t: Typed, name: &str) -> SqlResult<Typed> {
    match &t.dtype {
        DataType::Struct(fields) if fields.is_empty() => Err(refuse(
            format!(
                "the struct has no fields, so it has no field {name} (FIELD_NOT_FOUND): json_parse had no JSON object to infer them from"
            ),
            format!("name the fields: json_parse(value, schema => '{name} STRING, ...')"),
        )),
        DataType::Struct(fields) => {
            let f = fields.iter().find(|f| f.name().eq_ignore_ascii_case(name)).ok_or_else(|| {
                refuse(
                    format!("the struct has no field {name} (FIELD_NOT_FOUND)"),
                    format!(
                        "its fields are {}",
                        fields.iter().map(|f| f.name().to_string()).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            Ok(Typed::new(t.expr.struct_().field_by_name(f.name().as_str()), f.dtype().clone()))
        }
        DataType::List(inner) if matches!(inner.as_ref(), DataType::Struct(_)) => {
            // arr.field: the field of every element (Spark allows it on arrays of structs).
            let elem = field(Typed::new(col(""), (**inner).clone()), name)?;
            Ok(Typed::new(t.expr.list().eval(elem.expr), DataType::List(Box::new(elem.dtype))))
        }
        other => Err(refuse(
            format!(
                "cannot take the field {name} of a {} (INVALID_EXTRACT_BASE_FIELD_TYPE)",
                super::super::output::spark_type_name(other)
            ),
            "field access works on structs: s.field",
        )),
    }
}

pub(crate) fn is_aggregate_call(f: &ast::Function) -> bool {
    f.over.is_none() && {
        let name = f.name.to_string().to_lowercase();
        agg::is_aggregate(&name) || matches!(name.as_str(), "count" | "grouping" | "grouping_id")
    }
}
