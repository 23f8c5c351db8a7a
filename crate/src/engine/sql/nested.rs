//! Spark's array functions (`size`, `element_at`, `array_contains`, the set
//! functions, `sort_array`, `slice`, `sequence`, ...), `arr[i]` and, in
//! [`map`], the map functions. A map is a `List(Struct{key, value})`.
//!
//! Semantics are Spark 4's with ANSI on: an index out of range fails the
//! query, `size(NULL)` is NULL, the set functions keep first-seen order and
//! treat NULL and NaN as values equal to themselves.

mod map;
mod rows;

use polars::prelude::*;

use super::typed::{Cx, SqlResult, Typed, map_columns, refuse};
use rows::{broadcast, contains_value, distinct_positions};
pub(super) use rows::{build_list, list_rows, rows_udf, same};

/// Spark's `name(args)` for this family, or `None` when the name is not one of its functions.
pub(super) fn call(name: &str, args: &[Typed], cx: &Cx) -> Option<SqlResult<Typed>> {
    let _ = cx;
    if let Some(result) = map::call(name, args) {
        return Some(result);
    }
    Some(match name {
        "size" | "cardinality" | "array_size" => one(name, args).and_then(|a| size(name, a)),
        "element_at" => two(name, args).and_then(|(a, i)| element_at(a, i, false)),
        "try_element_at" => two(name, args).and_then(|(a, i)| element_at(a, i, true)),
        "get" => two(name, args).and_then(|(a, i)| get(a, i)),
        "array_contains" => two(name, args).and_then(|(a, v)| array_contains(a, v)),
        "array_position" => two(name, args).and_then(|(a, v)| array_position(a, v)),
        "array_remove" => two(name, args).and_then(|(a, v)| array_remove(a, v)),
        "sort_array" => sort_array(args),
        "array_sort" => array_sort(args),
        "array" => array(args),
        "array_join" => array_join(args),
        "array_distinct" | "array_compact" | "array_max" | "array_min" | "flatten" => {
            one(name, args).and_then(|a| unary(name, a))
        }
        "array_union" | "array_intersect" | "array_except" | "arrays_overlap" => {
            two(name, args).and_then(|(a, b)| set_op(name, a, b))
        }
        "slice" => slice(args),
        "sequence" => sequence(args),
        "array_repeat" => two(name, args).and_then(|(v, n)| array_repeat(v, n)),
        "array_append" | "array_prepend" => two(name, args).and_then(|(a, v)| append(name, a, v)),
        "arrays_zip" | "array_insert" | "shuffle" => Err(refuse(
            format!("{name}() is not supported yet"),
            "build the array with array(...) or named_struct(...) and transform(...)",
        )),
        _ => return None,
    })
}

/// `container[index]`: 0-based on arrays (out of range fails under ANSI),
/// a key lookup on maps (a missing key is NULL).
pub(super) fn index(container: Typed, index: Typed) -> SqlResult<Typed> {
    if map::is_map(&container.dtype) {
        return map::lookup(container, index);
    }
    let elem = element_type("[]", &container)?;
    let i = integral_index("[]", index)?;
    let pos = i.expr.clone().cast(DataType::Int64);
    let value = when(pos.clone().lt(lit(0i64)))
        .then(lit(NULL).cast(elem.clone()))
        .otherwise(container.expr.clone().list().get(pos.clone(), true));
    let checked = check_index(value, container.expr, pos, elem.clone(), IndexKind::Zero);
    Ok(Typed::new(checked, elem))
}

// ---------------------------------------------------------------- arguments

fn one<'a>(name: &str, args: &'a [Typed]) -> SqlResult<&'a Typed> {
    match args {
        [a] => Ok(a),
        _ => Err(wrong(name, "one argument")),
    }
}

fn two<'a>(name: &str, args: &'a [Typed]) -> SqlResult<(&'a Typed, &'a Typed)> {
    match args {
        [a, b] => Ok((a, b)),
        _ => Err(wrong(name, "two arguments")),
    }
}

