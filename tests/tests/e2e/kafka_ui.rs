//! The Kafka browser, in the browser against a real gateway and the real test
//! broker: MISSION workflow 1 ("numbers through Kafka") done entirely from the
//! UI, then the live tail and deleting the topic.
//!
//! The selectors these tests rely on (keep them stable):
//! - `#kafka-topics`: the sidebar panel; `button.new-topic` opens
//!   `form.new-topic` (`input[name=name]`, `input[name=partitions]`,
//!   `button.create`); `button.refresh`.
//! - `#kafka-topics tr.topic[data-topic][data-messages]`: one topic (cells
//!   `td.name`, partitions, messages, `td.actions`); a click on the row adds a
//!   `kafka('…')` cell; `button.expand` shows `tr.topic-detail[data-topic]`
//!   with `tr.partition[data-partition]` (`td.low`, `td.high`) and
//!   `button.browse`, `button.open-cell`, `button.delete`; `button.delete`
//!   opens `form.delete-topic` (`input[name=confirm]`, `button.confirm-delete`,
//!   enabled once the name is typed).
//! - `#kafka-browser[data-topic][data-state="loading|ready|failed"][data-live="off|connecting|on|failed"]`:
//!   the message viewer above the cells. `form.page-controls` holds
//!   `select[name=from]`, `input[name=partition]`, `input[name=limit]`,
//!   `button.show`, `button.older`, `button.newer`, `input[name=live]`.
//!   Messages: `ol.messages.live` (from the tail, newest on top) then
//!   `ol.messages.page`, each `li.message[data-partition][data-offset]` with
//!   `pre.value[data-encoding]`. `button.open-cell`, `button.close-browser`.
//! - `#kafka-browser form.produce`: `input[name=key]`, `input[name=partition]`,
//!   `input[name=per-line]`, `textarea[name=value]`, `textarea[name=headers]`,
//!   `button.produce`, then `.produce-result[data-state="ok|failed"]`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use fantoccini::Locator;
use riffle_tests::{Browser, Gateway, TempDir};
use serde_json::Value;

use crate::notebook::{last_cell_id, shift_enter, wait_for_result};

const WAIT: Duration = Duration::from_secs(60);

/// Clicks the first element `css` matches, scrolled to the middle of the
/// window first (WebDriver stops at the edge, under the sticky header).
async fn click(browser: &Browser, css: &str) -> Result<()> {
    let element = browser.wait_for(css, WAIT).await?;
    let script = "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' });";
    browser.client.execute(script, vec![css.into()]).await?;
    element.click().await.with_context(|| format!("clicking {css}"))?;
    Ok(())
}

async fn type_in(browser: &Browser, css: &str, text: &str) -> Result<()> {
    let input = browser.wait_for(css, WAIT).await?;
    input.send_keys(text).await.with_context(|| format!("typing into {css}"))?;
    Ok(())
}

async fn texts(browser: &Browser, css: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for el in browser.client.find_all(Locator::Css(css)).await? {
        out.push(el.text().await?);
    }
    Ok(out)
}

