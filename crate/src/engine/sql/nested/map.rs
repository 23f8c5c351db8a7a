//! Spark's maps, as `List(Struct{key, value})`: `map(k, v, ...)`,
//! `map_keys`, `map_values`, `map_from_arrays`, `map_from_entries`,
//! `str_to_map`, `map_contains_key`, and lookups (`m[k]`, `element_at`).
//!
//! Building a map with a NULL key or a repeated key fails the query, as
//! Spark's default `spark.sql.mapKeyDedupPolicy=EXCEPTION` does; looking up a
//! missing key is NULL.

use polars::prelude::*;

use super::super::typed::{SqlResult, Typed, refuse};
use super::{build_list, element_type, list_rows, rows_udf, same, unify, wrong};

pub(super) fn call(name: &str, args: &[Typed]) -> Option<SqlResult<Typed>> {
    Some(match name {
        "map" => map(args),
        "map_keys" | "map_values" => match args {
            [m] => field(name, m),
            _ => Err(wrong(name, "one map")),
        },
        "map_from_arrays" => match args {
            [k, v] => from_arrays(k, v),
            _ => Err(wrong(name, "an array of keys and an array of values")),
        },
        "map_from_entries" => match args {
            [e] => from_entries(e),
            _ => Err(wrong(name, "one array of two-field structs")),
        },
        "str_to_map" => str_to_map(args),
        "map_contains_key" => match args {
            [m, k] => contains_key(m, k),
            _ => Err(wrong(name, "a map and a key")),
        },
        "map_entries" | "map_concat" | "map_filter" | "map_zip_with" | "transform_keys" | "transform_values" => Err(
            refuse(format!("{name}() is not supported yet"), "use map_keys(m), map_values(m), m[key] or explode(m)"),
        ),
        _ => return None,
    })
}

/// Whether `dtype` is a map: a list of `{key, value}` structs.
pub(super) fn is_map(dtype: &DataType) -> bool {
    match dtype {
        DataType::List(inner) => match &**inner {
            DataType::Struct(fields) => {
                fields.len() == 2 && fields[0].name().as_str() == "key" && fields[1].name().as_str() == "value"
            }
            _ => false,
        },
        _ => false,
    }
}

fn map_type(key: DataType, value: DataType) -> DataType {
    DataType::List(Box::new(entry_type(key, value)))
}

fn entry_type(key: DataType, value: DataType) -> DataType {
    DataType::Struct(vec![Field::new("key".into(), key), Field::new("value".into(), value)])
}

/// The key and value types of a map.
fn kv_types(name: &str, m: &Typed) -> SqlResult<(DataType, DataType)> {
    if let DataType::List(inner) = &m.dtype
        && let DataType::Struct(fields) = &**inner
        && is_map(&m.dtype)
    {
        return Ok((fields[0].dtype().clone(), fields[1].dtype().clone()));
    }
    if m.dtype == DataType::Null {
        return Ok((DataType::Null, DataType::Null));
    }
    Err(refuse(
        format!("{name}: the argument is {}, not a map", m.dtype),
        "pass a map: map(k, v, ...), map_from_arrays(keys, values) or str_to_map(text)",
    ))
}

/// One map from keys and values, failing on a NULL or repeated key.
fn entries(keys: Series, values: Series) -> PolarsResult<Series> {
    for i in 0..keys.len() {
        let k = keys.get(i)?;
        if k.is_null() {
            polars_bail!(ComputeError: "[NULL_MAP_KEY] Cannot use null as map key. SQLSTATE: 2200E");
        }
        for j in 0..i {
            if same(&keys.get(j)?, &k) {
                polars_bail!(ComputeError:
                    "[DUPLICATED_MAP_KEY] Duplicate map key {k} was found, please check the input data. \
                     If you want to remove the duplicated keys, you can set \"spark.sql.mapKeyDedupPolicy\" to \
                     \"LAST_WIN\" so that the key inserted at last takes precedence. SQLSTATE: 23505");
            }
        }
    }
    let fields = [keys.with_name("key".into()), values.with_name("value".into())];
    Ok(StructChunked::from_series(PlSmallStr::EMPTY, fields[0].len(), fields.iter())?.into_series())
}

