//! SQL expressions to typed Polars expressions, in a scope of columns.

use polars::prelude::*;
use sqlparser::ast::{self, BinaryOperator as Op, Expr as E, UnaryOperator, Value as V};

use super::cast::{self, common, common_of, is_integer, is_numeric, widen};
use super::plan::Planner;
use super::scope::{ColRef, resolve};
use super::typed::{Lit, SqlResult, Typed, fail_if, refuse, timestamp_type};
use super::{agg, datetime, func, nested, strings};

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

    pub fn expr(&self, e: &E) -> SqlResult<Typed> {
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
                            return Err(refuse("array slices a[i:j] are not Spark SQL", "use slice(arr, start, length)"));
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
            E::Like { negated, any, expr, pattern, escape_char } | E::ILike { negated, any, expr, pattern, escape_char } => {
                let ci = matches!(e, E::ILike { .. });
                let x = self.expr(expr)?;
                let x = if x.dtype == DataType::String { x } else { cast::cast(x, &DataType::String, true)? };
                let escape = match escape_char.as_deref() {
                    None => None,
                    Some(E::Value(v)) => match &v.value {
                        V::SingleQuotedString(s) | V::DoubleQuotedString(s) if s.chars().count() == 1 => s.chars().next(),
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
            E::Case { operand, conditions, else_result, .. } => self.case(operand.as_deref(), conditions, else_result.as_deref()),
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
                        return Err(refuse("trim takes a string and the characters to trim", "write trim(BOTH 'x' FROM s)"));
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
                    return Err(refuse("STRUCT<...>(...) with field types is not Spark SQL", "write struct(a, b) or named_struct('a', a, 'b', b)"));
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
                format!("{e} is a {}, not a boolean (DATATYPE_MISMATCH)", super::super::output::spark_type_name(&t.dtype)),
                "compare it, such as x = 1 or x IS NOT NULL",
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
                    Some(near) => format!("did you mean {near}? Columns: {}", known.join(", ")),
                    None => format!("the columns here are {}", known.join(", ")),
                };
                Err(refuse(
                    format!("there is no column named {} here (UNRESOLVED_COLUMN)", names.join(".")),
                    hint,
                ))
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
            format!("cannot take the field {name} of a {} (INVALID_EXTRACT_BASE_FIELD_TYPE)", super::super::output::spark_type_name(other)),
            "field access works on structs: s.field",
        )),
    }
}

/// A literal.
pub(crate) fn value(v: &V) -> SqlResult<Typed> {
    Ok(match v {
        V::Number(text, long) => {
            let t = Typed::constant(number(text, *long)?);
            // Spark's typed literals: 1L, 1Y, 1S, 1.5D, 1.5F, 1.5BD.
            let lower = text.to_lowercase();
            let typed = if *long {
                Some(DataType::Int64)
            } else if lower.ends_with("bd") {
                None
            } else if lower.ends_with('l') {
                Some(DataType::Int64)
            } else if lower.ends_with('y') {
                Some(DataType::Int8)
            } else if lower.ends_with('s') {
                Some(DataType::Int16)
            } else if lower.ends_with('d') {
                Some(DataType::Float64)
            } else if lower.ends_with('f') {
                Some(DataType::Float32)
            } else {
                None
            };
            match typed {
                Some(to) => {
                    let lit = t.lit.clone();
                    let mut c = cast::cast(t, &to, true)?;
                    c.lit = lit.filter(|l| matches!(l, Lit::Int(_)) && cast::is_integer(&to));
                    c
                }
                None => t,
            }
        }
        V::SingleQuotedString(s) | V::DoubleQuotedString(s) => Typed::constant(Lit::Str(unescape(s))),
        V::Boolean(b) => Typed::constant(Lit::Bool(*b)),
        V::Null => Typed::constant(Lit::Null),
        V::HexStringLiteral(h) => {
            let bytes = (0..h.len() / 2)
                .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| refuse(format!("X'{h}' is not hexadecimal"), "write X'1F2A'"))?;
            Typed::new(lit(bytes), DataType::Binary)
        }
        other => return Err(refuse(format!("the literal {other} is not supported"), "write a string in single quotes")),
    })
}

