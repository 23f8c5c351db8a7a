//! Spark's string functions. Each is computed row by row over whole
//! columns ([`map_columns`]), so that every answer is Spark's own, down to
//! its quirks; constant arguments are folded at plan time.

use polars::prelude::*;

use super::typed::{Cx, Lit, SqlResult, Typed, bad_args, map_columns, refuse};

#[path = "strings_fmt.rs"]
mod fmt;
#[path = "strings_more.rs"]
mod more;
#[path = "strings_regex.rs"]
mod rx;
#[cfg(test)]
#[path = "strings_tests.rs"]
mod tests;

pub(super) use more::like;
use more::{initcap, levenshtein, mask};

/// One value of a row, as the functions read it.
#[derive(Clone, Debug)]
pub(super) enum V<'a> {
    Null,
    Str(&'a str),
    Bin(&'a [u8]),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// Unscaled value and scale.
    Dec(i128, usize),
    List(Vec<Option<String>>),
}

impl<'a> V<'a> {
    fn str(&self) -> Option<&'a str> {
        match self {
            V::Str(s) => Some(s),
            _ => None,
        }
    }
    fn int(&self) -> Option<i64> {
        match self {
            V::Int(n) => Some(*n),
            _ => None,
        }
    }
    fn bytes(&self) -> Option<&'a [u8]> {
        match self {
            V::Str(s) => Some(s.as_bytes()),
            V::Bin(b) => Some(b),
            _ => None,
        }
    }
}

/// A row function's result.
type Row<R> = Result<Option<R>, String>;

/// What a row function returns, and how that becomes a column or a constant.
pub(super) trait Out: Sized + Send + Sync + 'static {
    fn dtype() -> DataType;
    fn column(name: PlSmallStr, values: Vec<Option<Self>>) -> PolarsResult<Column>;
    fn constant(self) -> Option<(Expr, Lit)>;
}

impl Out for String {
    fn dtype() -> DataType {
        DataType::String
    }
    fn column(name: PlSmallStr, values: Vec<Option<Self>>) -> PolarsResult<Column> {
        Ok(StringChunked::from_iter_options(name, values.into_iter()).into_column())
    }
    fn constant(self) -> Option<(Expr, Lit)> {
        Some((lit(self.clone()), Lit::Str(self)))
    }
}

impl Out for i32 {
    fn dtype() -> DataType {
        DataType::Int32
    }
    fn column(name: PlSmallStr, values: Vec<Option<Self>>) -> PolarsResult<Column> {
        Ok(Int32Chunked::from_iter_options(name, values.into_iter()).into_column())
    }
    fn constant(self) -> Option<(Expr, Lit)> {
        Some((lit(self), Lit::Int(i64::from(self))))
    }
}

impl Out for i64 {
    fn dtype() -> DataType {
        DataType::Int64
    }
    fn column(name: PlSmallStr, values: Vec<Option<Self>>) -> PolarsResult<Column> {
        Ok(Int64Chunked::from_iter_options(name, values.into_iter()).into_column())
    }
    fn constant(self) -> Option<(Expr, Lit)> {
        Some((lit(self), Lit::Int(self)))
    }
}

impl Out for bool {
    fn dtype() -> DataType {
        DataType::Boolean
    }
    fn column(name: PlSmallStr, values: Vec<Option<Self>>) -> PolarsResult<Column> {
        Ok(BooleanChunked::from_iter_options(name, values.into_iter()).into_column())
    }
    fn constant(self) -> Option<(Expr, Lit)> {
        Some((lit(self), Lit::Bool(self)))
    }
}

impl Out for Vec<u8> {
    fn dtype() -> DataType {
        DataType::Binary
    }
    fn column(name: PlSmallStr, values: Vec<Option<Self>>) -> PolarsResult<Column> {
        Ok(BinaryChunked::from_iter_options(name, values.into_iter()).into_column())
    }
    fn constant(self) -> Option<(Expr, Lit)> {
        None
    }
}

