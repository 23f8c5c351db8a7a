//! Nothing typed is lost: keys typed into a cell survive a reload that comes
//! within 50 ms of the last one, before IndexedDB could have committed the
//! last write (the page then keeps it in localStorage on `pagehide`).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use riffle_tests::{Browser, Gateway, sample_data_root};

use crate::notebook::{cell_input, cell_source};

const WAIT: Duration = Duration::from_secs(60);
const ROUNDS: usize = 20;
/// The longest the reload may follow the last key.
const GAP_MS: f64 = 50.0;
/// Rounds whose reload came later than that are done again, this many at most.
const MAX_LATE: usize = 10;

const WORDS: [&str; 10] = ["amber", "birch", "cedar", "delta", "ember", "fjord", "grove", "heron", "iris", "juniper"];

/// The first cell's id, once the page shows it with its editor.
async fn first_cell(browser: &Browser) -> Result<String> {
    browser.wait_for(".notebook:not([hidden]) section.cell .cm-content", WAIT).await?;
    let section = browser.wait_for(".notebook:not([hidden]) section.cell", WAIT).await?;
    section.attr("data-cell-id").await?.context("a cell without data-cell-id")
}

/// Marks the page, puts the caret at the end of the cell `id`'s text, and
/// makes the page reload itself `delay_ms` after the key-up of the `keys`th key
/// from now (keeping how long after that key's key-down it did, for [`gap`]).
async fn prepare(browser: &Browser, id: &str, keys: usize, delay_ms: f64) -> Result<()> {
    let script = r#"
        const [id, keys, delay] = arguments;
        window.__riffleOld = true;
        let left = keys, last = 0;
        document.addEventListener('keydown', () => { left -= 1; last = performance.now(); }, true);
        document.addEventListener('keyup', () => {
            if (left !== 0) return;
            left = -1;
            setTimeout(() => {
                sessionStorage.setItem('riffle-test-gap', String(performance.now() - last));
                location.reload();
            }, delay);
        }, true);
        const input = document.querySelector(`.notebook:not([hidden]) section[data-cell-id="${id}"] .cm-content`);
        if (!input) return `no editor in cell ${id}`;
        input.focus();
        const selection = document.getSelection();
        selection.selectAllChildren(input);
        selection.collapseToEnd();
        return null;
    "#;
    let out = browser.client.execute(script, vec![id.into(), keys.into(), delay_ms.into()]).await?;
    if let Some(why) = out.as_str() {
        bail!("{why}");
    }
    Ok(())
}

/// How long after the last key's key-down the page before this one reloaded, in ms.
async fn gap(browser: &Browser) -> Result<f64> {
    let script = r#"
        const gap = sessionStorage.getItem('riffle-test-gap');
        sessionStorage.removeItem('riffle-test-gap');
        return gap === null ? null : Number(gap);
    "#;
    let gap = browser.client.execute(script, vec![]).await?;
    gap.as_f64().context("the page did not note when it reloaded")
}

/// Waits until the marked page is gone and the new one shows its cells.
async fn wait_reloaded(browser: &Browser) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let old = browser.client.execute("return window.__riffleOld === true", vec![]).await;
        if matches!(old, Ok(serde_json::Value::Bool(false))) {
            browser.wait_for(".notebook:not([hidden]) section.cell .cm-content", WAIT).await?;
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the page did not reload within {WAIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn keys_typed_right_before_a_reload_survive_it() -> Result<()> {
    let data = sample_data_root()?;
    let gateway = Gateway::start(data.path())?;
    let browser = Browser::start().await?;
    browser.open_notebook(&gateway.url).await?;
    browser.wait_for(r#".autosaved[data-saved="yes"]"#, WAIT).await?;

    let (mut lost, mut late, mut round) = (Vec::new(), 0, 0);
    while round < ROUNDS {
        let id = first_cell(&browser).await?;
        let before = cell_source(&browser, &id).await?;
        let typed = format!(" -- r{round} {}{}", WORDS[round % WORDS.len()], round * 7 % 10);
        // From at once to 40 ms after the last key.
        let delay = (round * 2) as f64;
        prepare(&browser, &id, typed.chars().count(), delay).await?;
        // Real key events, one per character; the page reloads itself after the last.
        if let Err(e) = cell_input(&browser, &id).await?.send_keys(&typed).await {
            eprintln!("autosave round {round}: typing ended with {e} (the reload came first)");
        }
        wait_reloaded(&browser).await?;
        let gap = gap(&browser).await?;
        let id = first_cell(&browser).await?;
        let after = cell_source(&browser, &id).await?;
        let expected = format!("{before}{typed}");
        let kept = after == expected;
        eprintln!("autosave round {round}: reload {gap:.1} ms after the last key; text kept: {kept}");
        if gap > GAP_MS {
            // The page was too busy to keep to the delay: not a round that counts.
            late += 1;
            if late > MAX_LATE {
                bail!("{late} reloads came more than {GAP_MS} ms after the last key");
            }
            continue;
        }
        if !kept {
            lost.push(format!("round {round}: expected {expected:?}, found {after:?}"));
        }
        round += 1;
    }
    eprintln!("autosave: lost text in {} of {ROUNDS} instant reloads", lost.len());
    if !lost.is_empty() {
        bail!("lost text in {} of {ROUNDS} instant reloads:\n{}", lost.len(), lost.join("\n"));
    }
    // Once IndexedDB has confirmed a write as new, the localStorage copy goes.
    browser.wait_for(r#".autosaved[data-saved="yes"]"#, WAIT).await?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let script = "return localStorage.getItem('riffle.workspace.pending') === null";
    while browser.client.execute(script, vec![]).await? != serde_json::Value::Bool(true) {
        if Instant::now() > deadline {
            bail!("the localStorage copy is still there after IndexedDB kept the workspace");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.close().await
}
