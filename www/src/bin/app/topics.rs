//! A minimal Kafka topic list: name, partitions, messages. Clicking a topic
//! adds a cell that reads it with `kafka('name')`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::Notebook;

#[derive(Clone, Debug, PartialEq)]
pub struct TopicRow {
    pub name: String,
    pub partitions: u64,
    pub messages: u64,
}

#[derive(Clone, Debug, PartialEq)]
enum Topics {
    Loading,
    Ready(Vec<TopicRow>),
    Failed(String),
}

/// The cell a click on a topic adds.
pub fn topic_cell(name: &str) -> String {
    format!(
        "SELECT CAST(key AS STRING) AS key, CAST(value AS STRING) AS value, topic, partition, offset, timestamp\n\
         FROM kafka('{}')",
        name.replace('\'', "''")
    )
}

async fn fetch_topics() -> Topics {
    let failed = |why: String| Topics::Failed(why);
    let response = match JsFuture::from(window().fetch_with_str("/api/kafka/topics")).await {
        Ok(r) => r.unchecked_into::<web_sys::Response>(),
        Err(_) => return failed("the gateway did not answer".into()),
    };
    let text = match response.text() {
        Ok(p) => JsFuture::from(p).await.ok().and_then(|t| t.as_string()).unwrap_or_default(),
        Err(_) => String::new(),
    };
    let body: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    if !response.ok() {
        return failed(body["error"].as_str().map(str::to_string).unwrap_or(text));
    }
    let rows = body["topics"]
        .as_array()
        .map(|topics| {
            topics
                .iter()
                .map(|t| TopicRow {
                    name: t["name"].as_str().unwrap_or_default().to_string(),
                    partitions: t["partitions"].as_u64().unwrap_or_default(),
                    messages: t["messages"].as_u64().unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    Topics::Ready(rows)
}

#[component]
pub fn TopicList() -> impl IntoView {
    let notebook = expect_context::<Notebook>();
    let topics = RwSignal::new(Topics::Loading);
    let load = move || {
        topics.set(Topics::Loading);
        spawn_local(async move { topics.set(fetch_topics().await) });
    };
    load();
    let add_cell = move |name: String| {
        let at = notebook.cells.with_untracked(Vec::len);
        let index = notebook.insert_with(at, &topic_cell(&name));
        crate::focus_cell(index);
    };
    view! {
        <section id="kafka-topics">
            <div class="aside-head">
                <h2>"Kafka topics"</h2>
                <button class="refresh" title="Refresh" on:click=move |_| load()>"↻"</button>
            </div>
            {move || match topics.get() {
                Topics::Loading => view! { <p class="muted">"loading…"</p> }.into_any(),
                Topics::Failed(why) => view! { <p class="kafka-error">{why}</p> }.into_any(),
                Topics::Ready(rows) if rows.is_empty() => {
                    view! { <p class="muted">"no topics yet"</p> }.into_any()
                }
                Topics::Ready(rows) => view! {
                    <table class="topics">
                        <thead><tr><th>"topic"</th><th>"partitions"</th><th>"messages"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|t| {
                                let name = t.name.clone();
                                let label = t.name.clone();
                                view! {
                                    <tr class="topic" data-topic=t.name.clone() title="Add a cell that reads this topic"
                                        on:click=move |_| add_cell(name.clone())>
                                        <td class="name">{label}</td>
                                        <td class="num">{t.partitions}</td>
                                        <td class="num">{riffle::protocol::thousands(t.messages)}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}