impl Out for Vec<String> {
    fn dtype() -> DataType {
        DataType::List(Box::new(DataType::String))
    }
    fn column(name: PlSmallStr, values: Vec<Option<Self>>) -> PolarsResult<Column> {
        let mut builder = ListStringChunkedBuilder::new(name, values.len(), values.len() * 2);
        for value in &values {
            match value {
                Some(parts) => builder.append_values_iter(parts.iter().map(String::as_str)),
                None => builder.append_null(),
            }
        }
        Ok(builder.finish().into_column())
    }
    fn constant(self) -> Option<(Expr, Lit)> {
        None
    }
}

/// A column read for a row function.
enum Source {
    Str(StringChunked),
    Bin(BinaryChunked),
    Int(Int64Chunked),
    Float(Float64Chunked),
    Bool(BooleanChunked),
    Dec(Int128Chunked, usize),
    List(Vec<Option<Vec<Option<String>>>>),
    Null(usize),
}

fn source(column: &Column) -> PolarsResult<Source> {
    let s = column.as_materialized_series();
    Ok(match s.dtype() {
        DataType::String => Source::Str(s.str()?.clone()),
        DataType::Binary => Source::Bin(s.binary()?.clone()),
        DataType::Boolean => Source::Bool(s.bool()?.clone()),
        DataType::Null => Source::Null(s.len()),
        DataType::Float32 | DataType::Float64 => Source::Float(s.cast(&DataType::Float64)?.f64()?.clone()),
        DataType::Decimal(..) => {
            let ca = s.decimal()?;
            Source::Dec(ca.physical().clone(), ca.scale())
        }
        DataType::List(inner) if **inner == DataType::String => {
            let mut rows = Vec::with_capacity(s.len());
            for row in s.list()?.into_iter() {
                rows.push(match row {
                    Some(items) => Some(items.str()?.into_iter().map(|o| o.map(str::to_string)).collect()),
                    None => None,
                });
            }
            Source::List(rows)
        }
        dt if dt.is_integer() => Source::Int(s.cast(&DataType::Int64)?.i64()?.clone()),
        dt => polars_bail!(ComputeError: "a string function got a column of type {}", dt),
    })
}

fn values(source: &Source) -> Vec<V<'_>> {
    fn all<'a, T>(it: impl Iterator<Item = Option<T>>, f: impl Fn(T) -> V<'a>) -> Vec<V<'a>> {
        it.map(|o| o.map_or(V::Null, &f)).collect()
    }
    match source {
        Source::Str(ca) => all(ca.iter(), V::Str),
        Source::Bin(ca) => all(ca.iter(), V::Bin),
        Source::Int(ca) => all(ca.iter(), V::Int),
        Source::Float(ca) => all(ca.iter(), V::Float),
        Source::Bool(ca) => all(ca.iter(), V::Bool),
        Source::Dec(ca, scale) => all(ca.iter(), |n| V::Dec(n, *scale)),
        Source::List(rows) => rows.iter().map(|r| r.clone().map_or(V::Null, V::List)).collect(),
        Source::Null(n) => vec![V::Null; *n],
    }
}

fn lit_value(lit: &Lit) -> Option<V<'_>> {
    Some(match lit {
        Lit::Null => V::Null,
        Lit::Bool(b) => V::Bool(*b),
        Lit::Int(n) => V::Int(*n),
        Lit::Float(x) => V::Float(*x),
        Lit::Decimal(n, s) => V::Dec(*n, *s),
        Lit::Str(s) => V::Str(s),
    })
}