/// `map(k1, v1, k2, v2, ...)`.
fn map(args: &[Typed]) -> SqlResult<Typed> {
    if !args.len().is_multiple_of(2) {
        return Err(wrong("map", "keys and values in pairs"));
    }
    let keys: Vec<&DataType> = args.iter().step_by(2).map(|a| &a.dtype).collect();
    let values: Vec<&DataType> = args.iter().skip(1).step_by(2).map(|a| &a.dtype).collect();
    let (kt, vt) = (unify("map", &keys)?, unify("map", &values)?);
    let out = map_type(kt.clone(), vt.clone());
    let inputs: Vec<Expr> = args
        .iter()
        .enumerate()
        .map(|(i, a)| a.expr.clone().cast(if i % 2 == 0 { kt.clone() } else { vt.clone() }))
        .collect();
    let entry = entry_type(kt.clone(), vt.clone());
    let expr = rows_udf(inputs, out.clone(), move |s, n| {
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            let mut keys = Series::new_empty(PlSmallStr::EMPTY, &kt);
            let mut values = Series::new_empty(PlSmallStr::EMPTY, &vt);
            for pair in s.chunks(2) {
                keys.append(&pair[0].slice(i as i64, 1))?;
                values.append(&pair[1].slice(i as i64, 1))?;
            }
            rows.push(Some(entries(keys, values)?));
        }
        build_list(rows, &entry)
    });
    Ok(Typed::new(expr, out))
}

/// `map_keys(m)` or `map_values(m)`.
fn field(name: &str, m: &Typed) -> SqlResult<Typed> {
    let (kt, vt) = kv_types(name, m)?;
    let (which, inner) = if name == "map_keys" { ("key", kt) } else { ("value", vt) };
    let out = DataType::List(Box::new(inner.clone()));
    let expr = rows_udf(vec![m.expr.clone()], out.clone(), move |s, _| {
        let rows = list_rows(&s[0])?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(match row {
                Some(r) if r.dtype() == &DataType::Null => Some(Series::new_empty(PlSmallStr::EMPTY, &inner)),
                Some(r) => Some(r.struct_()?.field_by_name(which)?),
                None => None,
            });
        }
        build_list(out, &inner)
    });
    Ok(Typed::new(expr, out))
}

fn from_arrays(k: &Typed, v: &Typed) -> SqlResult<Typed> {
    let (kt, vt) = (element_type("map_from_arrays", k)?, element_type("map_from_arrays", v)?);
    let out = map_type(kt.clone(), vt.clone());
    let entry = entry_type(kt.clone(), vt.clone());
    let inputs =
        vec![k.expr.clone().cast(DataType::List(Box::new(kt))), v.expr.clone().cast(DataType::List(Box::new(vt)))];
    let expr = rows_udf(inputs, out.clone(), move |s, _| {
        let (keys, values) = (list_rows(&s[0])?, list_rows(&s[1])?);
        let mut rows = Vec::with_capacity(keys.len());
        for (k, v) in keys.into_iter().zip(values) {
            rows.push(match (k, v) {
                (Some(k), Some(v)) => {
                    if k.len() != v.len() {
                        polars_bail!(ComputeError:
                            "[MAP_FROM_ARRAYS_LENGTH_MISMATCH] The key array and value array of MAP must have the same length. SQLSTATE: 2201E");
                    }
                    Some(entries(k, v)?)
                }
                _ => None,
            });
        }
        build_list(rows, &entry)
    });
    Ok(Typed::new(expr, out))
}

fn from_entries(e: &Typed) -> SqlResult<Typed> {
    let elem = element_type("map_from_entries", e)?;
    let DataType::Struct(fields) = &elem else {
        return Err(refuse(
            format!("map_from_entries: the argument is an array of {elem}, not of structs"),
            "pass an array of two-field structs, e.g. array(struct(k, v))",
        ));
    };
    let [kf, vf] = fields.as_slice() else {
        return Err(refuse(
            "map_from_entries: the structs must have two fields",
            "write array(struct(key, value), ...)",
        ));
    };
    let (kt, vt) = (kf.dtype().clone(), vf.dtype().clone());
    let out = map_type(kt.clone(), vt.clone());
    let entry = entry_type(kt, vt);
    let expr = rows_udf(vec![e.expr.clone()], out.clone(), move |s, _| {
        let rows = list_rows(&s[0])?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(match row {
                // A NULL entry makes the whole map NULL.
                Some(r) if r.null_count() == 0 => {
                    let parts = r.struct_()?.fields_as_series();
                    Some(entries(parts[0].clone(), parts[1].clone())?)
                }
                _ => None,
            });
        }
        build_list(out, &entry)
    });
    Ok(Typed::new(expr, out))
}

