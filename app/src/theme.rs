//! The colour theme: System (the operating system's preference), Light or
//! Dark, chosen in the header and kept in `localStorage`.
//!
//! The choice is applied as `data-theme` on `<html>`, which the stylesheet
//! honours; System removes the attribute so that `prefers-color-scheme`
//! decides. [`INLINE_SCRIPT`] applies the stored choice while the page is
//! still being parsed, so a reload never flashes the other theme before
//! the wasm bundle has loaded; once hydrated, [`ThemeSelect`] changes it and
//! follows changes made in other tabs.

use leptos::prelude::*;

/// The `localStorage` key. gloo-storage stores the value as JSON, so a
/// choice reads `"light"` or `"dark"` (quotes included); System is no key.
pub const STORAGE_KEY: &str = "theme";

/// Runs in `<head>` before the stylesheet: sets `data-theme` on `<html>`
/// from the stored choice. Anything unreadable (no storage, a malformed
/// value) leaves System. The shell gives it the response's CSP nonce.
pub const INLINE_SCRIPT: &str = r#"try{let t=JSON.parse(localStorage.getItem("theme"));if(t==="light"||t==="dark")document.documentElement.dataset.theme=t}catch(e){}"#;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// The `<option>` value and the `data-theme` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Light => "light",
            Self::Dark => "dark",
        }
    }

    /// Unknown values are System.
    pub fn parse(value: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|theme| theme.as_str() == value)
            .unwrap_or_default()
    }
}

/// The theme picker in the header: a labelled `<select>`. The server renders
/// System; once hydrated it shows the stored choice.
#[component]
pub fn ThemeSelect() -> impl IntoView {
    let theme = RwSignal::new(Theme::System);
    #[cfg(target_arch = "wasm32")]
    browser::start(theme);

    let choose = move |event| {
        let chosen = Theme::parse(&event_target_value(&event));
        theme.set(chosen);
        #[cfg(target_arch = "wasm32")]
        browser::store(chosen);
    };

    view! {
        <label class="theme-picker">
            <span>"Theme"</span>
            // The values are Theme::as_str.
            <select on:change=choose prop:value=move || theme.get().as_str()>
                <option value="system">"System"</option>
                <option value="light">"Light"</option>
                <option value="dark">"Dark"</option>
            </select>
        </label>
    }
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use gloo_storage::{LocalStorage, Storage as _};
    use leptos::prelude::*;

    use super::{Theme, STORAGE_KEY};

    pub fn start(theme: RwSignal<Theme>) {
        // Effects run after hydration, so the first render matches the
        // server's; the inline script has already applied the choice.
        Effect::new(move |_| follow_storage(theme));

        // Another tab changed (or cleared) the stored choice. The tab that
        // made the change has applied it already and gets no event.
        let listener = window_event_listener(leptos::ev::storage, move |event| {
            if event.key().is_none_or(|key| key == STORAGE_KEY) {
                follow_storage(theme);
            }
        });
        on_cleanup(move || listener.remove());
    }

    /// Applies `theme` here and keeps it for the next visit and other tabs.
    pub fn store(theme: Theme) {
        apply(theme);
        if !has_storage() {
            return;
        }
        match theme {
            Theme::System => LocalStorage::delete(STORAGE_KEY),
            // A full or refused storage only means the choice is not kept.
            theme => {
                let _ = LocalStorage::set(STORAGE_KEY, theme.as_str());
            }
        }
    }

    fn follow_storage(theme: RwSignal<Theme>) {
        let chosen = stored();
        apply(chosen);
        theme.set(chosen);
    }

    fn stored() -> Theme {
        if !has_storage() {
            return Theme::System;
        }
        LocalStorage::get::<String>(STORAGE_KEY)
            .map(|value| Theme::parse(&value))
            .unwrap_or_default()
    }

    /// gloo-storage throws when the page may not use localStorage (a
    /// browser setting, a sandboxed frame): ask first.
    fn has_storage() -> bool {
        matches!(window().local_storage(), Ok(Some(_)))
    }

    fn apply(theme: Theme) {
        let Some(root) = document().document_element() else {
            return;
        };
        let _ = match theme {
            Theme::System => root.remove_attribute("data-theme"),
            theme => root.set_attribute("data-theme", theme.as_str()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip() {
        for theme in Theme::ALL {
            assert_eq!(Theme::parse(theme.as_str()), theme);
        }
        assert_eq!(Theme::parse("sepia"), Theme::System);
    }

    /// The inline script reads what gloo-storage writes: the option value
    /// as a JSON string under STORAGE_KEY.
    #[test]
    fn the_inline_script_reads_the_stored_form() {
        assert!(INLINE_SCRIPT.contains(&format!("localStorage.getItem({STORAGE_KEY:?})")));
        for theme in [Theme::Light, Theme::Dark] {
            let stored = serde_json::to_string(theme.as_str()).unwrap();
            assert!(INLINE_SCRIPT.contains(&format!("t==={stored}")));
        }
    }

    /// Script text is not escaped by the HTML parser: it must not be able
    /// to close its own element.
    #[test]
    fn the_inline_script_cannot_end_its_element() {
        assert!(!INLINE_SCRIPT.contains('<'));
    }
}