/// `f` applied to each row of `args` (constants broadcast), folded at plan
/// time when every argument is a constant and `f` succeeds on them.
fn rows<R: Out>(args: Vec<Typed>, f: impl Fn(&[V<'_>]) -> Row<R> + Send + Sync + 'static) -> Typed {
    let constants: Option<Vec<V<'_>>> = args.iter().map(|a| a.lit.as_ref().and_then(lit_value)).collect();
    if let Some(row) = constants {
        match f(&row) {
            Ok(None) => {
                let dtype = R::dtype();
                let expr = Expr::Literal(LiteralValue::untyped_null()).cast(dtype.clone());
                return Typed { expr, dtype, lit: Some(Lit::Null) };
            }
            Ok(Some(value)) => {
                if let Some((expr, lit)) = value.constant() {
                    return Typed { expr, dtype: R::dtype(), lit: Some(lit) };
                }
            }
            Err(_) => {}
        }
    }
    let inputs: Vec<Expr> = args.into_iter().map(|a| a.expr).collect();
    let expr = map_columns(inputs, R::dtype(), move |columns: &mut [Column]| {
        let name = columns.first().map(|c| c.name().clone()).unwrap_or_default();
        let len =
            if columns.iter().any(|c| c.is_empty()) { 0 } else { columns.iter().map(Column::len).max().unwrap_or(1) };
        let sources = columns.iter().map(source).collect::<PolarsResult<Vec<_>>>()?;
        let cols: Vec<Vec<V<'_>>> = sources.iter().map(values).collect();
        let mut out = Vec::with_capacity(len);
        let mut row = Vec::with_capacity(cols.len());
        for i in 0..len {
            row.clear();
            row.extend(cols.iter().map(|c| if c.len() == 1 { c[0].clone() } else { c[i].clone() }));
            out.push(f(&row).map_err(|m| polars_err!(ComputeError: "{}", m))?);
        }
        R::column(name, out)
    });
    Typed::new(expr, R::dtype())
}

/// A string argument: strings as they are, anything else as Spark's
/// implicit cast to text writes it.
fn text(function: &str, arg: &Typed) -> SqlResult<Typed> {
    match &arg.dtype {
        DataType::String => Ok(arg.clone()),
        DataType::Null => Ok(Typed { lit: Some(Lit::Null), ..arg.clone().cast_to(DataType::String) }),
        DataType::List(_) | DataType::Struct(_) => Err(refuse(
            format!("{function}: expects a string here, not a {} value", arg.dtype),
            format!("pass a string, e.g. {function}(to_json(x), ...)"),
        )),
        _ => {
            let lit = match &arg.lit {
                Some(Lit::Int(n)) => Some(Lit::Str(n.to_string())),
                Some(Lit::Bool(b)) => Some(Lit::Str(b.to_string())),
                _ => None,
            };
            let cast = super::cast::cast(arg.clone(), &DataType::String, true)?;
            Ok(Typed { lit, ..cast })
        }
    }
}

/// An integer argument (a count, a position, a length).
fn int(function: &str, arg: &Typed) -> SqlResult<Typed> {
    match &arg.dtype {
        dt if dt.is_integer() => Ok(arg.clone()),
        DataType::Null => Ok(Typed { lit: Some(Lit::Null), ..arg.clone().cast_to(DataType::Int32) }),
        dt => Err(refuse(
            format!("{function}: expects an integer here, not a {dt} value"),
            format!("pass an integer, e.g. {function}(..., CAST(x AS INT))"),
        )),
    }
}

/// A string or binary argument, as bytes.
fn bytes(function: &str, arg: &Typed) -> SqlResult<Typed> {
    if arg.dtype == DataType::Binary { Ok(arg.clone()) } else { text(function, arg) }
}

/// Spark's ANSI cast of an integer argument to `int`.
fn as_i32(n: i64) -> Result<i32, String> {
    i32::try_from(n).map_err(|_| {
        format!("[CAST_OVERFLOW] The value {n}L of the type \"BIGINT\" cannot be cast to \"INT\" due to an overflow.")
    })
}

fn count_args(name: &str, args: &[Typed], min: usize, max: usize, want: &str) -> SqlResult<()> {
    if args.len() < min || args.len() > max { Err(bad_args(name, want)) } else { Ok(()) }
}

/// Spark's `name(args)` for this family, or `None` when the name is not one of its functions.
pub(super) fn call(name: &str, args: &[Typed], cx: &Cx) -> Option<SqlResult<Typed>> {
    let _ = cx;
    // Arrays go to the array functions of the same names.
    if matches!(name, "concat" | "reverse") && args.iter().any(|a| matches!(a.dtype, DataType::List(_))) {
        return None;
    }
    if let Some(result) = rx::call(name, args) {
        return Some(result);
    }
    if let Some(result) = fmt::call(name, args) {
        return Some(result);
    }
    let result = match name {
        "lower" | "lcase" | "upper" | "ucase" => case(name, args),
        "length" | "char_length" | "character_length" | "len" | "octet_length" | "bit_length" => length(name, args),
        "substring" | "substr" => substring(name, args),
        "left" | "right" => left_right(name, args),
        "concat" => concat(args),
        "concat_ws" => concat_ws(args),
        "trim" | "btrim" | "ltrim" | "rtrim" => trim(name, args),
        "lpad" | "rpad" => pad(name, args),
        "initcap" => unary_text(name, args, |s| initcap(s).map(Some)),
        "substring_index" => substring_index(args),
        "instr" | "locate" | "position" => locate(name, args),
        "replace" => replace(args),
        "repeat" => repeat(args),
        "reverse" => unary_text(name, args, |s| Ok(Some(s.chars().rev().collect::<String>()))),
        "translate" => translate(args),
        "ascii" => unary_text(name, args, |s| Ok(Some(s.chars().next().map_or(0, |c| c as i32)))),
        "chr" | "char" => chr(name, args),
        "space" => space(args),
        "startswith" | "endswith" | "contains" => starts_ends(name, args),
        "elt" => elt(args),
        "overlay" => overlay(args),
        "find_in_set" => find_in_set(args),
        "soundex" => unary_text(name, args, |s| Ok(Some(fmt::soundex(s)))),
        "levenshtein" => levenshtein(args),
        "mask" => mask(args),
        _ => return None,
    };
    Some(result)
}

fn unary_text<R: Out>(
    name: &str,
    args: &[Typed],
    f: impl Fn(&str) -> Result<Option<R>, String> + Send + Sync + 'static,
) -> SqlResult<Typed> {
    count_args(name, args, 1, 1, &format!("{name}(str)"))?;
    let s = text(name, &args[0])?;
    Ok(rows(vec![s], move |r| match r[0].str() {
        Some(s) => f(s),
        None => Ok(None),
    }))
}

fn case(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    let upper = matches!(name, "upper" | "ucase");
    unary_text(name, args, move |s| Ok(Some(if upper { s.to_uppercase() } else { s.to_lowercase() })))
}

fn length(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 1, 1, &format!("{name}(str)"))?;
    let v = bytes(name, &args[0])?;
    let kind = match name {
        "octet_length" => 1,
        "bit_length" => 8,
        _ => 0,
    };
    Ok(rows(vec![v], move |r| {
        let n = match (&r[0], kind) {
            (V::Null, _) => return Ok(None),
            (V::Str(s), 0) => s.chars().count(),
            (v, k) => v.bytes().map_or(0, <[u8]>::len) * k.max(1),
        };
        Ok(Some(i32::try_from(n).unwrap_or(i32::MAX)))
    }))
}

/// Spark's `substringSQL`: 1-based, 0 acts as 1, negative counts from the end.
fn substring_sql(s: &str, pos: i32, len: i32) -> String {
    let n = s.chars().count() as i64;
    let pos = i64::from(pos);
    let start = if pos > 0 {
        pos - 1
    } else if pos < 0 {
        n + pos
    } else {
        0
    };
    let end = (start + i64::from(len)).clamp(i64::from(i32::MIN), i64::from(i32::MAX));
    let start = start.max(0);
    if start >= end {
        return String::new();
    }
    s.chars().skip(start as usize).take((end.min(n) - start).max(0) as usize).collect()
}

fn substring(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 2, 3, &format!("{name}(str, pos[, len])"))?;
    let mut inputs = vec![text(name, &args[0])?, int(name, &args[1])?];
    if let Some(len) = args.get(2) {
        inputs.push(int(name, len)?);
    }
    Ok(rows(inputs, |r| {
        let (Some(s), Some(pos)) = (r[0].str(), r[1].int()) else { return Ok(None) };
        let len = match r.get(2) {
            None => i32::MAX,
            Some(V::Int(n)) => as_i32(*n)?,
            Some(_) => return Ok(None),
        };
        Ok(Some(substring_sql(s, as_i32(pos)?, len)))
    }))
}

