//! What the server decides from its configuration and the pages follow:
//! whether the development helpers (the mailbox page) exist, and whether
//! passkeys can be used (`APP_URL` must name a domain). The server writes
//! each decision into the page as a `<meta>`, so that the browser renders
//! the same thing when it hydrates, and asks nothing it would refuse.

use leptos::prelude::*;

/// Provided by the server to every render.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SiteFlags {
    pub dev_tools: bool,
    pub passkeys: bool,
}

/// The `<meta>` names the shell writes and the browser reads.
pub const DEV_TOOLS_META: &str = "dev-tools";
pub const PASSKEYS_META: &str = "passkeys";

pub fn dev_tools_enabled() -> bool {
    flag(DEV_TOOLS_META, |flags| flags.dev_tools)
}

pub fn passkeys_enabled() -> bool {
    flag(PASSKEYS_META, |flags| flags.passkeys)
}

fn flag(meta: &str, on_server: fn(SiteFlags) -> bool) -> bool {
    #[cfg(feature = "ssr")]
    {
        let _ = meta;
        use_context::<SiteFlags>().is_some_and(on_server)
    }
    #[cfg(all(not(feature = "ssr"), target_arch = "wasm32"))]
    {
        let _ = on_server;
        document()
            .query_selector(&format!("meta[name=\"{meta}\"]"))
            .ok()
            .flatten()
            .and_then(|meta| meta.get_attribute("content"))
            .is_some_and(|content| content == "on")
    }
    #[cfg(all(not(feature = "ssr"), not(target_arch = "wasm32")))]
    {
        let _ = (meta, on_server);
        false
    }
}

/// The `content` of a flag's `<meta>`.
pub fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}
