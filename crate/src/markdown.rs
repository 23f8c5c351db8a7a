//! Markdown cells: CommonMark (with tables and strikethrough) to HTML that is
//! safe to put in the page. Raw HTML in the source is shown as text, never
//! parsed, and links or images may only use http(s), mailto, relative or
//! fragment URLs, so a notebook cannot run script in the reader's page.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Renders `source` to sanitised HTML.
pub fn to_html(source: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(source, options).map(|event| match event {
        // Raw HTML becomes text: escaped on output, so `<script>` shows as written.
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: safe_url(dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: safe_url(dest_url), title, id })
        }
        other => other,
    });
    let mut out = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// Keeps URLs with a harmless scheme (or none); anything else becomes `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    // Browsers ignore control characters and spaces inside a scheme ("java\tscript:").
    let squeezed: String = url.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
    let lower = squeezed.to_ascii_lowercase();
    let scheme = lower.split_once(':').map(|(s, _)| s).filter(|s| !s.contains(['/', '?', '#']));
    match scheme {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn renders_commonmark() {
        let html = to_html(
            "# Revenue\n\nBy **zone**, see [docs](https://example.org/x).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        assert!(html.contains("<h1>Revenue</h1>"), "{html}");
        assert!(html.contains("<strong>zone</strong>"), "{html}");
        assert!(html.contains(r#"<a href="https://example.org/x">docs</a>"#), "{html}");
        assert!(html.contains("<table>") && html.contains("<td>2</td>"), "{html}");
    }

    #[test]
    fn raw_html_is_text_and_script_urls_are_dropped() {
        let html = to_html("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> there\n");
        assert!(!html.contains("<script") && !html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{html}");
        for evil in
            ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\tscript:alert(1)", "data:text/html,hi", "vbscript:x"]
        {
            let html = to_html(&format!("[x](<{evil}>) ![y](<{evil}>)"));
            assert!(html.contains(r##"href="#""##) && html.contains(r##"src="#""##), "{evil}: {html}");
        }
        for fine in ["https://a.b/c", "mailto:a@b.c", "docs/readme.md", "#top", "a/b:c"] {
            let html = to_html(&format!("[x]({fine})"));
            assert!(!html.contains(r##"href="#""##) || fine == "#top", "{fine}: {html}");
        }
    }
}
