//! Form building blocks: labelled fields that show the shared validation
//! rules' verdict once a field has been visited (or the form submitted),
//! the server's verdict next to the field it concerns, and a submit button
//! that shows when the request is under way.

use leptos::prelude::*;

/// One input's state: its text, whether the user has left it once, and the
/// server's message about it (cleared as soon as the user edits the field).
#[derive(Clone, Copy)]
pub struct Field {
    pub value: RwSignal<String>,
    pub touched: RwSignal<bool>,
    pub server_error: RwSignal<Option<String>>,
}

impl Default for Field {
    fn default() -> Self {
        Self::new()
    }
}

impl Field {
    pub fn new() -> Self {
        Self {
            value: RwSignal::new(String::new()),
            touched: RwSignal::new(false),
            server_error: RwSignal::new(None),
        }
    }

    /// The message to show: the server's, or the rule's once the field has
    /// been visited or the form submitted.
    /// The user left the field. Only a field with something in it is
    /// judged then: an empty one waits for the submit, so that leaving it
    /// for a button next to it (which moves the focus first) does not put
    /// a message above that button and move it from under the pointer.
    pub fn leave(self) {
        if self.value.with_untracked(|value| !value.is_empty()) {
            self.touched.set(true);
        }
    }

    pub fn error(
        self,
        submitted: RwSignal<bool>,
        rule: fn(&str) -> Result<(), &'static str>,
    ) -> Signal<Option<String>> {
        Signal::derive(move || {
            if let Some(message) = self.server_error.get() {
                return Some(message);
            }
            if !(self.touched.get() || submitted.get()) {
                return None;
            }
            self.value
                .with(|value| rule(value).err().map(str::to_owned))
        })
    }
}

#[component]
pub fn TextField(
    /// The input's id and name.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    /// `text`, `email` or `password`.
    #[prop(into, default = "text".to_owned())]
    input_type: String,
    #[prop(into)] autocomplete: String,
    field: Field,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional, into)] hint: Option<String>,
    /// Offer a button that shows the password as text.
    #[prop(optional)]
    revealable: bool,
    /// The keyboard phones show (`numeric`).
    #[prop(default = None)]
    inputmode: Option<&'static str>,
    #[prop(default = None)] pattern: Option<&'static str>,
    #[prop(optional)] class: Option<&'static str>,
    /// Typed as it is: no capitals, no spelling check (codes, keys).
    #[prop(optional)]
    verbatim: bool,
    /// Lets the caller move the focus to the input.
    #[prop(optional)]
    input_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let has_hint = hint.is_some();
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.with(Option::is_some) {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    let revealed = RwSignal::new(false);
    let shown_type = move || {
        if revealable && revealed.get() {
            "text".to_owned()
        } else {
            input_type.clone()
        }
    };

    let input = view! {
        <input
            node_ref=input_ref
            id=id.clone()
            name=id.clone()
            type=shown_type
            class=class
            autocomplete=autocomplete
            inputmode=inputmode
            pattern=pattern
            autocapitalize=verbatim.then_some("none")
            spellcheck=verbatim.then_some("false")
            prop:value=move || field.value.get()
            on:input=move |event| {
                field.value.set(event_target_value(&event));
                field.server_error.set(None);
            }
            on:blur=move |_| field.leave()
            aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
            aria-describedby=described_by
        />
    };

    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            {if revealable {
                view! {
                    <div class="password-row">
                        {input}
                        <button
                            type="button"
                            class="button secondary"
                            aria-controls=id.clone()
                            aria-pressed=move || revealed.get().to_string()
                            on:click=move |_| revealed.update(|shown| *shown = !*shown)
                        >
                            {move || if revealed.get() { "Hide" } else { "Show" }}
                        </button>
                    </div>
                }
                    .into_any()
            } else {
                input.into_any()
            }}
            {move || error.get().map(|message| view! { <p class="error" id=error_id.clone()>{message}</p> })}
        </div>
    }
}

