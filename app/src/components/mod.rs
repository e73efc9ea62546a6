pub mod activity;
pub mod form;
pub mod guard;
pub mod layout;
pub mod list;
pub mod reauth_dialog;
pub mod time;
