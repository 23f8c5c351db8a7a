//! A small SVG writer: elements with escaped attributes and text, numbers
//! written short and the same on every platform.

use std::fmt::Write as _;

/// The font the chart's text is set in (and measured for, roughly).
pub const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

pub struct Svg {
    out: String,
    open: Vec<&'static str>,
}

impl Svg {
    /// An `<svg>` of a fixed size that scales (it has a viewBox).
    pub fn new(width: f64, height: f64, label: &str) -> Svg {
        let mut svg = Svg { out: String::new(), open: Vec::new() };
        let (w, h) = (num(width), num(height));
        svg.open(
            "svg",
            &[
                ("xmlns", "http://www.w3.org/2000/svg"),
                ("class", "riffle-chart"),
                ("width", &w),
                ("height", &h),
                ("viewBox", &format!("0 0 {w} {h}")),
                ("role", "img"),
                ("aria-label", label),
                ("font-family", FONT),
                ("font-size", "11"),
                ("fill", "currentColor"),
            ],
        );
        svg
    }

    fn start(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attrs {
            let _ = write!(self.out, " {name}=\"{}\"", escape(value));
        }
    }

    /// Opens an element that [`Svg::close`] ends.
    pub fn open(&mut self, tag: &'static str, attrs: &[(&str, &str)]) {
        self.start(tag, attrs);
        self.out.push_str(">\n");
        self.open.push(tag);
    }

    pub fn close(&mut self) {
        if let Some(tag) = self.open.pop() {
            let _ = writeln!(self.out, "</{tag}>");
        }
    }

    /// An element with no content.
    pub fn empty(&mut self, tag: &str, attrs: &[(&str, &str)]) {
        self.start(tag, attrs);
        self.out.push_str("/>\n");
    }

    /// An element with text content (escaped).
    pub fn text(&mut self, tag: &str, attrs: &[(&str, &str)], text: &str) {
        self.start(tag, attrs);
        let _ = writeln!(self.out, ">{}</{tag}>", escape(text));
    }

    /// An element whose only child is a `<title>` (a tooltip).
    pub fn with_tooltip(&mut self, tag: &str, attrs: &[(&str, &str)], tooltip: &str) {
        self.start(tag, attrs);
        let _ = writeln!(self.out, "><title>{}</title></{tag}>", escape(tooltip));
    }

    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        self.out
    }
}

/// Text for XML: the five special characters escaped, and characters XML
/// does not allow (most control characters) dropped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with at most two decimals and no trailing zeros.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".into();
    }
    let rounded = (v * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.to_string() }
}

/// The width of `text` at `size` px in a sans-serif font, estimated from
/// character classes (no font file is read: the browser picks the font).
pub fn text_width(text: &str, size: f64) -> f64 {
    let em: f64 = text
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '\'' | '|' | '!' | ' ' => 0.28,
            'f' | 't' | 'r' | 'I' | '(' | ')' | '[' | ']' | '-' | '/' => 0.36,
            'm' | 'w' | 'M' | 'W' | '@' | '%' => 0.86,
            'A'..='Z' | '&' | '#' => 0.66,
            '0'..='9' => 0.56,
            c if c.is_ascii() => 0.52,
            _ => 0.9,
        })
        .sum();
    em * size
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_numbers() {
        assert_eq!(escape(r#"a<b & "c" 'd'>"#), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
        assert_eq!(escape("bell\u{7}"), "bell");
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert!(text_width("MMMM", 10.0) > text_width("iiii", 10.0));
    }

    #[test]
    fn writes_nested_elements() {
        let mut svg = Svg::new(10.0, 5.0, "a <chart>");
        svg.open("g", &[("class", "x")]);
        svg.text("text", &[("x", "1")], "Q&A");
        svg.empty("rect", &[("width", "2")]);
        let out = svg.finish();
        assert!(out.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{out}");
        assert!(out.contains("aria-label=\"a &lt;chart&gt;\""), "{out}");
        assert!(out.contains("<text x=\"1\">Q&amp;A</text>"), "{out}");
        assert!(out.trim_end().ends_with("</g>\n</svg>"), "{out}");
    }
}
