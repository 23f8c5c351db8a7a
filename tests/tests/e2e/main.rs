//! End-to-end tests: one binary, a module per area. Each test starts a real
//! gateway and drives a real headless Chromium or a real Kafka broker.

mod autosave;
mod examples;
mod files;
mod formats;
mod kafka;
mod kafka_ui;
mod notebook;
mod notebook_file;
mod results;
mod spark;
mod storage;
mod tails;
mod token;
mod ui;
