//! Cells on Spark (`-- engine: spark`), in the browser against a REAL Spark
//! Connect server (`RIFFLE_SPARK`, which `cargo xtask test` starts with the
//! test HDFS as Spark's default file system and the Kafka connector from
//! Maven Central), the real HDFS and the real Kafka broker.
//!
//! Without `RIFFLE_SPARK` (or `RIFFLE_HDFS`) the tests that need them say so
//! and skip; in CI that is a failure instead. The unreachable and
//! unconfigured cases need no server and always run.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use riffle_tests::{Browser, Gateway, GatewayOptions, hdfs_test_dir, require_hdfs, require_spark, sample_data_root};
use serde_json::Value;

use crate::notebook::{cell_source, cell_texts, last_cell_id, page_fetch, run_cell, wait_for_result};
use crate::ui::{cell_attr, click, wait_state};

const WAIT: Duration = Duration::from_secs(120);

fn cell_css(id: &str) -> String {
    format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#)
}

/// The result table's cells of `id`, read in one script (the table re-renders).
async fn result_cells(browser: &Browser, id: &str) -> Result<Vec<String>> {
    cell_texts(browser, id, "table.result td").await
}

async fn notes(browser: &Browser, id: &str) -> Result<String> {
    Ok(cell_texts(browser, id, "ul.notes li").await?.join("\n"))
}

/// Waits for the cell's error and returns its text.
async fn wait_for_error(browser: &Browser, id: &str) -> Result<String> {
    let error = browser.wait_for(&format!("{} .cell-error", cell_css(id)), WAIT).await?;
    Ok(error.text().await?)
}

/// The report users run in both engines: trips and revenue per zone.
const REPORT: &str = "SELECT zone, COUNT(*) AS trips, ROUND(SUM(fare), 2) AS revenue \
FROM read_parquet('{dir}') GROUP BY zone ORDER BY zone";