fn left_right(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 2, 2, &format!("{name}(str, len)"))?;
    let left = name == "left";
    Ok(rows(vec![text(name, &args[0])?, int(name, &args[1])?], move |r| {
        let (Some(s), Some(n)) = (r[0].str(), r[1].int()) else { return Ok(None) };
        let n = as_i32(n)?;
        Ok(Some(if n <= 0 {
            String::new()
        } else if left {
            substring_sql(s, 1, n)
        } else {
            substring_sql(s, -n, i32::MAX)
        }))
    }))
}

fn concat(args: &[Typed]) -> SqlResult<Typed> {
    if args.iter().any(|a| a.dtype == DataType::Binary) {
        return Err(refuse("concat: the engine does not concatenate binary values", "CAST them to STRING first"));
    }
    if args.is_empty() {
        return Ok(Typed::constant(Lit::Str(String::new())));
    }
    let inputs = args.iter().map(|a| text("concat", a)).collect::<SqlResult<Vec<_>>>()?;
    Ok(rows(inputs, |r| {
        let mut out = String::new();
        for v in r {
            match v.str() {
                Some(s) => out.push_str(s),
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    }))
}

fn concat_ws(args: &[Typed]) -> SqlResult<Typed> {
    count_args("concat_ws", args, 1, usize::MAX, "concat_ws(sep, str_or_array, ...)")?;
    let mut inputs = vec![text("concat_ws", &args[0])?];
    for a in &args[1..] {
        inputs.push(match &a.dtype {
            DataType::List(inner) if **inner == DataType::String => a.clone(),
            DataType::List(_) => return Err(bad_args("concat_ws", "concat_ws(sep, array<string> or strings)")),
            _ => text("concat_ws", a)?,
        });
    }
    Ok(rows(inputs, |r| {
        let Some(sep) = r[0].str() else { return Ok(None) };
        let mut parts: Vec<&str> = Vec::new();
        for v in &r[1..] {
            match v {
                V::Str(s) => parts.push(s),
                V::List(items) => parts.extend(items.iter().flatten().map(String::as_str)),
                _ => {}
            }
        }
        Ok(Some(parts.join(sep)))
    }))
}

fn trim(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 1, 2, &format!("{name}(str) or TRIM(BOTH chars FROM str)"))?;
    let mut inputs = vec![text(name, &args[0])?];
    if let Some(chars) = args.get(1) {
        inputs.push(text(name, chars)?);
    }
    let (left, right) = match name {
        "ltrim" => (true, false),
        "rtrim" => (false, true),
        _ => (true, true),
    };
    Ok(rows(inputs, move |r| {
        let Some(s) = r[0].str() else { return Ok(None) };
        let set: Vec<char> = match r.get(1) {
            None => vec![' '],
            Some(V::Str(c)) => c.chars().collect(),
            Some(_) => return Ok(None),
        };
        let mut out = s;
        if left {
            out = out.trim_start_matches(|c| set.contains(&c));
        }
        if right {
            out = out.trim_end_matches(|c| set.contains(&c));
        }
        Ok(Some(out.to_string()))
    }))
}

fn pad(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 2, 3, &format!("{name}(str, len[, pad])"))?;
    if args[0].dtype == DataType::Binary {
        return Err(refuse(format!("{name}: the engine does not pad binary values"), "CAST the value to STRING"));
    }
    let mut inputs = vec![text(name, &args[0])?, int(name, &args[1])?];
    inputs.push(match args.get(2) {
        Some(p) => text(name, p)?,
        None => Typed::constant(Lit::Str(" ".into())),
    });
    let left = name == "lpad";
    Ok(rows(inputs, move |r| {
        let (Some(s), Some(len), Some(p)) = (r[0].str(), r[1].int(), r[2].str()) else { return Ok(None) };
        let len = as_i32(len)?;
        let n = s.chars().count() as i64;
        let spaces = i64::from(len) - n;
        if spaces <= 0 || p.is_empty() {
            return Ok(Some(s.chars().take(len.max(0) as usize).collect()));
        }
        let fill: String = p.chars().cycle().take(spaces as usize).collect();
        Ok(Some(if left { fill + s } else { format!("{s}{fill}") }))
    }))
}

