#![allow(clippy::unwrap_used)]

use polars::prelude::*;

use super::super::typed::{Cx, Lit, Typed};
use super::aggregate;

fn cx() -> Cx {
    Cx { now_micros: 0 }
}

fn frame() -> DataFrame {
    df! {
        "g" => ["a", "a", "a", "b", "b", "c"],
        "i" => [Some(1i32), Some(2), None, Some(4), Some(4), None],
        "f" => [Some(0.1f64), Some(0.2), Some(0.3), None, Some(2.5), None],
        "s" => [Some("x"), None, Some("y"), Some("x"), Some("z"), None],
    }
    .unwrap()
}

fn arg(name: &str, dtype: DataType) -> Typed {
    Typed::new(col(name), dtype)
}

fn agg(name: &str, args: &[Typed], distinct: bool) -> Typed {
    aggregate(name, args, distinct, &cx()).unwrap().unwrap()
}

/// The aggregate per group g (sorted by g) and over all rows.
fn run(name: &str, args: &[Typed], distinct: bool) -> (Series, Series, DataType) {
    let t = agg(name, args, distinct);
    let grouped = frame()
        .lazy()
        .group_by([col("g")])
        .agg([t.expr.clone().alias("v")])
        .sort(["g"], Default::default())
        .collect()
        .unwrap();
    let all = frame().lazy().select([t.expr.clone().alias("v")]).collect().unwrap();
    let grouped = grouped.column("v").unwrap().as_materialized_series().clone();
    assert_eq!(grouped.dtype(), &t.dtype, "{name}: grouped type");
    let all = all.column("v").unwrap().as_materialized_series().clone();
    assert_eq!(all.len(), 1, "{name}: one row");
    (grouped, all, t.dtype)
}

fn f64s(s: &Series) -> Vec<Option<f64>> {
    s.f64().unwrap().iter().collect()
}

fn i64s(s: &Series) -> Vec<Option<i64>> {
    s.i64().unwrap().iter().collect()
}

#[test]
fn counts() {
    let (g, all, _) = run("count", &[], false);
    assert_eq!(i64s(&g), [Some(3), Some(2), Some(1)]);
    assert_eq!(i64s(&all), [Some(6)]);
    let (g, _, _) = run("count", &[arg("i", DataType::Int32)], false);
    assert_eq!(i64s(&g), [Some(2), Some(2), Some(0)]);
    let (g, all, _) = run("count", &[arg("i", DataType::Int32)], true);
    assert_eq!(i64s(&g), [Some(2), Some(1), Some(0)]);
    assert_eq!(i64s(&all), [Some(3)]);
    let (g, _, _) = run("count", &[Typed::constant(Lit::Int(1))], false);
    assert_eq!(i64s(&g), [Some(3), Some(2), Some(1)]);
    let (g, _, _) = run("count", &[arg("i", DataType::Int32), arg("s", DataType::String)], true);
    assert_eq!(i64s(&g), [Some(1), Some(2), Some(0)]);
    // count(*) FILTER (WHERE s = 'x') arrives as a filtered true.
    let filtered = Typed { expr: lit(true).filter(col("s").eq(lit("x"))), ..Typed::constant(Lit::Bool(true)) };
    let (g, all, _) = run("count", &[filtered], false);
    assert_eq!(i64s(&g), [Some(1), Some(1), Some(0)]);
    assert_eq!(i64s(&all), [Some(2)]);
    let (g, _, _) = run("count_if", &[Typed::new(col("i").gt(lit(1)), DataType::Boolean)], false);
    assert_eq!(i64s(&g), [Some(1), Some(2), Some(0)]);
}