fn wrong(name: &str, want: &str) -> crate::CellError {
    refuse(format!("{name}() takes {want}"), format!("write {name}(...) with {want}, as Spark does"))
}

/// The element type of an array argument (`array<void>` for a NULL literal).
fn element_type(name: &str, a: &Typed) -> SqlResult<DataType> {
    match &a.dtype {
        DataType::List(inner) => Ok((**inner).clone()),
        DataType::Null => Ok(DataType::Null),
        other => Err(refuse(
            format!("{name}: the argument is {other}, not an array"),
            "pass an array: a column of arrays, array(...), split(...) or collect_list(...)",
        )),
    }
}

/// An array argument as a `List`, with its element type.
fn as_list(name: &str, a: &Typed) -> SqlResult<(Expr, DataType)> {
    let elem = element_type(name, a)?;
    Ok((a.expr.clone().cast(DataType::List(Box::new(elem.clone()))), elem))
}

fn integral_index(name: &str, i: Typed) -> SqlResult<Typed> {
    if i.dtype.is_integer() || i.dtype == DataType::Null {
        Ok(i)
    } else {
        Err(refuse(
            format!("{name}: the index is {}, not an integer", i.dtype),
            "index arrays with an INT, e.g. CAST(x AS INT)",
        ))
    }
}

/// The type both values convert to without loss, as Spark widens them
/// (int and bigint to bigint, int and decimal(p,s) to a decimal holding both,
/// date and timestamp to timestamp); `None` when Spark would not, or when a
/// string would have to mix with a number.
pub(super) fn common_type(a: &DataType, b: &DataType) -> Option<DataType> {
    use DataType::*;
    if a == b {
        return Some(a.clone());
    }
    let int_digits = |t: &DataType| match t {
        Int8 => Some(3),
        Int16 => Some(5),
        Int32 => Some(10),
        Int64 => Some(20),
        _ => None,
    };
    let rank = |t: &DataType| match t {
        Int8 => Some(0),
        Int16 => Some(1),
        Int32 => Some(2),
        Int64 => Some(3),
        Float32 => Some(4),
        Float64 => Some(5),
        _ => None,
    };
    match (a, b) {
        (Null, t) | (t, Null) => Some(t.clone()),
        (List(x), List(y)) => common_type(x, y).map(|t| List(Box::new(t))),
        (Struct(f), Struct(g)) => {
            if f.len() != g.len() || f.iter().zip(g).any(|(x, y)| x.name() != y.name()) {
                return None;
            }
            let fields: Option<Vec<Field>> = f
                .iter()
                .zip(g)
                .map(|(x, y)| common_type(x.dtype(), y.dtype()).map(|t| Field::new(x.name().clone(), t)))
                .collect();
            fields.map(Struct)
        }
        (Decimal(p1, s1), Decimal(p2, s2)) => {
            let (p1, s1, p2, s2) = (p1.unwrap_or(38), s1.unwrap_or(0), p2.unwrap_or(38), s2.unwrap_or(0));
            let scale = s1.max(s2);
            let range = (p1 - s1).max(p2 - s2);
            Some(Decimal(Some((range + scale).min(38)), Some(scale)))
        }
        (Decimal(..), Float32 | Float64) | (Float32 | Float64, Decimal(..)) => Some(Float64),
        (Decimal(..), i) | (i, Decimal(..)) => {
            let digits = int_digits(i)?;
            let decimal = if matches!(a, Decimal(..)) { a } else { b };
            common_type(decimal, &Decimal(Some(digits), Some(0)))
        }
        (Date, Datetime(..)) => Some(b.clone()),
        (Datetime(..), Date) => Some(a.clone()),
        _ => {
            let (ra, rb) = (rank(a)?, rank(b)?);
            Some(if ra >= rb { a.clone() } else { b.clone() })
        }
    }
}

/// The common type of several values, or a refusal naming the function.
pub(super) fn unify(name: &str, types: &[&DataType]) -> SqlResult<DataType> {
    let mut out = DataType::Null;
    for t in types {
        out = common_type(&out, t).ok_or_else(|| {
            refuse(format!("{name}: {out} and {t} have no common type"), "CAST the arguments to one type first")
        })?;
    }
    Ok(out)
}

