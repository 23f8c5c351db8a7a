//! Chart cells: the SVG is well-formed XML, has the marks, axes, legend and
//! title it should, and matches the snapshots in `tests/snapshots/`
//! (`RIFFLE_BLESS=1 cargo test -p riffle --test chart` writes them again).

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use polars::prelude::*;
use quick_xml::events::Event;
use riffle::chart::{ChartSpec, render};
use riffle::engine::Session;

const ENERGY_CSV: &[u8] = include_bytes!("../../data/samples/energy.csv");

/// Fails the test unless `svg` is well-formed XML with one `<svg>` root.
fn well_formed(svg: &str) {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut depth = 0i32;
    let mut roots = 0;
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Start(e)) => {
                if depth == 0 {
                    roots += 1;
                    assert_eq!(e.name().as_ref(), b"svg", "the root is not <svg>");
                }
                depth += 1;
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(_) => {}
            Err(e) => panic!("not well-formed XML at byte {}: {e}\n{svg}", reader.buffer_position()),
        }
    }
    assert_eq!((depth, roots), (0, 1), "unbalanced elements or several roots");
}

fn count(svg: &str, needle: &str) -> usize {
    svg.matches(needle).count()
}

/// The contents of every `<text>` element, unescaped.
fn texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        let open_end = start + rest[start..].find('>').expect("tag end") + 1;
        let close = open_end + rest[open_end..].find("</text>").expect("close");
        let raw = &rest[open_end..close];
        out.push(
            raw.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&"),
        );
        rest = &rest[close..];
    }
    out
}

fn has_text(svg: &str, text: &str) -> bool {
    texts(svg).iter().any(|t| t == text)
}

/// Compares with `tests/snapshots/<name>.svg`, or writes it with RIFFLE_BLESS=1.
fn snapshot(name: &str, svg: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots").join(format!("{name}.svg"));
    if std::env::var("RIFFLE_BLESS").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("dir")).expect("create snapshots/");
        std::fs::write(&path, svg).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("no snapshot {} ({e}); run with RIFFLE_BLESS=1 to write it", path.display()));
    if expected != svg {
        let line = expected.lines().zip(svg.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{} differs from the rendered SVG at line {}:\n  snapshot: {:?}\n  rendered: {:?}\nrun with RIFFLE_BLESS=1 if the change is intended",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            svg.lines().nth(line)
        );
    }
}

fn spec(text: &str) -> ChartSpec {
    ChartSpec::parse(text).expect("spec")
}

fn fares() -> DataFrame {
    // Days since 1970: 19723 is 2024-01-01.
    let mut df = df! {
        "zone" => ["Midtown", "Astoria", "Midtown", "SoHo", "Astoria", "Midtown"],
        "payment" => ["card", "cash", "cash", "card", "card", "card"],
        "fare" => [12.5, 8.0, 15.5, 22.0, 9.0, 1_250_000.0],
        "day" => [19_725i32, 19_723, 19_724, 19_723, 19_725, 19_724],
    }
    .expect("frame");
    let day = df.column("day").unwrap().cast(&DataType::Date).unwrap();
    df.with_column(day).unwrap();
    df
}

#[test]
fn a_bar_chart_aggregates_and_labels() {
    let chart = render(&spec("table: trips\nkind: bar\nx: zone\ny: fare\naggregate: sum"), &fares()).expect("chart");
    well_formed(&chart.svg);
    // Three zones, first-seen order, summed by Polars.
    assert_eq!(chart.rows, 3);
    assert_eq!(count(&chart.svg, "class=\"mark bar\""), 3);
    let zones: Vec<String> =
        chart.data.column("zone").unwrap().str().unwrap().iter().map(|z| z.unwrap_or_default().to_string()).collect();
    assert_eq!(zones, ["Midtown", "Astoria", "SoHo"]);
    assert!(chart.svg.contains("data-x=\"Midtown\" data-y=\"1,250,028\""), "{}", chart.svg);
    // Axis titles, a default title, and thousands separators on the y ticks.
    assert!(has_text(&chart.svg, "zone") && has_text(&chart.svg, "fare (sum)"), "{:?}", texts(&chart.svg));
    assert!(has_text(&chart.svg, "fare (sum) by zone"), "{:?}", texts(&chart.svg));
    assert!(texts(&chart.svg).iter().any(|t| t.contains(",000,000") || t == "1,400,000"), "{:?}", texts(&chart.svg));
    assert!(chart.svg.contains("viewBox=\"0 0 720 400\""));
    // No colour: no legend.
    assert_eq!(count(&chart.svg, "class=\"legend-entry\""), 0);
    snapshot("bar_sum_by_zone", &chart.svg);
}

