//! Recovery codes just made, shown this once, with the ways people keep
//! them: copied into a password manager, or saved as a file (to print).
//! The file is a `data:` link made here, so nothing is sent anywhere and it
//! works before the page has hydrated; copying needs the browser's
//! clipboard, and says so when it is refused.

use leptos::{html, prelude::*};

use crate::components::{
    download::data_url,
    form::{Announcement, Tone},
};

/// The name the saved file gets.
const FILE_NAME: &str = "recovery-codes.txt";

#[component]
pub(super) fn RecoveryCodeList(codes: Vec<String>, done: Callback<()>) -> impl IntoView {
    let heading = NodeRef::<html::H3>::new();
    Effect::new(move |_| {
        if let Some(heading) = heading.get() {
            let _ = heading.focus();
        }
    });
    let text = as_text(&codes);
    let download = data_url("text/plain", &text);
    let copied = RwSignal::new(None::<(Tone, String)>);
    let copy = move |_| {
        let text = text.clone();
        leptos::task::spawn_local(async move {
            copied.set(Some(match copy_to_clipboard(&text).await {
                Ok(()) => (Tone::Success, "The codes are copied.".to_owned()),
                Err(()) => (
                    Tone::Error,
                    "The browser did not let the page copy: select the codes and copy them, or save them as a file.".to_owned(),
                ),
            }));
        });
    };

    view! {
        <div class="stack">
            <h3 tabindex="-1" node_ref=heading>"Save your recovery codes"</h3>
            <p>"If you lose your phone, each of these codes signs you in once instead of a code from the app. Keep them somewhere safe, such as a password manager or on paper: they are shown only now."</p>
            <ol class="recovery-codes" aria-label="Recovery codes">
                {codes.into_iter().map(|code| view! { <li><code>{code}</code></li> }).collect_view()}
            </ol>
            <Announcement message=copied/>
            <div class="actions">
                <button type="button" class="button secondary" on:click=copy>"Copy the codes"</button>
                <a class="button secondary" href=download download=FILE_NAME>"Save as a file"</a>
                <button type="button" class="button" on:click=move |_| done.run(())>"Done"</button>
            </div>
        </div>
    }
    .into_any()
}

/// The codes as the file and the clipboard get them: one per line, under a
/// line that says what they are.
fn as_text(codes: &[String]) -> String {
    let mut text = String::from("Recovery codes: each one signs you in once instead of a code from your authenticator app.\n\n");
    for code in codes {
        text.push_str(code);
        text.push('\n');
    }
    text
}

#[cfg(target_arch = "wasm32")]
async fn copy_to_clipboard(text: &str) -> Result<(), ()> {
    let promise = window().navigator().clipboard().write_text(text);
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|_| ())
}

#[cfg(not(target_arch = "wasm32"))]
async fn copy_to_clipboard(_text: &str) -> Result<(), ()> {
    Err(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_holds_one_code_per_line() {
        let text = as_text(&["aaaa-bbbb".to_owned(), "cccc-dddd".to_owned()]);
        assert!(text.ends_with("\n\naaaa-bbbb\ncccc-dddd\n"));
    }
}
