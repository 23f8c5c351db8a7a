use super::super::typed::Lit;
use super::*;

fn cx() -> Cx {
    Cx { now_micros: 1_717_243_200_000_000 }
}

fn text(s: &str) -> Typed {
    Typed::constant(Lit::Str(s.into()))
}

fn int(n: i64) -> Typed {
    Typed::constant(Lit::Int(n))
}

fn column(name: &str, dtype: DataType) -> Typed {
    Typed::new(col(name), dtype)
}

/// The frame the tests read: timestamps `ts`, dates `d`, text `s`.
fn frame() -> DataFrame {
    let ts = ["2024-01-01 18:20:04", "2024-02-20 18:03:48.223", "2024-03-24 18:26:46", "2024-04-30 19:14:06"];
    let micros: Vec<i64> = ts
        .iter()
        .map(|t| match text::parse_timestamp(t) {
            Some(text::Parsed::At { local, .. }) => local,
            _ => panic!("bad fixture {t}"),
        })
        .collect();
    let days: Vec<i32> = micros.iter().map(|m| (m.div_euclid(MICROS_PER_DAY)) as i32).collect();
    let mut df = df! {
        "ts" => micros,
        "d" => days,
        "s" => ["2024-02-29", "2024-3-1", " 2024-03-01 10:11:12 ", "2024"],
    }
    .unwrap();
    df = df.lazy().with_columns([col("ts").cast(timestamp_type()), col("d").cast(DataType::Date)]).collect().unwrap();
    df
}

fn ts() -> Typed {
    column("ts", timestamp_type())
}

fn date() -> Typed {
    column("d", DataType::Date)
}

/// Evaluates `t` over the frame; every value as Spark's text.
fn eval(t: Typed) -> Vec<String> {
    let dtype = t.dtype.clone();
    let out = frame().lazy().select([t.expr.alias("out")]).collect().unwrap();
    let column = out.column("out").unwrap().as_materialized_series().clone();
    assert_eq!(column.dtype(), &dtype, "declared type");
    let shown = match &dtype {
        DataType::Date | DataType::Datetime(..) => {
            cast_string(Typed::new(lit(column.clone()), dtype.clone()), &DataType::String, false)
                .map(|t| frame().lazy().select([t.expr.alias("out")]).collect().unwrap())
                .unwrap()
                .column("out")
                .unwrap()
                .as_materialized_series()
                .clone()
        }
        _ => column.cast(&DataType::String).unwrap(),
    };
    shown.str().unwrap().iter().map(|v| v.unwrap_or("null").to_string()).collect()
}

fn run(name: &str, args: &[Typed]) -> Vec<String> {
    eval(call(name, args, &cx()).expect("a date function").expect("accepted"))
}

fn first(name: &str, args: &[Typed]) -> String {
    run(name, args).remove(0)
}

fn refused(name: &str, args: &[Typed]) -> bool {
    matches!(call(name, args, &cx()), Some(Err(_)))
}

fn fails(t: Typed) -> String {
    let err = frame().lazy().select([t.expr]).collect().unwrap_err();
    err.to_string()
}

#[test]
fn parts() {
    assert_eq!(run("year", &[ts()]), ["2024"; 4]);
    assert_eq!(run("quarter", &[ts()]), ["1", "1", "1", "2"]);
    assert_eq!(run("dayofweek", &[ts()]), ["2", "3", "1", "3"]);
    assert_eq!(run("weekday", &[ts()]), ["0", "1", "6", "1"]);
    assert_eq!(run("weekofyear", &[ts()]), ["1", "8", "12", "18"]);
    assert_eq!(run("dayofyear", &[date()]), ["1", "51", "84", "121"]);
    assert_eq!(run("hour", &[ts()]), ["18", "18", "18", "19"]);
    assert_eq!(run("second", &[ts()]), ["4", "48", "46", "6"]);
    assert_eq!(first("weekofyear", &[text("2023-01-01")]), "52");
    assert_eq!(first("extract", &[text("SECOND"), ts()]), "4.000000");
    assert_eq!(run("date_part", &[text("second"), ts()])[1], "48.223000");
    assert_eq!(first("extract", &[text("DOW"), ts()]), "2");
}

