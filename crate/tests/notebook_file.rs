//! A notebook file written by hand, run as the UI runs it: every SQL and
//! chart cell in file order through one `Session`, each sent with the
//! cell's `table_name()` (the fence's `name=`, else `cell_<id>`) as the
//! default name, as `RunRequest.default_name`. The names the file gives are
//! the names later cells read, and the file prints back to the same document.
#![allow(clippy::unwrap_used)]
#![cfg(feature = "engine")]

use riffle::engine::{Session, spark_cell};
use riffle::lang::{Directives, Engine};
use riffle::notebook::{CellKind, from_text, to_text};

const FILE: &str = r#"---
title: Zones, by hand
---

# Zones

Written in a text editor, no ids on this cell.

```sql id=1 name=tab_zones
SELECT * FROM (VALUES (1, 'Astoria', 'Queens'), (2, 'Chelsea', 'Manhattan'), (3, 'SoHo', 'Manhattan')) AS t(zone_id, zone, borough)
```

<!-- cell id=7 name=intro -->
A Markdown cell with a **name**.

```sql id=3 name=by_borough
SELECT borough, COUNT(*) AS zones FROM tab_zones GROUP BY borough ORDER BY borough
```

```sql id=6 name="zone count"
SELECT COUNT(*) AS n FROM tab_zones
```

```sql id=2 name=ignored
-- name: by_directive
-- max_rows: 1000
SELECT zone FROM tab_zones WHERE borough = 'Manhattan' ORDER BY zone
```

```sql id=8 name=on_spark
-- engine: spark
SELECT 42 AS answer
```

````markdown id=9
How a cell is named:

```sql id=99 name=not_a_cell
SELECT 1
```
````

```chart id=5 name=zones_chart
table: by_borough
kind: bar
x: borough
y: zones
```

```sql
SELECT n FROM `zone count`
```
"#;

#[test]
fn a_hand_written_files_names_are_the_tables_later_cells_read() {
    let doc = from_text(FILE).expect("the file reads");
    assert_eq!(doc.title.as_deref(), Some("Zones, by hand"));
    let shape: Vec<(u64, CellKind, Option<&str>)> =
        doc.cells.iter().map(|c| (c.id.0, c.kind, c.name.as_deref())).collect();
    assert_eq!(
        shape,
        [
            (10, CellKind::Markdown, None),
            (1, CellKind::Sql, Some("tab_zones")),
            (7, CellKind::Markdown, Some("intro")),
            (3, CellKind::Sql, Some("by_borough")),
            (6, CellKind::Sql, Some("zone count")),
            (2, CellKind::Sql, Some("ignored")),
            (8, CellKind::Sql, Some("on_spark")),
            (9, CellKind::Markdown, None),
            (5, CellKind::Chart, Some("zones_chart")),
            (11, CellKind::Sql, None),
        ]
    );

    let mut session = Session::new();
    let mut registered = Vec::new();
    for cell in &doc.cells {
        let default_name = cell.table_name();
        match cell.kind {
            CellKind::Markdown => {}
            CellKind::Chart => {
                let chart = session.chart(&cell.source, &default_name).expect("the chart draws");
                assert_eq!(chart.table.name, "zones_chart");
                assert_eq!(chart.reads, ["by_borough"]);
                assert!(chart.svg.contains("Manhattan") && chart.svg.contains("Queens"), "{}", chart.svg);
            }
            CellKind::Sql if Directives::parse(&cell.source).engine == Engine::Spark => {
                // Spark runs it through the gateway; its result is registered
                // under the same name rule.
                let spark = spark_cell(&cell.source, &default_name, "t1").expect("a Spark cell");
                assert_eq!(spark.table, "on_spark");
                assert_eq!(spark.request.statements.len(), 1);
                assert!(spark.request.statements[0].ends_with("SELECT 42 AS answer"), "{:?}", spark.request);
            }
            CellKind::Sql => {
                let table =
                    session.run(&cell.source, &default_name).unwrap_or_else(|e| panic!("cell {}: {e}", cell.id));
                registered.push(table.name.clone());
            }
        }
    }
    // The fence's name, except where a `-- name:` line says otherwise.
    assert_eq!(registered, ["tab_zones", "by_borough", "zone count", "by_directive", "cell_11"]);
    for name in &registered {
        assert!(session.table(name).is_some(), "{name} is not in the catalog: {:?}", session.tables());
    }
    assert!(session.table("ignored").is_none() && session.table("cell_1").is_none(), "{:?}", session.tables());

    let by_borough = session.table("by_borough").expect("by_borough");
    assert_eq!(by_borough.height(), 2);
    let count = session.table("cell_11").expect("cell_11");
    assert_eq!(count.column("n").expect("n").get(0).expect("a row").to_string(), "3");
    let manhattan = session.table("by_directive").expect("by_directive");
    assert_eq!(manhattan.height(), 2);

    // The issue's symptom, in the engine's words: the name is the table.
    let read = session.run("SELECT * FROM tab_zones", "cell_12").expect("tab_zones is a table");
    assert_eq!(read.df.height(), 3);

    // Printed and read back, nothing is lost: kinds, ids, names, order, text.
    let printed = to_text(&doc);
    assert_eq!(from_text(&printed).expect("the printed file reads"), doc);
    assert_eq!(to_text(&from_text(&printed).expect("again")), printed);
    assert!(printed.contains("```sql id=1 name=tab_zones\n"), "{printed}");
    assert!(printed.contains("```sql id=6 name=\"zone count\"\n"), "{printed}");
    assert!(printed.contains("```sql id=8 name=on_spark\n-- engine: spark\n"), "{printed}");
    assert!(printed.contains("```sql id=11\n"), "{printed}");
}

#[test]
fn serde_keeps_names_for_the_browsers_autosave() {
    // The UI's autosave stores the document as JSON; names must come back.
    let doc = from_text(FILE).expect("the file reads");
    let json = serde_json::to_string(&doc).expect("serialises");
    assert_eq!(serde_json::from_str::<riffle::notebook::Notebook>(&json).expect("deserialises"), doc);
    assert!(json.contains(r#""name":"tab_zones""#), "{json}");
}
