//! A work-around for Polars 0.51 on 32-bit targets (wasm32).
//!
//! Polars marks a string or binary view array whose byte length is not yet
//! known with `u64::MAX`, but some kernels (gather, filter, group keys, casts)
//! store that marker through `usize`, which on wasm32 truncates it to
//! `u32::MAX`. The array then claims to hold 4 GiB of bytes, and the next
//! operation that sizes a buffer from it (IPC and Parquet writers,
//! concatenation) fails with "capacity overflow".
//!
//! Slicing an array over its whole length resets the marker, and asking for
//! the length then computes and stores the real one, which later copies keep.
//! [`repair`] does that for every view array in a frame, children included.
//! It costs one pass over the views (no data is copied), and runs on every
//! frame that enters the catalog or leaves the engine. On 64-bit targets it
//! is not needed.

use polars::prelude::*;
use polars_arrow::array::{Array, BinaryViewArray, FixedSizeListArray, ListArray, StructArray, Utf8ViewArray};
use polars_arrow::datatypes::ArrowDataType;

/// Whether frames need [`repair`] on this target.
pub const NEEDED: bool = cfg!(target_pointer_width = "32");

/// Re-slices the view arrays in `df` so that their lengths are recomputed.
pub fn repair(df: DataFrame) -> PolarsResult<DataFrame> {
    if !df.get_columns().iter().any(|c| holds_views(c.dtype())) {
        return Ok(df);
    }
    let columns = df
        .take_columns()
        .into_iter()
        .map(|c| if holds_views(c.dtype()) { repair_column(&c) } else { Ok(c) })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(columns)
}

/// Repairs only where the target needs it.
pub fn repair_if_needed(df: DataFrame) -> PolarsResult<DataFrame> {
    if NEEDED { repair(df) } else { Ok(df) }
}

fn holds_views(dtype: &DataType) -> bool {
    match dtype {
        DataType::String | DataType::Binary => true,
        DataType::List(inner) | DataType::Array(inner, _) => holds_views(inner),
        DataType::Struct(fields) => fields.iter().any(|f| holds_views(f.dtype())),
        _ => false,
    }
}

fn repair_column(column: &Column) -> PolarsResult<Column> {
    let series = column.as_materialized_series();
    let chunks: Vec<ArrayRef> = series.chunks().iter().map(|a| repair_array(a.as_ref())).collect();
    let repaired = Series::try_from((series.name().clone(), chunks))?;
    let repaired = if repaired.dtype() == series.dtype() { repaired } else { repaired.cast(series.dtype())? };
    Ok(repaired.into_column())
}

fn repair_array(array: &dyn Array) -> Box<dyn Array> {
    let any = array.as_any();
    match array.dtype() {
        ArrowDataType::Utf8View | ArrowDataType::BinaryView => {
            let sliced = array.sliced(0, array.len());
            // Computes and stores the true byte length.
            if let Some(a) = sliced.as_any().downcast_ref::<Utf8ViewArray>() {
                a.total_bytes_len();
            } else if let Some(a) = sliced.as_any().downcast_ref::<BinaryViewArray>() {
                a.total_bytes_len();
            }
            sliced
        }
        ArrowDataType::LargeList(_) => match any.downcast_ref::<ListArray<i64>>() {
            Some(list) => ListArray::<i64>::new(
                list.dtype().clone(),
                list.offsets().clone(),
                repair_array(list.values().as_ref()),
                list.validity().cloned(),
            )
            .boxed(),
            None => array.to_boxed(),
        },
        ArrowDataType::FixedSizeList(..) => match any.downcast_ref::<FixedSizeListArray>() {
            Some(list) => FixedSizeListArray::new(
                list.dtype().clone(),
                list.len(),
                repair_array(list.values().as_ref()),
                list.validity().cloned(),
            )
            .boxed(),
            None => array.to_boxed(),
        },
        ArrowDataType::Struct(_) => match any.downcast_ref::<StructArray>() {
            Some(s) => StructArray::new(
                s.dtype().clone(),
                s.len(),
                s.values().iter().map(|v| repair_array(v.as_ref())).collect(),
                s.validity().cloned(),
            )
            .boxed(),
            None => array.to_boxed(),
        },
        _ => array.to_boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repair_keeps_values_and_types() {
        let df = df! {
            "s" => ["a", "a string longer than twelve bytes", "c"],
            "n" => [1i64, 2, 3],
        }
        .unwrap();
        let nested = df
            .clone()
            .lazy()
            .select([
                col("s"),
                col("n"),
                as_struct(vec![col("s"), col("n")]).alias("st"),
                col("s").implode().alias("l"),
            ])
            .collect()
            .unwrap();
        let repaired = repair(nested.clone()).unwrap();
        assert_eq!(repaired.schema(), nested.schema());
        assert!(repaired.equals_missing(&nested));
    }
}