fn substring_index(args: &[Typed]) -> SqlResult<Typed> {
    let name = "substring_index";
    count_args(name, args, 3, 3, "substring_index(str, delim, count)")?;
    let inputs = vec![text(name, &args[0])?, text(name, &args[1])?, int(name, &args[2])?];
    Ok(rows(inputs, |r| {
        let (Some(s), Some(d), Some(count)) = (r[0].str(), r[1].str(), r[2].int()) else { return Ok(None) };
        let count = as_i32(count)?;
        if d.is_empty() || count == 0 {
            return Ok(Some(String::new()));
        }
        let (hay, needle) = (s.as_bytes(), d.as_bytes());
        let at = |i: usize| hay.get(i..i + needle.len()) == Some(needle);
        if count > 0 {
            let mut from = 0;
            let mut found = None;
            for _ in 0..count {
                match (from..hay.len()).find(|&i| at(i)) {
                    Some(i) => {
                        found = Some(i);
                        from = i + 1;
                    }
                    None => return Ok(Some(s.to_string())),
                }
            }
            Ok(Some(found.map_or(String::new(), |i| s[..i].to_string())))
        } else {
            let mut upto = (hay.len() + 1).saturating_sub(needle.len());
            let mut found = None;
            for _ in 0..count.unsigned_abs() {
                match (0..upto).rev().find(|&i| at(i)) {
                    Some(i) => {
                        found = Some(i);
                        upto = i;
                    }
                    None => return Ok(Some(s.to_string())),
                }
            }
            Ok(Some(found.map_or(String::new(), |i| s[i + needle.len()..].to_string())))
        }
    }))
}

