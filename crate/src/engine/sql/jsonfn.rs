//! Spark's JSON functions: `get_json_object`, `from_json`, `to_json`,
//! `schema_of_json`, `json_array_length`, `json_object_keys`.
//!
//! JSON is parsed here, not by serde_json, to keep what Spark's Jackson
//! keeps: the order of an object's fields, repeated keys, and the text of a
//! number. Numbers are written back as Jackson writes them (a float as Java's
//! `Double.toString`: `1.0E10`), strings escaped as Jackson escapes them.

use chrono::DateTime;
use polars::prelude::*;

use super::nested::{is_map_type, rows_udf};
use super::typed::{Cx, Lit, SqlResult, Typed, refuse};

/// Spark's `name(args)` for this family, or `None` when the name is not one of its functions.
pub(super) fn call(name: &str, args: &[Typed], cx: &Cx) -> Option<SqlResult<Typed>> {
    let _ = cx;
    Some(match name {
        "get_json_object" => get_json_object(args),
        "from_json" => from_json(args),
        "to_json" => to_json(args),
        "schema_of_json" => schema_of_json(args),
        "json_array_length" | "json_object_keys" => match args {
            [j] => top_level(name, j),
            _ => Err(refuse(format!("{name}() takes one JSON string"), format!("write {name}(json_text)"))),
        },
        _ => return None,
    })
}

mod text;
use text::*;

// ---------------------------------------------------------------- get_json_object

enum Step {
    Key(String),
    Index(usize),
}

/// Spark's JSON path: `$`, `.name`, `['name']`, `[0]`; `None` when invalid,
/// `Err` for wildcards, which are not supported.
fn parse_path(path: &str) -> Result<Option<Vec<Step>>, ()> {
    let Some(mut rest) = path.strip_prefix('$') else { return Ok(None) };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if rest.starts_with(".*") || rest.starts_with("['*']") || rest.starts_with("[*]") {
            return Err(());
        }
        if let Some(r) = rest.strip_prefix("['") {
            let Some(end) = r.find("']") else { return Ok(None) };
            let name = &r[..end];
            if name.is_empty() || name.contains(['\'', '?']) {
                return Ok(None);
            }
            steps.push(Step::Key(name.to_string()));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else { return Ok(None) };
            let Ok(n) = r[..end].parse::<usize>() else { return Ok(None) };
            if !r[..end].bytes().all(|b| b.is_ascii_digit()) {
                return Ok(None);
            }
            steps.push(Step::Index(n));
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return Ok(None);
            }
            steps.push(Step::Key(r[..end].to_string()));
            rest = &r[end..];
        } else {
            return Ok(None);
        }
    }
    Ok(Some(steps))
}

fn follow(j: &Json, steps: &[Step]) -> Option<String> {
    let Some((step, rest)) = steps.split_first() else {
        return Some(match j {
            Json::Str(s) => s.clone(),
            other => compact(other),
        });
    };
    match (step, j) {
        // The first field of that name whose value is not null and matches the rest.
        (Step::Key(name), Json::Obj(fields)) => {
            fields.iter().filter(|(k, v)| k == name && *v != Json::Null).find_map(|(_, v)| follow(v, rest))
        }
        (Step::Index(n), Json::Arr(items)) => items.get(*n).and_then(|v| follow(v, rest)),
        _ => None,
    }
}

fn get_json_object(args: &[Typed]) -> SqlResult<Typed> {
    let [j, path] = args else {
        return Err(refuse("get_json_object() takes JSON text and a path", "write get_json_object(json, '$.a.b')"));
    };
    let text = json_text("get_json_object", j)?;
    if path.is_null_literal() {
        return Ok(Typed::new(lit(NULL).cast(DataType::String), DataType::String));
    }
    let Some(path) = path.lit_str() else {
        return Err(refuse(
            "get_json_object: the path must be a constant string",
            "write the path as a literal, e.g. '$.a.b[0]'",
        ));
    };
    let steps = match parse_path(path) {
        Ok(Some(steps)) => steps,
        // Spark answers NULL for every row when the path is not valid.
        Ok(None) => return Ok(Typed::new(lit(NULL).cast(DataType::String), DataType::String)),
        Err(()) => {
            return Err(refuse(
                "get_json_object: wildcards (* ) in JSON paths are not supported yet",
                "name each field or index, e.g. '$.items[0].name', or use from_json with an ARRAY schema",
            ));
        }
    };
    let expr = string_udf(text, move |t| follow(&parse(t, false)?, &steps));
    Ok(Typed::new(expr, DataType::String))
}