// ---------------------------------------------------------------- indexing

#[derive(Clone, Copy)]
enum IndexKind {
    /// `arr[i]`, 0-based.
    Zero,
    /// `element_at(arr, i)`, 1-based, negative from the end.
    One,
}

/// `value`, unless some row's index is out of its array's bounds: then the
/// query fails as Spark's ANSI mode does.
fn check_index(value: Expr, list: Expr, index: Expr, dtype: DataType, kind: IndexKind) -> Expr {
    let len = list.list().len().cast(DataType::Int64);
    map_columns(vec![value, len, index.cast(DataType::Int64)], dtype, move |columns: &mut [Column]| {
        let (series, _) = broadcast(&columns[1..]);
        let (lens, idx) = (series[0].i64()?, series[1].i64()?);
        for (len, i) in lens.into_iter().zip(idx) {
            let (Some(len), Some(i)) = (len, i) else { continue };
            match kind {
                IndexKind::Zero if i < 0 || i >= len => polars_bail!(ComputeError:
                    "[INVALID_ARRAY_INDEX] The index {i} is out of bounds. The array has {len} elements. \
                     Use the SQL function `get()` to tolerate accessing element at invalid index and return NULL instead. \
                     SQLSTATE: 22003"),
                IndexKind::One if i == 0 => polars_bail!(ComputeError:
                    "[INVALID_INDEX_OF_ZERO] The index 0 is invalid. An index shall be either < 0 or > 0 \
                     (the first element has index 1). SQLSTATE: 22003"),
                IndexKind::One if i.unsigned_abs() > len as u64 => polars_bail!(ComputeError:
                    "[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] The index {i} is out of bounds. The array has {len} elements. \
                     Use `try_element_at` to tolerate accessing element at invalid index and return NULL instead. \
                     SQLSTATE: 22003"),
                _ => {}
            }
        }
        Ok(std::mem::take(&mut columns[0]))
    })
}

fn element_at(a: &Typed, i: &Typed, tolerant: bool) -> SqlResult<Typed> {
    if map::is_map(&a.dtype) {
        return map::lookup(a.clone(), i.clone());
    }
    let name = if tolerant { "try_element_at" } else { "element_at" };
    let elem = element_type(name, a)?;
    let i = integral_index(name, i.clone())?.expr.cast(DataType::Int64);
    let len = a.expr.clone().list().len().cast(DataType::Int64);
    let pos = when(i.clone().gt(lit(0i64))).then(i.clone() - lit(1i64)).otherwise(i.clone());
    let out_of_range = i.clone().eq(lit(0i64)).or(i.clone().abs().gt(len));
    let value = when(out_of_range).then(lit(NULL).cast(elem.clone())).otherwise(a.expr.clone().list().get(pos, true));
    let value = if tolerant {
        // Index 0 is an error even for try_element_at; out of range is NULL.
        let zero_only = when(i.clone().eq(lit(0i64))).then(lit(0i64)).otherwise(lit(NULL).cast(DataType::Int64));
        check_index(value, a.expr.clone(), zero_only, elem.clone(), IndexKind::One)
    } else {
        check_index(value, a.expr.clone(), i, elem.clone(), IndexKind::One)
    };
    Ok(Typed::new(value, elem))
}

/// `get(arr, i)`: 0-based, NULL out of range.
fn get(a: &Typed, i: &Typed) -> SqlResult<Typed> {
    let elem = element_type("get", a)?;
    let i = integral_index("get", i.clone())?.expr.cast(DataType::Int64);
    let value =
        when(i.clone().lt(lit(0i64))).then(lit(NULL).cast(elem.clone())).otherwise(a.expr.clone().list().get(i, true));
    Ok(Typed::new(value, elem))
}

