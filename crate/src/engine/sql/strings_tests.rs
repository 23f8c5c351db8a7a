//! Unit tests of the string functions.

use polars::prelude::*;

use super::super::typed::{Cx, Lit, Typed};

fn s(x: &str) -> Typed {
    Typed::constant(Lit::Str(x.into()))
}
fn i(n: i64) -> Typed {
    Typed::constant(Lit::Int(n))
}
fn zone() -> Typed {
    Typed::new(col("zone"), DataType::String)
}

fn frame() -> DataFrame {
    df! {
        "zone" => [Some("Newark Airport"), Some("Alphabet City"), Some("Battery Park City"), None],
        "id" => [1i32, 4, 13, 43],
    }
    .expect("frame")
}

/// `name(args)` over the frame, as text (`null` for NULL).
fn run(name: &str, args: &[Typed]) -> Vec<String> {
    let t = super::call(name, args, &Cx { now_micros: 0 }).expect("a string function").expect("planned");
    let out = frame().lazy().select([t.expr.alias("o")]).collect().expect("runs");
    let c = out.column("o").expect("o").as_materialized_series().clone();
    assert_eq!(c.dtype(), &t.dtype, "{name}");
    (0..c.len()).map(|k| c.get(k).map(|v| v.to_string()).unwrap_or_default().trim_matches('"').to_string()).collect()
}

/// The first row's answer.
fn one(name: &str, args: &[Typed]) -> String {
    run(name, args).remove(0)
}

#[test]
fn hashes_match_spark() {
    assert_eq!(run("hash", &[zone()])[..3], ["-1192308195", "-1336234874", "-1434994319"]);
    assert_eq!(run("crc32", &[zone()])[..3], ["1886497490", "2200074996", "2751135827"]);
    assert_eq!(one("md5", &[zone()]), "61749faa3484cf0b1cc904adb65f18a5");
    assert_eq!(one("sha2", &[zone(), i(256)]), "6df1e34e93ba99cdb5e08d74eb935a19c2e65485db6ca04220efd62e543d8f71");
    assert_eq!(one("sha1", &[zone()]), "7135e28aec6324e19304640c70bbd34d349dd54c");
    assert_eq!(one("hex", &[zone()]), "4E657761726B20416972706F7274");
    assert_eq!(one("base64", &[zone()]), "TmV3YXJrIEFpcnBvcnQ=");
    assert_eq!(one("hex", &[i(-1)]), "FFFFFFFFFFFFFFFF");
    assert_eq!(one("soundex", &[s("Manhattan")]), "M535");
    assert_eq!(one("levenshtein", &[s("East Chelsea"), s("East Village")]), "6");
}

#[test]
fn regexps() {
    assert_eq!(one("regexp_extract", &[s("curl/8.5.0"), s("([0-9]+)\\.([0-9]+)"), i(2)]), "5");
    assert_eq!(one("regexp_extract", &[s("Park Slope"), s("\\((.*)\\)"), i(1)]), "");
    assert_eq!(
        run("regexp_replace", &[zone(), s("(\\w+) (\\w+)"), s("$2 $1")])[..2],
        ["Airport Newark", "City Alphabet"]
    );
    assert_eq!(one("regexp_replace", &[s("curl/8.5.0"), s("[0-9]+"), s("#")]), "curl/#.#.#");
    assert_eq!(one("rlike", &[s("Mozilla/5"), s("(?i)mozilla")]), "true");
    assert_eq!(one("split", &[s("pvp;daily;new"), s(";")]), "[\"pvp\", \"daily\", \"new\"]");
    assert_eq!(one("split", &[s(""), s(";")]), "[\"\"]");
    assert_eq!(one("split", &[s("Upper East Side North"), s(" "), i(2)]), "[\"Upper\", \"East Side North\"]");
    assert_eq!(one("split", &[s("a,,"), s(",")]), "[\"a\", \"\", \"\"]");
    assert_eq!(one("split", &[s("abc"), s("")]), "[\"a\", \"b\", \"c\"]");
    assert_eq!(one("regexp_replace", &[s("baaac"), s("a*"), s("-")]), "-b--c-");
    assert_eq!(one("regexp_extract_all", &[s("a1b22c333"), s("([0-9]+)"), i(1)]), "[\"1\", \"22\", \"333\"]");
    assert_eq!(one("regexp_count", &[s("a1b22c333"), s("[0-9]+")]), "3");
    for bad in ["(a)\\1", "(?=a)", "a*+", "[[:alpha:]]", "\\p{Lower}"] {
        assert!(super::call("rlike", &[zone(), s(bad)], &Cx { now_micros: 0 }).expect("rlike").is_err(), "{bad}");
    }
    // Java's \w is ASCII.
    assert_eq!(one("regexp_extract", &[s("café au lait"), s("(\\w+)"), i(1)]), "caf");
}

