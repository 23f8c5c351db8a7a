//! `read_csv` with Spark's options, natively and in headless Chromium.
//!
//! Each option is tried on a fixture that needs it; expected values are
//! computed from the fixture's text with plain string handling, never by
//! the engine. `data/samples/smart_meter.csv` (from `cargo xtask samples`)
//! has the London smart-meter file's quirks: a header name with a trailing
//! space, `.0000000` timestamps, `Null` readings and CRLF line ends.

#![allow(clippy::unwrap_used)]

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

macro_rules! both {
    ($(fn $name:ident() $body:block)*) => {$(
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        fn $name() $body
    )*};
}

use std::collections::BTreeMap;

use polars::prelude::*;
use riffle::CellError;
use riffle::engine::{ResultTable, Session};

const SMART_METER: &[u8] = include_bytes!("../../data/samples/smart_meter.csv");
const KWH: &str = "KWH/hh (per half hour) ";
const SCHEMA: &str = "LCLid STRING, stdorToU STRING, DateTime TIMESTAMP, `KWH/hh (per half hour) ` DOUBLE, Acorn STRING, Acorn_grouped STRING";

/// Words of Polars' Python API that must never reach a user.
const POLARS_WORDS: [&str; 6] =
    ["infer_schema_length", "schema_overrides", "ignore_errors", "try_parse_dates", "truncate_ragged_lines", "polars"];

fn run_in(session: &mut Session, sql: &str, bytes: &[u8]) -> Result<ResultTable, CellError> {
    let prepared = session.prepare(sql, "t")?;
    let data = prepared.sources.iter().map(|_| bytes.to_vec().into()).collect();
    session.execute(prepared, data).map(|o| o.table)
}

fn run(sql: &str, bytes: &[u8]) -> Result<ResultTable, CellError> {
    run_in(&mut Session::new(), sql, bytes)
}

fn ok(sql: &str, bytes: &[u8]) -> ResultTable {
    run(sql, bytes).unwrap_or_else(|e| panic!("{sql}: {e:?}"))
}

fn err(sql: &str, bytes: &[u8]) -> CellError {
    let e = match run(sql, bytes) {
        Ok(t) => panic!("{sql} should fail, got {:?}", t.df),
        Err(e) => e,
    };
    let all = format!("{} {}", e.message, e.hint.clone().unwrap_or_default()).to_lowercase();
    for word in POLARS_WORDS {
        assert!(!all.contains(word), "{sql}: the message mentions {word}: {e:?}");
    }
    e
}

fn strings(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let mut c = df.column(name).unwrap().clone();
    // A TIMESTAMP (an instant in UTC) as its wall-clock text, as Spark shows it in a UTC session.
    if let DataType::Datetime(unit, Some(_)) = c.dtype() {
        c = c.cast(&DataType::Datetime(*unit, None)).unwrap();
    }
    let c = c.cast(&DataType::String).unwrap();
    c.str().unwrap().into_iter().map(|v| v.map(String::from)).collect()
}

fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let c = df.column(name).unwrap().cast(&DataType::Float64).unwrap();
    c.f64().unwrap().into_iter().collect()
}

fn types(t: &ResultTable) -> Vec<String> {
    t.schema().into_iter().map(|c| c.dtype).collect()
}

fn names(t: &ResultTable) -> Vec<String> {
    t.schema().into_iter().map(|c| c.name).collect()
}

fn s(v: &[&str]) -> Vec<Option<String>> {
    v.iter().map(|x| Some(x.to_string())).collect()
}

/// Acorn group → (sum of kWh in thousandths, readings, Null readings), from the text.
fn smart_meter_by_group() -> BTreeMap<String, (i64, i64, i64)> {
    let text = std::str::from_utf8(SMART_METER).unwrap();
    assert!(text.contains("\r\n") && text.starts_with(&format!("LCLid,stdorToU,DateTime,{KWH},")));
    let mut out = BTreeMap::new();
    for line in text.split("\r\n").skip(1).filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        assert!(f[2].ends_with(".0000000"), "{line}");
        let e = out.entry(f[5].to_string()).or_insert((0, 0, 0));
        if f[3] == "Null" {
            e.2 += 1;
        } else {
            let (whole, frac) = f[3].split_once('.').unwrap();
            e.0 += whole.parse::<i64>().unwrap() * 1000 + frac.parse::<i64>().unwrap();
            e.1 += 1;
        }
    }
    out
}