fn top_level(name: &str, j: &Typed) -> SqlResult<Typed> {
    let text = json_text(name, j)?;
    if name == "json_array_length" {
        let expr = rows_udf(vec![text], DataType::Int32, |s, _| {
            let out: Int32Chunked = s[0]
                .str()?
                .into_iter()
                .map(|t| match parse(t?, false)? {
                    Json::Arr(items) => i32::try_from(items.len()).ok(),
                    _ => None,
                })
                .collect();
            Ok(out.into_series())
        });
        return Ok(Typed::new(expr, DataType::Int32));
    }
    let dtype = DataType::List(Box::new(DataType::String));
    let expr = rows_udf(vec![text], dtype.clone(), |s, _| {
        let mut rows: Vec<Option<Series>> = Vec::new();
        for t in s[0].str()? {
            rows.push(match t.and_then(|t| parse(t, false)) {
                Some(Json::Obj(fields)) => {
                    Some(Series::new(PlSmallStr::EMPTY, fields.into_iter().map(|(k, _)| k).collect::<Vec<_>>()))
                }
                _ => None,
            });
        }
        super::nested::build_list(rows, &DataType::String)
    });
    Ok(Typed::new(expr, dtype))
}

// ---------------------------------------------------------------- schemas

/// A Spark DDL type or column list (`a INT, b STRUCT<c: STRING>`,
/// `array<int>`, `map<string,int>`) as the Polars type it reads into.
pub(super) fn parse_ddl(text: &str) -> SqlResult<DataType> {
    let bad = |why: String| {
        refuse(
            format!("the schema {text:?} is not valid: {why}"),
            "write it as Spark DDL, e.g. 'a INT, b STRING' or 'ARRAY<STRUCT<k: INT>>'",
        )
    };
    let tokens = ddl::tokens(text).map_err(bad)?;
    let mut p = ddl::Ddl { t: &tokens, i: 0 };
    if let Ok(t) = p.data_type()
        && p.i == tokens.len()
    {
        return Ok(t);
    }
    let mut p = ddl::Ddl { t: &tokens, i: 0 };
    let fields = p.columns(false).map_err(bad)?;
    if p.i != tokens.len() {
        return Err(bad(format!("unexpected {:?}", tokens[p.i])));
    }
    Ok(DataType::Struct(fields))
}

mod ddl;

// ---------------------------------------------------------------- from_json

/// Whether from_json can read into `t`.
fn readable(t: &DataType) -> Result<(), String> {
    match t {
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::String
        | DataType::Decimal(..) => Ok(()),
        DataType::List(inner) if is_map_type(t) => match &**inner {
            DataType::Struct(f) if f[0].dtype() == &DataType::String => readable(f[1].dtype()),
            _ => Err("maps with keys other than STRING".into()),
        },
        DataType::List(inner) => readable(inner),
        DataType::Struct(fields) => fields.iter().try_for_each(|f| readable(f.dtype())),
        other => Err(format!("{other} fields")),
    }
}

/// A decimal's text at `scale`, rounded half up, if it fits `precision`.
fn decimal_from_text(text: &str, precision: usize, scale: usize) -> Option<i128> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(at) => (&t[..at], t[at + 1..].parse::<i64>().ok()?),
        None => (t, 0),
    };
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && frac.is_empty() || !(whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())) {
        return None;
    }
    let digits: String = format!("{whole}{frac}");
    // value = digits * 10^(exp - frac.len()); wanted: value * 10^scale.
    let shift = exp - frac.len() as i64 + scale as i64;
    let digits = digits.trim_start_matches('0');
    let mut unscaled: i128 = 0;
    let (keep, dropped) = if shift >= 0 {
        (digits.to_string() + &"0".repeat(shift as usize), "")
    } else {
        let cut = digits.len().saturating_sub((-shift) as usize);
        (digits[..cut].to_string(), &digits[cut..])
    };
    for b in keep.bytes() {
        unscaled = unscaled.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    // Half up: the first dropped digit decides (digits shifted out entirely count as zeros before).
    let dropped_lead =
        if shift < 0 && (-shift) as usize > digits.len() { b'0' } else { dropped.bytes().next().unwrap_or(b'0') };
    if dropped_lead >= b'5' {
        unscaled += 1;
    }
    if unscaled >= 10i128.pow(precision as u32) {
        return None;
    }
    Some(if neg { -unscaled } else { unscaled })
}