fn size(name: &str, a: &Typed) -> SqlResult<Typed> {
    if a.dtype == DataType::Null {
        let legacy = name != "array_size" && !super::ansi::session_ansi();
        let size = if legacy { lit(-1) } else { lit(NULL) };
        return Ok(Typed::new(size.cast(DataType::Int32), DataType::Int32));
    }
    element_type(name, a)?;
    let size = a.expr.clone().list().len().cast(DataType::Int32);
    // size(NULL) is -1 with ANSI off (Spark's spark.sql.legacy.sizeOfNull).
    let size = if name != "array_size" && !super::ansi::session_ansi() {
        when(a.expr.clone().is_null()).then(lit(-1)).otherwise(size)
    } else {
        size
    };
    Ok(Typed::new(size, DataType::Int32))
}

// ---------------------------------------------------------------- searching

/// The array and the value at their common element type.
fn with_value(name: &str, a: &Typed, v: &Typed) -> SqlResult<(Expr, Expr, DataType)> {
    let elem = element_type(name, a)?;
    let common = unify(name, &[&elem, &v.dtype])?;
    let list = a.expr.clone().cast(DataType::List(Box::new(common.clone())));
    Ok((list, v.expr.clone().cast(common.clone()), common))
}

fn array_contains(a: &Typed, v: &Typed) -> SqlResult<Typed> {
    let (list, value, _) = with_value("array_contains", a, v)?;
    let expr = rows_udf(vec![list, value], DataType::Boolean, |s, n| {
        let rows = list_rows(&s[0])?;
        let mut out = Vec::with_capacity(n);
        for (i, row) in rows.into_iter().enumerate() {
            let v = s[1].get(i)?;
            out.push(match row {
                None => None,
                Some(_) if v.is_null() => None,
                Some(row) if contains_value(&row, &v)? => Some(true),
                Some(row) if row.null_count() > 0 => None,
                Some(_) => Some(false),
            });
        }
        Ok(BooleanChunked::from_iter_options(PlSmallStr::EMPTY, out.into_iter()).into_series())
    });
    Ok(Typed::new(expr, DataType::Boolean))
}

fn array_position(a: &Typed, v: &Typed) -> SqlResult<Typed> {
    let (list, value, _) = with_value("array_position", a, v)?;
    let expr = rows_udf(vec![list, value], DataType::Int64, |s, _| {
        let rows = list_rows(&s[0])?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let v = s[1].get(i)?;
            out.push(match row {
                Some(row) if !v.is_null() => {
                    let mut at = 0i64;
                    for j in 0..row.len() {
                        let e = row.get(j)?;
                        if !e.is_null() && same(&e, &v) {
                            at = j as i64 + 1;
                            break;
                        }
                    }
                    Some(at)
                }
                _ => None,
            });
        }
        Ok(Int64Chunked::from_iter_options(PlSmallStr::EMPTY, out.into_iter()).into_series())
    });
    Ok(Typed::new(expr, DataType::Int64))
}

fn array_remove(a: &Typed, v: &Typed) -> SqlResult<Typed> {
    let (list, value, elem) = with_value("array_remove", a, v)?;
    let inner = elem.clone();
    let expr = rows_udf(vec![list, value], DataType::List(Box::new(elem.clone())), move |s, _| {
        let rows = list_rows(&s[0])?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let v = s[1].get(i)?;
            out.push(match row {
                Some(row) if !v.is_null() => {
                    let mut keep = Vec::new();
                    for j in 0..row.len() {
                        let e = row.get(j)?;
                        if e.is_null() || !same(&e, &v) {
                            keep.push(j as IdxSize);
                        }
                    }
                    Some(row.take_slice(&keep)?)
                }
                _ => None,
            });
        }
        build_list(out, &inner)
    });
    Ok(Typed::new(expr, DataType::List(Box::new(elem))))
}

// ---------------------------------------------------------------- sorting

fn sort_rows(list: Expr, elem: DataType, descending: bool, nulls_last: bool) -> Expr {
    let inner = elem.clone();
    rows_udf(vec![list], DataType::List(Box::new(elem)), move |s, _| {
        let options = SortOptions::default().with_order_descending(descending).with_nulls_last(nulls_last);
        let rows = list_rows(&s[0])?;
        let sorted =
            rows.into_iter().map(|row| row.map(|r| r.sort(options)).transpose()).collect::<PolarsResult<_>>()?;
        build_list(sorted, &inner)
    })
}

