//! The Content-Security-Policy of every page the server renders.
//!
//! Scripts run only from this origin or when they carry the nonce that
//! leptos_axum generates per response and stamps on the inline hydration
//! script, so injected markup cannot run code even if some text ever
//! escaped into the page unencoded.

use leptos::prelude::use_context;

/// The policy for a page whose inline scripts carry `nonce`.
/// `live_reload`: `cargo leptos watch` is serving, and its reload script
/// opens a WebSocket to another port.
pub fn policy(nonce: &str, live_reload: bool) -> String {
    let connect_src = if live_reload {
        "'self' ws: wss:"
    } else {
        "'self'"
    };
    [
        "default-src 'self'".to_owned(),
        // wasm-unsafe-eval allows compiling WebAssembly, not JavaScript eval.
        format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        "style-src 'self'".to_owned(),
        "img-src 'self' data:".to_owned(),
        format!("connect-src {connect_src}"),
        "object-src 'none'".to_owned(),
        "base-uri 'none'".to_owned(),
        "form-action 'self'".to_owned(),
        "frame-ancestors 'none'".to_owned(),
    ]
    .join("; ")
}

/// Sets the policy on the response being rendered, with this response's
/// nonce. Does nothing outside a server render.
pub fn send_for_current_response() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    // `cargo leptos watch` sets this for the server it starts; it cannot
    // change while the process runs, so it is read once, not per page.
    static LIVE_RELOAD: std::sync::LazyLock<bool> =
        std::sync::LazyLock::new(|| std::env::var_os("LEPTOS_WATCH").is_some());
    // The nonce is URL-safe base64, so the header value is always valid.
    if let Ok(value) = http::HeaderValue::from_str(&policy(&nonce, *LIVE_RELOAD)) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

#[cfg(test)]
mod tests {
    use super::policy;

    fn directive<'a>(policy: &'a str, name: &str) -> &'a str {
        policy
            .split("; ")
            .find(|directive| directive.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no {name} in {policy}"))
    }

    #[test]
    fn scripts_need_this_origin_or_the_nonce() {
        let policy = policy("abc123", false);
        assert_eq!(
            directive(&policy, "script-src"),
            "script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval'"
        );
        assert!(!policy.contains("unsafe-inline"));
        assert!(!policy.contains("'unsafe-eval'"));
    }

    #[test]
    fn pages_cannot_be_framed_or_rebased() {
        let policy = policy("n", false);
        assert_eq!(
            directive(&policy, "frame-ancestors"),
            "frame-ancestors 'none'"
        );
        assert_eq!(directive(&policy, "base-uri"), "base-uri 'none'");
        assert_eq!(directive(&policy, "object-src"), "object-src 'none'");
    }

    #[test]
    fn websockets_are_allowed_only_for_live_reload() {
        assert_eq!(
            directive(&policy("n", false), "connect-src"),
            "connect-src 'self'"
        );
        assert_eq!(
            directive(&policy("n", true), "connect-src"),
            "connect-src 'self' ws: wss:"
        );
    }
}
