//! Spark's `approx_count_distinct` (HyperLogLog++ over XXH64 with seed 42),
//! reproduced where Spark answers by linear counting: its estimate there
//! depends only on how many registers the values reach, which is computed
//! here exactly. Above that range Spark applies bias tables; the query
//! fails rather than answer differently.

use polars::prelude::*;

use super::super::typed::{SqlResult, Typed, bad_args, fail_if, map_columns, refuse};
use super::rows;

/// HLL++ linear-counting thresholds by precision 4..=18 (Heule et al.).
const THRESHOLDS: [f64; 15] = [
    10.0, 20.0, 40.0, 80.0, 220.0, 400.0, 900.0, 1800.0, 3100.0, 6500.0, 11500.0, 20000.0, 50000.0, 120000.0, 350000.0,
];

pub(super) fn approx_count_distinct(args: &[Typed]) -> SqlResult<Typed> {
    let name = "approx_count_distinct";
    let (x, rsd) = match args {
        [x] => (x, 0.05),
        [x, r] => {
            let rsd = match &r.lit {
                Some(super::super::typed::Lit::Float(f)) => *f,
                Some(super::super::typed::Lit::Decimal(u, s)) => *u as f64 / 10f64.powi(*s as i32),
                _ => return Err(bad_args(name, "approx_count_distinct(x[, relativeSD]) with a constant relativeSD")),
            };
            (x, rsd)
        }
        _ => return Err(bad_args(name, "approx_count_distinct(x[, relativeSD])")),
    };
    let p = (2.0 * (1.106 / rsd).ln() / 2f64.ln()).ceil();
    if !(4.0..=18.0).contains(&p) {
        return Err(bad_args(name, "approx_count_distinct(x, relativeSD) with relativeSD between 0.0018 and 0.39"));
    }
    let p = p as u32;
    if !hashable(&x.dtype) {
        return Err(refuse(
            format!("{name} of {} is not supported", x.dtype),
            "write count(DISTINCT x), or approx_count_distinct of a number, string, date or timestamp",
        ));
    }
    let registers = map_columns(vec![rows(x)], DataType::UInt32, move |c: &mut [Column]| {
        register_of(c[0].as_materialized_series(), p)
    });
    let m = f64::from(1u32 << p);
    let empty = lit(m) - registers.drop_nulls().n_unique().cast(DataType::Float64);
    let linear = lit(m) * (lit(m) / empty.clone()).log(lit(std::f64::consts::E));
    let value = (linear.clone() + lit(0.5)).floor().cast(DataType::Int64);
    let threshold = THRESHOLDS[(p - 4) as usize];
    let bad = empty.eq(lit(0.0)).or(linear.gt(lit(threshold)));
    Ok(fail_if(
        Typed::new(value, DataType::Int64),
        bad,
        format!(
            "{name} above about {threshold} distinct values uses Spark's bias tables, not reproduced here: \
             write count(DISTINCT x)"
        ),
    ))
}

fn hashable(dtype: &DataType) -> bool {
    match dtype {
        DataType::Decimal(p, _) => p.unwrap_or(38) <= 18,
        DataType::Datetime(unit, _) => *unit == TimeUnit::Microseconds,
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Date
        | DataType::String
        | DataType::Null => true,
        _ => false,
    }
}

/// Each value's register: the top `p` bits of Spark's XXH64 of the value.
fn register_of(s: &Series, p: u32) -> PolarsResult<Column> {
    let top = |h: u64| (h >> (64 - p)) as u32;
    let name = s.name().clone();
    let out: UInt32Chunked = match s.dtype() {
        DataType::String => s.str()?.iter().map(|v| v.map(|v| top(xxh64(v.as_bytes(), 42)))).collect(),
        DataType::Boolean => s.bool()?.iter().map(|v| v.map(|v| top(hash_int(i32::from(v))))).collect(),
        DataType::Float32 => s.f32()?.iter().map(|v| v.map(|v| top(hash_int(float_bits(v) as i32)))).collect(),
        DataType::Float64 => s.f64()?.iter().map(|v| v.map(|v| top(hash_long(double_bits(v))))).collect(),
        DataType::Int64 | DataType::Datetime(..) => {
            let s = s.cast(&DataType::Int64)?;
            s.i64()?.iter().map(|v| v.map(|v| top(hash_long(v)))).collect()
        }
        DataType::Decimal(..) => {
            let ca = s.decimal()?.physical().clone();
            ca.iter().map(|v| v.map(|v| top(hash_long(v as i64)))).collect()
        }
        DataType::Null => UInt32Chunked::full_null(name.clone(), s.len()),
        _ => {
            let s = s.cast(&DataType::Int32)?;
            s.i32()?.iter().map(|v| v.map(|v| top(hash_int(v)))).collect()
        }
    };
    Ok(out.with_name(name).into_series().into_column())
}

/// Java's `floatToIntBits` of the value with -0.0 as 0.0 (NaN canonical).
fn float_bits(v: f32) -> u32 {
    if v.is_nan() {
        0x7fc0_0000
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

/// Java's `doubleToLongBits` of the value with -0.0 as 0.0 (NaN canonical).
fn double_bits(v: f64) -> i64 {
    if v.is_nan() {
        0x7ff8_0000_0000_0000
    } else if v == 0.0 {
        0
    } else {
        v.to_bits() as i64
    }
}

fn hash_int(v: i32) -> u64 {
    xxh64(&v.to_le_bytes(), 42)
}

fn hash_long(v: i64) -> u64 {
    xxh64(&v.to_le_bytes(), 42)
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

fn round(acc: u64, input: u64) -> u64 {
    acc.wrapping_add(input.wrapping_mul(P2)).rotate_left(31).wrapping_mul(P1)
}

fn merge(acc: u64, v: u64) -> u64 {
    (acc ^ round(0, v)).wrapping_mul(P1).wrapping_add(P4)
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// XXH64 (the reference algorithm, as Spark's `XXH64` computes it).
pub(super) fn xxh64(data: &[u8], seed: u64) -> u64 {
    let n = data.len();
    let mut i = 0;
    let mut h = if n >= 32 {
        let mut v = [seed.wrapping_add(P1).wrapping_add(P2), seed.wrapping_add(P2), seed, seed.wrapping_sub(P1)];
        while i + 32 <= n {
            for (k, lane) in v.iter_mut().enumerate() {
                *lane = round(*lane, u64_at(data, i + 8 * k));
            }
            i += 32;
        }
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for lane in v {
            h = merge(h, lane);
        }
        h
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(n as u64);
    while i + 8 <= n {
        h ^= round(0, u64_at(data, i));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= n {
        let mut w = [0u8; 4];
        w.copy_from_slice(&data[i..i + 4]);
        h ^= u64::from(u32::from_le_bytes(w)).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    while i < n {
        h ^= u64::from(data[i]).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^= h >> 32;
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh64_reference_values() {
        // The reference implementation's published values.
        assert_eq!(xxh64(b"", 0), 0xEF46_DB37_51D8_E999);
        assert_eq!(xxh64(b"a", 0), 0xD24E_C4F1_A98C_6E5B);
        assert_eq!(xxh64(b"abc", 0), 0x44BC_2CF5_AD77_0999);
    }
}
