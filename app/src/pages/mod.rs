//! The pages of the app; all but the not-found page load on demand (`on_demand`).

pub mod account;
pub mod admin_users;
pub mod dev_mailbox;
pub mod email_link;
pub mod forgot_password;
pub mod home;
pub mod login;
pub mod not_found;
pub mod on_demand;
pub mod people;
pub mod register;
pub mod reset_password;
pub mod verify_email;

use leptos::prelude::{Memo, With};
use leptos_router::hooks::use_query_map;

/// The token of the emailed link that opened the page (`?token=…`), or
/// `None` when the link came without one.
pub(crate) fn use_link_token() -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .with(|query| query.get("token"))
            .filter(|token| !token.trim().is_empty())
    })
}
