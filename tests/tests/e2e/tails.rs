//! Reliability under many live tails (issue 17): 50 WebSocket tails held for
//! about a minute while 20,000 messages are produced. Every tail sees every
//! message, the gateway keeps answering `/api/health`, and its memory stays
//! bounded. The figures are printed for the closing note; nothing is timed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use reqwest::StatusCode;

use super::kafka::{next_frame, open_tail, riffle_with, unique};

const TAILS: usize = 50;
const MESSAGES: usize = 20_000;
const BATCHES: usize = 40;

/// The process's resident memory, KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn fifty_tails_see_every_message_and_memory_stays_bounded() -> Result<()> {
    // One client (this test, as every tab on a machine) may hold 8 tails by default.
    let riffle = riffle_with(&["--max-tails", "64", "--max-tails-per-client", "64"])?;
    let topic = unique("tails");
    riffle.create_topic(&topic, 4).await?;
    // One message before the tails open (they start at the end): the topic's
    // partitions have their leaders by then.
    riffle.produce_lines(&topic, "", &["warm-up".to_string()]).await?;
    let pid = riffle.pid();

    let mut sockets = Vec::with_capacity(TAILS);
    for _ in 0..TAILS {
        sockets.push(open_tail(&riffle, &format!("topics={topic}")).await?.0);
    }
    let before = rss_kib(pid);

    // Each tail counts its records until it has them all (or fails on a 30 s silence).
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|mut socket| {
            tokio::spawn(async move {
                let mut seen = 0usize;
                while seen < MESSAGES {
                    let frame = next_frame(&mut socket).await?;
                    ensure!(frame["type"] == "record", "not a record: {frame}");
                    seen += 1;
                }
                let _ = socket.close(None).await;
                Ok::<usize, anyhow::Error>(seen)
            })
        })
        .collect();

    // Meanwhile: the gateway's health and memory, every 250 ms.
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(before));
    let watcher = {
        let (done, peak, http, url) = (done.clone(), peak.clone(), riffle.http.clone(), riffle.url.clone());
        tokio::spawn(async move {
            let (mut answered, mut failed, mut slowest) = (0u32, 0u32, Duration::ZERO);
            while !done.load(Ordering::Relaxed) {
                let asked = Instant::now();
                let ok = tokio::time::timeout(Duration::from_secs(10), http.get(format!("{url}/api/health")).send())
                    .await
                    .is_ok_and(|r| r.is_ok_and(|r| r.status() == StatusCode::OK));
                if ok {
                    answered += 1
                } else {
                    failed += 1
                }
                slowest = slowest.max(asked.elapsed());
                peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            (answered, failed, slowest)
        })
    };

    // 20,000 messages in 40 batches over about 50 s.
    let started = Instant::now();
    for batch in 0..BATCHES {
        let lines: Vec<String> = (0..MESSAGES / BATCHES)
            .map(|i| format!(r#"{{"batch":{batch},"i":{i},"pad":"{}"}}"#, "x".repeat(64)))
            .collect();
        riffle.produce_lines(&topic, "", &lines).await?;
        tokio::time::sleep(Duration::from_millis(1250)).await;
    }
    let mut seen = Vec::with_capacity(TAILS);
    for reader in readers {
        seen.push(reader.await??);
    }
    let held = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let (answered, failed, slowest) = watcher.await?;
    let peak = peak.load(Ordering::Relaxed).max(rss_kib(pid));
    eprintln!(
        "{TAILS} tails, {MESSAGES} messages over {:.0} s: every tail saw {:?} records; /api/health answered {answered}, \
         failed {failed}, slowest {} ms; RSS {} MiB with the tails open, peak {} MiB (+{} MiB)",
        held.as_secs_f64(),
        seen.iter().min(),
        slowest.as_millis(),
        before / 1024,
        peak / 1024,
        peak.saturating_sub(before) / 1024
    );
    ensure!(seen.iter().all(|n| *n == MESSAGES), "a tail missed messages: {seen:?}");
    ensure!(failed == 0, "/api/health failed {failed} times of {}", answered + failed);
    // 50 tails × 20,000 frames went through; the gateway holds none of them.
    ensure!(peak.saturating_sub(before) < 256 * 1024, "RSS grew by {} MiB", peak.saturating_sub(before) / 1024);
    riffle.delete_topic(&topic).await
}