/// Reads one JSON value as `t`, as Spark's Jackson parser does: `Err` when
/// it does not convert; a struct keeps the fields that convert.
fn read(j: &Json, t: &DataType) -> Result<AnyValue<'static>, ()> {
    if *j == Json::Null {
        return Ok(AnyValue::Null);
    }
    let int = |lo: i64, hi: i64| match j {
        Json::Num(n) if is_integer_text(n) => n.parse::<i64>().ok().filter(|v| (lo..=hi).contains(v)).ok_or(()),
        _ => Err(()),
    };
    let float = || match j {
        Json::Num(n) => n.parse::<f64>().map_err(|_| ()),
        Json::Str(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "+INF" | "+Infinity" | "Infinity" => Ok(f64::INFINITY),
            "-INF" | "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => Err(()),
        },
        _ => Err(()),
    };
    Ok(match t {
        DataType::Boolean => match j {
            Json::Bool(b) => AnyValue::Boolean(*b),
            _ => return Err(()),
        },
        DataType::Int8 => AnyValue::Int8(int(i8::MIN.into(), i8::MAX.into())? as i8),
        DataType::Int16 => AnyValue::Int16(int(i16::MIN.into(), i16::MAX.into())? as i16),
        DataType::Int32 => AnyValue::Int32(int(i32::MIN.into(), i32::MAX.into())? as i32),
        DataType::Int64 => AnyValue::Int64(int(i64::MIN, i64::MAX)?),
        DataType::Float32 => AnyValue::Float32(float()? as f32),
        DataType::Float64 => AnyValue::Float64(float()?),
        DataType::String => AnyValue::StringOwned(
            match j {
                Json::Str(s) => s.clone(),
                other => compact(other),
            }
            .into(),
        ),
        DataType::Decimal(p, s) => {
            let (p, s) = (p.unwrap_or(38), s.unwrap_or(0));
            let text = match j {
                Json::Num(n) => n,
                Json::Str(n) if !n.is_empty() => n,
                _ => return Err(()),
            };
            AnyValue::Decimal(decimal_from_text(text, p, s).ok_or(())?, s)
        }
        DataType::List(inner) if is_map_type(t) => {
            let Json::Obj(fields) = j else { return Err(()) };
            let DataType::Struct(kv) = &**inner else { return Err(()) };
            let mut keys = Vec::with_capacity(fields.len());
            let mut values = Vec::with_capacity(fields.len());
            for (k, v) in fields {
                keys.push(AnyValue::StringOwned(k.as_str().into()));
                values.push(read(v, kv[1].dtype())?);
            }
            let keys = Series::from_any_values_and_dtype("key".into(), &keys, kv[0].dtype(), true).map_err(|_| ())?;
            let values =
                Series::from_any_values_and_dtype("value".into(), &values, kv[1].dtype(), true).map_err(|_| ())?;
            let entries =
                StructChunked::from_series(PlSmallStr::EMPTY, keys.len(), [keys, values].iter()).map_err(|_| ())?;
            AnyValue::List(entries.into_series())
        }
        DataType::List(inner) => {
            let Json::Arr(items) = j else { return Err(()) };
            let values = items.iter().map(|v| read(v, inner)).collect::<Result<Vec<_>, ()>>()?;
            AnyValue::List(Series::from_any_values_and_dtype(PlSmallStr::EMPTY, &values, inner, true).map_err(|_| ())?)
        }
        DataType::Struct(fields) => {
            let Json::Obj(members) = j else { return Err(()) };
            let values = fields
                .iter()
                .map(|f| {
                    // The last occurrence of a key wins; one that does not convert is NULL.
                    members
                        .iter()
                        .rev()
                        .find(|(k, _)| k.as_str() == f.name().as_str())
                        .map_or(AnyValue::Null, |(_, v)| read(v, f.dtype()).unwrap_or(AnyValue::Null))
                })
                .collect();
            AnyValue::StructOwned(Box::new((values, fields.clone())))
        }
        _ => return Err(()),
    })
}