#[test]
fn sums_and_means() {
    let (g, all, t) = run("sum", &[arg("i", DataType::Int32)], false);
    assert_eq!(t, DataType::Int64);
    assert_eq!(i64s(&g), [Some(3), Some(8), None]);
    assert_eq!(i64s(&all), [Some(11)]);
    let (g, all, _) = run("sum", &[arg("f", DataType::Float64)], false);
    // In row order, as Spark adds: 0.1 + 0.2 + 0.3 = 0.6000000000000001.
    assert_eq!(f64s(&g), [Some(0.1 + 0.2 + 0.3), Some(2.5), None]);
    assert_eq!(f64s(&all), [Some(0.1 + 0.2 + 0.3 + 2.5)]);
    let (g, _, _) = run("sum", &[arg("i", DataType::Int32)], true);
    assert_eq!(i64s(&g), [Some(3), Some(4), None]);
    let (g, _, t) = run("avg", &[arg("i", DataType::Int32)], false);
    assert_eq!(t, DataType::Float64);
    assert_eq!(f64s(&g), [Some(1.5), Some(4.0), None]);
    let (g, _, _) = run("sum", &[Typed::constant(Lit::Int(1))], false);
    assert_eq!(i64s(&g), [Some(3), Some(2), Some(1)]);
}

#[test]
fn sum_overflow_fails() {
    let df = df! { "x" => [i64::MAX, 1] }.unwrap();
    let t = agg("sum", &[arg("x", DataType::Int64)], false);
    let err = df.lazy().select([t.expr]).collect().unwrap_err();
    assert!(err.to_string().contains("ARITHMETIC_OVERFLOW"), "{err}");
}

#[test]
fn decimals() {
    let dec = DataType::Decimal(Some(6), Some(4));
    let df = df! { "x" => ["0.1234", "0.6720", "0.0001"] }.unwrap();
    let x = Typed::new(col("x").cast(dec.clone()), dec);
    let sum = agg("sum", std::slice::from_ref(&x), false);
    assert_eq!(sum.dtype, DataType::Decimal(Some(16), Some(4)));
    let avg = agg("avg", std::slice::from_ref(&x), false);
    assert_eq!(avg.dtype, DataType::Decimal(Some(10), Some(8)));
    let out = df
        .lazy()
        .select([sum.expr.cast(DataType::String).alias("s"), avg.expr.cast(DataType::String).alias("a")])
        .collect()
        .unwrap();
    assert_eq!(out.column("s").unwrap().str().unwrap().get(0), Some("0.7955"));
    // 0.7955 / 3 = 0.26516666.. rounds half up to 0.26516667.
    assert_eq!(out.column("a").unwrap().str().unwrap().get(0), Some("0.26516667"));
}

#[test]
fn extremes_and_firsts() {
    let (g, _, t) = run("max", &[arg("s", DataType::String)], false);
    assert_eq!(t, DataType::String);
    let got: Vec<Option<&str>> = g.str().unwrap().iter().collect();
    assert_eq!(got, [Some("y"), Some("z"), None]);
    let (g, _, _) = run("first", &[arg("i", DataType::Int32), Typed::constant(Lit::Bool(true))], false);
    let got: Vec<Option<i32>> = g.i32().unwrap().iter().collect();
    assert_eq!(got, [Some(1), Some(4), None]);
    let (g, _, _) = run("last", &[arg("i", DataType::Int32)], false);
    let got: Vec<Option<i32>> = g.i32().unwrap().iter().collect();
    assert_eq!(got, [None, Some(4), None]);
    let (g, _, _) = run("max_by", &[arg("s", DataType::String), arg("f", DataType::Float64)], false);
    let got: Vec<Option<&str>> = g.str().unwrap().iter().collect();
    assert_eq!(got, [Some("y"), Some("z"), None]);
    let (g, _, _) = run("min_by", &[arg("s", DataType::String), arg("i", DataType::Int32)], false);
    let got: Vec<Option<&str>> = g.str().unwrap().iter().collect();
    assert_eq!(got, [Some("x"), Some("x"), None]);
    let (g, _, _) = run("bool_and", &[Typed::new(col("i").gt(lit(1)), DataType::Boolean)], false);
    let got: Vec<Option<bool>> = g.bool().unwrap().iter().collect();
    assert_eq!(got, [Some(false), Some(true), None]);
}