/// Spark's escapes in string literals: `\n`, `\t`, `\\`, `\'`.
fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

fn number(text: &str, long: bool) -> SqlResult<Lit> {
    let bad = || refuse(format!("{text} is not a number"), "write 12, 1.5 or 1e3");
    let lower = text.to_lowercase();
    if let Some(d) = lower.strip_suffix("bd") {
        return number(d, long);
    }
    if let Some(f) = lower.strip_suffix('f') {
        return f.parse().map(Lit::Float).map_err(|_| bad());
    }
    if let Some(n) = lower.strip_suffix('y').or_else(|| lower.strip_suffix('s')) {
        return n.parse().map(Lit::Int).map_err(|_| bad());
    }
    if let Some(d) = lower.strip_suffix('d') {
        return d.parse().map(Lit::Float).map_err(|_| bad());
    }
    if let Some(l) = lower.strip_suffix('l') {
        return l.parse().map(Lit::Int).map_err(|_| bad());
    }
    if lower.contains('e') {
        return lower.parse().map(Lit::Float).map_err(|_| bad());
    }
    if let Some((whole, frac)) = lower.split_once('.') {
        let digits = format!("{whole}{frac}");
        let unscaled: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| bad())? };
        return Ok(Lit::Decimal(unscaled, frac.len()));
    }
    let _ = long;
    match lower.parse::<i64>() {
        Ok(n) => Ok(Lit::Int(n)),
        Err(_) => {
            let unscaled: i128 = lower.parse().map_err(|_| bad())?;
            Ok(Lit::Decimal(unscaled, 0))
        }
    }
}

/// `INTERVAL '1' DAY`, `INTERVAL 2 HOURS`, `INTERVAL '1 day 2 hours'`: months, days, microseconds.
fn interval_parts(tr: &Tr<'_>, iv: &ast::Interval) -> SqlResult<(i32, i32, i64)> {
    let text = match tr.expr(&iv.value)?.lit {
        Some(Lit::Str(s)) => s,
        Some(Lit::Int(n)) => n.to_string(),
        Some(Lit::Decimal(u, s)) => super::typed::decimal_text(u, s),
        _ => return Err(refuse("an INTERVAL needs a constant", "write INTERVAL '1' DAY or INTERVAL 2 HOURS")),
    };
    let bad = || refuse(format!("INTERVAL '{text}' is not an interval Spark reads"), "write INTERVAL '1' DAY, INTERVAL 2 HOURS or INTERVAL '1 day 2 hours'");
    let mut units: Vec<(String, String)> = Vec::new();
    match &iv.leading_field {
        Some(field) => {
            let unit = field.to_string().to_lowercase();
            if let Some(last) = &iv.last_field {
                // 'Y-M' YEAR TO MONTH, 'D H:M:S' DAY TO SECOND
                let last = last.to_string().to_lowercase();
                let pieces: Vec<&str> = text.split(|c: char| c == '-' || c == ' ' || c == ':').filter(|p| !p.is_empty()).collect();
                let order = ["year", "month", "day", "hour", "minute", "second"];
                let start = order.iter().position(|u| unit.starts_with(u)).ok_or_else(bad)?;
                let end = order.iter().position(|u| last.starts_with(u)).ok_or_else(bad)?;
                if end < start || pieces.len() != end - start + 1 {
                    return Err(bad());
                }
                for (i, p) in pieces.iter().enumerate() {
                    units.push((p.to_string(), order[start + i].to_string()));
                }
            } else {
                units.push((text.trim().to_string(), unit));
            }
        }
        None => return interval_text(&text),
    }
    interval_units(&text, units)
}