/// The 0-based character index of `needle` in `hay` at or after character `start`.
fn index_of(hay: &str, needle: &str, start: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.char_indices().enumerate().skip(start).find(|(_, (b, _))| hay[*b..].starts_with(needle)).map(|(c, _)| c)
}

fn locate(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    let (want, max) = match name {
        "instr" => ("instr(str, substr)", 2),
        _ => ("locate(substr, str[, pos])", 3),
    };
    count_args(name, args, 2, max, want)?;
    // Every form as (substr, str, pos).
    let (sub, s) = if name == "instr" { (&args[1], &args[0]) } else { (&args[0], &args[1]) };
    let mut inputs = vec![text(name, sub)?, text(name, s)?];
    inputs.push(match args.get(2) {
        Some(p) => int(name, p)?,
        None => Typed::constant(Lit::Int(1)),
    });
    Ok(rows(inputs, |r| {
        let Some(pos) = r[2].int() else { return Ok(Some(0)) };
        let (Some(sub), Some(s)) = (r[0].str(), r[1].str()) else { return Ok(None) };
        let pos = as_i32(pos)?;
        if pos < 1 {
            return Ok(Some(0));
        }
        Ok(Some(index_of(s, sub, pos as usize - 1).map_or(0, |i| i as i32 + 1)))
    }))
}

fn replace(args: &[Typed]) -> SqlResult<Typed> {
    count_args("replace", args, 2, 3, "replace(str, search[, replace])")?;
    let mut inputs = vec![text("replace", &args[0])?, text("replace", &args[1])?];
    inputs.push(match args.get(2) {
        Some(r) => text("replace", r)?,
        None => Typed::constant(Lit::Str(String::new())),
    });
    Ok(rows(inputs, |r| {
        let (Some(s), Some(from), Some(to)) = (r[0].str(), r[1].str(), r[2].str()) else { return Ok(None) };
        Ok(Some(if from.is_empty() { s.to_string() } else { s.replace(from, to) }))
    }))
}

fn repeat(args: &[Typed]) -> SqlResult<Typed> {
    count_args("repeat", args, 2, 2, "repeat(str, n)")?;
    Ok(rows(vec![text("repeat", &args[0])?, int("repeat", &args[1])?], |r| {
        let (Some(s), Some(n)) = (r[0].str(), r[1].int()) else { return Ok(None) };
        Ok(Some(s.repeat(as_i32(n)?.max(0) as usize)))
    }))
}

fn translate(args: &[Typed]) -> SqlResult<Typed> {
    count_args("translate", args, 3, 3, "translate(str, from, to)")?;
    let inputs = args.iter().map(|a| text("translate", a)).collect::<SqlResult<Vec<_>>>()?;
    Ok(rows(inputs, |r| {
        let (Some(s), Some(from), Some(to)) = (r[0].str(), r[1].str(), r[2].str()) else { return Ok(None) };
        let mut dict: Vec<(char, Option<char>)> = Vec::new();
        let mut to = to.chars();
        for c in from.chars() {
            let rep = to.next().filter(|&t| t != '\0');
            if !dict.iter().any(|(k, _)| *k == c) {
                dict.push((c, rep));
            }
        }
        Ok(Some(
            s.chars()
                .filter_map(|c| match dict.iter().find(|(k, _)| *k == c) {
                    Some((_, rep)) => *rep,
                    None => Some(c),
                })
                .collect::<String>(),
        ))
    }))
}