#[test]
fn slicing_and_padding() {
    assert_eq!(one("substring", &[s("Central Park"), i(0), i(3)]), "Cen");
    assert_eq!(one("substring", &[s("Central Park"), i(50), i(2)]), "");
    assert_eq!(one("substr", &[s("Central Park"), i(-100), i(3)]), "");
    assert_eq!(one("substr", &[s("Alphabet City"), i(-4)]), "City");
    assert_eq!(one("substring", &[s("Alphabet City"), i(2), i(3)]), "lph");
    assert_eq!(one("right", &[s("u01"), i(2)]), "01");
    assert_eq!(one("left", &[s("u01"), i(1)]), "u");
    assert_eq!(one("lpad", &[s("1"), i(4), s("0")]), "0001");
    assert_eq!(one("rpad", &[s("EWR"), i(10), s(".")]), "EWR.......");
    assert_eq!(one("lpad", &[zone(), i(5)]), "Newar");
    assert_eq!(one("substring_index", &[s("api.game.example.com"), s("."), i(-2)]), "example.com");
    assert_eq!(one("substring_index", &[s("api.game.example.com"), s("."), i(1)]), "api");
    assert_eq!(one("split_part", &[s("pvp;daily;new"), s(";"), i(-1)]), "new");
    assert_eq!(one("overlay", &[s("u01"), s("**"), i(2), i(2)]), "u**");
    assert_eq!(one("trim", &[s("xxhixx"), s("x")]), "hi");
    assert_eq!(one("ltrim", &[s("000120"), s("0")]), "120");
    assert_eq!(one("rtrim", &[s("  padded  ")]), "  padded");
}

#[test]
fn text_functions() {
    assert_eq!(one("initcap", &[s("hELLO wORLD-wide")]), "Hello World-wide");
    assert_eq!(one("initcap", &[s("williamsburg (north side)")]), "Williamsburg (north Side)");
    assert_eq!(one("upper", &[s("straße")]), "STRASSE");
    assert_eq!(one("reverse", &[s("ñandú")]), "údnañ");
    assert_eq!(one("length", &[s("Café crème")]), "10");
    assert_eq!(one("translate", &[s("Battery Park City"), s("aeiou"), s("AEIOU")]), "BAttEry PArk CIty");
    assert_eq!(one("locate", &[s("a"), s("Central Park"), i(5)]), "6");
    assert_eq!(one("locate", &[s("a"), s("Park Slope"), i(5)]), "0");
    assert_eq!(one("position", &[s("Park"), s("Battery Park City")]), "9");
    assert_eq!(one("instr", &[s("Battery Park City"), s("a")]), "2");
    assert_eq!(one("mask", &[s("u01")]), "xnn");
    assert_eq!(one("elt", &[i(2), s("red"), s("green")]), "green");
    assert_eq!(one("chr", &[i(65 + 256)]), "A");
    assert_eq!(one("ascii", &[s("Newark")]), "78");
    assert_eq!(one("concat_ws", &[s("-"), s("a"), Typed::constant(Lit::Null), s("b")]), "a-b");
    assert_eq!(run("concat", &[zone(), s("!")])[3], "null");
    assert_eq!(one("concat", &[i(1), i(2)]), "12");
    assert_eq!(one("replace", &[s("JFK Airport"), s("Airport")]), "JFK ");
    assert_eq!(one("unhex", &[s("52696666")]), "b\"Riff");
}

#[test]
fn formatting() {
    let f = |x: f64, d: i64| one("format_number", &[Typed::constant(Lit::Float(x)), i(d)]);
    assert_eq!(f(3424.805, 2), "3,424.80");
    assert_eq!(f(0.125, 2), "0.12");
    assert_eq!(f(0.135, 2), "0.14");
    assert_eq!(f(2.675, 2), "2.67");
    assert_eq!(f(1234567.0, 0), "1,234,567");
    assert_eq!(f(-0.001, 2), "-0.00");
    assert_eq!(one("format_number", &[i(107000), i(0)]), "107,000");
    assert_eq!(one("format_string", &[s("%03d-%s"), i(4), s("Manhattan")]), "004-Manhattan");
    assert_eq!(one("printf", &[s("%.1f%%"), Typed::constant(Lit::Float(13.0 / 3.0))]), "4.3%");
    assert_eq!(one("printf", &[s("%.1f"), Typed::constant(Lit::Float(0.15))]), "0.2");
    assert_eq!(
        one("printf", &[s("[%-5s|%5s|%,d|%x]"), s("ab"), s("cd"), i(1234567), i(-1)]),
        "[ab   |   cd|1,234,567|ffffffff]"
    );
    let dec = Typed::constant(Lit::Decimal(5794, 2));
    assert_eq!(one("to_char", &[dec, s("999.99")]), " 57.94");
}

#[test]
fn like_patterns() {
    let like = |v: &str, p: &str, ci: bool| {
        let t = super::like(s(v), &s(p), None, ci).expect("like");
        format!("{:?}", t.lit)
    };
    assert_eq!(like("Central Park", "C_nt%", false), "Some(Bool(true))");
    assert_eq!(like("Central Park", "%Park%", false), "Some(Bool(true))");
    assert_eq!(like("East Village", "%a%", false), "Some(Bool(true))");
    assert_eq!(like("Park Slope", "%a", false), "Some(Bool(false))");
    assert_eq!(like("Clinton East", "%EAST%", true), "Some(Bool(true))");
    assert_eq!(like("100%", "100\\%", false), "Some(Bool(true))");
    assert!(super::like(s("a"), &s("a\\b"), None, false).is_err());
}
