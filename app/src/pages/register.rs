use leptos::{prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    api::{types::RegisterRequest, ProblemCode},
    auth::use_auth,
    components::form::{Announcement, Field, SubmitButton, TextField, Tone},
    pages::verify_email::ResendVerification,
    routes::Page,
    validation::{check_email, check_name, check_password},
};

#[component]
pub fn RegisterPage() -> impl IntoView {
    let auth = use_auth();
    let name = Field::new();
    let email = Field::new();
    let password = Field::new();
    let submitted = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let announcement = RwSignal::new(None::<(Tone, String)>);
    let registered_as = RwSignal::new(None::<String>);

    let name_error = name.error(submitted, |value| check_name(value).map(|_| ()));
    let email_error = email.error(submitted, |value| check_email(value).map(|_| ()));
    let password_error = password.error(submitted, check_password);

    let on_submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        submitted.set(true);
        announcement.set(None);
        let invalid = [name_error, email_error, password_error]
            .iter()
            .any(|error| error.get_untracked().is_some());
        if invalid {
            announcement.set(Some((
                Tone::Error,
                "Please correct the fields below.".into(),
            )));
            return;
        }
        let Some(client) = auth.client() else { return };
        let request = RegisterRequest {
            email: email.value.get_untracked(),
            password: password.value.get_untracked(),
            name: name.value.get_untracked(),
        };
        pending.set(true);
        spawn_local(async move {
            let outcome = client.register(&request).await;
            pending.set(false);
            match outcome {
                Ok(_) => registered_as.set(Some(request.email.trim().to_lowercase())),
                Err(error) => {
                    name.server_error.set(error.field_message("name"));
                    email.server_error.set(error.field_message("email"));
                    password.server_error.set(error.field_message("password"));
                    let text = if error.code() == Some(ProblemCode::ValidationFailed) {
                        "Please correct the fields below.".to_owned()
                    } else {
                        error.message()
                    };
                    announcement.set(Some((Tone::Error, text)));
                }
            }
        });
    };

    view! {
        <Title text="Create an account"/>
        <section class="narrow">
            <h1 class="page-title">"Create an account"</h1>
            <div class="card stack">
                {move || match registered_as.get() {
                    Some(address) => view! {
                        <div class="stack" data-testid="registered">
                            <Announcement message=Signal::derive(move || Some((
                                Tone::Success,
                                "Almost done: check your inbox, open the link, and enter the password you just chose.".to_owned(),
                            )))/>
                            <p>"We sent the link to " <strong>{address.clone()}</strong> ". It works for 24 hours. Confirming creates your account and signs you in."</p>
                            <ResendVerification initial_email=address/>
                            <p><A href=Page::Login.path()>"Go to sign in"</A></p>
                        </div>
                    }
                        .into_any(),
                    None => view! {
                        <Announcement message=announcement/>
                        <form class="form" method="post" novalidate=true on:submit=on_submit>
                            <TextField id="name" label="Name" autocomplete="name" field=name error=name_error/>
                            <TextField
                                id="email"
                                label="Email address"
                                input_type="email"
                                autocomplete="email"
                                field=email
                                error=email_error
                            />
                            <TextField
                                id="password"
                                label="Password"
                                input_type="password"
                                autocomplete="new-password"
                                field=password
                                error=password_error
                                hint="At least 8 characters. A few unrelated words make a strong, memorable password."
                                revealable=true
                            />
                            <div class="form-footer">
                                <SubmitButton label="Create account" pending_label="Creating account…" pending=pending/>
                                <A href=Page::Login.path()>"I already have an account"</A>
                            </div>
                        </form>
                    }
                        .into_any(),
                }}
            </div>
        </section>
    }
}
