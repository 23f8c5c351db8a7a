use super::*;

fn cx() -> Cx {
    Cx { now_micros: 0 }
}

fn raw() -> Typed {
    Typed::new(col("raw"), DataType::String)
}

fn s(v: &str) -> Typed {
    Typed::constant(Lit::Str(v.into()))
}

fn run(name: &str, args: Vec<Typed>) -> Series {
    let t = call(name, &args, &cx()).expect("a JSON function").expect("translates");
    let df = df! { "raw" => [
        Some(r#"{"event_type": "purchase_sword", "amount": 49, "client": {"os": "web", "v": [1, 2.50]}, "n": null}"#),
        Some(r#"{"event_type": "default", "amount": "9.99", "user": "#),
        None,
    ] }
    .unwrap();
    let out = df.lazy().select([t.expr.alias("out")]).collect().unwrap();
    let s = out.column("out").unwrap().as_materialized_series().clone();
    assert_eq!(s.dtype(), &t.dtype, "{name}");
    s
}

fn strs(s: &Series) -> Vec<Option<String>> {
    s.str().unwrap().into_iter().map(|v| v.map(str::to_string)).collect()
}

#[test]
fn get_json_object_paths() {
    let got = |path: &str| strs(&run("get_json_object", vec![raw(), s(path)]));
    assert_eq!(got("$.event_type"), [Some("purchase_sword".into()), None, None]);
    assert_eq!(got("$.amount"), [Some("49".into()), None, None]);
    assert_eq!(got("$.client"), [Some(r#"{"os":"web","v":[1,2.5]}"#.into()), None, None]);
    assert_eq!(got("$.client.v[1]"), [Some("2.5".into()), None, None]);
    assert_eq!(got("$['client']['os']"), [Some("web".into()), None, None]);
    assert_eq!(got("$.n"), [None, None, None]);
    assert_eq!(got("nope")[0], None);
}

#[test]
fn from_json_permissive() {
    let out = run("from_json", vec![raw(), s("event_type STRING, amount DOUBLE, client STRUCT<os: STRING>")]);
    let st = out.struct_().unwrap();
    assert_eq!(out.null_count(), 1);
    let amount = st.field_by_name("amount").unwrap();
    assert_eq!(amount.f64().unwrap().get(0), Some(49.0));
    assert_eq!(amount.f64().unwrap().get(1), None);
    let os = st.field_by_name("client").unwrap().struct_().unwrap().field_by_name("os").unwrap();
    assert_eq!(os.str().unwrap().get(0), Some("web"));
    let text = run("from_json", vec![raw(), s("amount STRING")]);
    let amount = text.struct_().unwrap().field_by_name("amount").unwrap();
    assert_eq!(amount.str().unwrap().get(0), Some("49"));
    let m = run("from_json", vec![raw(), s("MAP<STRING, STRING>")]);
    assert!(is_map_type(m.dtype()));
    assert_eq!(m.null_count(), 2);
}

#[test]
fn ddl() {
    let t = parse_ddl("a INT, b struct<c:array<string>, `d e` DECIMAL(5,2)>").unwrap();
    let DataType::Struct(f) = t else { panic!() };
    assert_eq!(f[0].dtype(), &DataType::Int32);
    assert!(parse_ddl("ARRAY<STRUCT<k: INT>>").is_ok());
    assert!(parse_ddl("a INT,").is_err());
    assert_eq!(decimal_from_text("1.005", 5, 2), Some(101));
    assert_eq!(decimal_from_text("1e2", 5, 0), Some(100));
    assert_eq!(decimal_from_text("123456", 5, 0), None);
}

#[test]
fn to_json_and_schema() {
    let t = schema_of_json(&[s(r#"{"event_type": "x", "amount": 1.5, "items": [{"n": 1}]}"#)]).unwrap();
    assert_eq!(t.lit_str(), Some("STRUCT<amount: DOUBLE, event_type: STRING, items: ARRAY<STRUCT<n: BIGINT>>>"));
    let st = Typed::new(
        as_struct(vec![lit(1i32).alias("id"), lit(NULL).cast(DataType::String).alias("z"), lit(2.5f64).alias("x")]),
        DataType::Struct(vec![
            Field::new("id".into(), DataType::Int32),
            Field::new("z".into(), DataType::String),
            Field::new("x".into(), DataType::Float64),
        ]),
    );
    let out = run("to_json", vec![st]);
    assert_eq!(strs(&out)[0].as_deref(), Some(r#"{"id":1,"x":2.5}"#));
    assert_eq!(java_double(1e7), "1.0E7");
    assert_eq!(java_double(100.0), "100.0");
    assert_eq!(java_double(1.5e-5), "1.5E-5");
    let n = run("json_array_length", vec![s("[1, [2, 3], {}]")]);
    assert_eq!(n.i32().unwrap().get(0), Some(3));
}