#[test]
fn a_grouped_bar_chart_has_a_legend() {
    let s = spec(
        "table: trips\nkind: grouped_bar\nx: zone\ny: fare\ncolor: payment\naggregate: count\ntitle: Trips <by> zone & payment",
    );
    let chart = render(&s, &fares()).expect("chart");
    well_formed(&chart.svg);
    // Midtown card, Astoria cash, Midtown cash, SoHo card, Astoria card.
    assert_eq!(chart.rows, 5);
    assert_eq!(count(&chart.svg, "class=\"mark bar\""), 5);
    assert_eq!(count(&chart.svg, "class=\"legend-entry\""), 2);
    assert!(chart.svg.contains("data-series=\"card\"") && chart.svg.contains("data-series=\"cash\""));
    // Titles are escaped, not markup.
    assert!(has_text(&chart.svg, "Trips <by> zone & payment"), "{:?}", texts(&chart.svg));
    assert!(has_text(&chart.svg, "count"));
}

#[test]
fn a_line_over_dates_ticks_dates() {
    let chart = render(&spec("table: t\nkind: line\nx: day\ny: fare\ncolor: payment\naggregate: avg"), &fares())
        .expect("chart");
    well_formed(&chart.svg);
    assert_eq!(count(&chart.svg, "class=\"mark line\""), 2);
    // Dates ascending, labelled as dates.
    assert!(texts(&chart.svg).iter().any(|t| t == "2024-01-02"), "{:?}", texts(&chart.svg));
    let days = chart.data.column("day").unwrap().cast(&DataType::String).unwrap();
    let days: Vec<String> = days.str().unwrap().iter().map(|d| d.unwrap_or_default().to_string()).collect();
    let mut sorted = days.clone();
    sorted.sort();
    assert_eq!(days, sorted);
}

#[test]
fn scatter_histogram_and_box() {
    let n = 200;
    let df = df! {
        "x" => (0..n).map(|i| i as f64).collect::<Vec<_>>(),
        "y" => (0..n).map(|i| ((i * 37) % 101) as f64).collect::<Vec<_>>(),
        "g" => (0..n).map(|i| if i % 2 == 0 { "even" } else { "odd" }).collect::<Vec<_>>(),
    }
    .unwrap();
    let scatter = render(&spec("table: t\nkind: scatter\nx: x\ny: y\ncolor: g"), &df).expect("scatter");
    well_formed(&scatter.svg);
    assert_eq!(count(&scatter.svg, "class=\"mark point\""), n);

    let histogram = render(&spec("table: t\nkind: histogram\nx: y\nbins: 10"), &df).expect("histogram");
    well_formed(&histogram.svg);
    assert_eq!(count(&histogram.svg, "class=\"mark bin\""), 10);
    let counts: u64 = histogram.data.column("count").unwrap().u64().unwrap().into_no_null_iter().sum();
    assert_eq!(counts, n as u64);

    // One far value per group: each box has it as an outlier beyond 1.5 IQR.
    let mut values: Vec<f64> = (0..40).map(|i| (i % 10) as f64).collect();
    values.extend([500.0, 600.0]);
    let groups: Vec<&str> = (0..42).map(|i| if i % 2 == 0 { "a" } else { "b" }).collect();
    let df = df! { "v" => values, "grp" => groups }.unwrap();
    let boxes = render(&spec("table: t\nkind: box\nx: grp\ny: v"), &df).expect("box");
    well_formed(&boxes.svg);
    assert_eq!(count(&boxes.svg, "class=\"mark box\""), 2);
    assert_eq!(count(&boxes.svg, "class=\"outlier\""), 2);
    assert_eq!(count(&boxes.svg, "class=\"median\""), 2);
    let outliers: Vec<u64> = boxes.data.column("outliers").unwrap().u64().unwrap().into_no_null_iter().collect();
    assert_eq!(outliers, [1, 1]);
}

