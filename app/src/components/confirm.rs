//! An action that asks before it acts: a button, then in its place a
//! question that names the consequence, with the confirming button focused
//! (so keyboard and screen reader users land on it) and a way back. Used
//! for every deletion the app offers.

use leptos::{html, prelude::*};

#[component]
pub fn ConfirmAction(
    /// Prefix of the question's element ids: unique on the page.
    #[prop(into)]
    id: String,
    /// The first button's text, e.g. "Delete person"; without it, the
    /// caller has its own button that sets `confirming`.
    #[prop(optional, into)]
    ask_label: Option<String>,
    /// The question, e.g. "Delete Ada?".
    #[prop(into)]
    question: Signal<String>,
    /// What happens, said plainly.
    #[prop(into)]
    detail: Signal<String>,
    /// The confirming button's text, e.g. "Yes, delete".
    #[prop(into)]
    confirm_label: String,
    /// Its text while the action runs.
    #[prop(into)]
    pending_label: String,
    /// The way back.
    #[prop(into, default = "Cancel".to_owned())]
    cancel_label: String,
    /// Whether the question is shown; the caller closes it when done.
    confirming: RwSignal<bool>,
    /// Whether the action is running.
    #[prop(into)]
    pending: Signal<bool>,
    on_confirm: Callback<()>,
) -> impl IntoView {
    let confirm_button = NodeRef::<html::Button>::new();
    Effect::new(move |_| {
        if confirming.get() {
            if let Some(button) = confirm_button.get() {
                let _ = button.focus();
            }
        }
    });
    let question_id = format!("{id}-question");
    let detail_id = format!("{id}-detail");

    view! {
        <Show
            when=move || confirming.get()
            fallback=move || {
                ask_label.clone().map(|ask_label| view! {
                    <div class="actions">
                        <button type="button" class="button danger" on:click=move |_| confirming.set(true)>
                            {ask_label}
                        </button>
                    </div>
                })
            }
        >
            <div
                class="confirm stack"
                role="alertdialog"
                aria-labelledby=question_id.clone()
                aria-describedby=detail_id.clone()
            >
                <p id=question_id.clone()><strong>{move || question.get()}</strong></p>
                <p id=detail_id.clone()>{move || detail.get()}</p>
                <div class="actions">
                    <button
                        type="button"
                        class="button danger"
                        node_ref=confirm_button
                        disabled=move || pending.get()
                        aria-busy=move || pending.get().to_string()
                        on:click=move |_| on_confirm.run(())
                    >
                        {
                            let confirm_label = confirm_label.clone();
                            let pending_label = pending_label.clone();
                            move || if pending.get() { pending_label.clone() } else { confirm_label.clone() }
                        }
                    </button>
                    <button
                        type="button"
                        class="button secondary"
                        disabled=move || pending.get()
                        on:click=move |_| confirming.set(false)
                    >
                        {cancel_label.clone()}
                    </button>
                </div>
            </div>
        </Show>
    }
}
