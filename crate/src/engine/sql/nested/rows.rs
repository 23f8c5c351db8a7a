//! The row-wise machinery of the array and map functions: inputs broadcast
//! to one length, a list column's rows and back, and Spark's element
//! equality (NaN equals NaN).

use polars::prelude::*;

use super::super::typed::map_columns;

/// The inputs at one length: a length-1 input (a constant) repeated.
pub(crate) fn broadcast(columns: &[Column]) -> (Vec<Series>, usize) {
    let n = if columns.iter().any(|c| c.is_empty()) { 0 } else { columns.iter().map(Column::len).max().unwrap_or(1) };
    let series = columns
        .iter()
        .map(|c| {
            let s = c.as_materialized_series().clone();
            if s.len() == 1 && n != 1 { s.new_from_index(0, n) } else { s }
        })
        .collect();
    (series, n)
}

/// A function of whole columns, evaluated over inputs broadcast to one length.
pub(crate) fn rows_udf(
    inputs: Vec<Expr>,
    dtype: DataType,
    f: impl Fn(&[Series], usize) -> PolarsResult<Series> + Send + Sync + 'static,
) -> Expr {
    let out = dtype.clone();
    map_columns(inputs, dtype, move |columns: &mut [Column]| {
        let name = columns.first().map(|c| c.name().clone()).unwrap_or_default();
        let (series, n) = broadcast(columns);
        let s = f(&series, n)?;
        let s = if s.dtype() == &out { s } else { s.cast(&out)? };
        Ok(s.with_name(name).into_column())
    })
}

/// The rows of a list column (`None` for a NULL array).
pub(crate) fn list_rows(s: &Series) -> PolarsResult<Vec<Option<Series>>> {
    if s.dtype() == &DataType::Null {
        return Ok(vec![None; s.len()]);
    }
    Ok(s.list()?.into_iter().collect())
}

/// A list column from rows of elements of type `inner`.
pub(crate) fn build_list(rows: Vec<Option<Series>>, inner: &DataType) -> PolarsResult<Series> {
    let mut builder = polars::chunked_array::builder::get_list_builder(inner, 0, rows.len(), PlSmallStr::EMPTY);
    for row in rows {
        match row {
            Some(s) if s.dtype() == inner => builder.append_series(&s)?,
            Some(s) => builder.append_series(&s.cast(inner)?)?,
            None => builder.append_null(),
        }
    }
    Ok(builder.finish().into_series())
}

/// Spark's equality of two non-null elements: NaN equals NaN.
pub(crate) fn same(a: &AnyValue<'_>, b: &AnyValue<'_>) -> bool {
    let nan = |v: &AnyValue<'_>| match v {
        AnyValue::Float64(x) => x.is_nan(),
        AnyValue::Float32(x) => x.is_nan(),
        _ => false,
    };
    (nan(a) && nan(b)) || a == b
}

/// The positions of the distinct elements of `s`, first occurrences in order
/// (NULL once), skipping those `skip` says to.
pub(crate) fn distinct_positions(s: &Series, skip: impl Fn(&AnyValue<'_>) -> bool) -> PolarsResult<Vec<IdxSize>> {
    let mut kept: Vec<(IdxSize, AnyValue<'_>)> = Vec::new();
    for j in 0..s.len() {
        let v = s.get(j)?;
        let seen = kept.iter().any(|(_, k)| if v.is_null() { k.is_null() } else { !k.is_null() && same(k, &v) });
        if !seen && !skip(&v) {
            kept.push((j as IdxSize, v));
        }
    }
    Ok(kept.into_iter().map(|(j, _)| j).collect())
}

pub(crate) fn contains_value(s: &Series, v: &AnyValue<'_>) -> PolarsResult<bool> {
    for j in 0..s.len() {
        let e = s.get(j)?;
        if if v.is_null() { e.is_null() } else { !e.is_null() && same(&e, v) } {
            return Ok(true);
        }
    }
    Ok(false)
}
