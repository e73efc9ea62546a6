//! The account's passkeys: the list (name, when added and last used,
//! synced or on one device only), adding one (named after the device,
//! which the user may change), renaming and removing. Adding and removing
//! are sensitive (the client may ask "Confirm it's you" first) and sign
//! every other device out. A browser without WebAuthn shows none of it.

use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{
        passkeys::{
            passkey_name, AddPasskeyRequest, Passkey, RenamePasskeyRequest, PASSKEY_NAME_MAX,
        },
        values::PasskeyId,
    },
    api_client::ClientError,
    auth::{use_auth, webauthn},
    components::{
        confirm::ConfirmAction,
        form::{use_hydrated, Announcement, Field, SubmitButton, TextField, Tone},
        layout::Loading,
        time::LocalTime,
    },
};

fn check_passkey_name(value: &str) -> Result<(), &'static str> {
    passkey_name(value)
        .map(|_| ())
        .ok_or("Give the passkey a name of 1 to 64 characters.")
}

#[component]
pub(super) fn PasskeySettings(
    /// Bumped after a change, which signs the other devices out.
    sessions_changed: RwSignal<u32>,
) -> impl IntoView {
    let hydrated = use_hydrated();
    view! {
        <Show when=move || hydrated.get() && webauthn::supported()>
            <Passkeys sessions_changed=sessions_changed/>
        </Show>
    }
}

#[component]
fn Passkeys(sessions_changed: RwSignal<u32>) -> impl IntoView {
    let auth = use_auth();
    let list = RwSignal::new(None::<Vec<Passkey>>);
    let announcement = RwSignal::new(None::<(Tone, String)>);

    let load = move || {
        let Some(client) = auth.client() else { return };
        spawn_local(async move {
            match client.my_passkeys().await {
                Ok(answer) => list.set(Some(answer.passkeys)),
                Err(error) => announcement.set(Some((Tone::Error, error.message()))),
            }
        });
    };
    Effect::new(move |_| load());
    let fail = Callback::new(move |error: ClientError| {
        let tone = if error == ClientError::ReauthenticationCancelled {
            Tone::Info
        } else {
            Tone::Error
        };
        announcement.set(Some((tone, error.message())));
    });
    let changed = Callback::new(move |text: String| {
        announcement.set(Some((Tone::Success, text)));
        sessions_changed.update(|count| *count += 1);
        load();
    });

    let rows = move || {
        list.get().map(|passkeys| {
            if passkeys.is_empty() {
                return view! {
                    <p>"No passkeys yet. A passkey signs you in with your device's screen lock or a security key, with no password to type or steal."</p>
                }
                .into_any();
            }
            view! {
                <ul class="passkey-list" aria-label="Your passkeys">
                    {passkeys
                        .into_iter()
                        .map(|passkey| view! { <PasskeyRow passkey=passkey list=list announcement=announcement changed=changed fail=fail/> })
                        .collect_view()}
                </ul>
            }
            .into_any()
        })
    };

    view! {
        <section class="card stack" aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">"Passkeys"</h2>
            <Announcement message=announcement/>
            {move || match list.with(Option::is_some) {
                false => view! { <Loading label="Loading your passkeys…"/> }.into_any(),
                true => rows().into_any(),
            }}
            <AddPasskey changed=changed fail=fail announcement=announcement/>
        </section>
    }
}

#[component]
fn PasskeyRow(
    passkey: Passkey,
    list: RwSignal<Option<Vec<Passkey>>>,
    announcement: RwSignal<Option<(Tone, String)>>,
    changed: Callback<String>,
    fail: Callback<ClientError>,
) -> impl IntoView {
    let auth = use_auth();
    let id: PasskeyId = passkey.id;
    let name = passkey.name.clone();
    let renaming = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let removing = RwSignal::new(false);

    let remove = Callback::new(move |()| {
        let Some(client) = auth.client() else { return };
        removing.set(true);
        spawn_local(async move {
            let outcome = client.remove_passkey(id).await;
            removing.set(false);
            confirming.set(false);
            match outcome {
                Ok(()) => changed.run(
                    "Passkey removed: it no longer signs you in. Every other device has been signed out."
                        .into(),
                ),
                Err(error) => fail.run(error),
            }
        });
    });
    let question = format!("Remove the passkey \u{201c}{name}\u{201d}?");
    let label = StoredValue::new(name.clone());

    view! {
        <li class="passkey stack" data-testid="passkey">
            <p class="passkey-name"><strong>{name.clone()}</strong></p>
            <p class="meta">
                "Added " <LocalTime at=passkey.created_at.clone()/> ". "
                {match passkey.last_used_at.clone() {
                    Some(at) => view! { "Last used " <LocalTime at=at/> "." }.into_any(),
                    None => view! { "Not used yet." }.into_any(),
                }}
                " "
                {if passkey.backed_up { "Synced to your other devices." } else { "On this device or key only." }}
            </p>
            <Show
                when=move || renaming.get()
                fallback=move || view! {
                    <Show when=move || !confirming.get()>
                        <div class="actions">
                            <button
                                type="button"
                                class="button secondary"
                                aria-label=move || format!("Rename {}", label.get_value())
                                on:click=move |_| {
                                    announcement.set(None);
                                    renaming.set(true);
                                }
                            >
                                "Rename"
                            </button>
                            <button
                                type="button"
                                class="button danger"
                                aria-label=move || format!("Remove {}", label.get_value())
                                on:click=move |_| {
                                    announcement.set(None);
                                    confirming.set(true);
                                }
                            >
                                "Remove"
                            </button>
                        </div>
                    </Show>
                }
            >
                <RenameForm id=id current=name.clone() list=list renaming=renaming announcement=announcement/>
            </Show>
            <ConfirmAction
                id=format!("remove-passkey-{id}")
                question=question.clone()
                detail="You will no longer be able to sign in with it, and every other device will be signed out.".to_owned()
                confirm_label="Yes, remove it"
                pending_label="Removing…"
                confirming=confirming
                pending=removing
                on_confirm=remove
            />
        </li>
    }
}