/// `'1 day 2 hours'`: months, days, microseconds.
pub(crate) fn interval_text(text: &str) -> SqlResult<(i32, i32, i64)> {
    let bad = || refuse(format!("'{text}' is not an interval Spark reads"), "write '1 day', '2 hours' or '1 day 2 hours'");
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() % 2 != 0 || words.is_empty() {
        return Err(bad());
    }
    let units = words.chunks(2).map(|pair| (pair[0].to_string(), pair[1].to_lowercase())).collect();
    interval_units(text, units)
}

fn interval_units(text: &str, units: Vec<(String, String)>) -> SqlResult<(i32, i32, i64)> {
    let bad = || refuse(format!("INTERVAL '{text}' is not an interval Spark reads"), "write INTERVAL '1' DAY, INTERVAL 2 HOURS or INTERVAL '1 day 2 hours'");
    let (mut months, mut days, mut micros) = (0i64, 0i64, 0i64);
    for (n, unit) in units {
        let unit = unit.trim_end_matches('s');
        let x: f64 = n.parse().map_err(|_| bad())?;
        let whole = x as i64;
        let whole_only = || if x.fract() == 0.0 { Ok(whole) } else { Err(bad()) };
        match unit {
            "year" => months += 12 * whole_only()?,
            "month" => months += whole_only()?,
            "week" => days += 7 * whole_only()?,
            "day" => days += whole_only()?,
            "hour" => micros += whole_only()? * 3_600_000_000,
            "minute" => micros += whole_only()? * 60_000_000,
            "second" => micros += (x * 1e6).round() as i64,
            "millisecond" => micros += whole_only()? * 1000,
            "microsecond" => micros += whole_only()?,
            _ => return Err(bad()),
        }
    }
    Ok((months as i32, days as i32, micros))
}

