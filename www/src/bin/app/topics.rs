//! The Kafka browser.
//!
//! - In the sidebar (`TopicList`, `#kafka-topics`): the topics with their
//!   partition and message counts; a row expands to its partitions' low/high
//!   watermarks and the topic's actions; a form creates a topic; deleting one
//!   asks for its name, as the API's `?confirm=` does. Clicking a row adds a
//!   cell that reads the topic with `kafka('name')`.
//! - In the main column (`KafkaBrowser`, `#kafka-browser`, above the cells):
//!   one topic's messages, a page at a time from
//!   `GET /api/kafka/topics/{t}/messages` (newest first, or from an offset or a
//!   time, with older/newer paging), a live tail over the `/api/kafka/tail`
//!   WebSocket, and a form that produces messages (one, or one per line).
//!
//! The selectors the end-to-end tests rely on are listed in
//! `tests/tests/e2e/kafka_ui.rs`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::state::Workspace;

/// Messages the live tail keeps; older ones drop off the bottom.
const LIVE_CAP: usize = 500;
/// Messages a page asks for unless the user says otherwise.
const DEFAULT_PAGE: u32 = 50;

#[derive(Clone, Debug, PartialEq)]
pub struct PartitionRow {
    pub partition: i64,
    pub low: i64,
    pub high: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TopicRow {
    pub name: String,
    pub partitions: u64,
    pub messages: u64,
    pub offsets: Vec<PartitionRow>,
}

#[derive(Clone, Debug, PartialEq)]
enum Topics {
    Loading,
    Ready(Vec<TopicRow>),
    Failed(String),
}

/// One message as the browser shows it.
#[derive(Clone, Debug, PartialEq)]
struct Shown {
    partition: i64,
    offset: i64,
    timestamp: Option<i64>,
    key: Bytes,
    value: Bytes,
    headers: Vec<(String, Bytes)>,
}

/// Bytes from the gateway: text, base64 of binary bytes, or none.
#[derive(Clone, Debug, PartialEq)]
enum Bytes {
    Null,
    Text { text: String, cut_from: Option<u64> },
    Base64 { text: String, cut_from: Option<u64> },
}

impl Bytes {
    /// The page format: `name`, `name_encoding`, `name_size` (when cut).
    fn of_page(v: &Value, name: &str) -> Bytes {
        let cut_from = v[format!("{name}_size")].as_u64();
        let text = v[name].as_str().map(str::to_string);
        match (v[format!("{name}_encoding")].as_str(), text) {
            (Some("base64"), Some(text)) => Bytes::Base64 { text, cut_from },
            (_, Some(text)) => Bytes::Text { text, cut_from },
            _ => Bytes::Null,
        }
    }

    /// The tail's format: `name` (text or null) and `name_base64`.
    fn of_tail(v: &Value, name: &str) -> Bytes {
        match (v[name].as_str(), v[format!("{name}_base64")].as_str()) {
            (Some(text), _) => Bytes::Text { text: text.to_string(), cut_from: None },
            (None, Some(b)) => Bytes::Base64 { text: b.to_string(), cut_from: None },
            _ => Bytes::Null,
        }
    }

