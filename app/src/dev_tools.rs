//! Whether development helpers (the mailbox page) exist. The server decides
//! from `APP_ENV` and writes its decision into the page, so that the browser
//! renders the same thing when it hydrates.

use leptos::prelude::*;

/// Provided by the server to every render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DevTools(pub bool);

/// The `<meta>` the shell writes and the browser reads.
pub const META_NAME: &str = "dev-tools";

pub fn dev_tools_enabled() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<DevTools>().is_some_and(|DevTools(enabled)| enabled)
    }
    #[cfg(all(not(feature = "ssr"), target_arch = "wasm32"))]
    {
        document()
            .query_selector(&format!("meta[name=\"{META_NAME}\"]"))
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
            .is_some_and(|content| content == "on")
    }
    #[cfg(all(not(feature = "ssr"), not(target_arch = "wasm32")))]
    {
        false
    }
}