/// The result type and value of `a op b` for arithmetic and comparisons.
fn arith(tr: &Tr<'_>, op: &Op, a: Typed, b: Typed, l: &E, r: &E) -> SqlResult<Typed> {
    use DataType::*;
    let _ = tr;
    let cmp = |f: fn(Expr, Expr) -> Expr, a: Typed, b: Typed| -> SqlResult<Typed> {
        let t = common(&a.dtype, &b.dtype).ok_or_else(|| mismatch(&format!("{l} {op} {r}"), &a.dtype, &b.dtype))?;
        Ok(Typed::new(f(widen(a, &t)?.expr, widen(b, &t)?.expr), Boolean))
    };
    match op {
        Op::Eq => return cmp(|x, y| x.eq(y), a, b),
        Op::NotEq => return cmp(|x, y| x.neq(y), a, b),
        Op::Lt => return cmp(|x, y| x.lt(y), a, b),
        Op::LtEq => return cmp(|x, y| x.lt_eq(y), a, b),
        Op::Gt => return cmp(|x, y| x.gt(y), a, b),
        Op::GtEq => return cmp(|x, y| x.gt_eq(y), a, b),
        Op::Spaceship => return cmp(|x, y| x.eq_missing(y), a, b),
        _ => {}
    }
    // date + n days, date - n days
    if matches!(a.dtype, Date) && is_integer(&b.dtype) && matches!(op, Op::Plus | Op::Minus) {
        let name = if matches!(op, Op::Plus) { "date_add" } else { "date_sub" };
        return func::family(tr, name, &[a, b]);
    }
    if matches!(a.dtype, Datetime(..)) && matches!(b.dtype, Datetime(..)) && matches!(op, Op::Minus) {
        let t = timestamp_type();
        let d = widen(a, &t)?.expr - widen(b, &t)?.expr;
        return Ok(Typed::new(d.cast(Duration(TimeUnit::Microseconds)), Duration(TimeUnit::Microseconds)));
    }
    if matches!(a.dtype, Date) && matches!(b.dtype, Date) && matches!(op, Op::Minus) {
        return Err(refuse(
            "date - date is an interval, which the tab does not support",
            "use datediff(end, start) for the number of days",
        ));
    }
    let name = |op: &Op| format!("{l} {op} {r}");
    // Strings in arithmetic are read as doubles (Spark casts them).
    let as_number = |s: Typed, other: &DataType| -> SqlResult<Typed> {
        if s.dtype != String {
            return Ok(s);
        }
        let to = if is_integer(other) { Int64 } else { Float64 };
        cast::cast(s, &to, true)
    };
    let (a_type, b_type) = (a.dtype.clone(), b.dtype.clone());
    let a = as_number(a, &b_type)?;
    let b = as_number(b, &a_type)?;
    if !(is_numeric(&a.dtype) || a.dtype == Null) || !(is_numeric(&b.dtype) || b.dtype == Null) {
        return Err(mismatch(&name(op), &a.dtype, &b.dtype));
    }
    let t = common(&a.dtype, &b.dtype).ok_or_else(|| mismatch(&name(op), &a.dtype, &b.dtype))?;
    let t = if t == Null { Int32 } else { t };
    let zero_check = |value: Typed, divisor: &Expr| {
        fail_if(value, divisor.clone().eq(lit(0)), "[DIVIDE_BY_ZERO] Division by zero. Use try_divide to tolerate a divisor of 0 and return NULL instead")
    };
    match op {
        Op::Divide => {
            if let (Decimal(..), _) | (_, Decimal(..)) = (&a.dtype, &b.dtype)
                && !matches!(t, Float64 | Float32)
            {
                let (p1, s1) = lit_ps(&a);
                let (p2, s2) = lit_ps(&b);
                let (p, s) = adjust(p1 - s1 + s2 + (6usize).max(s1 + p2 + 1), (6usize).max(s1 + p2 + 1));
                let divisor = b.expr.clone().cast(Float64);
                let q = a.expr.cast(Float64) / divisor.clone();
                let v = Typed::new(q.round(s as u32, RoundMode::HalfAwayFromZero).cast(cast::decimal(p, s)), cast::decimal(p, s));
                return Ok(zero_check(v, &divisor));
            }
            let divisor = b.expr.clone().cast(Float64);
            let v = Typed::new(a.expr.cast(Float64) / divisor.clone(), Float64);
            Ok(zero_check(v, &divisor))
        }
        Op::Plus | Op::Minus | Op::Multiply => {
            if let Decimal(..) = t {
                let (p1, s1) = lit_ps(&a);
                let (p2, s2) = lit_ps(&b);
                let (p, s) = if matches!(op, Op::Multiply) {
                    adjust(p1 + p2 + 1, s1 + s2)
                } else {
                    let s = s1.max(s2);
                    adjust((p1 - s1).max(p2 - s2) + s + 1, s)
                };
                let to = cast::decimal(p, s);
                let x = a.expr.cast(to.clone());
                let y = b.expr.cast(to.clone());
                let e = match op {
                    Op::Plus => x + y,
                    Op::Minus => x - y,
                    _ => a_mul_decimal(x, y, &to),
                };
                return Ok(Typed::new(e.cast(to.clone()), to));
            }
            let x = a.expr.cast(t.clone());
            let y = b.expr.cast(t.clone());
            if matches!(t, Int32 | Int16 | Int8 | Int64) {
                // Exact in a wider type, then checked against the result type (ANSI overflow).
                let wide = if t == Int64 { Float64 } else { Int64 };
                let (wx, wy) = (x.clone().cast(wide.clone()), y.clone().cast(wide.clone()));
                let w = match op {
                    Op::Plus => wx + wy,
                    Op::Minus => wx - wy,
                    _ => wx * wy,
                };
                let (lo, hi) = match t {
                    Int8 => (-128.0, 127.0),
                    Int16 => (-32768.0, 32767.0),
                    Int32 => (f64::from(i32::MIN), f64::from(i32::MAX)),
                    _ => (-9.223372036854775e18, 9.223372036854775e18),
                };
                let e = match op {
                    Op::Plus => x + y,
                    Op::Minus => x - y,
                    _ => x * y,
                };
                let wf = w.cast(Float64);
                let bad = wf.clone().lt(lit(lo)).or(wf.gt(lit(hi)));
                let v = Typed::new(e, t.clone());
                return Ok(fail_if(v, bad, format!("[ARITHMETIC_OVERFLOW] {} overflowed the type {}; use try_add / try_multiply to get NULL instead", name(op), super::super::output::spark_type_name(&t))));
            }
            let e = match op {
                Op::Plus => x + y,
                Op::Minus => x - y,
                _ => x * y,
            };
            Ok(Typed::new(e, t))
        }
        Op::Modulo => {
            let (x, y) = (a.expr.cast(t.clone()), b.expr.cast(t.clone()));
            let v = Typed::new(truncated_rem(x, y.clone()), t);
            Ok(zero_check(v, &y))
        }
        Op::MyIntegerDivide | Op::DuckIntegerDivide => {
            if !is_integer(&t) {
                return Err(refuse(format!("{}: div takes integers", name(op)), "CAST both sides to BIGINT, or use floor(a / b)"));
            }
            let (x, y) = (a.expr.cast(Int64), b.expr.cast(Int64));
            let rem = truncated_rem(x.clone(), y.clone());
            let v = Typed::new((x - rem).floor_div(y.clone()), Int64);
            Ok(zero_check(v, &y))
        }
        Op::BitwiseAnd | Op::BitwiseOr | Op::BitwiseXor if is_integer(&t) => {
            let (x, y) = (a.expr.cast(t.clone()), b.expr.cast(t.clone()));
            let e = match op {
                Op::BitwiseAnd => x.and(y),
                Op::BitwiseOr => x.or(y),
                _ => x.xor(y),
            };
            Ok(Typed::new(e, t))
        }
        other => Err(refuse(format!("the operator {other} is not supported in the tab"), "use Spark SQL's functions")),
    }
}