    fn plain(&self) -> String {
        match self {
            Bytes::Null => String::new(),
            Bytes::Text { text, .. } | Bytes::Base64 { text, .. } => text.clone(),
        }
    }
}

impl Shown {
    fn of_page(m: &Value) -> Shown {
        Shown {
            partition: m["partition"].as_i64().unwrap_or_default(),
            offset: m["offset"].as_i64().unwrap_or_default(),
            timestamp: m["timestamp"].as_i64(),
            key: Bytes::of_page(m, "key"),
            value: Bytes::of_page(m, "value"),
            headers: m["headers"]
                .as_array()
                .map(|hs| {
                    hs.iter()
                        .map(|h| (h["key"].as_str().unwrap_or_default().to_string(), Bytes::of_page(h, "value")))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn of_tail(m: &Value) -> Shown {
        Shown {
            partition: m["partition"].as_i64().unwrap_or_default(),
            offset: m["offset"].as_i64().unwrap_or_default(),
            timestamp: m["timestamp"].as_i64(),
            key: Bytes::of_tail(m, "key"),
            value: Bytes::of_tail(m, "value"),
            headers: m["headers"]
                .as_object()
                .map(|hs| {
                    hs.iter()
                        .map(|(k, v)| {
                            let value = match v.as_str() {
                                Some(t) => Bytes::Text { text: t.to_string(), cut_from: None },
                                None => Bytes::Null,
                            };
                            (k.clone(), value)
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Where a page starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    Latest,
    Earliest,
    Offset,
    Timestamp,
}

impl Start {
    fn parse(s: &str) -> Start {
        match s {
            "earliest" => Start::Earliest,
            "offset" => Start::Offset,
            "timestamp" => Start::Timestamp,
            _ => Start::Latest,
        }
    }

    fn newest_first(self) -> bool {
        self == Start::Latest
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Page {
    Loading,
    Ready { messages: Vec<Shown>, older: Option<String>, newer: Option<String>, newest_first: bool },
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
enum Live {
    Off,
    Connecting,
    On,
    Failed(String),
}

/// The browser's state, shared by the sidebar and the main column. Copy:
/// every field is a reactive handle.
#[derive(Clone, Copy)]
struct KafkaUi {
    topics: RwSignal<Topics>,
    expanded: RwSignal<Vec<String>>,
    creating: RwSignal<bool>,
    create_error: RwSignal<Option<String>>,
    /// The topic whose delete confirmation is open.
    deleting: RwSignal<Option<String>>,
    delete_error: RwSignal<Option<String>>,
    /// The topic the main-column browser shows.
    open: RwSignal<Option<String>>,
    from: RwSignal<Start>,
    offset: RwSignal<String>,
    timestamp: RwSignal<String>,
    partition: RwSignal<String>,
    limit: RwSignal<String>,
    page: RwSignal<Page>,
    /// Numbers page requests, so that a slow answer for an older request is dropped.
    generation: StoredValue<u64>,
    live: RwSignal<Live>,
    live_messages: RwSignal<Vec<Shown>>,
    socket: StoredValue<Option<Tail>, LocalStorage>,
}

/// An open tail: the socket and the callbacks it holds on to.
struct Tail {
    socket: web_sys::WebSocket,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_open: Closure<dyn FnMut(web_sys::Event)>,
    _on_close: Closure<dyn FnMut(web_sys::CloseEvent)>,
}

thread_local! {
    static UI: std::cell::OnceCell<KafkaUi> = const { std::cell::OnceCell::new() };
}

/// The one `KafkaUi` of the page, made by whichever panel renders first (both
/// live as long as the page).
fn ui() -> KafkaUi {
    UI.with(|cell| *cell.get_or_init(KafkaUi::new))
}

impl KafkaUi {
    fn new() -> KafkaUi {
        KafkaUi {
            topics: RwSignal::new(Topics::Loading),
            expanded: RwSignal::new(Vec::new()),
            creating: RwSignal::new(false),
            create_error: RwSignal::new(None),
            deleting: RwSignal::new(None),
            delete_error: RwSignal::new(None),
            open: RwSignal::new(None),
            from: RwSignal::new(Start::Latest),
            offset: RwSignal::new("0".into()),
            timestamp: RwSignal::new(String::new()),
            partition: RwSignal::new(String::new()),
            limit: RwSignal::new(DEFAULT_PAGE.to_string()),
            page: RwSignal::new(Page::Loading),
            generation: StoredValue::new(0),
            live: RwSignal::new(Live::Off),
            live_messages: RwSignal::new(Vec::new()),
            socket: StoredValue::new_local(None),
        }
    }

    fn load_topics(self) {
        // Keep the rows on screen while refreshing; only the first load says so.
        if !matches!(self.topics.get_untracked(), Topics::Ready(_)) {
            self.topics.set(Topics::Loading);
        }
        spawn_local(async move {
            let state = match api("GET", "/api/kafka/topics", None).await {
                Ok(body) => Topics::Ready(topic_rows(&body)),
                Err(why) => Topics::Failed(why),
            };
            self.topics.set(state);
        });
    }

    /// Shows `topic` in the main column, newest messages first.
    fn browse(self, topic: String) {
        if self.open.get_untracked().as_deref() != Some(topic.as_str()) {
            self.stop_live();
            self.live_messages.set(Vec::new());
            self.partition.set(String::new());
        }
        // Set only when it changes: the browser's forms re-render when it does.
        if self.open.get_untracked().as_deref() != Some(topic.as_str()) {
            self.open.set(Some(topic));
        }
        self.load_page(None);
    }

    fn close(self) {
        self.stop_live();
        self.live_messages.set(Vec::new());
        self.open.set(None);
    }

    /// Loads a page: from the form's position, or from a cursor of the page shown
    /// (`older` is true for the older page).
    fn load_page(self, cursor: Option<(String, bool)>) {
        let Some(topic) = self.open.get_untracked() else { return };
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        let limit = self.limit.get_untracked().trim().to_string();
        let mut query = vec![format!("limit={}", encode(if limit.is_empty() { "50" } else { &limit }))];
        let from = self.from.get_untracked();
        match &cursor {
            Some((c, older)) => {
                query.push(format!("cursor={}", encode(c)));
                query.push(format!("direction={}", if *older { "backward" } else { "forward" }));
            }
            None => {
                let position = match from {
                    Start::Latest => "latest".to_string(),
                    Start::Earliest => "earliest".to_string(),
                    Start::Offset => format!("offset:{}", self.offset.get_untracked().trim()),
                    Start::Timestamp => match local_time_ms(&self.timestamp.get_untracked()) {
                        Some(ms) => format!("timestamp:{ms}"),
                        None => {
                            self.page.set(Page::Failed("pick a date and time to start from".into()));
                            return;
                        }
                    },
                };
                query.push(format!("from={}", encode(&position)));
                let partition = self.partition.get_untracked().trim().to_string();
                if !partition.is_empty() {
                    query.push(format!("partition={}", encode(&partition)));
                }
            }
        }
        self.live_messages.set(Vec::new());
        self.page.set(Page::Loading);
        let url = format!("/api/kafka/topics/{}/messages?{}", encode(&topic), query.join("&"));
        spawn_local(async move {
            let answer = api("GET", &url, None).await;
            if self.generation.get_value() != generation {
                return;
            }
            let page = match answer {
                Ok(body) => {
                    let mut messages: Vec<Shown> =
                        body["messages"].as_array().map(|m| m.iter().map(Shown::of_page).collect()).unwrap_or_default();
                    // Shown in the order the position chosen reads: newest
                    // first from the end, oldest first from a start.
                    let backward = body["direction"].as_str() == Some("backward");
                    if backward != from.newest_first() {
                        messages.reverse();
                    }
                    Page::Ready {
                        messages,
                        older: body["older"].as_str().map(str::to_string),
                        newer: body["newer"].as_str().map(str::to_string),
                        newest_first: from.newest_first(),
                    }
                }
                Err(why) => Page::Failed(why),
            };
            self.page.set(page);
        });
    }

    fn stop_live(self) {
        if let Some(tail) = self.socket.try_update_value(Option::take).flatten() {
            tail.socket.set_onclose(None);
            tail.socket.set_onmessage(None);
            tail.socket.set_onopen(None);
            let _ = tail.socket.close();
        }
        self.live.set(Live::Off);
    }

    /// Opens the live tail of the topic shown: new messages go to the top.
    fn start_live(self) {
        self.stop_live();
        let Some(topic) = self.open.get_untracked() else { return };
        let location = window().location();
        let scheme = if location.protocol().ok().as_deref() == Some("https:") { "wss" } else { "ws" };
        let host = location.host().unwrap_or_default();
        let url = format!("{scheme}://{host}/api/kafka/tail?topics={}&from=latest", encode(&topic));
        let socket = match web_sys::WebSocket::new(&url) {
            Ok(s) => s,
            Err(e) => {
                self.live.set(Live::Failed(format!("could not open the live tail: {e:?}")));
                return;
            }
        };
        self.live.set(Live::Connecting);
        let on_message = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            let Some(text) = event.data().as_string() else { return };
            let Ok(frame) = serde_json::from_str::<Value>(&text) else { return };
            match frame["type"].as_str() {
                Some("subscribed") => self.live.set(Live::On),
                Some("record") => self.live_messages.update(|list| {
                    list.insert(0, Shown::of_tail(&frame));
                    list.truncate(LIVE_CAP);
                }),
                Some("error") => {
                    self.live.set(Live::Failed(frame["error"].as_str().unwrap_or("the tail failed").to_string()))
                }
                _ => {}
            }
        });
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {});
        let on_close = Closure::<dyn FnMut(web_sys::CloseEvent)>::new(move |event: web_sys::CloseEvent| {
            // The gateway refuses a tail before the upgrade with an HTTP error
            // the browser does not show; say what to check.
            let why = if event.reason().is_empty() {
                "the live tail closed (is the gateway still running, and the topic still there?)".to_string()
            } else {
                format!("the live tail closed: {}", event.reason())
            };
            self.live.set(Live::Failed(why));
            // Dropped after this callback returns, not while it runs.
            let tail = self.socket.try_update_value(Option::take).flatten();
            spawn_local(async move { drop(tail) });
        });
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        self.socket.set_value(Some(Tail { socket, _on_message: on_message, _on_open: on_open, _on_close: on_close }));
    }
}

fn topic_rows(body: &Value) -> Vec<TopicRow> {
    body["topics"]
        .as_array()
        .map(|topics| {
            topics
                .iter()
                .map(|t| TopicRow {
                    name: t["name"].as_str().unwrap_or_default().to_string(),
                    partitions: t["partitions"].as_u64().unwrap_or_default(),
                    messages: t["messages"].as_u64().unwrap_or_default(),
                    offsets: t["partition_offsets"]
                        .as_array()
                        .map(|ps| {
                            ps.iter()
                                .map(|p| PartitionRow {
                                    partition: p["partition"].as_i64().unwrap_or_default(),
                                    low: p["low"].as_i64().unwrap_or_default(),
                                    high: p["high"].as_i64().unwrap_or_default(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The cell that reads a topic.
pub fn topic_cell(name: &str) -> String {
    format!(
        "SELECT CAST(key AS STRING) AS key, CAST(value AS STRING) AS value, topic, partition, offset, timestamp\n\
         FROM kafka('{}')",
        name.replace('\'', "''")
    )
}

/// Adds a cell reading `topic` to the notebook shown, below the cell that
/// last had the caret.
fn open_as_cell(workspace: Workspace, topic: &str) {
    let notebook = workspace.current().notebook;
    let index = notebook.insert_below_current(&topic_cell(topic));
    crate::state::focus_cell(index);
}

fn encode(text: &str) -> String {
    String::from(js_sys::encode_uri_component(text))
}

/// `YYYY-MM-DDTHH:MM[:SS]` in the browser's time zone, as ms since the epoch.
fn local_time_ms(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let ms = js_sys::Date::new(&JsValue::from_str(text)).get_time();
    ms.is_finite().then_some(ms as i64)
}

/// A timestamp as the browser's local time, `2025-01-31 14:05:09.123`.
fn show_time(ms: i64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        d.get_milliseconds()
    )
}

/// Calls the gateway; an answer that is not 2xx is its `error` message.
async fn api(method: &str, url: &str, body: Option<&str>) -> Result<Value, String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        let headers = web_sys::Headers::new().map_err(|e| format!("{e:?}"))?;
        let _ = headers.set("content-type", "application/json");
        init.set_headers(&headers);
        init.set_body(&JsValue::from_str(body));
    }
    let response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| "the gateway did not answer: is `riffle serve` still running?".to_string())?
        .unchecked_into::<web_sys::Response>();
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if response.ok() {
        Ok(value)
    } else {
        Err(value["error"].as_str().map(str::to_string).unwrap_or_else(|| {
            format!("the gateway answered {} {}", response.status(), text.chars().take(200).collect::<String>())
        }))
    }
}

// ---------------------------------------------------------------------------
// The sidebar
// ---------------------------------------------------------------------------

#[component]
pub fn TopicList() -> impl IntoView {
    let workspace = expect_context::<Workspace>();
    let kafka = ui();
    kafka.load_topics();
    view! {
        <section id="kafka-topics">
            <div class="aside-head">
                <h2>"Kafka topics"</h2>
                <span class="head-buttons">
                    <button class="new-topic" title="Create a topic"
                        on:click=move |_| {
                            kafka.create_error.set(None);
                            kafka.creating.update(|c| *c = !*c);
                        }>"+ new"</button>
                    <button class="refresh" title="Refresh" on:click=move |_| kafka.load_topics()>"↻"</button>
                </span>
            </div>
            {move || kafka.creating.get().then(|| view! { <NewTopicForm /> })}
            {move || match kafka.topics.get() {
                Topics::Loading => view! { <p class="muted">"loading…"</p> }.into_any(),
                Topics::Failed(why) => view! { <p class="kafka-error">{why}</p> }.into_any(),
                Topics::Ready(rows) if rows.is_empty() => {
                    view! { <p class="muted">"no topics yet: create one with + new"</p> }.into_any()
                }
                Topics::Ready(rows) => view! {
                    <table class="topics">
                        <thead><tr><th>"topic"</th><th>"partitions"</th><th>"messages"</th><th></th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|t| view! { <TopicRowView row=t workspace=workspace /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn TopicRowView(row: TopicRow, workspace: Workspace) -> impl IntoView {
    let kafka = ui();
    let name = row.name.clone();
    let is_expanded = {
        let name = name.clone();
        move || kafka.expanded.with(|e| e.contains(&name))
    };
    let toggle = {
        let name = name.clone();
        move |ev: web_sys::MouseEvent| {
            ev.stop_propagation();
            kafka.expanded.update(|e| match e.iter().position(|n| *n == name) {
                Some(i) => {
                    e.remove(i);
                }
                None => e.push(name.clone()),
            });
        }
    };
    let browse = {
        let name = name.clone();
        move |ev: web_sys::MouseEvent| {
            ev.stop_propagation();
            kafka.browse(name.clone());
        }
    };
    let add_cell = {
        let name = name.clone();
        move |_| open_as_cell(workspace, &name)
    };
    let open_class = {
        let name = name.clone();
        move || if kafka.open.with(|o| o.as_deref() == Some(name.as_str())) { "topic browsing" } else { "topic" }
    };
    let detail = {
        let row = row.clone();
        let is_expanded = is_expanded.clone();
        move || is_expanded().then(|| view! { <TopicDetail row=row.clone() workspace=workspace /> })
    };
    let arrow = {
        let is_expanded = is_expanded.clone();
        move || if is_expanded() { "▾" } else { "▸" }
    };
    view! {
        <tr class=open_class data-topic=row.name.clone() data-messages=row.messages.to_string()
            title="Add a cell that reads this topic" on:click=add_cell>
            <td class="name">
                <button class="expand" title="Partitions and actions"
                    aria-expanded=move || is_expanded().to_string() on:click=toggle>{arrow}</button>
                {row.name.clone()}
            </td>
            <td class="num">{row.partitions}</td>
            <td class="num">{riffle::text::thousands(row.messages)}</td>
            <td class="actions">
                <button class="browse" title="Browse its messages" on:click=browse>"☰"</button>
            </td>
        </tr>
        {detail}
    }
}

/// An expanded topic: its partitions' watermarks and its actions.
#[component]
fn TopicDetail(row: TopicRow, workspace: Workspace) -> impl IntoView {
    let kafka = ui();
    let name = row.name.clone();
    let browse = {
        let name = name.clone();
        move |_| kafka.browse(name.clone())
    };
    let add_cell = {
        let name = name.clone();
        move |_| open_as_cell(workspace, &name)
    };
    let ask_delete = {
        let name = name.clone();
        move |_| {
            kafka.delete_error.set(None);
            kafka.deleting.set(Some(name.clone()));
        }
    };
    let confirming = {
        let name = name.clone();
        move || kafka.deleting.with(|d| d.as_deref() == Some(name.as_str()))
    };
    let form_topic = name.clone();
    view! {
        <tr class="topic-detail" data-topic=name.clone()>
            <td colspan="4">
                <table class="partitions">
                    <thead><tr><th>"partition"</th><th>"low"</th><th>"high"</th><th>"messages"</th></tr></thead>
                    <tbody>
                        {row.offsets.iter().map(|p| view! {
                            <tr class="partition" data-partition=p.partition.to_string()>
                                <td class="num">{p.partition}</td>
                                <td class="num low">{p.low}</td>
                                <td class="num high">{p.high}</td>
                                <td class="num">{riffle::text::thousands((p.high - p.low).max(0) as u64)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                <div class="topic-actions">
                    <button class="browse" on:click=browse>"Browse messages"</button>
                    <button class="open-cell" on:click=add_cell>"Open as cell"</button>
                    <button class="delete" on:click=ask_delete>"Delete…"</button>
                </div>
                {move || confirming().then(|| view! { <DeleteForm topic=form_topic.clone() /> })}
            </td>
        </tr>
    }
}

#[component]
fn NewTopicForm() -> impl IntoView {
    let kafka = ui();
    let name = RwSignal::new(String::new());
    let partitions = RwSignal::new("1".to_string());
    let busy = RwSignal::new(false);
    let on_submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let topic = name.get_untracked().trim().to_string();
        if topic.is_empty() {
            kafka.create_error.set(Some("name the topic".into()));
            return;
        }
        let count: i64 = match partitions.get_untracked().trim().parse() {
            Ok(n) if n >= 1 => n,
            _ => {
                kafka.create_error.set(Some("partitions must be a whole number, at least 1".into()));
                return;
            }
        };
        busy.set(true);
        let body = json!({ "name": topic, "partitions": count }).to_string();
        spawn_local(async move {
            let answer = api("POST", "/api/kafka/topics", Some(&body)).await;
            busy.try_set(false);
            match answer {
                Ok(_) => {
                    kafka.create_error.set(None);
                    kafka.creating.set(false);
                    kafka.load_topics();
                    kafka.browse(topic);
                }
                Err(why) => kafka.create_error.set(Some(why)),
            }
        });
    };
    view! {
        <form class="new-topic" on:submit=on_submit>
            <label>"name "<input name="name" type="text" spellcheck="false" placeholder="events" required=true
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) /></label>
            <label>"partitions "<input name="partitions" type="number" min="1" step="1"
                prop:value=move || partitions.get() on:input=move |ev| partitions.set(event_target_value(&ev)) /></label>
            <button type="submit" class="create" disabled=move || busy.get()>"Create"</button>
            <button type="button" class="cancel" on:click=move |_| kafka.creating.set(false)>"Cancel"</button>
            {move || kafka.create_error.get().map(|e| view! { <p class="kafka-error" role="alert">{e}</p> })}
        </form>
    }
}

#[component]
fn DeleteForm(topic: String) -> impl IntoView {
    let kafka = ui();
    let typed = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let matches = {
        let topic = topic.clone();
        move || typed.with(|t| *t == topic)
    };
    let on_submit = {
        let topic = topic.clone();
        move |ev: web_sys::SubmitEvent| {
            ev.prevent_default();
            let confirm = typed.get_untracked();
            if confirm != topic {
                return;
            }
            busy.set(true);
            let url = format!("/api/kafka/topics/{}?confirm={}", encode(&topic), encode(&confirm));
            let topic = topic.clone();
            spawn_local(async move {
                let answer = api("DELETE", &url, None).await;
                busy.try_set(false);
                match answer {
                    Ok(_) => {
                        kafka.deleting.set(None);
                        kafka.expanded.update(|e| e.retain(|n| *n != topic));
                        if kafka.open.get_untracked().as_deref() == Some(topic.as_str()) {
                            kafka.close();
                        }
                        kafka.load_topics();
                    }
                    Err(why) => kafka.delete_error.set(Some(why)),
                }
            });
        }
    };
    view! {
        <form class="delete-topic" on:submit=on_submit>
            <p>"This deletes " <code>{topic.clone()}</code> " and all its messages for good. Type its name to confirm:"</p>
            <input name="confirm" type="text" spellcheck="false" autocomplete="off" placeholder=topic.clone()
                prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
            <button type="submit" class="confirm-delete" disabled=move || !matches() || busy.get()>"Delete"</button>
            <button type="button" class="cancel" on:click=move |_| kafka.deleting.set(None)>"Cancel"</button>
            {move || kafka.delete_error.get().map(|e| view! { <p class="kafka-error" role="alert">{e}</p> })}
        </form>
    }
}

// ---------------------------------------------------------------------------
// The main column
// ---------------------------------------------------------------------------

/// One topic's messages above the cells; nothing while no topic is open.
#[component]
pub fn KafkaBrowser() -> impl IntoView {
    let workspace = expect_context::<Workspace>();
    let kafka = ui();
    move || {
        let topic = kafka.open.get()?;
        let state = move || match kafka.page.get() {
            Page::Loading => "loading",
            Page::Ready { .. } => "ready",
            Page::Failed(_) => "failed",
        };
        let live_state = move || match kafka.live.get() {
            Live::Off => "off",
            Live::Connecting => "connecting",
            Live::On => "on",
            Live::Failed(_) => "failed",
        };
        let open_cell = {
            let topic = topic.clone();
            move |_| open_as_cell(workspace, &topic)
        };
        let summary = {
            let topic = topic.clone();
            move || {
                kafka.topics.with(|t| match t {
                    Topics::Ready(rows) => rows.iter().find(|r| r.name == topic).map(|r| {
                        format!("{} message(s) in {} partition(s)", riffle::text::thousands(r.messages), r.partitions)
                    }),
                    _ => None,
                })
            }
        };
        Some(view! {
            <section id="kafka-browser" data-topic=topic.clone() data-state=state data-live=live_state>
                <div class="cell-head">
                    <span>"Kafka · "<code>{topic.clone()}</code>" "<span class="topic-summary">{summary}</span></span>
                    <span class="head-buttons">
                        <button class="open-cell" title="Add a cell that reads this topic below the current cell"
                            on:click=open_cell>"Open as cell"</button>
                        <button class="close-browser" title="Close the Kafka browser" on:click=move |_| kafka.close()>"×"</button>
                    </span>
                </div>
                <div class="kafka-body">
                    <PageControls />
                    <MessageList />
                    <ProduceForm topic=topic.clone() />
                </div>
            </section>
        })
    }
}

#[component]
fn PageControls() -> impl IntoView {
    let kafka = ui();
    let on_submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        kafka.load_page(None);
    };
    let cursor = move |older: bool| {
        kafka.page.with(|p| match p {
            Page::Ready { older: o, newer: n, .. } => {
                if older {
                    o.clone()
                } else {
                    n.clone()
                }
            }
            _ => None,
        })
    };
    // "older"/"newer" in time, whichever order the page is shown in.
    let go = move |older: bool| {
        if let Some(c) = cursor(older) {
            kafka.load_page(Some((c, older)));
        }
    };
    let from_value = move || match kafka.from.get() {
        Start::Latest => "latest",
        Start::Earliest => "earliest",
        Start::Offset => "offset",
        Start::Timestamp => "timestamp",
    };
    let live_on = move || matches!(kafka.live.get(), Live::On | Live::Connecting);
    view! {
        <form class="page-controls" on:submit=on_submit>
            <label>"show "<select name="from" prop:value=from_value
                on:change=move |ev| kafka.from.set(Start::parse(&event_target_value(&ev)))>
                <option value="latest">"newest first"</option>
                <option value="earliest">"oldest first"</option>
                <option value="offset">"from offset"</option>
                <option value="timestamp">"from time"</option>
            </select></label>
            {move || (kafka.from.get() == Start::Offset).then(|| view! {
                <input name="offset" type="number" min="0" step="1" title="The first offset to show"
                    prop:value=move || kafka.offset.get() on:input=move |ev| kafka.offset.set(event_target_value(&ev)) />
            })}
            {move || (kafka.from.get() == Start::Timestamp).then(|| view! {
                <input name="timestamp" type="datetime-local" step="1" title="The first time to show (your time zone)"
                    prop:value=move || kafka.timestamp.get() on:input=move |ev| kafka.timestamp.set(event_target_value(&ev)) />
            })}
            <label>"partition "<input name="partition" type="number" min="0" step="1" placeholder="all"
                prop:value=move || kafka.partition.get() on:input=move |ev| kafka.partition.set(event_target_value(&ev)) /></label>
            <label>"per page "<input name="limit" type="number" min="1" max="1000" step="1"
                prop:value=move || kafka.limit.get() on:input=move |ev| kafka.limit.set(event_target_value(&ev)) /></label>
            <button type="submit" class="show">"Show"</button>
            <button type="button" class="older" title="Older messages" disabled=move || cursor(true).is_none()
                on:click=move |_| go(true)>"◀ older"</button>
            <button type="button" class="newer" title="Newer messages" disabled=move || cursor(false).is_none()
                on:click=move |_| go(false)>"newer ▶"</button>
            <label class="live" title="Show new messages as they arrive (a WebSocket to the gateway)">
                <input name="live" type="checkbox" prop:checked=live_on
                    on:change=move |ev| if event_target_checked(&ev) { kafka.start_live() } else { kafka.stop_live() } />
                " live"
            </label>
        </form>
        {move || match kafka.live.get() {
            Live::Failed(why) => Some(view! { <p class="kafka-error live-error" role="alert">{why}</p> }),
            _ => None,
        }}
    }
}

#[component]
fn MessageList() -> impl IntoView {
    let kafka = ui();
    move || {
        let live = kafka.live_messages.get();
        let page = kafka.page.get();
        let body = match page {
            Page::Loading => view! { <p class="muted">"loading…"</p> }.into_any(),
            Page::Failed(why) => view! { <p class="kafka-error" role="alert">{why}</p> }.into_any(),
            Page::Ready { messages, .. } if messages.is_empty() && live.is_empty() => {
                view! { <p class="muted empty">"no messages here"</p> }.into_any()
            }
            Page::Ready { messages, newest_first, .. } => {
                let count = messages.len();
                let order = if newest_first { "newest first" } else { "oldest first" };
                view! {
                    <p class="muted page-note">{format!("{count} message(s), {order}")}</p>
                    <ol class="messages page">{messages.into_iter().map(message_view).collect_view()}</ol>
                }
                .into_any()
            }
        };
        view! {
            {(!live.is_empty()).then(|| view! {
                <p class="muted page-note">{format!("{} new (live)", live.len())}</p>
                <ol class="messages live">{live.into_iter().map(message_view).collect_view()}</ol>
            })}
            {body}
        }
    }
}

fn message_view(m: Shown) -> impl IntoView {
    let time = m.timestamp.map(show_time).unwrap_or_else(|| "no timestamp".into());
    let key = match &m.key {
        Bytes::Null => view! { <span class="key null">"no key"</span> }.into_any(),
        k => view! { <span class="key">"key "<code>{k.plain()}</code></span> }.into_any(),
    };
    let headers = (!m.headers.is_empty()).then(|| {
        view! {
            <ul class="headers">
                {m.headers.iter().map(|(k, v)| view! {
                    <li><code>{k.clone()}</code>" = "<code>{v.plain()}</code></li>
                }).collect_view()}
            </ul>
        }
    });
    view! {
        <li class="message" data-partition=m.partition.to_string() data-offset=m.offset.to_string()>
            <div class="meta">
                <span class="partition">{format!("p{}", m.partition)}</span>
                <span class="offset">{format!("@{}", m.offset)}</span>
                <span class="timestamp" data-ms=m.timestamp.map(|t| t.to_string())>{time}</span>
                {key}
            </div>
            {headers}
            {value_view(&m.value)}
        </li>
    }
}

/// A value: pretty JSON (collapsible) for objects and arrays, text, or a
/// note and base64 for binary bytes.
fn value_view(value: &Bytes) -> AnyView {
    let cut = |from: &Option<u64>| {
        from.map(|n| view! { <p class="muted cut">{format!("first 64 KiB of {} bytes shown", riffle::text::thousands(n))}</p> })
    };
    match value {
        Bytes::Null => view! { <pre class="value null" data-encoding="null">"null (no value)"</pre> }.into_any(),
        Bytes::Base64 { text, cut_from } => view! {
            <p class="muted binary-note">"binary, not UTF-8 text: shown as base64"</p>
            <pre class="value binary" data-encoding="base64">{text.clone()}</pre>
            {cut(cut_from)}
        }
        .into_any(),
        Bytes::Text { text, cut_from } => {
            let parsed = serde_json::from_str::<Value>(text).ok().filter(|v| v.is_object() || v.is_array());
            match parsed {
                Some(json) => {
                    let pretty = serde_json::to_string_pretty(&json).unwrap_or_else(|_| text.clone());
                    let line: String = text.chars().take(120).collect();
                    let line = if text.chars().count() > 120 { format!("{line}…") } else { line };
                    view! {
                        <details class="json" open=true>
                            <summary><code>{line}</code></summary>
                            <pre class="value json" data-encoding="utf8">{pretty}</pre>
                        </details>
                    }
                    .into_any()
                }
                None => view! {
                    <pre class="value text" data-encoding="utf8">{text.clone()}</pre>
                    {cut(cut_from)}
                }
                .into_any(),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Produce
// ---------------------------------------------------------------------------

/// What the produce form sends: `{"records": [...]}`. With `per_line`, every
/// non-empty line of `value` is a message of its own.
fn produce_body(key: &str, value: &str, headers: &str, partition: &str, per_line: bool) -> Result<String, String> {
    let mut header_map = serde_json::Map::new();
    for (n, line) in headers.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("header line {} ({line}) has no '=': write one name=value a line", n + 1));
        };
        header_map.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
    }
    let partition = match partition.trim() {
        "" => None,
        p => Some(
            p.parse::<u32>()
                .map_err(|_| format!("partition {p} is not a partition number: leave it empty to let Kafka choose"))?,
        ),
    };
    let values: Vec<&str> = if per_line {
        value.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.trim().is_empty()).collect()
    } else {
        vec![value]
    };
    if values.is_empty() {
        return Err("there are no lines to send: write one message a line".into());
    }
    let records: Vec<Value> = values
        .into_iter()
        .map(|v| {
            let mut r = json!({ "value": v });
            if !key.is_empty() {
                r["key"] = key.into();
            }
            if !header_map.is_empty() {
                r["headers"] = Value::Object(header_map.clone());
            }
            if let Some(p) = partition {
                r["partition"] = p.into();
            }
            r
        })
        .collect();
    Ok(json!({ "records": records }).to_string())
}

/// "42 message(s) → partition 0, offsets 0–41" from a produce answer.
fn produce_summary(answer: &Value) -> String {
    let mut spans: std::collections::BTreeMap<i64, (i64, i64)> = std::collections::BTreeMap::new();
    for r in answer["results"].as_array().into_iter().flatten() {
        if let (Some(p), Some(o)) = (r["partition"].as_i64(), r["offset"].as_i64()) {
            let e = spans.entry(p).or_insert((o, o));
            e.0 = e.0.min(o);
            e.1 = e.1.max(o);
        }
    }
    let produced = answer["produced"].as_u64().unwrap_or_default();
    let at: Vec<String> =
        spans
            .iter()
            .map(|(p, (a, b))| {
                if a == b { format!("partition {p}, offset {a}") } else { format!("partition {p}, offsets {a}–{b}") }
            })
            .collect();
    format!("produced {produced} message(s) → {}", at.join("; "))
}

#[component]
fn ProduceForm(topic: String) -> impl IntoView {
    let kafka = ui();
    let key = RwSignal::new(String::new());
    let value = RwSignal::new(String::new());
    let headers = RwSignal::new(String::new());
    let partition = RwSignal::new(String::new());
    let per_line = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let result: RwSignal<Option<Result<String, String>>> = RwSignal::new(None);
    let on_submit = move |ev: web_sys::SubmitEvent| {
        ev.prevent_default();
        let body = match produce_body(
            &key.get_untracked(),
            &value.get_untracked(),
            &headers.get_untracked(),
            &partition.get_untracked(),
            per_line.get_untracked(),
        ) {
            Ok(b) => b,
            Err(why) => {
                result.set(Some(Err(why)));
                return;
            }
        };
        busy.set(true);
        result.set(None);
        let url = format!("/api/kafka/topics/{}/produce", encode(&topic));
        spawn_local(async move {
            let answer = api("POST", &url, Some(&body)).await;
            // The form may be gone (the browser closed) by now.
            busy.try_set(false);
            match answer {
                Ok(answer) => {
                    result.try_set(Some(Ok(produce_summary(&answer))));
                    value.try_set(String::new());
                    kafka.load_topics();
                    // The live tail brings the new messages; otherwise show them.
                    if !matches!(kafka.live.get_untracked(), Live::On | Live::Connecting) {
                        kafka.load_page(None);
                    }
                }
                Err(why) => {
                    result.try_set(Some(Err(why)));
                }
            }
        });
    };
    view! {
        <form class="produce" on:submit=on_submit>
            <h3>"Produce"</h3>
            <div class="produce-fields">
                <label>"key "<input name="key" type="text" spellcheck="false" placeholder="none"
                    prop:value=move || key.get() on:input=move |ev| key.set(event_target_value(&ev)) /></label>
                <label>"partition "<input name="partition" type="number" min="0" step="1" placeholder="any"
                    prop:value=move || partition.get() on:input=move |ev| partition.set(event_target_value(&ev)) /></label>
                <label class="per-line" title="Send every non-empty line as a message of its own">
                    <input name="per-line" type="checkbox" prop:checked=move || per_line.get()
                        on:change=move |ev| per_line.set(event_target_checked(&ev)) />
                    " one message per line"
                </label>
            </div>
            <textarea name="value" rows="4" spellcheck="false" placeholder="value: text or JSON"
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))></textarea>
            <textarea name="headers" rows="2" spellcheck="false" placeholder="headers, one name=value a line (optional)"
                prop:value=move || headers.get() on:input=move |ev| headers.set(event_target_value(&ev))></textarea>
            <div class="produce-actions">
                <button type="submit" class="produce" disabled=move || busy.get()>"Produce"</button>
                {move || result.get().map(|r| match r {
                    Ok(text) => view! { <span class="produce-result" data-state="ok">{text}</span> }.into_any(),
                    Err(why) => view! { <span class="produce-result kafka-error" data-state="failed" role="alert">{why}</span> }.into_any(),
                })}
            </div>
        </form>
    }
}