#[test]
fn bad_charts_are_clear_errors() {
    let df = fares();
    let e = render(&spec("table: trips\nkind: bar\nx: zones\ny: fare"), &df).expect_err("no such column");
    assert!(e.message.contains("x column zones") && e.message.contains("trips"), "{e:?}");
    let hint = e.hint.unwrap_or_default();
    assert!(hint.contains("did you mean zone?") && hint.contains("payment, fare, day"), "{hint}");

    let e = render(&spec("table: trips\nkind: bar\nx: zone\ny: payment\naggregate: avg"), &df).expect_err("text y");
    assert!(e.message.contains("payment is a string") && e.message.contains("avg needs numbers"), "{e:?}");

    let e = render(&spec("table: trips\nkind: bar\nx: zone\ny: fare"), &df.head(Some(0))).expect_err("empty");
    assert!(e.message.contains("no rows"), "{e:?}");

    let e = render(&spec("table: trips\nkind: grouped_bar\nx: zone\ny: fare"), &df).expect_err("no colour");
    assert!(e.message.contains("color"), "{e:?}");

    let many = df! { "k" => (0..100).map(|i| i.to_string()).collect::<Vec<_>>(), "v" => vec![1.0; 100] }.unwrap();
    let e = render(&spec("table: t\nkind: bar\nx: k\ny: v\ncolor: k"), &many).expect_err("too many series");
    assert!(e.message.contains("100 values"), "{e:?}");
}

/// Odd data draws or fails with a message; it never panics or hangs.
#[test]
fn odd_data_still_draws() {
    let check = |text: &str, df: &DataFrame| {
        let chart = render(&spec(text), df).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        well_formed(&chart.svg);
        chart
    };
    let constant = df! { "k" => ["a", "b"], "v" => [5.0, 5.0] }.unwrap();
    check("table: t\nkind: line\nx: k\ny: v", &constant);
    check("table: t\nkind: histogram\ny: v", &constant);
    check("table: t\nkind: box\ny: v", &constant);
    // Values too close together for their magnitude.
    let close = df! { "x" => [1.0, 2.0], "v" => [1e16, 1e16 + 2.0] }.unwrap();
    check("table: t\nkind: scatter\nx: x\ny: v", &close);
    let negative = df! { "k" => ["a", "b", "c"], "v" => [-3.0, 0.0, 7.5] }.unwrap();
    let bars = check("table: t\nkind: bar\nx: k\ny: v", &negative);
    assert_eq!(count(&bars.svg, "class=\"mark bar\""), 3);
    // Nulls: in x (a "null" category), in y (not drawn, with a note), in the colour.
    let nulls = df! {
        "k" => [Some("a"), None, Some("c"), Some("a")],
        "v" => [Some(1.0), Some(2.0), None, Some(4.0)],
        "c" => [Some(true), None, Some(false), Some(true)],
    }
    .unwrap();
    let chart = check("table: t\nkind: bar\nx: k\ny: v\ncolor: c", &nulls);
    assert!(chart.notes.iter().any(|n| n.contains("no y value")), "{:?}", chart.notes);
    // Datetimes (microseconds) a few hours apart tick as times.
    let times = df! { "t" => [1_704_067_200_000_000i64, 1_704_078_000_000_000], "v" => [1.0, 2.0] }.unwrap();
    let t = times.column("t").unwrap().cast(&DataType::Datetime(TimeUnit::Microseconds, None)).unwrap();
    let mut times = times.clone();
    times.with_column(t).unwrap();
    let chart = check("table: t\nkind: line\nx: t\ny: v", &times);
    assert!(texts(&chart.svg).iter().any(|t| t == "01:00"), "{:?}", texts(&chart.svg));
    // Only nulls in y.
    let empty_y = df! { "k" => ["a"], "v" => [None::<f64>] }.unwrap();
    let e = render(&spec("table: t\nkind: bar\nx: k\ny: v"), &empty_y).expect_err("nothing to draw");
    assert!(e.message.contains("no values"), "{e:?}");
}