#[test]
fn truncation() {
    assert_eq!(run("date_trunc", &[text("WEEK"), ts()])[1], "2024-02-19 00:00:00");
    assert_eq!(run("date_trunc", &[text("quarter"), ts()])[3], "2024-04-01 00:00:00");
    assert_eq!(first("date_trunc", &[text("MINUTE"), ts()]), "2024-01-01 18:20:00");
    assert_eq!(first("date_trunc", &[text("Q"), ts()]), "null");
    assert_eq!(run("trunc", &[ts(), text("MM")])[1], "2024-02-01");
    assert_eq!(run("trunc", &[ts(), text("WEEK")])[1], "2024-02-19");
    assert_eq!(first("trunc", &[ts(), text("Q")]), "null");
    assert_eq!(first("trunc", &[ts(), text("DAY")]), "null");
}

#[test]
fn formats() {
    let f = |p: &str| first("date_format", &[ts(), text(p)]);
    assert_eq!(f("MMM d, yyyy"), "Jan 1, 2024");
    assert_eq!(f("EEEE E"), "Monday Mon");
    assert_eq!(f("hh:mm a"), "06:20 PM");
    assert_eq!(f("yyyyMMdd MMMM D Q"), "20240101 January 1 1");
    assert_eq!(f("yyyy-MM-dd'T'HH:mm:ss.SSS''"), "2024-01-01T18:20:04.000'");
    assert_eq!(run("date_format", &[ts(), text("ss.SSS")])[1], "48.223");
    assert!(refused("date_format", &[ts(), text("YYYY-ww")]));
    assert!(refused("date_format", &[ts(), text("yyyy-MM-dd F")]));
    assert_eq!(first("from_unixtime", &[int(1704133204)]), "2024-01-01 18:20:04");
    assert_eq!(first("from_unixtime", &[int(1704133204), text("yyyy/MM/dd HH:mm")]), "2024/01/01 18:20");
}

#[test]
fn parses() {
    let t = |s: &str, p: &str| first("to_timestamp", &[text(s), text(p)]);
    assert_eq!(t("05/03/2024 14:30", "dd/MM/yyyy HH:mm"), "2024-03-05 14:30:00");
    assert_eq!(t("20240305", "yyyyMMdd"), "2024-03-05 00:00:00");
    assert_eq!(t("Mar 5 2024 2:30 PM", "MMM d yyyy h:mm a"), "2024-03-05 14:30:00");
    assert_eq!(t("2024-03-05 14:30:00.25", "yyyy-MM-dd HH:mm:ss.SS"), "2024-03-05 14:30:00.25");
    assert_eq!(t("2024-03-05T14:30:00+02:00", "yyyy-MM-dd'T'HH:mm:ssXXX"), "2024-03-05 12:30:00");
    assert_eq!(first("to_timestamp", &[text("2024-03-05T14:30:00.250")]), "2024-03-05 14:30:00.25");
    assert_eq!(first("try_to_timestamp", &[text("2024-13-45"), text("yyyy-MM-dd")]), "null");
    let bad = call("to_timestamp", &[text("2024-13-45"), text("yyyy-MM-dd")], &cx()).unwrap().unwrap();
    assert!(fails(bad).contains("CANNOT_PARSE_TIMESTAMP"));
    assert_eq!(first("to_date", &[text("29.02.2024"), text("dd.MM.yyyy")]), "2024-02-29");
    assert_eq!(first("to_date", &[text("2024/3/7"), text("yyyy/M/d")]), "2024-03-07");
    assert_eq!(first("to_date", &[text("2024-03-07 23:59:59")]), "2024-03-07");
    assert_eq!(first("unix_timestamp", &[text("01/02/2024"), text("MM/dd/yyyy")]), "1704153600");
    assert_eq!(first("unix_timestamp", &[text("2024-01-01 00:00:00")]), "1704067200");
    assert_eq!(first("to_unix_timestamp", &[text("2024-03-01"), text("yyyy-MM-dd")]), "1709251200");
    assert_eq!(first("unix_timestamp", &[ts()]), "1704133204");
}