fn sortable(name: &str, elem: &DataType) -> SqlResult<()> {
    if matches!(elem, DataType::List(_) | DataType::Struct(_)) {
        return Err(refuse(
            format!("{name}: sorting arrays of {elem} is not supported yet"),
            "sort arrays of numbers, strings, dates or timestamps",
        ));
    }
    Ok(())
}

/// `sort_array(arr[, asc])`: NULLs first ascending, last descending.
fn sort_array(args: &[Typed]) -> SqlResult<Typed> {
    let (a, asc) = match args {
        [a] => (a, true),
        [a, asc] => match asc.lit_bool() {
            Some(b) => (a, b),
            None => return Err(wrong("sort_array", "an array and a constant TRUE or FALSE")),
        },
        _ => return Err(wrong("sort_array", "an array and an optional constant TRUE or FALSE")),
    };
    let (list, elem) = as_list("sort_array", a)?;
    sortable("sort_array", &elem)?;
    Ok(Typed::new(sort_rows(list, elem.clone(), !asc, !asc), DataType::List(Box::new(elem))))
}

/// `array_sort(arr)`: ascending, NULLs last.
fn array_sort(args: &[Typed]) -> SqlResult<Typed> {
    let [a] = args else {
        return Err(refuse(
            "array_sort with a comparator function is not supported yet",
            "write array_sort(arr) or sort_array(arr, false)",
        ));
    };
    let (list, elem) = as_list("array_sort", a)?;
    sortable("array_sort", &elem)?;
    Ok(Typed::new(sort_rows(list, elem.clone(), false, true), DataType::List(Box::new(elem))))
}

// ---------------------------------------------------------------- building

/// `array(a, b, ...)`, the elements widened to their common type.
fn array(args: &[Typed]) -> SqlResult<Typed> {
    if args.is_empty() {
        let empty = Scalar::new(
            DataType::List(Box::new(DataType::Null)),
            AnyValue::List(Series::new_empty(PlSmallStr::EMPTY, &DataType::Null)),
        );
        return Ok(Typed::new(lit(empty), DataType::List(Box::new(DataType::Null))));
    }
    let types: Vec<&DataType> = args.iter().map(|a| &a.dtype).collect();
    let elem = unify("array", &types)?;
    let out = DataType::List(Box::new(elem.clone()));
    let inputs: Vec<Expr> = args.iter().map(|a| a.expr.clone().cast(elem.clone())).collect();
    let inner = elem.clone();
    let expr = rows_udf(inputs, out.clone(), move |s, n| {
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let mut row = s[0].slice(i as i64, 1);
            for c in &s[1..] {
                row.append(&c.slice(i as i64, 1))?;
            }
            rows.push(Some(row));
        }
        build_list(rows, &inner)
    });
    Ok(Typed::new(expr, out))
}

fn array_repeat(v: &Typed, n: &Typed) -> SqlResult<Typed> {
    let count = integral_index("array_repeat", n.clone())?;
    let out = DataType::List(Box::new(v.dtype.clone()));
    let inner = v.dtype.clone();
    let expr = rows_udf(vec![v.expr.clone(), count.expr.cast(DataType::Int64)], out.clone(), move |s, n| {
        let counts = s[1].i64()?;
        let mut rows = Vec::with_capacity(n);
        for (i, c) in counts.into_iter().enumerate() {
            rows.push(c.map(|c| s[0].new_from_index(i, c.max(0) as usize)));
        }
        build_list(rows, &inner)
    });
    Ok(Typed::new(expr, out))
}