/// The example: average kWh per half hour of the day per Acorn
/// group, one panel per tariff, from the smart-meter sample; a SQL cell
/// first computes the half hour.
#[test]
fn energy_per_half_hour_by_acorn_group_and_tariff() {
    let mut session = Session::new();
    let sql = "-- name: energy_by_hh\n\
               SELECT LCLid, stdorToU, Acorn_grouped,\n\
                      EXTRACT(HOUR FROM DateTime) * 2 + CASE WHEN EXTRACT(MINUTE FROM DateTime) >= 30 THEN 1 ELSE 0 END AS half_hour,\n\
                      `KWH/hh` AS kwh\n\
               FROM read_csv('samples/energy.csv')";
    let prepared = session.prepare(sql, "cell_1").expect("prepare");
    session.execute(prepared, vec![ENERGY_CSV.to_vec().into()]).expect("execute");

    let source = "# Average use per half hour of the day\n\
                  table: energy_by_hh\nkind: line\nx: half_hour\ny: kwh\ncolor: Acorn_grouped\naggregate: avg\n\
                  facet: stdorToU\ntitle: Average kWh per half hour, by Acorn group and tariff\n";
    let outcome = session.chart(source, "cell_2").expect("chart");
    well_formed(&outcome.svg);
    assert_eq!(outcome.reads, ["energy_by_hh"]);
    assert!(session.table("cell_2").is_none(), "a chart registers nothing");
    // 2 tariffs × 3 groups × 48 half hours.
    assert_eq!(outcome.table.rows(), 288);
    assert_eq!(count(&outcome.svg, "class=\"mark line\""), 6);
    assert_eq!(count(&outcome.svg, "class=\"legend-entry\""), 3);
    assert!(outcome.svg.contains("data-facet=\"Std\"") && outcome.svg.contains("data-facet=\"ToU\""));
    for label in ["Adversity", "Affluent", "Comfortable", "stdorToU = ToU", "half_hour", "kwh (avg)"] {
        assert!(has_text(&outcome.svg, label), "{label}: {:?}", texts(&outcome.svg));
    }

    // The mean for one point, computed from the CSV text without the engine.
    let text = std::str::from_utf8(ENERGY_CSV).unwrap();
    let values: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[1] == "ToU" && f[5] == "Adversity" && f[2].ends_with(" 18:30:00"))
        .map(|f| f[3].parse::<f64>().unwrap())
        .collect();
    let expected = values.iter().sum::<f64>() / values.len() as f64;
    let df = &outcome.table.df;
    let mask = df.column("stdorToU").unwrap().str().unwrap().equal("ToU")
        & df.column("Acorn_grouped").unwrap().str().unwrap().equal("Adversity")
        & df.column("half_hour").unwrap().cast(&DataType::Int64).unwrap().i64().unwrap().equal(37);
    let got = df.filter(&mask).unwrap().column("kwh").unwrap().f64().unwrap().get(0).unwrap();
    assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    snapshot("energy_by_half_hour", &outcome.svg);

    // And per tariff: grouped bars.
    let bars = session
        .chart("table: energy_by_hh\nkind: grouped_bar\nx: Acorn_grouped\ny: kwh\ncolor: stdorToU\naggregate: avg", "c")
        .expect("bars");
    well_formed(&bars.svg);
    assert_eq!(count(&bars.svg, "class=\"mark bar\""), 6);
    snapshot("energy_by_group_and_tariff", &bars.svg);
}

#[test]
fn session_errors_point_at_the_spec() {
    let mut session = Session::new();
    session.register("trips", fares());
    let e = session.chart("kind: bar\ntable: trip\nx: zone\ny: fare", "c").expect_err("no such table");
    assert_eq!(e.location.map(|l| l.line), Some(2));
    assert!(e.message.contains("trip") && e.hint.unwrap_or_default().contains("did you mean trips?"));
    let e = session.chart("table: trips\nkind: bar\nx: zone\n\ny: fair", "c").expect_err("no such column");
    assert_eq!(e.location.map(|l| l.line), Some(5));
    assert!(e.hint.unwrap_or_default().contains("did you mean fare?"));
}