#[test]
fn casts() {
    let to_date = |s: &str| eval(cast_string(text(s), &DataType::Date, false).unwrap()).remove(0);
    let to_ts = |s: &str| eval(cast_string(text(s), &timestamp_type(), false).unwrap()).remove(0);
    assert_eq!(to_date("2024-3-1"), "2024-03-01");
    assert_eq!(to_date(" 2024-03-01 10:11:12 "), "2024-03-01");
    assert_eq!(to_date("2024-02-30"), "null");
    assert_eq!(to_date("2024"), "2024-01-01");
    assert_eq!(to_date("2024-03"), "2024-03-01");
    assert_eq!(to_ts("2024-02-29T12:00:00.123456"), "2024-02-29 12:00:00.123456");
    assert_eq!(to_ts("2024-02-29 12:00:00+02:00"), "2024-02-29 10:00:00");
    assert_eq!(to_ts("2024-02-29 12:00:00Z"), "2024-02-29 12:00:00");
    assert_eq!(to_ts("2024-02-29 12:00"), "2024-02-29 12:00:00");
    assert_eq!(to_ts("2024-02-29"), "2024-02-29 00:00:00");
    assert_eq!(to_ts("2024-02-29 25:00:00"), "null");
    assert!(cast_string(text("2024-02-30"), &DataType::Date, true).is_err());
    let column = cast_string(column("s", DataType::String), &DataType::Date, false).unwrap();
    assert_eq!(eval(column), ["2024-02-29", "2024-03-01", "2024-03-01", "2024-01-01"]);
    let strict = cast_string(Typed::new(col("s") + lit("x"), DataType::String), &DataType::Date, true).unwrap();
    assert!(fails(strict).contains("CAST_INVALID_INPUT"));
    assert_eq!(eval(cast_string(ts(), &DataType::Date, true).unwrap())[1], "2024-02-20");
    assert_eq!(eval(cast_string(date(), &timestamp_type(), true).unwrap())[1], "2024-02-20 00:00:00");
    assert_eq!(eval(cast_string(ts(), &DataType::Int64, true).unwrap())[0], "1704133204");
    assert_eq!(eval(cast_string(ts(), &ntz_type(), true).unwrap())[0], "2024-01-01 18:20:04");
}

#[test]
fn arithmetic() {
    assert_eq!(first("date_add", &[date(), int(7)]), "2024-01-08");
    assert_eq!(first("date_sub", &[date(), int(1)]), "2023-12-31");
    assert_eq!(first("date_add", &[ts(), int(1)]), "2024-01-02");
    assert_eq!(first("datediff", &[text("2024-05-01"), date()]), "121");
    assert_eq!(first("add_months", &[text("2024-01-31"), int(1)]), "2024-02-29");
    assert_eq!(run("add_months", &[date(), int(-2)])[1], "2023-12-20");
    assert_eq!(run("last_day", &[date()])[1], "2024-02-29");
    assert_eq!(first("next_day", &[date(), text("Mon")]), "2024-01-08");
    assert_eq!(first("next_day", &[date(), text("FRIDAY")]), "2024-01-05");
    let mb = |a: Typed, b: Typed| first("months_between", &[a, b]);
    assert_eq!(mb(text("2024-06-30"), text("2024-01-15")), "5.48387097");
    assert_eq!(mb(text("2024-06-01 12:00:00"), text("2024-01-15")), "4.56451613");
    assert_eq!(mb(text("2024-06-30"), text("2024-01-01")), "5.93548387");
    let unrounded =
        first("months_between", &[text("2024-02-19"), text("2024-01-01"), Typed::constant(Lit::Bool(false))]);
    assert_eq!(unrounded, "1.5806451612903225");
    assert_eq!(first("make_date", &[int(2024), int(2), int(29)]), "2024-02-29");
    let sec = Typed::constant(Lit::Decimal(455, 1));
    assert_eq!(first("make_timestamp", &[int(2024), int(3), int(10), int(2), int(30), sec]), "2024-03-10 02:30:45.5");
    let bad = call("make_date", &[int(2024), int(2), int(30)], &cx()).unwrap().unwrap();
    assert!(fails(bad).contains("DATETIME_FIELD_OUT_OF_BOUNDS"));
}

#[test]
fn diffs_and_adds() {
    let unit = |u: &str| text(u);
    let start = text("2024-01-01 00:00:00");
    assert_eq!(run("timestampdiff", &[unit("DAY"), start.clone(), ts()])[1], "50");
    assert_eq!(first("timestampdiff", &[unit("MINUTE"), start.clone(), ts()]), "1100");
    assert_eq!(first("timestampdiff", &[unit("MONTH"), text("2024-01-31"), text("2024-02-29")]), "0");
    assert_eq!(first("timestampdiff", &[unit("MONTH"), text("2024-01-29"), text("2024-02-29")]), "1");
    assert_eq!(first("timestampdiff", &[unit("YEAR"), text("2024-02-29"), text("2025-02-28")]), "0");
    assert_eq!(first("timestampadd", &[unit("HOUR"), int(2), ts()]), "2024-01-01 20:20:04");
    assert_eq!(first("timestampadd", &[unit("MONTH"), int(1), text("2024-01-31 10:00:00")]), "2024-02-29 10:00:00");
    assert_eq!(first("dateadd", &[unit("DAY"), int(-1), ts()]), "2023-12-31 18:20:04");
    assert_eq!(first("datediff", &[unit("WEEK"), start, ts()]), "0");
}

