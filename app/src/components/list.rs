//! Building blocks of searchable, paged lists: a search box that searches
//! as the user types (after a short pause), and the buttons that page
//! through the results with the API's cursors.

use std::time::Duration;

use leptos::prelude::*;

/// How long typing must pause before the list is searched.
pub const SEARCH_DEBOUNCE: Duration = Duration::from_millis(250);

/// Where a list is: its search and the cursors of the pages seen so far.
#[derive(Clone, Copy)]
pub struct ListPosition {
    /// The search as last sent (after the pause in typing).
    pub query: RwSignal<String>,
    /// The cursor of every page from the first (`None`) to the current one.
    pub cursors: RwSignal<Vec<Option<String>>>,
    /// The cursor of the page after this one, when there is one.
    pub next_cursor: RwSignal<Option<String>>,
}

impl Default for ListPosition {
    fn default() -> Self {
        Self::new()
    }
}

impl ListPosition {
    pub fn new() -> Self {
        Self {
            query: RwSignal::new(String::new()),
            cursors: RwSignal::new(vec![None]),
            next_cursor: RwSignal::new(None),
        }
    }

    /// The search to send: trimmed, `None` when blank.
    pub fn search(&self) -> Option<String> {
        self.query.with(|query| {
            let query = query.trim();
            (!query.is_empty()).then(|| query.to_owned())
        })
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
            self.query.set(query);
            self.cursors.set(vec![None]);
        }
    }
}

/// A labelled search field that updates `position` once typing pauses.
#[component]
pub fn SearchBox(
    #[prop(into)] id: String,
    #[prop(into)] label: String,
    #[prop(into)] hint: String,
    position: ListPosition,
) -> impl IntoView {
    let pending = StoredValue::new(None::<TimeoutHandle>);
    let hint_id = format!("{id}-hint");
    let on_input = move |event: leptos::ev::Event| {
        let text = event_target_value(&event);
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        let handle =
            set_timeout_with_handle(move || position.set_query(text), SEARCH_DEBOUNCE).ok();
        pending.set_value(handle);
    };
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
                    id=id.clone()
                    name=id
                    type="search"
                    autocomplete="off"
                    aria-describedby=hint_id
                    on:input=on_input
                />
            </div>
        </form>
    }
}

/// "Previous page" and "Next page", and where the user is.
#[component]
pub fn Pager(position: ListPosition, #[prop(into)] loading: Signal<bool>) -> impl IntoView {
    let previous = move |_| {
        position.cursors.update(|cursors| {
            if cursors.len() > 1 {
                cursors.pop();
            }
        });
    };
    let next = move |_| {
        if let Some(cursor) = position.next_cursor.get_untracked() {
            position
                .cursors
                .update(|cursors| cursors.push(Some(cursor)));
        }
    };
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