/// `array_append(arr, v)` / `array_prepend(arr, v)`: NULL when the array is.
fn append(name: &str, a: &Typed, v: &Typed) -> SqlResult<Typed> {
    let (list, value, elem) = with_value(name, a, v)?;
    let front = name == "array_prepend";
    let inner = elem.clone();
    let out = DataType::List(Box::new(elem));
    let expr = rows_udf(vec![list, value], out.clone(), move |s, _| {
        let rows = list_rows(&s[0])?;
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            out.push(match row {
                Some(row) => {
                    let v = s[1].slice(i as i64, 1);
                    let (mut first, second) = if front { (v, row) } else { (row, v) };
                    first.append(&second)?;
                    Some(first)
                }
                None => None,
            });
        }
        build_list(out, &inner)
    });
    Ok(Typed::new(expr, out))
}

/// `array_join(arr, sep[, null_replacement])`: NULL elements skipped unless replaced.
fn array_join(args: &[Typed]) -> SqlResult<Typed> {
    let (a, sep, replacement) = match args {
        [a, sep] => (a, sep, None),
        [a, sep, r] => (a, sep, Some(r)),
        _ => return Err(wrong("array_join", "an array, a separator and an optional NULL replacement")),
    };
    let elem = element_type("array_join", a)?;
    if !(elem == DataType::String || elem == DataType::Null || elem.is_integer() || elem == DataType::Boolean) {
        return Err(refuse(
            format!("array_join of an array of {elem} is not supported yet"),
            "transform the elements to strings first, e.g. array_join(transform(arr, x -> CAST(x AS STRING)), ',')",
        ));
    }
    let list = a.expr.clone().cast(DataType::List(Box::new(DataType::String)));
    let mut inputs = vec![list, sep.expr.clone().cast(DataType::String)];
    if let Some(r) = replacement {
        inputs.push(r.expr.clone().cast(DataType::String));
    }
    let expr = rows_udf(inputs, DataType::String, |s, _| {
        let rows = list_rows(&s[0])?;
        let seps = s[1].str()?;
        let reps = s.get(2).map(|r| r.str()).transpose()?;
        let mut out: Vec<Option<String>> = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let rep = match reps {
                Some(r) => match r.get(i) {
                    Some(r) => Some(r),
                    None => {
                        out.push(None);
                        continue;
                    }
                },
                None => None,
            };
            out.push(match (row, seps.get(i)) {
                (Some(row), Some(sep)) => {
                    let parts: Vec<&str> = row.str()?.into_iter().filter_map(|e| e.or(rep)).collect();
                    Some(parts.join(sep))
                }
                _ => None,
            });
        }
        Ok(StringChunked::from_iter_options(PlSmallStr::EMPTY, out.into_iter()).into_series())
    });
    Ok(Typed::new(expr, DataType::String))
}

// ---------------------------------------------------------------- one array in, one out

fn unary(name: &str, a: &Typed) -> SqlResult<Typed> {
    let (list, elem) = as_list(name, a)?;
    let name = name.to_string();
    let out = match name.as_str() {
        "array_max" | "array_min" => {
            sortable(&name, &elem)?;
            elem.clone()
        }
        "flatten" => match &elem {
            DataType::List(inner) => (**inner).clone(),
            DataType::Null => DataType::Null,
            other => {
                return Err(refuse(
                    format!("flatten: the argument is an array of {other}, not an array of arrays"),
                    "pass an array of arrays, e.g. flatten(array(a, b))",
                ));
            }
        },
        _ => DataType::List(Box::new(elem.clone())),
    };
    if name == "flatten" {
        let inner = out.clone();
        let dtype = DataType::List(Box::new(out));
        let expr = rows_udf(vec![list], dtype.clone(), move |s, _| {
            let rows = list_rows(&s[0])?;
            let mut flat = Vec::with_capacity(rows.len());
            for row in rows {
                flat.push(match row {
                    // A NULL inner array makes the whole result NULL.
                    Some(row) if row.null_count() == 0 => {
                        let mut acc = Series::new_empty(PlSmallStr::EMPTY, &inner);
                        for part in list_rows(&row)?.into_iter().flatten() {
                            acc.append(&part.cast(&inner)?)?;
                        }
                        Some(acc)
                    }
                    _ => None,
                });
            }
            build_list(flat, &inner)
        });
        return Ok(Typed::new(expr, dtype));
    }
    let inner = elem.clone();
    let expr = rows_udf(vec![list], out.clone(), move |s, _| {
        let rows = list_rows(&s[0])?;
        match name.as_str() {
            "array_max" | "array_min" => {
                let mut values = Vec::with_capacity(rows.len());
                for row in rows {
                    let picked = match row.map(|r| r.drop_nulls()) {
                        Some(r) if !r.is_empty() => {
                            let sorted = r.sort(SortOptions::default())?;
                            let at = if name == "array_max" { sorted.len() - 1 } else { 0 };
                            sorted.get(at)?.into_static()
                        }
                        _ => AnyValue::Null,
                    };
                    values.push(picked);
                }
                Series::from_any_values_and_dtype(PlSmallStr::EMPTY, &values, &inner, true)
            }
            "array_compact" => build_list(rows.into_iter().map(|r| r.map(|r| r.drop_nulls())).collect(), &inner),
            _ => {
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    out.push(match row {
                        Some(r) => Some(r.take_slice(&distinct_positions(&r, |_| false)?)?),
                        None => None,
                    });
                }
                build_list(out, &inner)
            }
        }
    });
    Ok(Typed::new(expr, out))
}

