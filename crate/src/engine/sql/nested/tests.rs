use super::*;
use crate::engine::sql::typed::Lit;

fn cx() -> Cx {
    Cx { now_micros: 0 }
}

fn run(name: &str, args: Vec<Typed>) -> Series {
    let t = call(name, &args, &cx()).expect("a nested function").expect("translates");
    let df = df! { "tags" => [Some("pvp;daily;new"), Some("pve"), None] }.unwrap();
    let out = df.lazy().select([t.expr.alias("out")]).collect().unwrap();
    let s = out.column("out").unwrap().as_materialized_series().clone();
    assert_eq!(s.dtype(), &t.dtype, "{name}");
    s
}

fn tags() -> Typed {
    Typed::new(col("tags").str().split(lit(";")), DataType::List(Box::new(DataType::String)))
}

fn s(v: &str) -> Typed {
    Typed::constant(Lit::Str(v.into()))
}

fn i(v: i64) -> Typed {
    Typed::constant(Lit::Int(v))
}

fn text(s: &Series) -> Vec<String> {
    (0..s.len()).map(|k| format!("{}", s.get(k).unwrap())).collect()
}

#[test]
fn size_and_element_at() {
    assert_eq!(text(&run("size", vec![tags()])), ["3", "1", "null"]);
    assert_eq!(text(&run("element_at", vec![tags(), i(-1)])), ["\"new\"", "\"pve\"", "null"]);
    assert_eq!(text(&run("try_element_at", vec![tags(), i(3)])), ["\"new\"", "null", "null"]);
    let t = call("element_at", &[tags(), i(3)], &cx()).unwrap().unwrap();
    let df = df! { "tags" => [Some("a;b;c"), Some("x")] }.unwrap();
    let err = df.lazy().select([t.expr]).collect().unwrap_err().to_string();
    assert!(err.contains("INVALID_ARRAY_INDEX_IN_ELEMENT_AT"), "{err}");
    let t = index(tags(), i(0)).unwrap();
    let df = df! { "tags" => [Some("a;b;c"), Some("x")] }.unwrap();
    let out = df.lazy().select([t.expr]).collect().unwrap();
    assert_eq!(out.height(), 2);
}

#[test]
fn searching_and_sets() {
    assert_eq!(text(&run("array_contains", vec![tags(), s("pvp")])), ["true", "false", "null"]);
    assert_eq!(text(&run("array_position", vec![tags(), s("daily")])), ["2", "0", "null"]);
    let all = run("array", vec![s("all")]);
    assert_eq!(all.len(), 1);
    let arr = Typed::new(
        call("array", &[s("pvp"), s("pve")], &cx()).unwrap().unwrap().expr,
        DataType::List(Box::new(DataType::String)),
    );
    let inter = run("array_intersect", vec![tags(), arr.clone()]);
    assert_eq!(text(&inter)[0], "[\"pvp\"]");
    let union = run("array_union", vec![tags(), arr]);
    let first = union.list().unwrap().get_as_series(0).unwrap();
    assert_eq!(text(&first), ["\"pvp\"", "\"daily\"", "\"new\"", "\"pve\""]);
    let joined = run("array_join", vec![tags(), s(", ")]);
    assert_eq!(text(&joined), ["\"pvp, daily, new\"", "\"pve\"", "null"]);
    let sorted = run("sort_array", vec![tags()]);
    assert_eq!(text(&sorted)[0], "[\"daily\", \"new\", \"pvp\"]");
    let sliced = run("slice", vec![tags(), i(-2), i(5)]);
    assert_eq!(text(&sliced)[0], "[\"daily\", \"new\"]");
    let seq = run("sequence", vec![i(1), i(10), i(3)]);
    let first = seq.list().unwrap().get_as_series(0).unwrap();
    assert_eq!(text(&first), ["1", "4", "7", "10"]);
}

#[test]
fn widening() {
    let t = call("array", &[i(1), Typed::constant(Lit::Decimal(15, 1))], &cx()).unwrap().unwrap();
    assert_eq!(t.dtype, DataType::List(Box::new(DataType::Decimal(Some(11), Some(1)))));
    let t = call("array", &[i(1), Typed::constant(Lit::Null), i(3)], &cx()).unwrap().unwrap();
    assert_eq!(t.dtype, DataType::List(Box::new(DataType::Int32)));
}

#[test]
fn maps() {
    let m = call("map", &[s("a"), i(1), s("b"), i(2)], &cx()).unwrap().unwrap();
    assert!(is_map_type(&m.dtype));
    let b = run_expr(index(m.clone(), s("b")).unwrap());
    assert_eq!(text(&b), ["2"]);
    let missing = run_expr(index(m.clone(), s("zz")).unwrap());
    assert_eq!(text(&missing), ["null"]);
    let keys = run_expr(call("map_keys", &[m], &cx()).unwrap().unwrap());
    assert_eq!(text(&keys), ["[\"a\", \"b\"]"]);
    let n = run("size", vec![call("str_to_map", &[s("a:1,b:2")], &cx()).unwrap().unwrap()]);
    assert_eq!(text(&n)[0], "2");
    let dup = call("map", &[s("a"), i(1), s("a"), i(2)], &cx()).unwrap().unwrap();
    let df = df! { "x" => [1] }.unwrap();
    let err = df.lazy().select([dup.expr]).collect().unwrap_err().to_string();
    assert!(err.contains("DUPLICATED_MAP_KEY"), "{err}");
}

fn run_expr(t: Typed) -> Series {
    let df = df! { "x" => [1] }.unwrap();
    let out = df.lazy().select([t.expr.alias("out")]).collect().unwrap();
    out.column("out").unwrap().as_materialized_series().clone()
}