fn a_mul_decimal(x: Expr, y: Expr, to: &DataType) -> Expr {
    (x.cast(DataType::Float64) * y.cast(DataType::Float64)).cast(to.clone())
}

/// `a % b` with the sign of `a`, as Java and Spark compute it.
fn truncated_rem(x: Expr, y: Expr) -> Expr {
    let r = x.clone() % y.clone();
    let wrong_sign = r.clone().neq(lit(0)).and(r.clone().lt(lit(0)).neq(x.lt(lit(0))));
    when(wrong_sign).then(r.clone() - y).otherwise(r)
}

/// An integer constant in decimal arithmetic has the precision of its digits.
fn lit_ps(t: &Typed) -> (usize, usize) {
    match t.lit {
        Some(Lit::Int(n)) => (n.unsigned_abs().to_string().len(), 0),
        _ => dec_ps(&t.dtype),
    }
}

fn dec_ps(dt: &DataType) -> (usize, usize) {
    match dt {
        DataType::Decimal(p, s) => (p.unwrap_or(38), s.unwrap_or(0)),
        DataType::Int8 => (3, 0),
        DataType::Int16 => (5, 0),
        DataType::Int32 => (10, 0),
        DataType::Int64 => (20, 0),
        _ => (38, 18),
    }
}

/// Spark's precision-loss rule for decimal results wider than 38 digits.
fn adjust(p: usize, s: usize) -> (usize, usize) {
    if p <= 38 {
        return (p, s);
    }
    let int_digits = p - s;
    let min_scale = s.min(6);
    let s = if 38 > int_digits { (38 - int_digits).max(min_scale) } else { min_scale };
    (38, s)
}

