//! "Your data": everything the account holds about its owner, downloaded
//! as a JSON file. The export comes through the API client like any call
//! (so its session rules apply), then the browser saves it from a `data:`
//! link made here: nothing else is sent anywhere.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    auth::use_auth,
    components::form::{Announcement, Tone},
};

/// The name the saved file gets.
const FILE_NAME: &str = "account-export.json";

#[component]
pub(super) fn YourData() -> impl IntoView {
    let auth = use_auth();
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);

    let download = move |_| {
        let Some(client) = auth.client() else { return };
        pending.set(true);
        announcement.set(None);
        spawn_local(async move {
            let outcome = client.export_account().await;
            pending.set(false);
            match outcome.map(|export| serde_json::to_string_pretty(&export)) {
                Ok(Ok(json)) => match save(&json) {
                    Ok(()) => announcement.set(Some((
                        Tone::Success,
                        format!("Your data is saved as {FILE_NAME}."),
                    ))),
                    Err(()) => announcement.set(Some((
                        Tone::Error,
                        "The browser did not let the page save the file.".to_owned(),
                    ))),
                },
                Ok(Err(_)) => announcement.set(Some((
                    Tone::Error,
                    "Your data could not be written as a file.".to_owned(),
                ))),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };

    view! {
        <section class="card stack" aria-labelledby="your-data-heading">
            <h2 id="your-data-heading">"Your data"</h2>
            <p>"Download what your account holds: your profile, where you're signed in, your two-step verification settings, your activity, and the people you added. It holds no password, code or key."</p>
            <Announcement message=announcement/>
            <div class="actions">
                <button
                    type="button"
                    class="button secondary"
                    disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()
                    on:click=download
                >
                    {move || if pending.get() { "Preparing…" } else { "Download your data" }}
                </button>
            </div>
        </section>
    }
}

/// Has the browser save `json` as [`FILE_NAME`].
#[cfg(target_arch = "wasm32")]
fn save(json: &str) -> Result<(), ()> {
    use wasm_bindgen::JsCast;

    let link = document()
        .create_element("a")
        .map_err(|_| ())?
        .dyn_into::<web_sys::HtmlElement>()
        .map_err(|_| ())?;
    let href = crate::components::download::data_url("application/json", json);
    link.set_attribute("href", &href).map_err(|_| ())?;
    link.set_attribute("download", FILE_NAME).map_err(|_| ())?;
    link.click();
    Ok(())
}

#[cfg(not(target_arch = "wasm32"))]
fn save(_json: &str) -> Result<(), ()> {
    Err(())
}