/// The ids of the cells of the notebook shown, in order.
async fn cell_ids(browser: &Browser) -> Result<Vec<String>> {
    let script = r#"
        const shown = document.querySelector('.notebook:not([hidden])') || document;
        return Array.from(shown.querySelectorAll('section.cell'), s => s.dataset.cellId);
    "#;
    let out = browser.client.execute(script, vec![]).await?;
    Ok(out.as_array().context("no cell list")?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
}

/// The editor of cell `id`: a textarea, or CodeMirror's content element.
fn editor(id: &str) -> String {
    format!(
        r#".notebook:not([hidden]) section[data-cell-id="{id}"] textarea, .notebook:not([hidden]) section[data-cell-id="{id}"] .cm-content"#
    )
}

/// The text in cell `id`'s editor.
async fn cell_text(browser: &Browser, id: &str) -> Result<String> {
    let script = r#"
        const el = document.querySelector(arguments[0]);
        if (!el) return null;
        if (el.tagName === 'TEXTAREA') return el.value;
        const lines = el.querySelectorAll('.cm-line');
        return lines.length ? Array.from(lines, l => l.textContent).join('\n') : el.textContent;
    "#;
    let out = browser.client.execute(script, vec![editor(id).into()]).await?;
    out.as_str().map(str::to_string).with_context(|| format!("cell {id} has no editor"))
}

/// Types `text` at the end of cell `id`'s editor (a textarea or CodeMirror)
/// as one input, so that an editor's autocomplete or bracket closing cannot
/// change it, then runs the cell with Shift+Enter.
async fn type_and_run(browser: &Browser, id: &str, text: &str) -> Result<()> {
    let script = r#"
        const el = document.querySelector(arguments[0]);
        if (!el) return 'no editor';
        el.focus();
        if (el.tagName === 'TEXTAREA') {
            el.setSelectionRange(el.value.length, el.value.length);
        } else {
            const range = document.createRange();
            range.selectNodeContents(el);
            range.collapse(false);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }
        document.execCommand('insertText', false, arguments[1]);
        return null;
    "#;
    let out = browser.client.execute(script, vec![editor(id).into(), text.into()]).await?;
    if let Some(why) = out.as_str() {
        bail!("cell {id}: {why}");
    }
    let input = browser.client.find(Locator::Css(&editor(id))).await?;
    input.send_keys(&shift_enter()).await?;
    Ok(())
}

/// A result table's first row, by column name (a header's first line).
async fn first_row(browser: &Browser, id: &str) -> Result<Vec<(String, String)>> {
    let cell = format!(r#".notebook:not([hidden]) section[data-cell-id="{id}"]"#);
    let heads = texts(browser, &format!("{cell} table.result thead th")).await?;
    let cells = texts(browser, &format!("{cell} table.result tbody tr:first-child td")).await?;
    ensure!(heads.len() == cells.len(), "headers {heads:?} and cells {cells:?} do not line up");
    Ok(heads.iter().map(|h| h.lines().next().unwrap_or_default().trim().to_string()).zip(cells).collect())
}

/// The gateway's Kafka status, fetched by the test itself (not the page).
async fn kafka_status(gateway: &Gateway) -> Result<Value> {
    Ok(reqwest::get(format!("{}/api/kafka/status", gateway.url)).await?.json().await?)
}

async fn wait_for_tails(gateway: &Gateway, want: u64) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = kafka_status(gateway).await?;
        if status["active_tails"] == want {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the gateway still counts {} live tail(s), not {want}: {status}", status["active_tails"]);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// MISSION workflow 1 from the UI alone: create topic `foo-…` with the form,
/// produce 1..42 one per line, see 42 messages (list, partitions, newest
/// first, paging), open it as a cell, count and sum it in SQL (42, 903); then
/// the live tail shows a message produced while it is on and closes its
/// socket when turned off; deleting asks for the name.
#[tokio::test]
async fn workflow_1_numbers_through_kafka_from_the_ui() -> Result<()> {
    let data = TempDir::new("kafka-ui")?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let topic = format!("foo-{nanos}");
    let row = format!(r#"#kafka-topics tr.topic[data-topic="{topic}"]"#);
    let kafka = format!(r#"#kafka-browser[data-topic="{topic}"]"#);

    // Create it with the form: one partition (the default).
    click(&browser, "#kafka-topics button.new-topic").await?;
    type_in(&browser, "#kafka-topics form.new-topic input[name=name]", &topic).await?;
    let partitions = browser.wait_for("#kafka-topics form.new-topic input[name=partitions]", WAIT).await?;
    assert_eq!(partitions.prop("value").await?.as_deref(), Some("1"));
    click(&browser, "#kafka-topics form.new-topic button.create").await?;
    browser.wait_for(&format!(r#"{row}[data-messages="0"]"#), WAIT).await?;
    // The new topic opens in the browser, empty.
    browser.wait_for(&format!(r#"{kafka}[data-state="ready"] .empty"#), WAIT).await?;

    // Produce 1..42, one message per line.
    let lines: Vec<String> = (1..=42).map(|n| n.to_string()).collect();
    click(&browser, &format!("{kafka} form.produce input[name=per-line]")).await?;
    type_in(&browser, &format!("{kafka} form.produce textarea[name=value]"), &lines.join("\n")).await?;
    click(&browser, &format!("{kafka} form.produce button.produce")).await?;
    let result = browser.wait_for(&format!("{kafka} .produce-result"), WAIT).await?.text().await?;
    assert!(result.contains("produced 42 message(s)") && result.contains("offsets 0–41"), "{result}");

    // The list says 42; its partition runs from 0 to 42.
    browser.wait_for(&format!(r#"{row}[data-messages="42"]"#), WAIT).await?;
    click(&browser, &format!("{row} button.expand")).await?;
    let partition = format!(r#"#kafka-topics tr.topic-detail[data-topic="{topic}"] tr.partition[data-partition="0"]"#);
    browser.wait_for(&partition, WAIT).await?;
    assert_eq!(texts(&browser, &format!("{partition} td.low")).await?, ["0"]);
    assert_eq!(texts(&browser, &format!("{partition} td.high")).await?, ["42"]);

    // Newest first: 42 at the top, every message on one page of 50.
    let page = format!(r#"{kafka}[data-state="ready"] ol.messages.page"#);
    browser.wait_for(&format!(r#"{page} li.message[data-offset="41"]"#), WAIT).await?;
    let values = texts(&browser, &format!("{page} li.message pre.value")).await?;
    assert_eq!(values.len(), 42, "{values:?}");
    assert_eq!(values[0], "42");
    assert_eq!(values[41], "1");
    // Ten a page: 42..33, then older: 32..23.
    let limit = browser.wait_for(&format!("{kafka} input[name=limit]"), WAIT).await?;
    limit.clear().await?;
    limit.send_keys("10").await?;
    click(&browser, &format!("{kafka} button.show")).await?;
    browser.wait_for(&format!(r#"{page} li.message[data-offset="32"]:last-child"#), WAIT).await?;
    let values = texts(&browser, &format!("{page} li.message pre.value")).await?;
    assert_eq!(values, (33..=42).rev().map(|n| n.to_string()).collect::<Vec<_>>());
    click(&browser, &format!("{kafka} button.older")).await?;
    browser.wait_for(&format!(r#"{page} li.message[data-offset="31"]:first-child"#), WAIT).await?;
    let values = texts(&browser, &format!("{page} li.message pre.value")).await?;
    assert_eq!(values, (23..=32).rev().map(|n| n.to_string()).collect::<Vec<_>>());

    // Open it as a cell and run it: 42 rows.
    let before = cell_ids(&browser).await?;
    click(&browser, &format!("{kafka} button.open-cell")).await?;
    let deadline = Instant::now() + WAIT;
    let added = loop {
        let now = cell_ids(&browser).await?;
        let new: Vec<&String> = now.iter().filter(|id| !before.contains(id)).collect();
        match new.as_slice() {
            [id] => break (*id).clone(),
            [] if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            _ => bail!("expected one new cell; before {before:?}, now {now:?}"),
        }
    };
    let source = cell_text(&browser, &added).await?;
    assert!(source.contains(&format!("kafka('{topic}')")), "{source}");
    type_and_run(&browser, &added, "").await?;
    wait_for_result(&browser, &added).await?;
    let count = texts(&browser, &format!(r#".notebook:not([hidden]) section[data-cell-id="{added}"] .row-count"#))
        .await?
        .join("");
    assert!(count.starts_with("42 rows"), "{count}");

    // Shift+Enter moved on to a new cell: cast, count and sum there.
    let next = last_cell_id(&browser).await?;
    assert_ne!(next, added, "Shift+Enter should move on to a new cell");
    let sql = format!("SELECT COUNT(*) AS n, SUM(CAST(CAST(value AS STRING) AS INT)) AS s FROM kafka('{topic}')");
    type_and_run(&browser, &next, &sql).await?;
    wait_for_result(&browser, &next).await?;
    let row_values = first_row(&browser, &next).await?;
    let get = |name: &str| row_values.iter().find(|(h, _)| h == name).map(|(_, v)| v.replace(',', ""));
    assert_eq!(get("n").as_deref(), Some("42"), "{row_values:?}");
    assert_eq!(get("s").as_deref(), Some("903"), "{row_values:?}");
    browser.screenshot("kafka-ui-workflow-1").await?;

    // Live tail: on, produce 43 with the form, it appears at the top.
    click(&browser, &format!("{kafka} input[name=live]")).await?;
    browser.wait_for(&format!(r#"{kafka}[data-live="on"]"#), WAIT).await?;
    wait_for_tails(&gateway, 1).await?;
    type_in(&browser, &format!("{kafka} form.produce textarea[name=value]"), "43").await?;
    click(&browser, &format!("{kafka} form.produce button.produce")).await?;
    let live = format!(r#"{kafka} ol.messages.live li.message[data-offset="42"]"#);
    browser.wait_for(&live, WAIT).await?;
    let first = browser.client.find(Locator::Css(&format!("{kafka} li.message pre.value"))).await?.text().await?;
    assert_eq!(first, "43", "the new message is the first one shown");
    browser.client.execute("document.querySelector('#kafka-browser').scrollIntoView();", vec![]).await?;
    browser.screenshot("kafka-ui-browser").await?;
    // Off closes the socket: the gateway's tail ends.
    click(&browser, &format!("{kafka} input[name=live]")).await?;
    browser.wait_for(&format!(r#"{kafka}[data-live="off"]"#), WAIT).await?;
    wait_for_tails(&gateway, 0).await?;

    // Delete: the button stays disabled until the name is typed.
    click(&browser, &format!(r#"#kafka-topics tr.topic-detail[data-topic="{topic}"] button.delete"#)).await?;
    let confirm = "#kafka-topics form.delete-topic button.confirm-delete";
    type_in(&browser, "#kafka-topics form.delete-topic input[name=confirm]", "foo").await?;
    let button = browser.wait_for(confirm, WAIT).await?;
    assert!(!button.is_enabled().await?, "delete is enabled before the name is typed");
    type_in(&browser, "#kafka-topics form.delete-topic input[name=confirm]", &topic[3..]).await?;
    assert!(button.is_enabled().await?, "delete stays disabled with the name typed");
    click(&browser, confirm).await?;
    let deadline = Instant::now() + WAIT;
    while browser.client.find(Locator::Css(&row)).await.is_ok()
        || browser.client.find(Locator::Css("#kafka-browser")).await.is_ok()
    {
        ensure!(Instant::now() < deadline, "the deleted topic is still listed, or still open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = {
        let response = reqwest::get(format!("{}/api/kafka/topics/{topic}", gateway.url)).await?;
        (response.status(), response.text().await?)
    };
    assert_eq!(status, reqwest::StatusCode::NOT_FOUND, "the topic is gone from Kafka");
    browser.close().await?;
    Ok(())
}

/// Errors show in the panel: a topic name Kafka refuses, and a produce that
/// asks for a partition the topic does not have; once fixed, the message shows
/// with its key, header and pretty-printed JSON value.
#[tokio::test]
async fn kafka_browser_shows_the_gateways_errors() -> Result<()> {
    let data = TempDir::new("kafka-ui-errors")?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    click(&browser, "#kafka-topics button.new-topic").await?;
    type_in(&browser, "#kafka-topics form.new-topic input[name=name]", "has space").await?;
    click(&browser, "#kafka-topics form.new-topic button.create").await?;
    let error = browser.wait_for("#kafka-topics form.new-topic .kafka-error", WAIT).await?.text().await?;
    assert!(error.contains("'has space' is not a valid topic name"), "{error}");

    let nanos = SystemTime::now().duration_since(UNIX_EPOCH)?.as_nanos();
    let topic = format!("ui-errors-{nanos}");
    let name = browser.wait_for("#kafka-topics form.new-topic input[name=name]", WAIT).await?;
    name.clear().await?;
    name.send_keys(&topic).await?;
    click(&browser, "#kafka-topics form.new-topic button.create").await?;
    let kafka = format!(r#"#kafka-browser[data-topic="{topic}"]"#);
    browser.wait_for(&format!(r#"{kafka}[data-state="ready"]"#), WAIT).await?;
    type_in(&browser, &format!("{kafka} form.produce input[name=partition]"), "3").await?;
    type_in(&browser, &format!("{kafka} form.produce textarea[name=value]"), "x").await?;
    click(&browser, &format!("{kafka} form.produce button.produce")).await?;
    let error = browser.wait_for(&format!(r#"{kafka} .produce-result[data-state="failed"]"#), WAIT).await?;
    let error = error.text().await?;
    assert!(error.contains("partition 3") && error.contains(&topic), "{error}");

    // Fixed, with a key and a header: the JSON value shows pretty-printed.
    // Erased with keys, as a person does (WebDriver's clear() fires no input event).
    let backspace = char::from(fantoccini::key::Key::Backspace).to_string();
    type_in(&browser, &format!("{kafka} form.produce input[name=partition]"), &backspace).await?;
    type_in(&browser, &format!("{kafka} form.produce textarea[name=value]"), &backspace).await?;
    type_in(&browser, &format!("{kafka} form.produce textarea[name=value]"), r#"{"a":{"b":[1,2]}}"#).await?;
    type_in(&browser, &format!("{kafka} form.produce input[name=key]"), "k1").await?;
    type_in(&browser, &format!("{kafka} form.produce textarea[name=headers]"), "src=ui").await?;
    click(&browser, &format!("{kafka} form.produce button.produce")).await?;
    let message = format!(r#"{kafka}[data-state="ready"] li.message[data-offset="0"]"#);
    let pretty = browser.wait_for(&format!("{message} details.json pre.value"), WAIT).await?.text().await?;
    assert_eq!(pretty, "{\n  \"a\": {\n    \"b\": [\n      1,\n      2\n    ]\n  }\n}");
    assert_eq!(texts(&browser, &format!("{message} .meta .key code")).await?, ["k1"]);
    assert_eq!(texts(&browser, &format!("{message} ul.headers li")).await?, ["src = ui"]);
    let response = reqwest::Client::new()
        .delete(format!("{}/api/kafka/topics/{topic}?confirm={topic}", gateway.url))
        .send()
        .await?;
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    browser.close().await?;
    Ok(())
}