#[test]
fn collections() {
    let (g, all, t) = run("collect_list", &[arg("i", DataType::Int32)], false);
    assert_eq!(t, DataType::List(Box::new(DataType::Int32)));
    let lens: Vec<Option<u32>> = g.list().unwrap().lst_lengths().iter().collect();
    assert_eq!(lens, [Some(2), Some(2), Some(0)]);
    assert_eq!(all.list().unwrap().get_as_series(0).unwrap().len(), 4);
    let (g, _, _) = run("collect_set", &[arg("i", DataType::Int32)], false);
    let lens: Vec<Option<u32>> = g.list().unwrap().lst_lengths().iter().collect();
    assert_eq!(lens, [Some(2), Some(1), Some(0)]);
}

#[test]
fn statistics() {
    let (g, _, _) = run("stddev", &[arg("f", DataType::Float64)], false);
    let got = f64s(&g);
    assert!((got[0].unwrap() - 0.1).abs() < 1e-12);
    assert_eq!(&got[1..], [None, None]);
    let (g, _, _) = run("var_pop", &[arg("f", DataType::Float64)], false);
    assert_eq!(f64s(&g)[1], Some(0.0));
    let (g, _, _) = run("corr", &[arg("f", DataType::Float64), arg("i", DataType::Int32)], false);
    let got = f64s(&g);
    assert!((got[0].unwrap() - 1.0).abs() < 1e-12, "{got:?}");
    assert_eq!(&got[1..], [None, None]);
    let (g, _, _) = run("covar_pop", &[arg("f", DataType::Float64), arg("i", DataType::Int32)], false);
    assert!((f64s(&g)[0].unwrap() - 0.025).abs() < 1e-12);
}

#[test]
fn percentiles() {
    let (g, all, t) = run("percentile", &[arg("f", DataType::Float64), Typed::constant(Lit::Float(0.5))], false);
    assert_eq!(t, DataType::Float64);
    assert_eq!(f64s(&g), [Some(0.2), Some(2.5), None]);
    // (n - 1) * 0.5 = 1.5 between 0.2 and 0.3.
    assert_eq!(f64s(&all), [Some(0.5 * 0.2 + 0.5 * 0.3)]);
    let (g, _, _) = run("median", &[arg("i", DataType::Int32)], false);
    assert_eq!(f64s(&g), [Some(1.5), Some(4.0), None]);
    let (g, all, t) = run("percentile_approx", &[arg("f", DataType::Float64), Typed::constant(Lit::Float(0.5))], false);
    assert_eq!(t, DataType::Float64);
    assert_eq!(f64s(&g), [Some(0.2), Some(2.5), None]);
    assert_eq!(f64s(&all), [Some(0.2)]);
    let (g, _, t) = run("approx_percentile", &[arg("i", DataType::Int32), Typed::constant(Lit::Float(0.9))], false);
    assert_eq!(t, DataType::Int32);
    let got: Vec<Option<i32>> = g.i32().unwrap().iter().collect();
    assert_eq!(got, [Some(2), Some(4), None]);
    let many = Typed::new(concat_list([lit(0.25), lit(0.75)]).unwrap(), DataType::List(Box::new(DataType::Float64)));
    let (_, all, t) = run("percentile", &[arg("f", DataType::Float64), many], false);
    assert_eq!(t, DataType::List(Box::new(DataType::Float64)));
    let got: Vec<Option<f64>> = all.list().unwrap().get_as_series(0).unwrap().f64().unwrap().iter().collect();
    assert_eq!(got.len(), 2);
}

#[test]
fn approx_distinct() {
    let (g, all, t) = run("approx_count_distinct", &[arg("s", DataType::String)], false);
    assert_eq!(t, DataType::Int64);
    assert_eq!(i64s(&g), [Some(2), Some(2), Some(0)]);
    assert_eq!(i64s(&all), [Some(3)]);
}