// ---------------------------------------------------------------- two arrays

fn set_op(name: &str, a: &Typed, b: &Typed) -> SqlResult<Typed> {
    let ea = element_type(name, a)?;
    let eb = element_type(name, b)?;
    let elem = unify(name, &[&ea, &eb])?;
    let list_type = DataType::List(Box::new(elem.clone()));
    let inputs = vec![a.expr.clone().cast(list_type.clone()), b.expr.clone().cast(list_type.clone())];
    let op = name.to_string();
    let out = if op == "arrays_overlap" { DataType::Boolean } else { list_type };
    let inner = elem;
    let expr = rows_udf(inputs, out.clone(), move |s, _| {
        let (left, right) = (list_rows(&s[0])?, list_rows(&s[1])?);
        if op == "arrays_overlap" {
            let mut out = Vec::with_capacity(left.len());
            for (l, r) in left.into_iter().zip(right) {
                out.push(match (l, r) {
                    (Some(l), Some(r)) => {
                        let mut hit = false;
                        for j in 0..l.len() {
                            let v = l.get(j)?;
                            if !v.is_null() && contains_value(&r, &v)? {
                                hit = true;
                                break;
                            }
                        }
                        let nulls = l.null_count() + r.null_count() > 0;
                        if hit {
                            Some(true)
                        } else if nulls && !l.is_empty() && !r.is_empty() {
                            None
                        } else {
                            Some(false)
                        }
                    }
                    _ => None,
                });
            }
            return Ok(BooleanChunked::from_iter_options(PlSmallStr::EMPTY, out.into_iter()).into_series());
        }
        let mut out = Vec::with_capacity(left.len());
        for (l, r) in left.into_iter().zip(right) {
            out.push(match (l, r) {
                (Some(l), Some(r)) => Some(match op.as_str() {
                    "array_union" => {
                        let mut both = l.clone();
                        both.append(&r)?;
                        both.take_slice(&distinct_positions(&both, |_| false)?)?
                    }
                    "array_intersect" => {
                        let keep = distinct_positions(&l, |v| !contains_value(&r, v).unwrap_or(false))?;
                        l.take_slice(&keep)?
                    }
                    _ => {
                        let keep = distinct_positions(&l, |v| contains_value(&r, v).unwrap_or(true))?;
                        l.take_slice(&keep)?
                    }
                }),
                _ => None,
            });
        }
        build_list(out, &inner)
    });
    Ok(Typed::new(expr, out))
}

// ---------------------------------------------------------------- slice and sequence