/// `str_to_map(text[, pair_delim[, kv_delim]])`: the delimiters are regular expressions.
fn str_to_map(args: &[Typed]) -> SqlResult<Typed> {
    let (text, pair, kv) = match args {
        [t] => (t, ",".to_string(), ":".to_string()),
        [t, p] => (t, delimiter(p)?, ":".to_string()),
        [t, p, k] => (t, delimiter(p)?, delimiter(k)?),
        _ => return Err(wrong("str_to_map", "a string and optional constant delimiters")),
    };
    let compile = |d: &str| {
        regex::Regex::new(d).map_err(|e| {
            refuse(
                format!("str_to_map: the delimiter {d:?} is not a valid pattern: {e}"),
                "write a literal delimiter such as ','",
            )
        })
    };
    let (pair_re, kv_re) = (compile(&pair)?, compile(&kv)?);
    if pair_re.is_match("") || kv_re.is_match("") {
        return Err(refuse(
            "str_to_map: a delimiter that matches the empty string is not supported",
            "use a non-empty delimiter",
        ));
    }
    let out = map_type(DataType::String, DataType::String);
    let entry = entry_type(DataType::String, DataType::String);
    let expr = rows_udf(vec![text.expr.clone().cast(DataType::String)], out.clone(), move |s, _| {
        let texts = s[0].str()?;
        let mut rows = Vec::with_capacity(texts.len());
        for t in texts {
            rows.push(match t {
                Some(t) => {
                    let mut keys: Vec<String> = Vec::new();
                    let mut values: Vec<Option<String>> = Vec::new();
                    for part in pair_re.split(t) {
                        let mut kv = kv_re.splitn(part, 2);
                        keys.push(kv.next().unwrap_or_default().to_string());
                        values.push(kv.next().map(str::to_string));
                    }
                    let keys = Series::new(PlSmallStr::EMPTY, keys);
                    let values = StringChunked::from_iter_options(PlSmallStr::EMPTY, values.into_iter()).into_series();
                    Some(entries(keys, values)?)
                }
                None => None,
            });
        }
        build_list(rows, &entry)
    });
    Ok(Typed::new(expr, out))
}

fn delimiter(d: &Typed) -> SqlResult<String> {
    d.lit_str().map(str::to_string).ok_or_else(|| {
        refuse("str_to_map: the delimiters must be constant strings", "write str_to_map(text, ',', ':')")
    })
}

/// The value under `key` in each row's map (NULL when missing), or whether it is there.
fn find(m: &Typed, key: &Typed, presence: bool) -> SqlResult<Typed> {
    let name = if presence { "map_contains_key" } else { "map lookup" };
    let (kt, vt) = kv_types(name, m)?;
    let common = unify(name, &[&kt, &key.dtype])?;
    let out = if presence { DataType::Boolean } else { vt.clone() };
    let entry = entry_type(common.clone(), vt.clone());
    let inputs = vec![m.expr.clone().cast(DataType::List(Box::new(entry))), key.expr.clone().cast(common)];
    let value_type = vt;
    let expr = rows_udf(inputs, out.clone(), move |s, _| {
        let rows = list_rows(&s[0])?;
        let mut found: Vec<AnyValue<'static>> = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let k = s[1].get(i)?;
            let hit = match row {
                Some(r) if !k.is_null() && !r.is_empty() => {
                    let parts = r.struct_()?.fields_as_series();
                    let mut hit = None;
                    for j in 0..parts[0].len() {
                        if same(&parts[0].get(j)?, &k) {
                            hit = Some(parts[1].get(j)?.into_static());
                            break;
                        }
                    }
                    match (presence, hit) {
                        (true, h) => AnyValue::Boolean(h.is_some()),
                        (false, h) => h.unwrap_or(AnyValue::Null),
                    }
                }
                Some(_) if presence && !k.is_null() => AnyValue::Boolean(false),
                _ => AnyValue::Null,
            };
            found.push(hit);
        }
        let dtype = if presence { DataType::Boolean } else { value_type.clone() };
        Series::from_any_values_and_dtype(PlSmallStr::EMPTY, &found, &dtype, true)
    });
    Ok(Typed::new(expr, out))
}

/// `m[key]` and `element_at(m, key)`.
pub(super) fn lookup(m: Typed, key: Typed) -> SqlResult<Typed> {
    find(&m, &key, false)
}

fn contains_key(m: &Typed, key: &Typed) -> SqlResult<Typed> {
    find(m, key, true)
}
