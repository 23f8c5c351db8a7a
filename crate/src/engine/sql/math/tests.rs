#![allow(clippy::unwrap_used)]

use polars::prelude::*;

use super::super::typed::{Cx, Lit, Typed};
use super::call;

fn eval(name: &str, args: &[Typed]) -> (Series, DataType) {
    let t = call(name, args, &Cx { now_micros: 0 }).unwrap().unwrap();
    let df = df! {
        "i" => [Some(1i32), Some(-7), None, Some(48)],
        "f" => [Some(2.5f64), Some(-2.5), None, Some(0.125)],
    }
    .unwrap();
    let out = df.lazy().select([t.expr.alias("v")]).collect().unwrap();
    let s = out.column("v").unwrap().as_materialized_series().clone();
    assert_eq!(s.dtype(), &t.dtype, "{name}");
    (s, t.dtype)
}

fn eval_err(name: &str, args: &[Typed]) -> String {
    let t = call(name, args, &Cx { now_micros: 0 }).unwrap().unwrap();
    let df = df! { "i" => [Some(1i32), Some(0)] }.unwrap();
    df.lazy().select([t.expr]).collect().unwrap_err().to_string()
}

fn i() -> Typed {
    Typed::new(col("i"), DataType::Int32)
}

fn f() -> Typed {
    Typed::new(col("f"), DataType::Float64)
}

fn int(n: i64) -> Typed {
    Typed::constant(Lit::Int(n))
}

fn dec(text: &str, p: usize, s: usize) -> Typed {
    let t = DataType::Decimal(Some(p), Some(s));
    Typed::new(lit(text.to_string()).cast(t.clone()), t)
}

fn f64s(s: &Series) -> Vec<Option<f64>> {
    s.f64().unwrap().iter().collect()
}

fn text(s: &Series) -> Vec<Option<String>> {
    let s = s.cast(&DataType::String).unwrap();
    s.str().unwrap().iter().map(|v| v.map(String::from)).collect()
}

#[test]
fn rounding() {
    let (s, _) = eval("round", &[f()]);
    assert_eq!(f64s(&s), [Some(3.0), Some(-3.0), None, Some(0.0)]);
    let (s, _) = eval("round", &[f(), int(2)]);
    assert_eq!(f64s(&s), [Some(2.5), Some(-2.5), None, Some(0.13)]);
    let (s, _) = eval("bround", &[f()]);
    assert_eq!(f64s(&s), [Some(2.0), Some(-2.0), None, Some(0.0)]);
    let (s, t) = eval("round", &[dec("2.5", 2, 1)]);
    assert_eq!(t, DataType::Decimal(Some(2), Some(0)));
    assert_eq!(text(&s)[0].as_deref(), Some("3"));
    let (s, t) = eval("round", &[dec("1234.5678", 8, 4), int(-2)]);
    assert_eq!(t, DataType::Decimal(Some(5), Some(0)));
    assert_eq!(text(&s)[0].as_deref(), Some("1200"));
    let (s, t) = eval("round", &[dec("2.345", 4, 3), int(2)]);
    assert_eq!(t, DataType::Decimal(Some(4), Some(2)));
    assert_eq!(text(&s)[0].as_deref(), Some("2.35"));
    let (s, t) = eval("bround", &[dec("3.5", 2, 1)]);
    assert_eq!(t, DataType::Decimal(Some(2), Some(0)));
    assert_eq!(text(&s)[0].as_deref(), Some("4"));
    let (s, t) = eval("floor", &[dec("-1.5", 2, 1)]);
    assert_eq!(t, DataType::Decimal(Some(2), Some(0)));
    assert_eq!(text(&s)[0].as_deref(), Some("-2"));
    let (s, _) = eval("ceil", &[dec("-1.2", 2, 1)]);
    assert_eq!(text(&s)[0].as_deref(), Some("-1"));
    let (s, t) = eval("floor", &[f()]);
    assert_eq!(t, DataType::Int64);
    let got: Vec<Option<i64>> = s.i64().unwrap().iter().collect();
    assert_eq!(got, [Some(2), Some(-3), None, Some(0)]);
    let (s, t) = eval("round", &[i(), int(-1)]);
    assert_eq!(t, DataType::Int32);
    let got: Vec<Option<i32>> = s.i32().unwrap().iter().collect();
    assert_eq!(got, [Some(0), Some(-10), None, Some(50)]);
}