/// `slice(arr, start, length)`: 1-based start, negative from the end.
fn slice(args: &[Typed]) -> SqlResult<Typed> {
    let [a, start, length] = args else {
        return Err(wrong("slice", "an array, a start and a length"));
    };
    let (list, elem) = as_list("slice", a)?;
    let start = integral_index("slice", start.clone())?.expr.cast(DataType::Int64);
    let length = integral_index("slice", length.clone())?.expr.cast(DataType::Int64);
    let inner = elem.clone();
    let out = DataType::List(Box::new(elem));
    let expr = rows_udf(vec![list, start, length], out.clone(), move |s, _| {
        let rows = list_rows(&s[0])?;
        let (starts, lengths) = (s[1].i64()?, s[2].i64()?);
        let mut out = Vec::with_capacity(rows.len());
        for ((row, start), length) in rows.into_iter().zip(starts).zip(lengths) {
            let (Some(row), Some(start), Some(length)) = (row, start, length) else {
                out.push(None);
                continue;
            };
            if start == 0 {
                polars_bail!(ComputeError: "[INVALID_PARAMETER_VALUE.START] The value of parameter(s) `start` in `slice` is invalid: Expects a positive or a negative value for `start`, but got 0. SQLSTATE: 22023");
            }
            if length < 0 {
                polars_bail!(ComputeError: "[INVALID_PARAMETER_VALUE.LENGTH] The value of parameter(s) `length` in `slice` is invalid: Expects `length` greater than or equal to 0, but got {length}. SQLSTATE: 22023");
            }
            let n = row.len() as i64;
            let from = if start > 0 { start - 1 } else { start + n };
            out.push(Some(if from < 0 || from >= n {
                row.slice(0, 0)
            } else {
                row.slice(from, length.min(n - from) as usize)
            }));
        }
        build_list(out, &inner)
    });
    Ok(Typed::new(expr, out))
}

/// `sequence(start, stop[, step])` over integers, both ends included.
fn sequence(args: &[Typed]) -> SqlResult<Typed> {
    if !(2..=3).contains(&args.len()) {
        return Err(wrong("sequence", "a start, a stop and an optional step"));
    }
    if args.iter().any(|a| !(a.dtype.is_integer() || a.dtype == DataType::Null)) {
        return Err(refuse(
            "sequence() of dates or timestamps is not supported yet",
            "generate integers, e.g. date_add(DATE '2024-01-01', n) over explode(sequence(0, 30))",
        ));
    }
    let elem = match unify("sequence", &[&args[0].dtype, &args[1].dtype])? {
        DataType::Null => DataType::Int32,
        t => t,
    };
    let inputs: Vec<Expr> = args.iter().map(|a| a.expr.clone().cast(DataType::Int64)).collect();
    let out = DataType::List(Box::new(elem.clone()));
    let expr = rows_udf(inputs, out.clone(), move |s, n| {
        let starts = s[0].i64()?;
        let stops = s[1].i64()?;
        let steps = s.get(2).map(|c| c.i64()).transpose()?;
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let (Some(start), Some(stop)) = (starts.get(i), stops.get(i)) else {
                rows.push(None);
                continue;
            };
            let step = match steps {
                Some(st) => match st.get(i) {
                    Some(st) => st,
                    None => {
                        rows.push(None);
                        continue;
                    }
                },
                None if start <= stop => 1,
                None => -1,
            };
            let ok = (step > 0 && start <= stop) || (step < 0 && start >= stop) || (step == 0 && start == stop);
            if !ok {
                polars_bail!(ComputeError: "[INVALID_SEQUENCE_BOUNDARIES] Illegal sequence boundaries: {start} to {stop} by {step}");
            }
            let count = if start == stop { 1 } else { (i128::from(stop) - i128::from(start)) / i128::from(step) + 1 };
            if count > 100_000_000 {
                polars_bail!(ComputeError: "[COLLECTION_SIZE_LIMIT_EXCEEDED] sequence({start}, {stop}, {step}) has {count} elements, too many");
            }
            let values: Vec<i64> = (0..count as i64).map(|k| start + k * step).collect();
            rows.push(Some(Series::new(PlSmallStr::EMPTY, values)));
        }
        build_list(rows, &DataType::Int64)
    });
    Ok(Typed::new(expr, out))
}

/// Whether `dtype` is a map (`List(Struct{key, value})`).
pub(super) fn is_map_type(dtype: &DataType) -> bool {
    map::is_map(dtype)
}

#[cfg(test)]
mod tests;