/// The column name Spark gives an expression without an alias.
pub(crate) fn auto_name(e: &E) -> String {
    match e {
        E::Identifier(i) => i.value.clone(),
        E::CompoundIdentifier(parts) => parts.last().map(|p| p.value.clone()).unwrap_or_default(),
        E::CompoundFieldAccess { root, access_chain } => {
            if access_chain.iter().any(|a| matches!(a, ast::AccessExpr::Subscript(_))) {
                // With a subscript Spark keeps the whole path: payload.items[0].
                let mut out = match root.as_ref() {
                    E::CompoundIdentifier(parts) => parts.iter().map(|p| p.value.clone()).collect::<Vec<_>>().join("."),
                    other => auto_name(other),
                };
                for a in access_chain {
                    match a {
                        ast::AccessExpr::Dot(E::Identifier(f)) => out = format!("{out}.{}", f.value),
                        ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => out = format!("{out}[{}]", auto_name(index)),
                        other => out = format!("{out}{other}"),
                    }
                }
                return out;
            }
            let mut out = auto_name(root);
            for a in access_chain {
                match a {
                    ast::AccessExpr::Dot(E::Identifier(f)) => out = f.value.clone(),
                    ast::AccessExpr::Subscript(ast::Subscript::Index { index }) => {
                        out = format!("{out}[{}]", auto_name(index));
                    }
                    other => out = format!("{out}{other}"),
                }
            }
            out
        }
        E::Nested(inner) => auto_name(inner),
        E::Value(v) => match &v.value {
            V::SingleQuotedString(s) | V::DoubleQuotedString(s) => s.clone(),
            V::Null => "NULL".into(),
            V::Boolean(b) => b.to_string(),
            other => other.to_string(),
        },
        E::BinaryOp { left, op, right } => format!("({} {} {})", auto_name(left), op, auto_name(right)),
        E::UnaryOp { op: UnaryOperator::Minus, expr } => match expr.as_ref() {
            E::Value(_) => format!("-{}", auto_name(expr)),
            _ => format!("(- {})", auto_name(expr)),
        },
        E::UnaryOp { op, expr } => format!("({op} {})", auto_name(expr)),
        E::IsNull(x) => format!("({} IS NULL)", auto_name(x)),
        E::IsNotNull(x) => format!("({} IS NOT NULL)", auto_name(x)),
        E::Cast { expr, data_type, kind, .. } => {
            let t = super::super::output::spark_type_name(&cast::sql_type(data_type).unwrap_or(DataType::Null)).to_uppercase();
            let word = if matches!(kind, ast::CastKind::TryCast) { "TRY_CAST" } else { "CAST" };
            if t == "STRING" && !matches!(kind, ast::CastKind::TryCast) {
                // Spark names a cast to string after its input.
                return auto_name(expr);
            }
            format!("{word}({} AS {t})", auto_name(expr))
        }
        E::Function(f) => {
            let name = f.name.to_string().to_lowercase();
            let (distinct, args) = match &f.args {
                ast::FunctionArguments::List(list) => (
                    matches!(list.duplicate_treatment, Some(ast::DuplicateTreatment::Distinct)),
                    list.args
                        .iter()
                        .map(|a| match a {
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) => auto_name(x),
                            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Wildcard) => "1".into(),
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>(),
                ),
                _ => (false, Vec::new()),
            };
            if name.starts_with("__lit_") {
                return args.join("");
            }
            let name = name.trim_start_matches("__").to_string();
            let name = match name.as_str() {
                "count" if args.first().is_some_and(|a| a == "1") && !distinct => "count".into(),
                "mean" => "avg".into(),
                other => other.to_string(),
            };
            let prefix = if distinct { "DISTINCT " } else { "" };
            let mut out = format!("{name}({prefix}{})", args.join(", "));
            if let Some(over) = &f.over {
                out = format!("{out} OVER ({over})");
            }
            out
        }
        E::Case { .. } => e.to_string(),
        other => other.to_string(),
    }
}

pub(crate) fn is_aggregate_call(f: &ast::Function) -> bool {
    f.over.is_none() && {
        let name = f.name.to_string().to_lowercase();
        agg::is_aggregate(&name) || matches!(name.as_str(), "count" | "grouping" | "grouping_id")
    }
}

pub(crate) fn timestamp() -> DataType {
    timestamp_type()
}