fn check_averages(t: &ResultTable) {
    let expected = smart_meter_by_group();
    assert_eq!(strings(&t.df, "Acorn_grouped"), expected.keys().map(|k| Some(k.clone())).collect::<Vec<_>>());
    for (got, (sum, n, _)) in floats(&t.df, "avg_kwh").iter().zip(expected.values()) {
        let want = *sum as f64 / 1000.0 / *n as f64;
        assert!((got.unwrap() - want).abs() < 1e-9, "{got:?} vs {want}");
    }
}

const AVERAGES: &str = "SELECT Acorn_grouped, AVG(`KWH/hh (per half hour) `) AS avg_kwh, COUNT(*) AS n, \
                        MIN(DateTime) AS first FROM read_csv('smart_meter.csv'{opts}) GROUP BY Acorn_grouped ORDER BY Acorn_grouped";

fn averages(opts: &str) -> String {
    AVERAGES.replace("{opts}", opts)
}

both! {
    fn smart_meter_with_a_schema() {
        let t = ok(&averages(&format!(", schema => '{SCHEMA}', nullValue => 'Null'")), SMART_METER);
        check_averages(&t);
        assert_eq!(strings(&t.df, "first")[0].as_deref(), Some("2012-11-13 00:00:00.000000"));
        assert!(t.notes.iter().all(|n| !n.contains("malformed")), "{:?}", t.notes);

        // Without nullValue, `Null` does not fit DOUBLE: PERMISSIVE reads it as
        // null and the note counts it, naming the first line and the column.
        let t = ok(&averages(&format!(", schema => '{SCHEMA}'")), SMART_METER);
        check_averages(&t);
        let nulls: i64 = smart_meter_by_group().values().map(|v| v.2).sum();
        let text = std::str::from_utf8(SMART_METER).unwrap();
        let first_line = text.split("\r\n").position(|l| l.contains(",Null,")).unwrap() + 1;
        let note = t.notes.iter().find(|n| n.contains("malformed")).unwrap_or_else(|| panic!("{:?}", t.notes));
        assert!(note.contains(&format!("{nulls} malformed rows kept, {nulls} bad fields read as null")), "{note}");
        assert!(note.contains(&format!("line {first_line}:")), "{note}");
        assert!(note.contains("`KWH/hh (per half hour) ` holds 'Null', which is not a DOUBLE"), "{note}");
        assert!(note.contains("nullValue => 'Null'"), "{note}");
    }

    fn smart_meter_inferred() {
        let t = ok(&averages(", nullValue => 'Null'"), SMART_METER);
        check_averages(&t);
        let mut session = Session::new();
        let all = run_in(&mut session, "-- name: meters\nSELECT * FROM read_csv('smart_meter.csv', NULLVALUE => 'Null')", SMART_METER)
            .unwrap();
        assert_eq!(names(&all), ["LCLid", "stdorToU", "DateTime", KWH, "Acorn", "Acorn_grouped"]);
        assert_eq!(types(&all), ["string", "string", "timestamp", "double", "string", "string"]);
        let rows: usize = smart_meter_by_group().values().map(|v| (v.1 + v.2) as usize).sum();
        assert_eq!(all.rows(), rows);
        let describe = session.execute(session.prepare("DESCRIBE meters", "d").unwrap(), vec![]).unwrap();
        let tree = describe.table.text.unwrap();
        assert!(tree.contains(&format!(" |-- {KWH}: double")), "{tree}");
        // The near-miss without the trailing space is suggested, written so it can be pasted.
        let e = session.run("SELECT `KWH/hh (per half hour)` FROM meters", "q").unwrap_err();
        assert!(e.hint.as_deref().unwrap_or_default().contains("did you mean `KWH/hh (per half hour) `?"), "{e:?}");
        let e = session.run("SELECT kwh FROM meters", "q").unwrap_err();
        assert!(e.message.contains("kwh"), "{e:?}");

        // Spark's answer without nullValue: `Null` makes the column text.
        let raw = ok("SELECT * FROM read_csv('smart_meter.csv')", SMART_METER);
        assert_eq!(types(&raw)[3], "string");
    }

    fn header_and_separators() {
        let t = ok("SELECT * FROM read_csv('x.csv', header => false)", b"1,a\n2,b\n");
        assert_eq!(names(&t), ["_c0", "_c1"]);
        assert_eq!(types(&t), ["int", "string"]);
        let t = ok("SELECT * FROM read_csv('x.csv', sep => ';')", b"a;b\n1,5;x\n");
        assert_eq!(strings(&t.df, "a"), s(&["1,5"]));
        // As DECIMAL, Spark drops the grouping comma.
        let t = ok("SELECT * FROM read_csv('x.csv', sep => ';', schema => 'a DECIMAL(10,2), b STRING')", b"a;b\n1,234.565;x\n");
        assert_eq!(strings(&t.df, "a"), s(&["1234.57"]));
        let t = ok("SELECT * FROM read_csv('x.csv', delimiter => '\\t')", b"a\tb\n1\t2\n");
        assert_eq!(names(&t), ["a", "b"]);
        // Empty and repeated header names, as Spark makes them safe.
        let t = ok("SELECT * FROM read_csv('x.csv')", b"a,,A\n1,2,3\n");
        assert_eq!(names(&t), ["a0", "_c1", "A2"]);
        let e = err("SELECT * FROM read_csv('x.csv', sep => ';;')", b"a;;b\n");
        assert!(e.message.contains("single character"), "{e:?}");
        let e = err("SELECT * FROM read_csv('x.csv', sep => ';', delimiter => ',')", b"a\n");
        assert!(e.message.contains("sep and delimiter"), "{e:?}");
    }

    fn quote_and_escape() {
        let csv = b"a,b\n\"x, y\",\"say \\\"hi\\\"\"\n\"a \"\"b\"\"\",2\n";
        let t = ok("SELECT * FROM read_csv('x.csv')", csv);
        assert_eq!(strings(&t.df, "a"), s(&["x, y", "a \"b\""]));
        assert_eq!(strings(&t.df, "b"), s(&["say \"hi\"", "2"]));
        let t = ok("SELECT * FROM read_csv('x.csv', quote => '''')", b"a,b\n'x, y',2\n");
        assert_eq!(strings(&t.df, "a"), s(&["x, y"]));
        let t = ok("SELECT * FROM read_csv('x.csv', escape => '#')", b"a\n\"1#\"2\"\n");
        assert_eq!(strings(&t.df, "a"), s(&["1\"2"]));
        // quote => '' turns quoting off.
        let t = ok("SELECT * FROM read_csv('x.csv', quote => '')", b"a,b\n\"x\",2\n");
        assert_eq!(strings(&t.df, "a"), s(&["\"x\""]));
    }

    fn comments_and_multi_line() {
        let t = ok("SELECT * FROM read_csv('x.csv', comment => '#')", b"# made by hand\na,b\n1,2\n# 3,4\n5,6\n");
        assert_eq!(floats(&t.df, "a"), [Some(1.0), Some(5.0)]);
        let csv = b"id,text\n1,\"two\nlines\"\n2,one\n";
        let t = ok("SELECT * FROM read_csv('x.csv', multiLine => true)", csv);
        assert_eq!(strings(&t.df, "text"), s(&["two\nlines", "one"]));
        // Without multiLine each line is a record: two malformed ones.
        let t = ok("SELECT * FROM read_csv('x.csv', schema => 'id INT, text STRING')", csv);
        assert_eq!(t.rows(), 3);
        let note = t.notes.iter().find(|n| n.contains("malformed")).unwrap();
        assert!(note.contains("1 malformed row kept") && note.contains("line 3: it has 1 fields, not 2"), "{note}");
        assert!(note.contains("multiLine => true"), "{note}");
    }

    fn encodings() {
        let latin1 = b"name,n\ncaf\xe9,1\n";
        let t = ok("SELECT * FROM read_csv('x.csv', encoding => 'ISO-8859-1')", latin1);
        assert_eq!(strings(&t.df, "name"), s(&["café"]));
        let t = ok("SELECT * FROM read_csv('x.csv', charset => 'latin1')", latin1);
        assert_eq!(strings(&t.df, "name"), s(&["café"]));
        // Read as UTF-8, the byte is replaced and a note says what to write.
        let t = ok("SELECT * FROM read_csv('x.csv')", latin1);
        assert_eq!(strings(&t.df, "name"), s(&["caf\u{FFFD}"]));
        assert!(t.notes.iter().any(|n| n.contains("encoding => 'ISO-8859-1'")), "{:?}", t.notes);
        for (bom, little) in [([0xFFu8, 0xFE], true), ([0xFE, 0xFF], false)] {
            let units = "name,n\r\nżółw,2\r\n".encode_utf16();
            let bytes: Vec<u8> = bom
                .into_iter()
                .chain(units.flat_map(|u| if little { u.to_le_bytes() } else { u.to_be_bytes() }))
                .collect();
            let t = ok("SELECT * FROM read_csv('x.csv', encoding => 'UTF-16')", &bytes);
            assert_eq!(strings(&t.df, "name"), s(&["żółw"]));
            assert_eq!(types(&t), ["string", "int"]);
        }
        let e = err("SELECT * FROM read_csv('x.csv', encoding => 'EBCDIC')", latin1);
        assert!(e.hint.unwrap().contains("ISO-8859-1"));
    }

    fn null_empty_and_nan_values() {
        let csv = b"name,kwh\nNull,Null\nb,\n\"\",2.5\nd,n/a\n";
        let t = ok("SELECT * FROM read_csv('x.csv', nullValue => 'Null', nanValue => 'n/a')", csv);
        assert_eq!(types(&t), ["string", "double"]);
        // A quoted empty field is emptyValue (''), which is not nullValue: Spark's ''.
        assert_eq!(strings(&t.df, "name"), vec![None, Some("b".into()), Some(String::new()), Some("d".into())]);
        let kwh = floats(&t.df, "kwh");
        assert_eq!(&kwh[..3], [None, None, Some(2.5)]);
        assert!(kwh[3].unwrap().is_nan());
        // emptyValue: what a quoted empty field reads as; an unquoted one stays null.
        let t = ok("SELECT * FROM read_csv('x.csv', emptyValue => 'EMPTY')", b"a,b\n\"\",\nx,y\n");
        assert_eq!(strings(&t.df, "a"), s(&["EMPTY", "x"]));
        assert_eq!(strings(&t.df, "b"), vec![None, Some("y".into())]);
        // Spark's default infinities.
        let t = ok("SELECT * FROM read_csv('x.csv')", b"v\nInf\n-Inf\n1\n");
        assert_eq!(floats(&t.df, "v"), [Some(f64::INFINITY), Some(f64::NEG_INFINITY), Some(1.0)]);
    }

    fn dates_and_timestamps() {
        // Without a format: fractions of any length, `T` or a space, `Z` or an offset.
        let csv = b"at\n2012-11-13 00:30:00.0000000\n2012-11-13T00:30:00Z\n2012-11-13T01:30:00.000+01:00\n2012-11-13 00:30:00.123456789\n2012-11-13 00:30\n";
        let t = ok("SELECT CAST(at AS STRING) AS at FROM read_csv('x.csv')", csv);
        assert_eq!(
            strings(&t.df, "at"),
            s(&["2012-11-13 00:30:00", "2012-11-13 00:30:00", "2012-11-13 00:30:00", "2012-11-13 00:30:00.123456", "2012-11-13 00:30:00"])
        );
        let t = ok("SELECT * FROM read_csv('x.csv', schema => 'at TIMESTAMP')", csv);
        assert!(t.notes.is_empty(), "{:?}", t.notes);
        // Spark's pattern letters.
        let csv = b"at\n2012-11-13 00:30:00.1234567\n";
        let t = ok("SELECT CAST(at AS STRING) AS at FROM read_csv('x.csv', timestampFormat => 'yyyy-MM-dd HH:mm:ss.SSSSSSS')", csv);
        assert_eq!(strings(&t.df, "at"), s(&["2012-11-13 00:30:00.123456"]));
        let csv = b"day,at\n13/11/2012,13/11/2012 00:30\n01/02/2013,01/02/2013 12:00\n";
        let opts = "dateFormat => 'dd/MM/yyyy', timestampFormat => 'dd/MM/yyyy HH:mm'";
        let t = ok(&format!("SELECT * FROM read_csv('x.csv', {opts})"), csv);
        assert_eq!(types(&t), ["date", "timestamp"]);
        assert_eq!(strings(&t.df, "day"), s(&["2012-11-13", "2013-02-01"]));
        let t = ok(&format!("SELECT * FROM read_csv('x.csv', {opts}, schema => 'day DATE, at TIMESTAMP')"), csv);
        assert_eq!(strings(&t.df, "at")[1].as_deref(), Some("2013-02-01 12:00:00.000000"));
        // Without the pattern those are text, and FAILFAST says what to write.
        assert_eq!(types(&ok("SELECT * FROM read_csv('x.csv')", csv)), ["string", "string"]);
        let e = err("SELECT * FROM read_csv('x.csv', schema => 'day DATE, at TIMESTAMP', mode => 'FAILFAST')", csv);
        assert!(e.message.contains("line 2") && e.message.contains("13/11/2012,13/11/2012 00:30"), "{e:?}");
        assert!(e.hint.as_deref().unwrap().contains("dateFormat => "), "{e:?}");
        let e = err("SELECT * FROM read_csv('x.csv', dateFormat => 'yyyy-ww')", csv);
        assert!(e.message.contains("dateFormat"), "{e:?}");
        // Dates infer as DATE; dates with timestamps widen to TIMESTAMP.
        assert_eq!(types(&ok("SELECT * FROM read_csv('x.csv')", b"d\n2024-01-05\n")), ["date"]);
        assert_eq!(types(&ok("SELECT * FROM read_csv('x.csv')", b"d\n2024-01-05\n2024-01-05 10:00:00\n")), ["timestamp"]);
    }

    fn infer_schema_and_sampling() {
        let csv = b"i,l,d,b,s\n1,3000000000,1.5,true,x\n2,4,2,FALSE,1\n";
        let t = ok("SELECT * FROM read_csv('x.csv')", csv);
        assert_eq!(types(&t), ["int", "bigint", "double", "boolean", "string"]);
        let t = ok("SELECT * FROM read_csv('x.csv', inferSchema => false)", csv);
        assert_eq!(types(&t), ["string"; 5]);
        // Rows 2, 4, 6 ... are sampled at 0.5: the text in the others is not seen.
        let mut csv = String::from("n\n");
        for i in 0..20 {
            csv.push_str(if i % 2 == 0 { "x\n" } else { "7\n" });
        }
        assert_eq!(types(&ok("SELECT * FROM read_csv('x.csv')", csv.as_bytes())), ["string"]);
        let t = ok("SELECT * FROM read_csv('x.csv', samplingRatio => 0.5)", csv.as_bytes());
        assert_eq!(types(&t), ["int"]);
        let note = t.notes.iter().find(|n| n.contains("malformed")).unwrap();
        assert!(note.contains("10 malformed rows") && note.contains("line 2: column n holds 'x', which is not a INT"), "{note}");
        let e = err("SELECT * FROM read_csv('x.csv', samplingRatio => 2)", b"a\n1\n");
        assert!(e.message.contains("samplingRatio"), "{e:?}");
    }

    fn white_space() {
        let csv = b"a,b\n  x  , 1 \n";
        let t = ok("SELECT * FROM read_csv('x.csv', inferSchema => false)", csv);
        assert_eq!(strings(&t.df, "a"), s(&["  x  "]));
        let t = ok("SELECT * FROM read_csv('x.csv', ignoreLeadingWhiteSpace => true)", csv);
        assert_eq!(strings(&t.df, "a"), s(&["x  "]));
        let t = ok("SELECT * FROM read_csv('x.csv', ignoreTrailingWhiteSpace => true, ignoreLeadingWhiteSpace => true)", csv);
        assert_eq!(strings(&t.df, "a"), s(&["x"]));
        assert_eq!(types(&t), ["string", "int"]);
    }

    fn modes() {
        let csv = b"id,v\n1,10\n2,ten\n3,30,extra\n4,40\n";
        let schema = "schema => 'id INT, v INT'";
        let t = ok(&format!("SELECT * FROM read_csv('x.csv', {schema})"), csv);
        assert_eq!(floats(&t.df, "v"), [Some(10.0), None, Some(30.0), Some(40.0)]);
        let note = &t.notes[0];
        assert!(note.starts_with("read_csv('x.csv'): 2 malformed rows kept, 1 bad field read as null (mode PERMISSIVE); the first at line 3: column v holds 'ten', which is not a INT"), "{note}");
        let t = ok(&format!("SELECT * FROM read_csv('x.csv', {schema}, mode => 'dropMalformed')"), csv);
        assert_eq!(floats(&t.df, "id"), [Some(1.0), Some(4.0)]);
        assert!(t.notes[0].contains("dropped 2 malformed rows (mode DROPMALFORMED); the first at line 3"), "{:?}", t.notes);
        let e = err(&format!("SELECT * FROM read_csv('x.csv', {schema}, mode => 'FAILFAST')"), csv);
        assert!(e.message.starts_with("read_csv('x.csv') stopped at line 3 (mode => 'FAILFAST'): column v holds 'ten', which is not a INT. Line 3 reads: 2,ten"), "{e:?}");
        assert!(e.hint.as_deref().unwrap().contains("mode => 'PERMISSIVE'"), "{e:?}");
        let fine = b"id,v\n1,10\n2,20\n3,30,extra\n";
        let e = err(&format!("SELECT * FROM read_csv('x.csv', {schema}, mode => 'FAILFAST')"), fine);
        assert!(e.message.contains("line 4") && e.message.contains("it has 3 fields, not 2") && e.message.contains("3,30,extra"), "{e:?}");
        let e = err("SELECT * FROM read_csv('x.csv', mode => 'LENIENT')", fine);
        assert!(e.hint.unwrap().contains("DROPMALFORMED"));
        // CRLF files and part files count lines per part.
        let t = run_in(&mut Session::new(), "SELECT * FROM read_csv('x.csv', schema => 'id INT, v INT')", b"id,v\r\n1,x\r\n").unwrap();
        assert!(t.notes[0].contains("line 2"), "{:?}", t.notes);
    }

    fn part_files() {
        // Types are inferred over every part; each part has its header; lines count per part.
        let mut session = Session::new();
        let prepared = session.prepare("SELECT * FROM read_csv('dir', mode => 'DROPMALFORMED')", "t").unwrap();
        let parts = vec![b"id,v\n1,2\n".to_vec(), b"id,v\n3,4.5\n4,5,6\n".to_vec()];
        let t = session.execute(prepared, vec![riffle::engine::SourceData { parts }]).unwrap().table;
        assert_eq!(types(&t), ["int", "double"]);
        assert_eq!(floats(&t.df, "v"), [Some(2.0), Some(4.5)]);
        assert!(t.notes[0].starts_with("read_csv('dir' (part 2)): dropped 1 malformed row"), "{:?}", t.notes);
        assert!(t.notes[0].contains("line 3"), "{:?}", t.notes);
        // With the names the host listed, messages name the file.
        let mut prepared = session.prepare("SELECT * FROM read_csv('dir/', mode => 'FAILFAST')", "t").unwrap();
        prepared.sources[0].part_names = vec!["part-00000.csv".into(), "part-00001.csv".into()];
        let parts = vec![b"id,v\n1,2\n".to_vec(), b"id,v\n3,4\n4,5,6\n".to_vec()];
        let e = session.execute(prepared, vec![riffle::engine::SourceData { parts }]).unwrap_err();
        assert!(e.message.starts_with("read_csv('dir/part-00001.csv') stopped at line 3"), "{}", e.message);
    }

    fn timestamps_with_zone_ids_and_offsets() {
        // London's clocks go forward at 01:00 UTC on 2024-03-31 (01:00-02:00 local does not exist)
        // and back at 01:00 UTC on 2024-10-27 (01:00-02:00 local happens twice).
        let csv = b"id,at\n\
1,2024-03-31 00:30:00 Europe/London\n\
2,2024-03-31 01:30:00 Europe/London\n\
3,2024-03-31 02:30:00 Europe/London\n\
4,2024-10-27 01:30:00 Europe/London\n\
5,2024-07-01 12:00:00 America/New_York\n\
6,2024-07-01 12:00:00 UTC\n\
7,2024-07-01 12:00:00 +05:30\n";
        let sql = "SELECT id, CAST(at AS STRING) AS utc FROM read_csv('z.csv', timestampFormat => 'yyyy-MM-dd HH:mm:ss VV') ORDER BY id";
        let t = ok(sql, csv);
        assert_eq!(types(&t), ["int", "string"]);
        assert_eq!(
            strings(&t.df, "utc"),
            s(&[
                "2024-03-31 00:30:00",
                // In the gap: moved forward by the gap, as Java does (02:30 BST).
                "2024-03-31 01:30:00",
                "2024-03-31 01:30:00",
                // In the overlap: the earlier offset (BST).
                "2024-10-27 00:30:00",
                "2024-07-01 16:00:00",
                "2024-07-01 12:00:00",
                "2024-07-01 06:30:00",
            ])
        );
        // Without a format, inference reads zone ids, offsets, Z, T or a space, and any fraction.
        let csv = b"at\n2024-07-01T12:00:00.123456789Z\n2024-07-01 13:00:00.5+01:00\n2024-07-01 08:00:00.25 America/New_York\n2024-07-01T12:00:00\n";
        let t = ok("SELECT CAST(at AS STRING) AS utc FROM read_csv('z.csv')", csv);
        assert_eq!(
            strings(&t.df, "utc"),
            s(&["2024-07-01 12:00:00.123456", "2024-07-01 12:00:00.5", "2024-07-01 12:00:00.25", "2024-07-01 12:00:00"])
        );
        // timeZone is the zone of times without one; an offset in the text wins.
        let t = ok("SELECT CAST(at AS STRING) AS utc FROM read_csv('z.csv', timeZone => 'Europe/Paris')", csv);
        assert_eq!(strings(&t.df, "utc").last().cloned().flatten().as_deref(), Some("2024-07-01 10:00:00"));
        assert_eq!(strings(&t.df, "utc")[0].as_deref(), Some("2024-07-01 12:00:00.123456"));
        // Offsets with X, x and Z, and timeZone for a format without one.
        let csv = b"a,b,c,d\n2024-01-01 10:00 +0100,2024-01-01 10:00 +01,2024-01-01 10:00 Z,2024-01-01 10:00\n";
        let sql = "SELECT CAST(a AS STRING) AS a, CAST(b AS STRING) AS b, CAST(c AS STRING) AS c, CAST(d AS STRING) AS d \
                   FROM read_csv('z.csv', schema => 'a TIMESTAMP, b TIMESTAMP, c TIMESTAMP, d TIMESTAMP', \
                   timestampFormat => 'yyyy-MM-dd HH:mm Z', timeZone => 'America/New_York')";
        // One format for every column: only a matches 'Z'; the others are NULL (PERMISSIVE).
        let t = ok(sql, csv);
        assert_eq!(strings(&t.df, "a"), s(&["2024-01-01 09:00:00"]));
        assert_eq!(strings(&t.df, "d"), [None]);
        for (fmt, value, utc) in [
            ("yyyy-MM-dd HH:mm x", "2024-01-01 10:00 +01", "2024-01-01 09:00:00"),
            ("yyyy-MM-dd HH:mm XXX", "2024-01-01 10:00 Z", "2024-01-01 10:00:00"),
            ("yyyy-MM-dd HH:mm XXX", "2024-01-01 10:00 -05:00", "2024-01-01 15:00:00"),
            ("yyyy-MM-dd HH:mm", "2024-01-01 10:00", "2024-01-01 15:00:00"),
        ] {
            let csv = format!("at\n{value}\n");
            let q = format!(
                "SELECT CAST(at AS STRING) AS utc FROM read_csv('z.csv', schema => 'at TIMESTAMP', \
                 timestampFormat => '{fmt}', timeZone => 'America/New_York')"
            );
            let t = ok(&q, csv.as_bytes());
            assert_eq!(strings(&t.df, "utc"), s(&[utc]), "{fmt} {value}");
        }
        let e = err("SELECT * FROM read_csv('z.csv', timeZone => 'Mars/Olympus')", b"a\n1\n");
        assert!(e.message.contains("timeZone => 'Mars/Olympus' is not a time zone"), "{e:?}");
    }

    fn corrupt_records() {
        let csv = b"id,v\n1,10\n2,ten\n";
        let t = ok("SELECT * FROM read_csv('x.csv', schema => 'id INT, v INT, _corrupt_record STRING')", csv);
        assert_eq!(names(&t), ["id", "v", "_corrupt_record"]);
        assert_eq!(strings(&t.df, "_corrupt_record"), vec![None, Some("2,ten".into())]);
        let t = ok("SELECT * FROM read_csv('x.csv', schema => 'bad STRING, id INT, v INT', columnNameOfCorruptRecord => 'bad')", csv);
        assert_eq!(strings(&t.df, "bad"), vec![None, Some("2,ten".into())]);
        assert_eq!(floats(&t.df, "v"), [Some(10.0), None]);
        let t = ok("SELECT * FROM read_csv('x.csv', columnNameOfCorruptRecord => 'bad', samplingRatio => 0.5)", csv);
        assert_eq!(names(&t), ["id", "v", "bad"]);
        let e = err("SELECT * FROM read_csv('x.csv', schema => 'id INT, _corrupt_record INT')", csv);
        assert!(e.message.contains("must be STRING"), "{e:?}");
    }

    fn options_are_checked() {
        let e = err("SELECT * FROM read_csv('x.csv', nulValue => 'x')", b"a\n1\n");
        assert!(e.message.contains("unknown option `nulvalue`"), "{e:?}");
        assert!(e.hint.unwrap().contains("did you mean nullValue?"));
        let e = err("SELECT * FROM read_csv('x.csv', lineSep => ';')", b"a\n1\n");
        assert!(e.message.contains("lineSep is not supported"), "{e:?}");
        let e = err("SELECT * FROM read_csv('x.csv', header => 'yes')", b"a\n1\n");
        assert!(e.hint.as_deref().unwrap().contains("header => true"), "{e:?}");
        let e = err("SELECT * FROM read_csv('x.csv', schema => 'a ARRAY<INT>')", b"a\n1\n");
        assert!(e.message.contains("cannot be"), "{e:?}");
        let e = err("SELECT * FROM read_csv('x.csv')", b"");
        assert!(e.message.contains("empty (0 bytes)"), "{e:?}");
        let e = err("SELECT * FROM read_csv('x.csv', comment => '#')", b"# nothing\n\n");
        assert!(e.message.contains("no records"), "{e:?}");
        let t = ok("SELECT * FROM read_csv('x.csv', comment => '#', schema => 'a INT')", b"# nothing\n");
        assert_eq!((names(&t), t.rows()), (vec!["a".to_string()], 0));
        // A header and no rows: the columns, no rows.
        let t = ok("SELECT * FROM read_csv('x.csv')", b"a,b\n");
        assert_eq!((names(&t), t.rows()), (vec!["a".to_string(), "b".to_string()], 0));
    }
}