#[component]
fn RenameForm(
    id: PasskeyId,
    current: String,
    list: RwSignal<Option<Vec<Passkey>>>,
    renaming: RwSignal<bool>,
    announcement: RwSignal<Option<(Tone, String)>>,
) -> impl IntoView {
    let auth = use_auth();
    let field = Field::new();
    field.value.set(current);
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let error = field.error(submitted, check_passkey_name);
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
            input.select();
        }
    });

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        if error.get_untracked().is_some() {
            return;
        }
        let Some(client) = auth.client() else { return };
        let request = RenamePasskeyRequest {
            name: field.value.get_untracked(),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = client.rename_passkey(id, &request).await;
            pending.set(false);
            match outcome {
                Ok(renamed) => {
                    list.update(|list| {
                        if let Some(row) = list.iter_mut().flatten().find(|row| row.id == id) {
                            *row = renamed;
                        }
                    });
                    renaming.set(false);
                    announcement.set(Some((Tone::Success, "Passkey renamed.".into())));
                }
                Err(problem) => {
                    field.server_error.set(problem.field_message("name"));
                    announcement.set(Some((Tone::Error, problem.message())));
                }
            }
        });
    };
    let field_id = format!("passkey-name-{id}");

    view! {
        <form class="form" method="post" novalidate=true on:submit=on_submit>
            <TextField id=field_id label="New name" autocomplete="off" field=field error=error input_ref=input/>
            <div class="actions">
                <SubmitButton label="Save name" pending_label="Saving…" pending=pending/>
                <button type="button" class="button secondary" on:click=move |_| renaming.set(false)>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
fn AddPasskey(
    changed: Callback<String>,
    fail: Callback<ClientError>,
    announcement: RwSignal<Option<(Tone, String)>>,
) -> impl IntoView {
    let auth = use_auth();
    let name = Field::new();
    name.value.set(webauthn::suggested_name());
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let error = name.error(submitted, check_passkey_name);

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        if error.get_untracked().is_some() {
            return;
        }
        let Some(client) = auth.client() else { return };
        let typed = name.value.get_untracked();
        pending.set(true);
        spawn_local(async move {
            let outcome = async {
                let creation = client.passkey_creation_options().await.map_err(Err)?;
                let credential = webauthn::create(creation.options).await.map_err(Ok)?;
                client
                    .add_passkey(&AddPasskeyRequest {
                        name: typed,
                        credential: credential.into(),
                    })
                    .await
                    .map_err(Err)
            }
            .await;
            pending.set(false);
            match outcome {
                Ok(added) => {
                    submitted.set(false);
                    changed.run(format!(
                        "Passkey \u{201c}{}\u{201d} added: you can now sign in with it. Every other device has been signed out.",
                        added.name
                    ));
                }
                // The browser made none (closed, timed out, or this device
                // has one for this account already).
                Err(Ok(browser)) => announcement.set(Some((Tone::Error, browser.message()))),
                Err(Err(problem)) => {
                    name.server_error.set(problem.field_message("name"));
                    fail.run(problem);
                }
            }
        });
    };

    view! {
        <form class="form" method="post" novalidate=true on:submit=on_submit aria-labelledby="add-passkey-heading">
            <h3 id="add-passkey-heading">"Add a passkey"</h3>
            <TextField
                id="new-passkey-name"
                label="Passkey name"
                autocomplete="off"
                field=name
                error=error
                hint=format!("How it is listed here: the device or key it is on. Up to {PASSKEY_NAME_MAX} characters.")
            />
            <div>
                <SubmitButton label="Add a passkey" pending_label="Waiting for your passkey…" pending=pending/>
            </div>
        </form>
    }
}
