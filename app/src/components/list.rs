//! Building blocks of searchable, paged lists: a search box that searches
//! as the user types (after a short pause), and the buttons that page
//! through the results with the API's cursors.

use std::time::Duration;

use leptos::prelude::*;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    params::ParamsMap,
    NavigateOptions,
};

/// How long typing must pause before the list is searched.
pub const SEARCH_DEBOUNCE: Duration = Duration::from_millis(250);

/// Where a list is: its search and the cursors of the pages seen so far,
/// kept in the address (`?q=…&pages=<cursor>.<cursor>…`) so that a reload,
/// the browser's back and forward buttons, and a shared link show the same
/// list. A new search replaces the address (typing is not history); a new
/// page pushes one, so that back returns to the page before.
#[derive(Clone, Copy)]
pub struct ListPosition {
    /// The search as last sent (after the pause in typing).
    query: Memo<String>,
    /// The cursor of every page from the first (`None`) to the current one.
    cursors: Memo<Vec<Option<String>>>,
    /// The cursor of the page after this one, when there is one.
    pub next_cursor: RwSignal<Option<String>>,
    go: StoredValue<Navigate, LocalStorage>,
}

type Navigate = std::rc::Rc<dyn Fn(&str, NavigateOptions)>;

/// The query parameters the position uses.
const QUERY: &str = "q";
const PAGES: &str = "pages";

impl Default for ListPosition {
    fn default() -> Self {
        Self::new()
    }
}

impl ListPosition {
    /// Reads the position from the address of the page it is made on.
    pub fn new() -> Self {
        let params = use_query_map();
        let navigate = use_navigate();
        Self {
            query: Memo::new(move |_| params.with(|params| params.get(QUERY).unwrap_or_default())),
            cursors: Memo::new(move |_| {
                params.with(|params| cursors_from(params.get(PAGES).as_deref()))
            }),
            next_cursor: RwSignal::new(None),
            go: StoredValue::new_local(std::rc::Rc::new(navigate)),
        }
    }

    /// The search to send: trimmed, `None` when blank.
    pub fn search(&self) -> Option<String> {
        self.query.with(|query| {
            let query = query.trim();
            (!query.is_empty()).then(|| query.to_owned())
        })
    }

    /// The search as typed, for the search box.
    pub fn typed(&self) -> String {
        self.query.get_untracked()
    }

    /// The cursor of the page on show.
    pub fn cursor(&self) -> Option<String> {
        self.cursors
            .with(|cursors| cursors.last().cloned().flatten())
    }

    pub fn page_number(&self) -> usize {
        self.cursors.with(Vec::len)
    }

    /// A new search starts again from the first page.
    pub fn set_query(&self, query: String) {
        if self
            .query
            .with_untracked(|current| current.trim() != query.trim())
        {
            self.visit(&query, &[], true);
        }
    }

    fn next_page(&self) {
        if let Some(cursor) = self.next_cursor.get_untracked() {
            let mut pages = self.pages();
            pages.push(cursor);
            self.visit(&self.query.get_untracked(), &pages, false);
        }
    }

    fn previous_page(&self) {
        let mut pages = self.pages();
        if pages.pop().is_some() {
            self.visit(&self.query.get_untracked(), &pages, false);
        }
    }

    /// The cursors after the first page's.
    fn pages(&self) -> Vec<String> {
        self.cursors.get_untracked().into_iter().flatten().collect()
    }

    fn visit(&self, query: &str, pages: &[String], replace: bool) {
        let target = address(&use_location_path(), query, pages);
        let go = self.go.get_value();
        go(
            &target,
            NavigateOptions {
                replace,
                // The list stays where it is on the page.
                scroll: false,
                ..Default::default()
            },
        );
    }
}

/// The current path, without its query.
fn use_location_path() -> String {
    leptos_router::hooks::use_location()
        .pathname
        .get_untracked()
}

/// `path` with the list's parameters; none for the first page of no search.
fn address(path: &str, query: &str, pages: &[String]) -> String {
    let mut params = ParamsMap::new();
    if !query.trim().is_empty() {
        params.insert(QUERY, query.to_owned());
    }
    if !pages.is_empty() {
        params.insert(PAGES, pages.join("."));
    }
    format!("{path}{}", params.to_query_string())
}

