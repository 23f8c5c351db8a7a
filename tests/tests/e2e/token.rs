//! The token by default, as `riffle serve` (and so `cargo xtask serve`, the
//! README's command) starts: the printed `http://127.0.0.1:PORT/?token=…` URL
//! opens the notebook in Chromium, the token leaves the address bar for an
//! HttpOnly cookie that the page's and the engine worker's requests carry,
//! a reload without it still works, and nothing without it reaches the API.

use std::time::Duration;

use anyhow::{Context, Result};
use riffle_tests::{Browser, Gateway, GatewayOptions, GatewayToken, sample_data_root};

use crate::notebook::{cell_texts, last_cell_id, page_fetch, run_cell, wait_for_result};

const WAIT: Duration = Duration::from_secs(60);
const LIST: &str = "/api/fs/list?path=samples";

async fn href(browser: &Browser) -> Result<String> {
    let href = browser.client.execute("return location.href", vec![]).await?;
    href.as_str().map(str::to_string).context("no location.href")
}

/// The file panel lists samples/ (`/api/fs/list` from the page) and a cell
/// reads trips.csv (`/api/fs/read` from the engine worker).
async fn page_works(browser: &Browser, when: &str) -> Result<()> {
    browser
        .wait_for(r#"#files[data-dir=""] tr.directory[data-path="samples"]"#, WAIT)
        .await
        .with_context(|| format!("{when}: the file panel lists nothing"))?;
    let (status, body) = page_fetch(browser, "GET", LIST, "").await?;
    assert_eq!(status, 200, "{when}: {LIST} from the page: {body}");
    assert!(body.contains("trips.csv"), "{when}: {body}");
    let id = last_cell_id(browser).await?;
    run_cell(browser, &id, "SELECT COUNT(*) AS n FROM read_csv('samples/trips.csv')").await?;
    wait_for_result(browser, &id).await.with_context(|| format!("{when}: the engine worker's read"))?;
    let count = cell_texts(browser, &id, ".row-count").await?.join("");
    assert!(count.starts_with("1 row"), "{when}: {count}");
    Ok(())
}

#[tokio::test]
async fn the_printed_token_url_opens_the_notebook_and_nothing_else_gets_in() -> Result<()> {
    let data = sample_data_root()?;
    let gateway =
        Gateway::start_with(data.path(), GatewayOptions { token: GatewayToken::Generated, ..Default::default() })?;
    let token = gateway.token.clone().context("the gateway printed no token")?;
    // The URL as it printed it: http://127.0.0.1:PORT/?token=…
    let printed = gateway.printed_url.clone();
    assert_eq!(printed, format!("{}/?token={token}", gateway.url));
    assert!(printed.starts_with("http://127.0.0.1:"), "{printed}");

    let browser = Browser::start().await?;
    browser.open_notebook(&printed).await?;
    let address = href(&browser).await?;
    assert!(!address.contains("token="), "the token stayed in the address bar: {address}");
    assert!(!address.contains(&token), "{address}");
    assert_eq!(address, format!("{}/", gateway.url));
    // HttpOnly: the page's scripts cannot read it.
    let cookies = browser.client.execute("return document.cookie", vec![]).await?;
    assert!(!cookies.as_str().unwrap_or_default().contains(&token), "the cookie is readable: {cookies}");
    page_works(&browser, "opened from the printed URL").await?;

    // A reload, without the token in the URL: the cookie does.
    browser.client.refresh().await?;
    browser
        .wait_for(r#"#engine-status[data-state="ready"]"#, WAIT)
        .await
        .context("the engine worker did not become ready after the reload")?;
    assert!(!href(&browser).await?.contains("token="));
    page_works(&browser, "reloaded").await?;
    browser.close().await?;

    // Plain HTTP without the token or the cookie, and with a wrong one.
    let plain = reqwest::Client::new();
    let url = format!("{}{LIST}", gateway.url);
    let status = plain.get(&url).send().await?.status().as_u16();
    assert_eq!(status, 401, "GET {LIST} without the token");
    let status = plain.get(&url).bearer_auth("not-the-token-at-all").send().await?.status().as_u16();
    assert_eq!(status, 401, "GET {LIST} with a wrong token");
    let status = plain.get(format!("{url}&token=not-the-token-at-all")).send().await?.status().as_u16();
    assert_eq!(status, 401, "GET {LIST} with a wrong token in the query");
    let status = gateway.http()?.get(&url).send().await?.status().as_u16();
    assert_eq!(status, 200, "GET {LIST} with the token as a bearer");

    // A fresh browser (no cookie) at the address without the token: the page
    // itself loads, its API calls do not.
    let fresh = Browser::start().await?;
    fresh.client.goto(&gateway.url).await?;
    let error = fresh.wait_for("#files .files-error", WAIT).await?.text().await?;
    assert!(error.contains("token"), "the file panel's error: {error}");
    let (status, body) = page_fetch(&fresh, "GET", LIST, "").await?;
    assert_eq!(status, 401, "{LIST} from a page without the cookie: {body}");
    fresh.close().await
}