/// from_json of one row: NULL text is NULL; for a struct schema, text that
/// is not a JSON object is a struct of NULLs (PERMISSIVE); for an array or
/// map schema it is NULL.
fn read_root(text: Option<&str>, t: &DataType) -> AnyValue<'static> {
    let Some(text) = text else { return AnyValue::Null };
    let parsed = parse(text, true);
    match t {
        DataType::Struct(fields) => match parsed {
            Some(j @ Json::Obj(_)) => read(&j, t).unwrap_or(AnyValue::Null),
            _ => AnyValue::StructOwned(Box::new((vec![AnyValue::Null; fields.len()], fields.clone()))),
        },
        DataType::List(inner) if matches!(&**inner, DataType::Struct(_)) && !is_map_type(t) => match parsed {
            // An object where an array of structs is expected is an array of one.
            Some(j @ Json::Obj(_)) => read(&Json::Arr(vec![j]), t).unwrap_or(AnyValue::Null),
            Some(j) => read(&j, t).unwrap_or(AnyValue::Null),
            None => AnyValue::Null,
        },
        _ => parsed.and_then(|j| read(&j, t).ok()).unwrap_or(AnyValue::Null),
    }
}

fn from_json(args: &[Typed]) -> SqlResult<Typed> {
    let (j, schema) = match args {
        [j, s] => (j, s),
        [_, _, _] => {
            return Err(refuse("from_json options are not supported yet", "write from_json(json, 'a INT, b STRING')"));
        }
        _ => {
            return Err(refuse("from_json() takes JSON text and a schema", "write from_json(json, 'a INT, b STRING')"));
        }
    };
    let text = json_text("from_json", j)?;
    let Some(ddl) = schema.lit_str() else {
        return Err(refuse(
            "from_json: the schema must be a constant string",
            "write the schema as DDL, e.g. 'a INT, b STRING'",
        ));
    };
    let dtype = parse_ddl(ddl)?;
    if !matches!(dtype, DataType::Struct(_) | DataType::List(_)) {
        return Err(refuse(
            format!("from_json: the schema {ddl:?} is not a struct, array or map"),
            "write a column list such as 'a INT', or ARRAY<...> or MAP<STRING, ...>",
        ));
    }
    readable(&dtype).map_err(|what| {
        refuse(
            format!("from_json: reading {what} is not supported yet"),
            "read the field as STRING and convert it, e.g. to_timestamp(from_json(j, 'ts STRING').ts)",
        )
    })?;
    let out = dtype.clone();
    let expr = rows_udf(vec![text], dtype.clone(), move |s, _| {
        let values: Vec<AnyValue<'_>> = s[0].str()?.into_iter().map(|t| read_root(t, &out)).collect();
        Series::from_any_values_and_dtype(PlSmallStr::EMPTY, &values, &out, true)
    });
    Ok(Typed::new(expr, dtype))
}

// ---------------------------------------------------------------- to_json

fn writable(t: &DataType) -> Result<(), String> {
    match t {
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::String
        | DataType::Null
        | DataType::Date
        | DataType::Decimal(..) => Ok(()),
        DataType::Datetime(_, Some(_)) => Ok(()),
        DataType::List(inner) => writable(inner),
        DataType::Struct(fields) => fields.iter().try_for_each(|f| writable(f.dtype())),
        other => Err(format!("{other} values")),
    }
}