/// A field for a one-time code: the authenticator app's (`numeric`: digits,
/// the number keypad on phones, and `one-time-code` so that the browser may
/// offer a code it knows) or a recovery code (letters and digits, never
/// remembered).
#[component]
pub fn CodeField(
    /// The input's id and name.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    field: Field,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(into)] hint: String,
    numeric: bool,
    #[prop(optional)] input_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    view! {
        <TextField
            id=id
            label=label
            autocomplete=if numeric { "one-time-code" } else { "off" }
            field=field
            error=error
            hint=hint
            inputmode=numeric.then_some("numeric")
            pattern=numeric.then_some("[0-9]*")
            class="code-input"
            verbatim=true
            input_ref=input_ref
        />
    }
}

/// A multi-line text field, labelled and validated like [`TextField`].
#[component]
pub fn TextArea(
    /// The textarea's id and name.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    field: Field,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional, into)] hint: Option<String>,
    #[prop(default = 4)] rows: u32,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let has_hint = hint.is_some();
    let described_by = {
        let error_id = error_id.clone();
        let hint_id = hint_id.clone();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.with(Option::is_some) {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
            <textarea
                id=id.clone()
                name=id
                rows=rows
                prop:value=move || field.value.get()
                on:input=move |event| {
                    field.value.set(event_target_value(&event));
                    field.server_error.set(None);
                }
                on:blur=move |_| field.leave()
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                aria-describedby=described_by
            ></textarea>
            {move || error.get().map(|message| view! { <p class="error" id=error_id.clone()>{message}</p> })}
        </div>
    }
}

/// A checkbox with its label beside it (and an optional hint below).
#[component]
pub fn Checkbox(
    /// The input's id and name.
    #[prop(into)]
    id: String,
    #[prop(into)] label: String,
    checked: RwSignal<bool>,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let described_by = hint.is_some().then(|| hint_id.clone());
    // The attribute is what the server renders; the property follows the
    // signal once the page is live.
    let initially_checked = checked.get_untracked();
    view! {
        <div class="checkbox">
            <input
                type="checkbox"
                id=id.clone()
                name=id.clone()
                checked=initially_checked
                prop:checked=move || checked.get()
                on:change=move |event| checked.set(event_target_checked(&event))
                aria-describedby=described_by
            />
            <label for=id>{label}</label>
            {hint.map(|hint| view! { <p class="hint" id=hint_id>{hint}</p> })}
        </div>
    }
}

/// Whether the page has hydrated: `false` in the server's HTML and until the
/// wasm bundle has taken over, then `true`. A button that needs the app
/// stays disabled until then, so neither a click nor Enter in a field
/// submits a form the browser's way; and the forms say `method="post"`, so
/// even a browser that did would not put their fields in the address.
pub fn use_hydrated() -> Signal<bool> {
    crate::hydration::hydrated()
}

/// A submit button that is disabled, with a spinner, while `pending`; and
/// until the page has hydrated, when it says "Loading…" so that nobody
/// wonders why it does nothing.
#[component]
pub fn SubmitButton(
    #[prop(into)] label: String,
    #[prop(into)] pending_label: String,
    #[prop(into)] pending: Signal<bool>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    let busy = move || pending.get() || !hydrated.get();
    view! {
        <button
            type="submit"
            class="button"
            disabled=busy
            aria-busy=move || busy().to_string()
        >
            {move || busy().then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
            {move || {
                if !hydrated.get() {
                    "Loading…".to_owned()
                } else if pending.get() {
                    pending_label.clone()
                } else {
                    label.clone()
                }
            }}
        </button>
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Error,
    Info,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Self::Success => "banner success",
            Self::Error => "banner error",
            Self::Info => "banner info",
        }
    }
}

/// A message for the whole form or page. The live region is always in the
/// document, so screen readers announce a message when it appears.
#[component]
pub fn Announcement(#[prop(into)] message: Signal<Option<(Tone, String)>>) -> impl IntoView {
    view! {
        <div aria-live="polite" aria-atomic="true">
            {move || {
                message
                    .get()
                    .map(|(tone, text)| {
                        view! {
                            <div class=tone.class() role=if tone == Tone::Error { "alert" } else { "status" }>
                                <p>{text}</p>
                            </div>
                        }
                    })
            }}
        </div>
    }
}