/// The page cursors named in the address, after the first page's. Cursors
/// are URL-safe base64 (the server's), joined by dots; anything else is
/// not one (a hand-edited address), and the list starts at its first page.
fn cursors_from(pages: Option<&str>) -> Vec<Option<String>> {
    let mut cursors = vec![None];
    let Some(pages) = pages.filter(|pages| !pages.is_empty()) else {
        return cursors;
    };
    let valid = pages.split('.').all(|cursor| {
        !cursor.is_empty()
            && cursor
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_'))
    });
    if valid {
        cursors.extend(pages.split('.').map(|cursor| Some(cursor.to_owned())));
    }
    cursors
}

/// A labelled search field that updates `position` once typing pauses.
/// When the search changes otherwise (back and forward), the field
/// follows, unless the user is typing.
#[component]
pub fn SearchBox(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(into)] hint: String,
    position: ListPosition,
) -> impl IntoView {
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let input = NodeRef::<leptos::html::Input>::new();
    let hint_id = format!("{id}-hint");
    let on_input = move |event: leptos::ev::Event| {
        let text = event_target_value(&event);
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle = set_timeout_with_handle(
            move || {
                pending.set_value(None);
                position.set_query(text);
            },
            SEARCH_DEBOUNCE,
        )
        .ok();
        pending.set_value(handle);
    };
    Effect::new(move |_| {
        let query = position.query.get();
        let Some(input) = input.get() else { return };
        if pending.with_value(Option::is_none) && input.value().trim() != query.trim() {
            input.set_value(&query);
        }
    });
    // Enter searches at once instead of submitting anything.
    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
    };
    view! {
        <form class="search" role="search" on:submit=on_submit>
            <div class="field">
                <label for=id.clone()>{label}</label>
                <p class="hint" id=hint_id.clone()>{hint}</p>
                <input
                    node_ref=input
                    id=id.clone()
                    name=id
                    type="search"
                    autocomplete="off"
                    aria-describedby=hint_id
                    value=position.typed()
                    on:input=on_input
                />
            </div>
        </form>
    }
}

/// "Previous page" and "Next page", and where the user is.
#[component]
pub fn Pager(position: ListPosition, #[prop(into)] loading: Signal<bool>) -> impl IntoView {
    let previous = move |_| position.previous_page();
    let next = move |_| position.next_page();
    view! {
        <nav class="pager" aria-label="Pages">
            <button
                type="button"
                class="button secondary"
                disabled=move || loading.get() || position.page_number() <= 1
                on:click=previous
            >
                "Previous page"
            </button>
            <span class="meta" data-testid="page-number">{move || format!("Page {}", position.page_number())}</span>
            <button
                type="button"
                class="button secondary"
                disabled=move || loading.get() || position.next_cursor.with(Option::is_none)
                on:click=next
            >
                "Next page"
            </button>
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_address_holds_the_search_and_the_pages() {
        assert_eq!(address("/people", "", &[]), "/people");
        assert_eq!(address("/people", "  ", &[]), "/people");
        // The server escapes more than the browser (`.`, `-`, `_`): both
        // read back the same.
        let shared = address("/people", "ann & co", &["abc".into(), "d-e_f".into()])
            .replace("%2E", ".")
            .replace("%2D", "-")
            .replace("%5F", "_");
        assert_eq!(shared, "/people?q=ann%20%26%20co&pages=abc.d-e_f");
    }

    #[test]
    fn pages_come_back_from_the_address_or_not_at_all() {
        assert_eq!(cursors_from(None), vec![None]);
        assert_eq!(cursors_from(Some("")), vec![None]);
        assert_eq!(
            cursors_from(Some("abc.d-e_f")),
            vec![None, Some("abc".into()), Some("d-e_f".into())]
        );
        assert_eq!(cursors_from(Some("abc..def")), vec![None]);
        assert_eq!(cursors_from(Some("a/b")), vec![None]);
    }
}