fn chr(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 1, 1, &format!("{name}(n)"))?;
    Ok(rows(vec![int(name, &args[0])?], |r| {
        let Some(n) = r[0].int() else { return Ok(None) };
        Ok(Some(if n < 0 { String::new() } else { char::from((n & 0xFF) as u8).to_string() }))
    }))
}

fn space(args: &[Typed]) -> SqlResult<Typed> {
    count_args("space", args, 1, 1, "space(n)")?;
    Ok(rows(vec![int("space", &args[0])?], |r| {
        let Some(n) = r[0].int() else { return Ok(None) };
        Ok(Some(" ".repeat(as_i32(n)?.max(0) as usize)))
    }))
}

fn starts_ends(name: &str, args: &[Typed]) -> SqlResult<Typed> {
    count_args(name, args, 2, 2, &format!("{name}(str, part)"))?;
    let kind = match name {
        "startswith" => 0,
        "endswith" => 1,
        _ => 2,
    };
    Ok(rows(vec![bytes(name, &args[0])?, bytes(name, &args[1])?], move |r| {
        let (Some(s), Some(p)) = (r[0].bytes(), r[1].bytes()) else { return Ok(None) };
        Ok(Some(match kind {
            0 => s.starts_with(p),
            1 => s.ends_with(p),
            _ => p.is_empty() || s.windows(p.len()).any(|w| w == p),
        }))
    }))
}

fn elt(args: &[Typed]) -> SqlResult<Typed> {
    count_args("elt", args, 2, usize::MAX, "elt(n, str1, str2, ...)")?;
    let mut inputs = vec![int("elt", &args[0])?];
    for a in &args[1..] {
        inputs.push(text("elt", a)?);
    }
    Ok(rows(inputs, |r| {
        let Some(n) = r[0].int() else { return Ok(None) };
        let count = r.len() - 1;
        if n < 1 || n as usize > count {
            return Err(format!(
                "[INVALID_ARRAY_INDEX] The index {n} is out of bounds. The array has {count} elements."
            ));
        }
        Ok(r[n as usize].str().map(str::to_string))
    }))
}

fn overlay(args: &[Typed]) -> SqlResult<Typed> {
    count_args("overlay", args, 3, 4, "overlay(str PLACING replace FROM pos [FOR len])")?;
    let mut inputs = vec![text("overlay", &args[0])?, text("overlay", &args[1])?, int("overlay", &args[2])?];
    inputs.push(match args.get(3) {
        Some(l) => int("overlay", l)?,
        None => Typed::constant(Lit::Int(-1)),
    });
    Ok(rows(inputs, |r| {
        let (Some(s), Some(rep), Some(pos), Some(len)) = (r[0].str(), r[1].str(), r[2].int(), r[3].int()) else {
            return Ok(None);
        };
        let (pos, len) = (as_i32(pos)?, as_i32(len)?);
        let len = if len >= 0 { len } else { rep.chars().count() as i32 };
        let head = substring_sql(s, 1, pos.saturating_sub(1));
        Ok(Some(head + rep + &substring_sql(s, pos.saturating_add(len), i32::MAX)))
    }))
}

fn find_in_set(args: &[Typed]) -> SqlResult<Typed> {
    count_args("find_in_set", args, 2, 2, "find_in_set(str, 'a,b,c')")?;
    Ok(rows(vec![text("find_in_set", &args[0])?, text("find_in_set", &args[1])?], |r| {
        let (Some(s), Some(list)) = (r[0].str(), r[1].str()) else { return Ok(None) };
        if s.contains(',') {
            return Ok(Some(0));
        }
        Ok(Some(list.split(',').position(|p| p == s).map_or(0, |i| i as i32 + 1)))
    }))
}