#[test]
fn over_partition() {
    let t = agg("sum", &[arg("f", DataType::Float64)], false);
    let out = frame().lazy().select([t.expr.over([col("g")]).alias("v")]).collect().unwrap();
    let got = f64s(out.column("v").unwrap().as_materialized_series());
    assert_eq!(got[3], Some(2.5));
    let t = agg("percentile", &[arg("f", DataType::Float64), Typed::constant(Lit::Float(0.5))], false);
    let out = frame().lazy().select([t.expr.over([col("g")]).alias("v")]).collect().unwrap();
    let got = f64s(out.column("v").unwrap().as_materialized_series());
    assert_eq!(got[0], Some(0.2));
    let t = agg("corr", &[arg("f", DataType::Float64), arg("i", DataType::Int32)], false);
    let out = frame().lazy().select([t.expr.over([col("g")]).alias("v")]).collect().unwrap();
    let got = f64s(out.column("v").unwrap().as_materialized_series());
    assert!((got[0].unwrap() - 1.0).abs() < 1e-12 && got[3].is_none(), "{got:?}");
    let t = agg("stddev", &[arg("f", DataType::Float64)], false);
    let out = frame().lazy().select([t.expr.over([col("g")]).alias("v")]).collect().unwrap();
    let got = f64s(out.column("v").unwrap().as_materialized_series());
    assert!((got[2].unwrap() - 0.1).abs() < 1e-12 && got[3].is_none(), "{got:?}");
}

#[test]
fn empty_input() {
    let empty = frame().lazy().filter(lit(false));
    let exprs: Vec<Expr> = [
        ("count", vec![]),
        ("sum", vec![arg("f", DataType::Float64)]),
        ("sum", vec![arg("i", DataType::Int32)]),
        ("avg", vec![arg("f", DataType::Float64)]),
        ("max", vec![arg("i", DataType::Int32)]),
        ("collect_list", vec![arg("i", DataType::Int32)]),
    ]
    .into_iter()
    .enumerate()
    .map(|(k, (name, args))| agg(name, &args, false).expr.alias(format!("v{k}")))
    .collect();
    let out = empty.select(exprs).collect().unwrap();
    assert_eq!(out.height(), 1);
    let row = out.get(0).unwrap();
    assert_eq!(row[0], AnyValue::Int64(0));
    assert!(row[1].is_null() && row[2].is_null() && row[3].is_null() && row[4].is_null());
}

#[test]
fn try_sum_is_null_on_overflow() {
    let df = df! { "x" => [i64::MAX, 1] }.unwrap();
    let t = agg("try_sum", &[arg("x", DataType::Int64)], false);
    let out = df.lazy().select([t.expr.alias("v")]).collect().unwrap();
    assert_eq!(out.column("v").unwrap().i64().unwrap().get(0), None);
    let (g, _, _) = run("mode", &[arg("i", DataType::Int32), Typed::constant(Lit::Bool(true))], false);
    let got: Vec<Option<i32>> = g.i32().unwrap().iter().collect();
    assert_eq!(got, [Some(1), Some(4), None]);
}

#[test]
fn collections_over_partition() {
    let t = agg("collect_list", &[arg("i", DataType::Int32)], false);
    let out = frame().lazy().select([t.expr.over([col("g")]).alias("v")]).collect().unwrap();
    let s = out.column("v").unwrap().as_materialized_series().clone();
    assert_eq!(s.dtype(), &t.dtype);
    let lens: Vec<Option<u32>> = s.list().unwrap().lst_lengths().iter().collect();
    assert_eq!(lens, [Some(2), Some(2), Some(2), Some(2), Some(2), Some(0)]);
    let t = agg("approx_count_distinct", &[arg("s", DataType::String)], false);
    let out = frame().lazy().select([t.expr.over([col("g")]).alias("v")]).collect().unwrap();
    let got = i64s(out.column("v").unwrap().as_materialized_series());
    assert_eq!(got, [Some(2), Some(2), Some(2), Some(2), Some(2), Some(0)]);
}