fn write_value(v: &AnyValue<'_>, t: &DataType, out: &mut String) -> PolarsResult<()> {
    match v {
        AnyValue::Null => out.push_str("null"),
        AnyValue::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        AnyValue::Float64(x) => write_float(*x, out),
        AnyValue::Float32(x) => write_float(f64::from(*x), out),
        AnyValue::String(s) => write_str(s, out),
        AnyValue::StringOwned(s) => write_str(s, out),
        AnyValue::Decimal(n, scale) => out.push_str(&super::typed::decimal_text(*n, *scale)),
        AnyValue::Date(d) => {
            let day = chrono::NaiveDate::from_num_days_from_ce_opt(*d + 719_163)
                .ok_or_else(|| polars_err!(ComputeError: "to_json: the date {d} is out of range"))?;
            out.push_str(&format!("\"{}\"", day.format("%Y-%m-%d")));
        }
        AnyValue::Datetime(n, unit, _) | AnyValue::DatetimeOwned(n, unit, _) => {
            let micros = match unit {
                TimeUnit::Nanoseconds => n.div_euclid(1000),
                TimeUnit::Microseconds => *n,
                TimeUnit::Milliseconds => n * 1000,
            };
            let at = DateTime::from_timestamp_micros(micros)
                .ok_or_else(|| polars_err!(ComputeError: "to_json: the timestamp {micros} is out of range"))?;
            out.push_str(&format!("\"{}\"", at.format("%Y-%m-%dT%H:%M:%S%.3fZ")));
        }
        AnyValue::List(items) => {
            let inner = match t {
                DataType::List(inner) => (**inner).clone(),
                _ => items.dtype().clone(),
            };
            if is_map_type(t) {
                let parts = items.struct_()?.fields_as_series();
                let vt = parts[1].dtype().clone();
                out.push('{');
                for k in 0..parts[0].len() {
                    if k > 0 {
                        out.push(',');
                    }
                    let key = parts[0].get(k)?;
                    let key = match key {
                        AnyValue::String(s) => s.to_string(),
                        AnyValue::StringOwned(s) => s.to_string(),
                        other => {
                            let mut text = String::new();
                            write_value(&other, parts[0].dtype(), &mut text)?;
                            text
                        }
                    };
                    write_str(&key, out);
                    out.push(':');
                    write_value(&parts[1].get(k)?, &vt, out)?;
                }
                out.push('}');
            } else {
                out.push('[');
                for k in 0..items.len() {
                    if k > 0 {
                        out.push(',');
                    }
                    write_value(&items.get(k)?, &inner, out)?;
                }
                out.push(']');
            }
        }
        AnyValue::Struct(..) | AnyValue::StructOwned(..) => {
            let fields = match t {
                DataType::Struct(f) => f.clone(),
                _ => Vec::new(),
            };
            let values: Vec<AnyValue<'_>> = match v {
                AnyValue::StructOwned(payload) => payload.0.clone(),
                _ => v._iter_struct_av().collect(),
            };
            out.push('{');
            let mut first = true;
            for (f, fv) in fields.iter().zip(values.iter()) {
                // Spark leaves out NULL fields.
                if fv.is_null() {
                    continue;
                }
                if !first {
                    out.push(',');
                }
                first = false;
                write_str(f.name(), out);
                out.push(':');
                write_value(fv, f.dtype(), out)?;
            }
            out.push('}');
        }
        other => {
            if let Some(n) = other.extract::<i64>()
                && other.is_integer()
            {
                out.push_str(&n.to_string());
            } else {
                polars_bail!(ComputeError: "to_json: cannot write {other}");
            }
        }
    }
    Ok(())
}

fn write_float(x: f64, out: &mut String) {
    if x.is_finite() {
        out.push_str(&java_double(x));
    } else {
        // Jackson quotes NaN and the infinities.
        out.push('"');
        out.push_str(&java_double(x));
        out.push('"');
    }
}

fn to_json(args: &[Typed]) -> SqlResult<Typed> {
    let [v] = args else {
        return Err(refuse("to_json options are not supported yet", "write to_json(struct_or_array)"));
    };
    if !matches!(v.dtype, DataType::Struct(_) | DataType::List(_)) {
        return Err(refuse(
            format!("to_json takes a struct, array or map, not {}", v.dtype),
            "wrap the value: to_json(named_struct('v', x))",
        ));
    }
    writable(&v.dtype).map_err(|what| {
        refuse(format!("to_json: writing {what} is not supported yet"), "CAST those fields to STRING first")
    })?;
    let dtype = v.dtype.clone();
    let expr = rows_udf(vec![v.expr.clone()], DataType::String, move |s, n| {
        let mut out: Vec<Option<String>> = Vec::with_capacity(n);
        for i in 0..n {
            let value = s[0].get(i)?;
            if value.is_null() {
                out.push(None);
                continue;
            }
            let mut text = String::new();
            write_value(&value, &dtype, &mut text)?;
            out.push(Some(text));
        }
        Ok(StringChunked::from_iter_options(PlSmallStr::EMPTY, out.into_iter()).into_series())
    });
    Ok(Typed::new(expr, DataType::String))
}

// ---------------------------------------------------------------- schema_of_json

#[derive(Debug, Clone, PartialEq)]
enum Inferred {
    Null,
    Bool,
    Long,
    Double,
    Decimal(usize, usize),
    Str,
    Array(Box<Inferred>),
    Struct(Vec<(String, Inferred)>),
}