#[test]
fn logs_and_powers() {
    let (s, _) = eval("ln", &[i()]);
    assert_eq!(f64s(&s), [Some(0.0), None, None, Some(48f64.ln())]);
    let (s, _) = eval("log10", &[int(100)]);
    assert_eq!(f64s(&s)[0], Some(2.0));
    let (s, _) = eval("log2", &[int(8)]);
    assert_eq!(f64s(&s)[0], Some(3.0));
    let (s, _) = eval("log", &[int(2), i()]);
    assert_eq!(f64s(&s)[0], Some(0.0));
    let (s, _) = eval("sqrt", &[int(-4)]);
    assert!(f64s(&s)[0].unwrap().is_nan());
    let (s, _) = eval("pow", &[i(), int(2)]);
    assert_eq!(f64s(&s), [Some(1.0), Some(49.0), None, Some(2304.0)]);
    let (s, _) = eval("sign", &[i()]);
    assert_eq!(f64s(&s), [Some(1.0), Some(-1.0), None, Some(1.0)]);
    let (s, _) = eval("degrees", &[Typed::constant(Lit::Float(std::f64::consts::PI))]);
    assert_eq!(f64s(&s)[0], Some(180.0));
}

#[test]
fn modulo_and_division() {
    let (s, t) = eval("mod", &[i(), int(7)]);
    assert_eq!(t, DataType::Int32);
    let got: Vec<Option<i32>> = s.i32().unwrap().iter().collect();
    assert_eq!(got, [Some(1), Some(0), None, Some(6)]);
    let (s, _) = eval("pmod", &[Typed::new(lit(0) - col("i"), DataType::Int32), int(7)]);
    let got: Vec<Option<i32>> = s.i32().unwrap().iter().collect();
    assert_eq!(got, [Some(6), Some(0), None, Some(1)]);
    assert!(eval_err("mod", &[int(5), i()]).contains("REMAINDER_BY_ZERO"));
    assert!(eval_err("div", &[int(5), i()]).contains("DIVIDE_BY_ZERO"));
    let (s, t) = eval("div", &[i(), int(7)]);
    assert_eq!(t, DataType::Int64);
    let got: Vec<Option<i64>> = s.i64().unwrap().iter().collect();
    assert_eq!(got, [Some(0), Some(-1), None, Some(6)]);
    let (s, t) = eval("try_divide", &[i(), int(0)]);
    assert_eq!(t, DataType::Float64);
    assert_eq!(f64s(&s), [None, None, None, None]);
    let (s, t) = eval("try_add", &[int(2147483647), i()]);
    assert_eq!(t, DataType::Int32);
    let got: Vec<Option<i32>> = s.i32().unwrap().iter().collect();
    assert_eq!(got, [None, Some(2147483640), None, None]);
    assert!(eval_err("abs", &[int(i64::from(i32::MIN))]).contains("ARITHMETIC_OVERFLOW"));
}

#[test]
fn greatest_least_width_bucket() {
    let (s, t) = eval("greatest", &[f(), i(), int(1)]);
    assert_eq!(t, DataType::Float64);
    assert_eq!(f64s(&s), [Some(2.5), Some(1.0), Some(1.0), Some(48.0)]);
    let (s, t) = eval("least", &[i(), int(2)]);
    assert_eq!(t, DataType::Int32);
    let got: Vec<Option<i32>> = s.i32().unwrap().iter().collect();
    assert_eq!(got, [Some(1), Some(-7), Some(2), Some(2)]);
    let (s, t) = eval("width_bucket", &[f(), int(0), int(20), int(4)]);
    assert_eq!(t, DataType::Int64);
    let got: Vec<Option<i64>> = s.i64().unwrap().iter().collect();
    assert_eq!(got, [Some(1), Some(0), None, Some(1)]);
    let (s, _) = eval("factorial", &[int(5)]);
    assert_eq!(s.i64().unwrap().get(0), Some(120));
    let (s, _) = eval("bin", &[int(5)]);
    assert_eq!(s.str().unwrap().get(0), Some("101"));
    assert!(call("rand", &[], &Cx { now_micros: 0 }).unwrap().is_err());
    assert!(call("no_such", &[], &Cx { now_micros: 0 }).is_none());
}

#[test]
fn double_to_decimal_rounds_printed_digits() {
    let df = df! { "x" => [Some(2.675f64), Some(0.29), Some(-1.005), None, Some(1e20)] }.unwrap();
    let expr = super::double_to_decimal(col("x"), 10, 2).cast(DataType::String);
    let out = df.lazy().select([expr.alias("v")]).collect().unwrap();
    let got: Vec<Option<&str>> = out.column("v").unwrap().str().unwrap().iter().collect();
    assert_eq!(got, [Some("2.68"), Some("0.29"), Some("-1.01"), None, None]);
}

#[test]
fn decimal_sign_changes_keep_the_type() {
    let (s, t) = eval("negative", &[dec("12.50", 4, 2)]);
    assert_eq!(t, DataType::Decimal(Some(4), Some(2)));
    assert_eq!(text(&s)[0].as_deref(), Some("-12.50"));
    let (s, t) = eval("ceil", &[dec("12", 2, 0)]);
    assert_eq!(t, DataType::Decimal(Some(2), Some(0)));
    assert_eq!(text(&s)[0].as_deref(), Some("12"));
    let (_, t) = eval("abs", &[dec("-1.5", 2, 1)]);
    assert_eq!(t, DataType::Decimal(Some(2), Some(1)));
}
