//! The planner refuses what it would otherwise drop: every clause it does not
//! honour is an error that names it, never a silently different answer.

use polars::prelude::*;

use crate::engine::Session;

fn session() -> Session {
    let mut s = Session::new();
    let t = df! { "a" => [1i64, 2, 2, 3], "b" => ["x", "y", "y", "z"] }.expect("frame");
    s.register("t", t);
    s
}

fn refused(sql: &str, names: &str) {
    let err = session().run(sql, "out").err().unwrap_or_else(|| panic!("{sql} should be refused"));
    assert!(err.message.to_lowercase().contains(&names.to_lowercase()), "{sql}: {}", err.message);
    assert!(err.hint.is_some(), "{sql}: a refusal says what to write instead");
}

#[test]
fn clauses_that_would_be_dropped_are_refused() {
    refused("SELECT upper(b) FILTER (WHERE a > 1) AS u FROM t", "FILTER");
    refused("SELECT upper(DISTINCT b) AS u FROM t", "DISTINCT");
    refused("SELECT collect_list(a ORDER BY b) AS l FROM t", "ORDER BY");
    refused("SELECT * FROM t TABLESAMPLE (50 PERCENT)", "TABLESAMPLE");
    refused("SELECT CAST(b AS DATE FORMAT 'YYYY') AS d FROM t", "FORMAT");
    refused("SELECT a, sum(a) FILTER (WHERE a > 1) OVER (ORDER BY a) AS s FROM t", "FILTER");
    refused("SELECT a, count(*) OVER (ORDER BY a RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) AS n FROM t", "RANGE");
    refused("SELECT * FROM t x LEFT JOIN t y", "ON or USING");
}

#[test]
fn the_issue_s_silent_cases_are_honoured() {
    let mut s = session();
    // HAVING COUNT(*) filters groups.
    let r = s.run("SELECT b, COUNT(*) AS n FROM t GROUP BY b HAVING COUNT(*) > 1", "h").expect("having");
    assert_eq!(r.df.height(), 1);
    // QUALIFY filters rows.
    let r =
        s.run("SELECT a, b FROM t QUALIFY ROW_NUMBER() OVER (PARTITION BY b ORDER BY a) = 1", "q").expect("qualify");
    assert_eq!(r.df.height(), 3);
    // LATERAL VIEW explode multiplies rows.
    let r =
        s.run("SELECT a, x FROM t LATERAL VIEW explode(split(concat(b, ';', b), ';')) v AS x", "l").expect("lateral");
    assert_eq!(r.df.height(), 8);
    // A running SUM with ties shares the value of its peers.
    let r = s.run("SELECT a, SUM(a) OVER (ORDER BY a) AS s FROM t ORDER BY a", "w").expect("running");
    let sums: Vec<Option<i64>> = r.df.column("s").expect("s").i64().expect("i64").into_iter().collect();
    assert_eq!(sums, [Some(1), Some(5), Some(5), Some(8)]);
}