/// A Parquet directory written to HDFS by a browser cell is read by a cell on
/// Spark, with the same answer as the browser engine's; the Spark switch
/// edits the cell's first line; the result joins the notebook's catalog; a
/// browser read over the gateway's hint threshold suggests Spark.
#[tokio::test]
async fn a_spark_cell_over_hdfs_parquet_matches_the_browser() -> Result<()> {
    let test = "spark::a_spark_cell_over_hdfs_parquet_matches_the_browser";
    let (Some(hdfs), Some(spark)) = (require_hdfs(test)?, require_spark(test)?) else { return Ok(()) };
    let data = sample_data_root()?;
    let options = GatewayOptions {
        hdfs: Some(hdfs),
        spark: Some(spark),
        // A small threshold, so that the sample's Parquet gets the hint.
        args: vec!["--spark-hint-bytes".into(), "1000".into()],
        ..Default::default()
    };
    let gateway = Gateway::start_with(data.path(), options)?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let dir = hdfs_test_dir("spark-trips");
    let report = REPORT.replace("{dir}", &dir);

    // In the browser: write the trips to HDFS as Parquet, then the report.
    let id = last_cell_id(&browser).await?;
    run_cell(
        &browser,
        &id,
        &format!(
            "COPY (SELECT * FROM read_csv('samples/trips.csv', schema => 'trip_id INT, pickup_datetime TIMESTAMP, \
             zone STRING, passengers INT, distance_km DOUBLE, fare DOUBLE')) TO '{dir}' (FORMAT parquet, MODE overwrite, PARTITIONS 3)"
        ),
    )
    .await?;
    wait_for_result(&browser, &id).await?;
    let browser_cell = last_cell_id(&browser).await?;
    run_cell(&browser, &browser_cell, &report).await?;
    wait_for_result(&browser, &browser_cell).await?;
    let in_browser = result_cells(&browser, &browser_cell).await?;
    assert!(in_browser.len() >= 6, "{in_browser:?}");
    let hint = notes(&browser, &browser_cell).await?;
    assert!(hint.contains(&format!("read_parquet('{dir}') is")) && hint.contains("-- engine: spark"), "{hint}");

    // The same text on Spark: the switch adds `-- engine: spark`.
    let spark_cell = last_cell_id(&browser).await?;
    crate::notebook::type_into(&browser, &spark_cell, &format!("-- name: spark_report\n{report}")).await?;
    assert_eq!(cell_attr(&browser, &spark_cell, "data-engine").await?, "browser");
    click(&browser, &format!("{} button.engine-toggle", cell_css(&spark_cell))).await?;
    browser.wait_for(&format!(r#"{}[data-engine="spark"]"#, cell_css(&spark_cell)), WAIT).await?;
    let source = cell_source(&browser, &spark_cell).await?;
    assert!(source.starts_with("-- engine: spark\n-- name: spark_report\n"), "{source:?}");
    // Shift+Enter: run it, and a new cell below.
    crate::notebook::cell_input(&browser, &spark_cell).await?.send_keys(&crate::notebook::shift_enter()).await?;
    wait_for_result(&browser, &spark_cell).await?;
    let on_spark = result_cells(&browser, &spark_cell).await?;
    assert_eq!(on_spark, in_browser, "Spark and the browser engine disagree");
    let spark_notes = notes(&browser, &spark_cell).await?;
    assert!(spark_notes.contains("ran on Spark"), "{spark_notes}");
    assert!(!spark_notes.contains("showing first"), "{spark_notes}");

    // Its result is a table of the notebook: a browser cell reads it.
    let next = last_cell_id(&browser).await?;
    run_cell(&browser, &next, "SELECT CAST(SUM(trips) AS BIGINT) AS n FROM spark_report").await?;
    wait_for_result(&browser, &next).await?;
    let rows = std::fs::read_to_string(riffle_tests::repo().join("data/samples/trips.csv"))?.lines().count() - 1;
    assert_eq!(result_cells(&browser, &next).await?, [rows.to_string()]);

    // Switched back off, the line goes and the cell runs in the browser.
    click(&browser, &format!("{} button.engine-toggle", cell_css(&spark_cell))).await?;
    browser.wait_for(&format!(r#"{}[data-engine="browser"]"#, cell_css(&spark_cell)), WAIT).await?;
    assert!(!cell_source(&browser, &spark_cell).await?.contains("engine"), "the switch left the directive");
    browser.close().await
}

/// The classic pipeline, driven from a Riffle cell: Spark reads the events
/// topic from Kafka (earliest to latest) and writes the purchases to HDFS as
/// Parquet; the browser reads them back.
#[tokio::test]
async fn spark_reads_events_from_kafka_and_writes_purchases_to_hdfs() -> Result<()> {
    let test = "spark::spark_reads_events_from_kafka_and_writes_purchases_to_hdfs";
    let (Some(_), Some(_)) = (require_hdfs(test)?, require_spark(test)?) else { return Ok(()) };
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let topic = format!("events-{nanos}");
    let (status, body) =
        page_fetch(&browser, "POST", "/api/kafka/topics", &format!(r#"{{"name": "{topic}", "partitions": 2}}"#))
            .await?;
    assert_eq!(status, 201, "{body}");
    // 90 events: a purchase, a view and a login in turn; purchases carry amount = i.
    let lines: Vec<String> = (0..90)
        .map(|i| {
            let kind = ["purchase", "view", "login"][i % 3];
            serde_json::json!({ "event_type": kind, "user": i % 7, "amount": i }).to_string()
        })
        .collect();
    let purchases = (0..90).filter(|i| i % 3 == 0).count();
    let amount: usize = (0..90).filter(|i| i % 3 == 0).sum();
    let response = reqwest::Client::new()
        .post(format!("{}/api/kafka/topics/{topic}/produce?format=lines", gateway.url))
        .header("content-type", "text/plain")
        .body(lines.join("\n"))
        .send()
        .await?;
    assert!(response.status().is_success(), "{}", response.text().await?);

    let out = hdfs_test_dir("purchases");
    let id = last_cell_id(&browser).await?;
    let pipeline = format!(
        "-- engine: spark\n-- name: written\n\
         INSERT OVERWRITE DIRECTORY '{out}' USING parquet\n\
         SELECT CAST(get_json_object(CAST(value AS STRING), '$.user') AS INT) AS user,\n\
                CAST(get_json_object(CAST(value AS STRING), '$.amount') AS INT) AS amount, `partition`, `offset`\n\
         FROM kafka('{topic}', from => 'earliest', to => 'latest')\n\
         WHERE get_json_object(CAST(value AS STRING), '$.event_type') = 'purchase';\n\
         SELECT COUNT(*) AS n FROM parquet.`{out}`"
    );
    run_cell(&browser, &id, &pipeline).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(result_cells(&browser, &id).await?, [purchases.to_string()]);
    assert!(notes(&browser, &id).await?.contains("2 statements"), "{}", notes(&browser, &id).await?);

    // Spark's committer wrote _SUCCESS; the browser reads the parts back.
    let (status, listing) = page_fetch(&browser, "GET", &format!("/api/fs/list?path={out}"), "").await?;
    assert_eq!(status, 200, "{listing}");
    let listing: Value = serde_json::from_str(&listing)?;
    let names: Vec<&str> =
        listing["entries"].as_array().context("no entries")?.iter().filter_map(|e| e["name"].as_str()).collect();
    assert!(names.contains(&"_SUCCESS"), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("part-") && n.ends_with(".parquet")), "{names:?}");
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, &format!("SELECT COUNT(*) AS n, SUM(amount) AS total FROM read_parquet('{out}')")).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(result_cells(&browser, &id).await?, [purchases.to_string(), amount.to_string()]);

    // Riffle's own COPY ... TO, on Spark: the same cell text a browser cell
    // would hold, written by Spark's committer in 2 part files.
    let copied = hdfs_test_dir("purchases-copy");
    let id = last_cell_id(&browser).await?;
    run_cell(
        &browser,
        &id,
        &format!(
            "-- engine: spark\nCOPY (SELECT CAST(value AS STRING) AS v FROM kafka('{topic}')\n\
             WHERE get_json_object(CAST(value AS STRING), '$.event_type') = 'purchase')\n\
             TO '{copied}' (FORMAT parquet, MODE overwrite, PARTITIONS 2)"
        ),
    )
    .await?;
    wait_for_result(&browser, &id).await?;
    assert!(
        notes(&browser, &id).await?.contains(&format!("Spark wrote '{copied}'")),
        "{}",
        notes(&browser, &id).await?
    );
    let (_, listing) = page_fetch(&browser, "GET", &format!("/api/fs/list?path={copied}"), "").await?;
    let listing: Value = serde_json::from_str(&listing)?;
    let names: Vec<&str> =
        listing["entries"].as_array().context("no entries")?.iter().filter_map(|e| e["name"].as_str()).collect();
    assert!(names.contains(&"_SUCCESS"), "{names:?}");
    assert_eq!(names.iter().filter(|n| n.starts_with("part-")).count(), 2, "{names:?}");
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, &format!("SELECT COUNT(*) AS n FROM read_parquet('{copied}')")).await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(result_cells(&browser, &id).await?, [purchases.to_string()]);
    browser.close().await
}

/// Jobs of this gateway's Spark session, from Spark's REST API.
async fn session_jobs(ui: &str, session: &str) -> Result<Vec<Value>> {
    let http = reqwest::Client::new();
    let apps: Value = http.get(format!("{ui}/api/v1/applications")).send().await?.json().await?;
    let app = apps[0]["id"].as_str().context("Spark's REST API lists no application")?;
    let jobs: Value = http.get(format!("{ui}/api/v1/applications/{app}/jobs")).send().await?.json().await?;
    Ok(jobs
        .as_array()
        .context("jobs is not a list")?
        .iter()
        .filter(|j| {
            j["jobTags"].as_array().is_some_and(|tags| {
                tags.iter().any(|t| t.as_str().is_some_and(|t| t.contains(&format!("_Session_{session}"))))
            })
        })
        .cloned()
        .collect())
}

/// A long query on Spark shows Spark's progress, and Stop interrupts it on
/// Spark (its job fails as cancelled, per Spark's own REST API); Spark then
/// takes the next cell at once.
#[tokio::test]
async fn stop_interrupts_a_long_query_on_spark() -> Result<()> {
    let test = "spark::stop_interrupts_a_long_query_on_spark";
    let Some(_) = require_spark(test)? else { return Ok(()) };
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let id = last_cell_id(&browser).await?;
    run_cell(
        &browser,
        &id,
        "-- engine: spark\nSELECT SUM(HASH(a.id, b.id)) AS h FROM range(0, 50000000) a CROSS JOIN range(0, 100000) b",
    )
    .await?;
    wait_state(&browser, &id, "running").await?;
    // Spark's progress reports reach the cell: tasks done of all.
    let deadline = Instant::now() + WAIT;
    let label = loop {
        let label = cell_texts(&browser, &id, ".progress-label").await?.join("");
        if label.contains("tasks") {
            break label;
        }
        if cell_attr(&browser, &id, "data-state").await? != "running" {
            bail!(
                "the long query ended before it could be stopped: {:?}",
                cell_texts(&browser, &id, ".cell-error").await?
            );
        }
        if Instant::now() > deadline {
            bail!("no Spark progress in the cell; it says {label:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(label.starts_with("Spark: ") && label.contains(" of "), "{label}");
    // The notebook runs in a Spark session of its own, the only one of this gateway.
    let (status, body) = page_fetch(&browser, "GET", "/api/spark/status", "").await?;
    assert_eq!(status, 200, "{body}");
    let status: Value = serde_json::from_str(&body)?;
    let session = status["notebook_session_ids"][0].as_str().context("status has no notebook session")?.to_string();
    if let Some(ui) = riffle_tests::spark_ui() {
        let jobs = session_jobs(&ui, &session).await?;
        assert!(jobs.iter().any(|j| j["status"] == "RUNNING"), "no running job of session {session}: {jobs:?}");
    }
    click(&browser, &format!("{} .cell-cancel", cell_css(&id))).await?;
    let text = wait_for_error(&browser, &id).await?;
    assert!(text.contains("cancelled"), "{text}");

    // On Spark: the job stops running and ends FAILED (cancelled).
    if let Some(ui) = riffle_tests::spark_ui() {
        let deadline = Instant::now() + WAIT;
        loop {
            let jobs = session_jobs(&ui, &session).await?;
            let running = jobs.iter().filter(|j| j["status"] == "RUNNING").count();
            let failed = jobs.iter().filter(|j| j["status"] == "FAILED").count();
            if running == 0 && failed > 0 {
                break;
            }
            if Instant::now() > deadline {
                bail!("Spark still runs the stopped query: {jobs:#?}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let next = last_cell_id(&browser).await?;
    run_cell(&browser, &next, "-- engine: spark\nSELECT 6 * 7 AS answer").await?;
    wait_for_result(&browser, &next).await?;
    assert_eq!(result_cells(&browser, &next).await?, ["42"]);
    browser.close().await
}

/// A result over the row cap brings the first N rows into the catalog, with
/// a note giving N of M; `-- max_rows:` changes the cap.
#[tokio::test]
async fn large_spark_results_are_capped_with_a_note() -> Result<()> {
    let test = "spark::large_spark_results_are_capped_with_a_note";
    let Some(_) = require_spark(test)? else { return Ok(()) };
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "-- engine: spark\n-- name: big\nSELECT id, id * 2 AS twice FROM range(0, 150000)").await?;
    wait_for_result(&browser, &id).await?;
    let note = notes(&browser, &id).await?;
    assert!(note.contains("showing first 100,000 of 150,000 rows"), "{note}");
    let count = cell_texts(&browser, &id, ".row-count").await?.join("");
    assert!(count.contains("100,000 rows"), "{count}");

    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "-- engine: spark\n-- name: small\n-- max_rows: 1000\nSELECT id FROM range(0, 250000)")
        .await?;
    wait_for_result(&browser, &id).await?;
    let note = notes(&browser, &id).await?;
    assert!(note.contains("showing first 1,000 of 250,000 rows"), "{note}");

    // The capped tables are the notebook's, for browser cells.
    let id = last_cell_id(&browser).await?;
    run_cell(
        &browser,
        &id,
        "WITH b AS (SELECT COUNT(*) AS big_rows FROM big), s AS (SELECT COUNT(*) AS small_rows FROM small) \
         SELECT * FROM b CROSS JOIN s",
    )
    .await?;
    wait_for_result(&browser, &id).await?;
    assert_eq!(result_cells(&browser, &id).await?, ["100000", "1000"]);
    browser.close().await
}

/// Without Spark, a Spark cell fails with what to do; a Spark error points
/// at its line in the cell.
#[tokio::test]
async fn spark_unreachable_or_unconfigured_says_what_to_do() -> Result<()> {
    let data = sample_data_root()?;
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let dead = format!("sc://127.0.0.1:{port}");
    let gateway = Gateway::start_with(data.path(), GatewayOptions { spark: Some(dead.clone()), ..Default::default() })?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "-- engine: spark\nSELECT 1").await?;
    let text = wait_for_error(&browser, &id).await?;
    assert!(text.contains("unreachable") && text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.contains("scripts/spark.sh start"), "{text}");
    browser.close().await?;

    let gateway = Gateway::start_with(data.path(), GatewayOptions { spark: None, ..Default::default() })?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "-- engine: spark\nSELECT 1").await?;
    let text = wait_for_error(&browser, &id).await?;
    assert!(text.contains("Spark is not configured") && text.contains("--spark"), "{text}");
    // The switch says so before anyone runs a cell.
    let switch = browser.wait_for(&format!("{} button.engine-toggle.unavailable", cell_css(&id)), WAIT).await?;
    let title = switch.attr("title").await?.unwrap_or_default();
    assert!(title.contains("Spark is not configured"), "{title}");

    // What Spark cannot do as written says so, at its line.
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "-- engine: spark\n\nCOPY (SELECT 1) TO 'out/x' (MODE overwrite)").await?;
    let text = wait_for_error(&browser, &id).await?;
    assert!(text.contains("on Spark, COPY writes to hdfs:// paths") && text.contains("'out/x'"), "{text}");
    let line = browser.wait_for(&format!("{} .cm-riffle[data-error-line]", cell_css(&id)), WAIT).await?;
    assert_eq!(line.attr("data-error-line").await?.as_deref(), Some("3"));
    browser.close().await
}

/// Spark's own error about the SQL points at the line in the cell.
#[tokio::test]
async fn a_spark_error_points_at_the_cell_line() -> Result<()> {
    let test = "spark::a_spark_error_points_at_the_cell_line";
    let Some(_) = require_spark(test)? else { return Ok(()) };
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let id = last_cell_id(&browser).await?;
    run_cell(&browser, &id, "-- engine: spark\nSELECT 1 AS one;\nSELECT no_such_column\nFROM range(3)").await?;
    let text = wait_for_error(&browser, &id).await?;
    assert!(text.contains("statement 2 of 2") && text.contains("no_such_column"), "{text}");
    let line = browser.wait_for(&format!("{} .cm-riffle[data-error-line]", cell_css(&id)), WAIT).await?;
    assert_eq!(line.attr("data-error-line").await?.as_deref(), Some("3"));
    browser.close().await
}
