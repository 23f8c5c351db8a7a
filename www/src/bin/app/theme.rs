//! Light and dark: the page follows the system's preference until the user
//! picks one, which is remembered.

use leptos::prelude::*;

const KEY: &str = "riffle.theme";

#[derive(Clone, Copy)]
pub struct Theme {
    pub dark: RwSignal<bool>,
}

impl Theme {
    pub fn start() -> Theme {
        let stored = window().local_storage().ok().flatten().and_then(|s| s.get_item(KEY).ok().flatten());
        let dark = match stored.as_deref() {
            Some("dark") => true,
            Some("light") => false,
            _ => window().match_media("(prefers-color-scheme: dark)").ok().flatten().is_some_and(|m| m.matches()),
        };
        let theme = Theme { dark: RwSignal::new(dark) };
        Effect::new(move |_| {
            let name = if theme.dark.get() { "dark" } else { "light" };
            if let Some(root) = document().document_element() {
                let _ = root.set_attribute("data-theme", name);
            }
        });
        theme
    }

    pub fn toggle(&self) {
        self.dark.update(|d| *d = !*d);
        let name = if self.dark.get_untracked() { "dark" } else { "light" };
        if let Some(storage) = window().local_storage().ok().flatten() {
            let _ = storage.set_item(KEY, name);
        }
    }

    pub fn other(&self) -> &'static str {
        if self.dark.get() { "light" } else { "dark" }
    }
}