#[test]
fn intervals() {
    let plus = |t: Typed, m: i32, d: i32, us: i64| eval(add_interval(t, m, d, us).unwrap()).remove(0);
    assert_eq!(plus(ts(), 0, 0, 3_600_000_000), "2024-01-01 19:20:04");
    assert_eq!(plus(ts(), 0, 1, 7_384_000_000), "2024-01-02 20:23:08");
    assert_eq!(plus(ts(), 1, 0, 0), "2024-02-01 18:20:04");
    assert_eq!(plus(date(), 1, 0, 0), "2024-02-01");
    assert_eq!(plus(date(), -12, 0, 0), "2023-01-01");
    assert_eq!(plus(date(), 0, 3, 0), "2024-01-04");
    assert_eq!(plus(date(), 0, 0, 3_600_000_000), "2024-01-01 01:00:00");
    assert!(add_interval(text("2024-01-31"), 1, 0, 0).is_err());
}

#[test]
fn epochs_and_now() {
    assert_eq!(run("unix_millis", &[ts()])[1], "1708452228223");
    assert_eq!(first("timestamp_seconds", &[int(1706745600)]), "2024-02-01 00:00:00");
    assert_eq!(first("timestamp_millis", &[int(1706778284223)]), "2024-02-01 09:04:44.223");
    assert_eq!(first("current_date", &[]), "2024-06-01");
    assert_eq!(first("current_timestamp", &[]), "2024-06-01 12:00:00");
    assert_eq!(first("unix_timestamp", &[]), "1717243200");
}

#[test]
fn zones() {
    let ny = text("America/New_York");
    assert_eq!(first("from_utc_timestamp", &[ts(), ny.clone()]), "2024-01-01 13:20:04");
    assert_eq!(first("to_utc_timestamp", &[ts(), ny.clone()]), "2024-01-01 23:20:04");
    assert_eq!(first("to_utc_timestamp", &[text("2024-03-10 02:30:00"), ny.clone()]), "2024-03-10 07:30:00");
    assert_eq!(first("to_utc_timestamp", &[text("2024-11-03 01:30:00"), ny.clone()]), "2024-11-03 05:30:00");
    assert_eq!(first("from_utc_timestamp", &[ts(), text("+05:30")]), "2024-01-01 23:50:04");
    assert_eq!(first("from_utc_timestamp", &[ts(), text("PST")]), "2024-01-01 10:20:04");
    assert_eq!(first("convert_timezone", &[text("UTC"), text("Europe/London"), ts()]), "2024-01-01 18:20:04");
    assert_eq!(first("convert_timezone", &[text("Asia/Tokyo"), ts()]), "2024-01-02 03:20:04");
    assert!(refused("from_utc_timestamp", &[ts(), text("Mars/Olympus")]));
}

#[test]
fn constants_broadcast() {
    let t = call("add_months", &[text("2024-01-31"), int(1)], &cx()).unwrap().unwrap();
    let out = frame().lazy().select([col("d"), t.expr.alias("c")]).collect().unwrap();
    assert_eq!(out.height(), 4);
    let t = call("datediff", &[date(), text("2024-01-01")], &cx()).unwrap().unwrap();
    let out = frame().lazy().filter(t.expr.gt(lit(60))).collect().unwrap();
    assert_eq!(out.height(), 2);
}

#[test]
fn nulls_and_refusals() {
    let null = Typed::constant(Lit::Null);
    assert_eq!(first("year", std::slice::from_ref(&null)), "null");
    assert_eq!(first("date_add", &[null.clone(), int(1)]), "null");
    assert_eq!(first("date_format", &[ts(), null.clone()]), "null");
    assert!(refused("year", &[int(3)]));
    assert!(refused("make_interval", &[int(1)]));
    assert!(refused("date_format", &[ts(), column("s", DataType::String)]));
    assert!(call("upper", &[text("x")], &cx()).is_none());
}