fn infer(j: &Json) -> Inferred {
    match j {
        Json::Null => Inferred::Null,
        Json::Bool(_) => Inferred::Bool,
        Json::Num(n) if is_integer_text(n) => {
            if n.parse::<i64>().is_ok() {
                Inferred::Long
            } else {
                let digits = n.trim_start_matches('-').len();
                if digits <= 38 { Inferred::Decimal(digits, 0) } else { Inferred::Double }
            }
        }
        Json::Num(_) => Inferred::Double,
        Json::Str(_) => Inferred::Str,
        Json::Arr(items) => Inferred::Array(Box::new(items.iter().map(infer).fold(Inferred::Null, merge))),
        Json::Obj(fields) => {
            let mut out: Vec<(String, Inferred)> = Vec::new();
            for (k, v) in fields {
                let t = infer(v);
                match out.iter_mut().find(|(n, _)| n == k) {
                    Some((_, old)) => *old = merge(old.clone(), t),
                    None => out.push((k.clone(), t)),
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Inferred::Struct(out)
        }
    }
}

fn merge(a: Inferred, b: Inferred) -> Inferred {
    use Inferred::*;
    match (a, b) {
        (a, b) if a == b => a,
        (Null, t) | (t, Null) => t,
        (Long, Double) | (Double, Long) | (Double, Decimal(..)) | (Decimal(..), Double) => Double,
        (Long, Decimal(p, s)) | (Decimal(p, s), Long) => merge(Decimal(20, 0), Decimal(p, s)),
        (Decimal(p1, s1), Decimal(p2, s2)) => {
            let scale = s1.max(s2);
            let range = (p1 - s1).max(p2 - s2);
            if range + scale > 38 { Double } else { Decimal(range + scale, scale) }
        }
        (Array(x), Array(y)) => Array(Box::new(merge(*x, *y))),
        (Struct(x), Struct(y)) => {
            let mut out = x;
            for (k, t) in y {
                match out.iter_mut().find(|(n, _)| *n == k) {
                    Some((_, old)) => *old = merge(old.clone(), t),
                    None => out.push((k, t)),
                }
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Struct(out)
        }
        _ => Str,
    }
}

/// Spark's canonical form: NULL types become STRING, empty structs vanish.
fn canonical(t: Inferred) -> Option<Inferred> {
    match t {
        Inferred::Null => Some(Inferred::Str),
        Inferred::Array(e) => canonical(*e).map(|e| Inferred::Array(Box::new(e))),
        Inferred::Struct(fields) => {
            let kept: Vec<_> = fields
                .into_iter()
                .filter(|(n, _)| !n.is_empty())
                .filter_map(|(n, t)| canonical(t).map(|t| (n, t)))
                .collect();
            (!kept.is_empty()).then_some(Inferred::Struct(kept))
        }
        other => Some(other),
    }
}

fn quote_if_needed(name: &str) -> String {
    let plain = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.bytes().all(|b| b.is_ascii_digit());
    if plain { name.to_string() } else { format!("`{}`", name.replace('`', "``")) }
}

fn sql(t: &Inferred) -> String {
    match t {
        Inferred::Null | Inferred::Str => "STRING".into(),
        Inferred::Bool => "BOOLEAN".into(),
        Inferred::Long => "BIGINT".into(),
        Inferred::Double => "DOUBLE".into(),
        Inferred::Decimal(p, s) => format!("DECIMAL({p},{s})"),
        Inferred::Array(e) => format!("ARRAY<{}>", sql(e)),
        Inferred::Struct(fields) => {
            let parts: Vec<String> =
                fields.iter().map(|(n, t)| format!("{}: {}", quote_if_needed(n), sql(t))).collect();
            format!("STRUCT<{}>", parts.join(", "))
        }
    }
}

fn schema_of_json(args: &[Typed]) -> SqlResult<Typed> {
    let text = match args {
        [j] => j.lit_str(),
        _ => return Err(refuse("schema_of_json options are not supported yet", "write schema_of_json('{\"a\": 1}')")),
    };
    let Some(text) = text else {
        return Err(refuse("schema_of_json takes a constant JSON string", "write the JSON as a literal"));
    };
    let Some(j) = parse(text, true) else {
        return Err(refuse(
            format!("schema_of_json: {text:?} is not valid JSON"),
            "pass a valid JSON literal, e.g. '{\"a\": 1}'",
        ));
    };
    let ddl = match infer(&j) {
        t @ Inferred::Struct(_) => canonical(t).map_or("STRUCT<>".to_string(), |t| sql(&t)),
        Inferred::Array(e) if matches!(*e, Inferred::Struct(_)) => {
            canonical(*e).map_or("ARRAY<STRUCT<>>".to_string(), |t| format!("ARRAY<{}>", sql(&t)))
        }
        other => canonical(other).map_or("STRING".to_string(), |t| sql(&t)),
    };
    Ok(Typed::constant(Lit::Str(ddl)))
}

#[cfg(test)]
mod tests;
