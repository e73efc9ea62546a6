//! The server-rendered Leptos app, and the static files cargo-leptos built.
//!
//! The wasm bundle, its JavaScript and the stylesheet live under `/pkg`.
//! A release build names them after their content (`accounts.<hash>.wasm`,
//! cargo-leptos' `hash-files`) and `scripts/precompress.sh` writes a `.br`
//! and a `.gz` beside each, so they are served as they are on disk, in the
//! encoding the browser asks for, and may be cached for good: a new build
//! has new names. Pages, on the other hand, are revalidated on every visit,
//! so a new build reaches everyone at their next page load.

use std::path::{Path, PathBuf};

use app::{shell, site_flags::SiteFlags, App};
use axum::{
    http::{header, HeaderValue, Response, StatusCode},
    Router,
};
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower::ServiceBuilder;
use tower_http::{services::ServeDir, set_header::SetResponseHeaderLayer};

/// For files whose name changes with their content.
const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
/// Use only after asking the server whether it changed.
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// The files under `public/` (the icon): their names stay across builds,
/// so a day, then a quick revalidation (they carry `Last-Modified`) while
/// the old copy is still shown for a week.
const PUBLIC_FILE: HeaderValue =
    HeaderValue::from_static("public, max-age=86400, stale-while-revalidate=604800");

/// `flags` say whether the development-only pages exist and whether the
/// pages offer passkeys.
pub fn router(options: LeptosOptions, flags: SiteFlags) -> Router {
    let options = with_hashed_names_if_built(options);
    let routes = generate_route_list(App);
    let pages = Router::new()
        .leptos_routes_with_context(&options, routes, move || provide_context(flags), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(
            move || provide_context(flags),
            shell,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            pages_cache_control,
        ));

    Router::new()
        .nest_service(&format!("/{}", options.site_pkg_dir), pkg_files(&options))
        .merge(pages)
        .with_state(options)
}

/// The files under `/pkg`: the precompressed variant that `Accept-Encoding`
/// allows, or the file itself. Either way the global compression layer
/// leaves them alone: it skips responses that have a `Content-Encoding`
/// already, and it offers no encodings but brotli and gzip.
fn pkg_files(options: &LeptosOptions) -> Router {
    let dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let cache_control = if options.hash_files {
        IMMUTABLE
    } else {
        // `cargo leptos watch` rebuilds them under the same names.
        REVALIDATE
    };
    Router::new().fallback_service(
        ServiceBuilder::new()
            // A 404 is no answer to keep for a year.
            .layer(SetResponseHeaderLayer::overriding(
                header::CACHE_CONTROL,
                move |response: &Response<_>| {
                    let status = response.status();
                    (status.is_success() || status == StatusCode::NOT_MODIFIED)
                        .then(|| cache_control.clone())
                },
            ))
            .layer(SetResponseHeaderLayer::overriding(
                header::VARY,
                HeaderValue::from_static("accept-encoding"),
            ))
            .service(ServeDir::new(dir).precompressed_br().precompressed_gzip()),
    )
}

/// HTML is revalidated every time; other files from the site root (the
/// icon) are kept a day. An error is kept by no one.
fn pages_cache_control<B>(response: &Response<B>) -> Option<HeaderValue> {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let status = response.status();
    if html {
        Some(REVALIDATE)
    } else if status.is_success() || status == StatusCode::NOT_MODIFIED {
        Some(PUBLIC_FILE)
    } else {
        None
    }
}

/// cargo-leptos tells the server it started whether file names are hashed
/// (`LEPTOS_HASH_FILES`). A server started another way (scripts, a
/// deployment) finds out from the hash file that the build wrote beside it.
fn with_hashed_names_if_built(mut options: LeptosOptions) -> LeptosOptions {
    if std::env::var_os("LEPTOS_HASH_FILES").is_none() {
        if let Some(hash_file) = hash_file(&options) {
            options.hash_files = hash_file.is_file();
        }
    }
    options
}

/// Where leptos looks for the hash file: beside the running binary.
fn hash_file(options: &LeptosOptions) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.join(options.hash_file.as_ref()))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use http::Request;
    use tower::ServiceExt as _;

    use super::*;

    fn site() -> (tempfile::TempDir, LeptosOptions) {
        let root = tempfile::tempdir().unwrap();
        let pkg = root.path().join("pkg");
        std::fs::create_dir(&pkg).unwrap();
        std::fs::write(pkg.join("accounts.abc123.wasm"), b"\0asm plain").unwrap();
        std::fs::write(pkg.join("accounts.abc123.wasm.br"), b"brotli bytes").unwrap();
        std::fs::write(pkg.join("accounts.abc123.wasm.gz"), b"gzip bytes").unwrap();
        let options = LeptosOptions::builder()
            .output_name("accounts")
            .site_root(root.path().to_str().unwrap())
            .hash_files(true)
            .build();
        std::fs::write(root.path().join("favicon.svg"), b"<svg/>").unwrap();
        (root, options)
    }

    async fn get(router: Router, path: &str, accept_encoding: &str) -> Response<Body> {
        let request = Request::get(path)
            .header(header::ACCEPT_ENCODING, accept_encoding)
            .body(Body::empty())
            .unwrap();
        router.oneshot(request).await.unwrap()
    }

    async fn body(response: Response<Body>) -> Vec<u8> {
        axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn hashed_files_are_immutable_and_served_precompressed() {
        let (_root, options) = site();
        let router = || pkg_files(&options);

        let response = get(router(), "/accounts.abc123.wasm", "gzip, deflate, br").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=31536000, immutable"
        );
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/wasm");
        assert_eq!(response.headers()[header::VARY], "accept-encoding");
        assert_eq!(body(response).await, b"brotli bytes");

        let response = get(router(), "/accounts.abc123.wasm", "gzip").await;
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(body(response).await, b"gzip bytes");

        let response = get(router(), "/accounts.abc123.wasm", "identity").await;
        assert!(response.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(response).await, b"\0asm plain");
    }

    #[tokio::test]
    async fn unhashed_files_are_revalidated() {
        let (_root, mut options) = site();
        options.hash_files = false;
        let response = get(pkg_files(&options), "/accounts.abc123.wasm", "br").await;
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    }

    #[tokio::test]
    async fn missing_files_are_not_found() {
        let (_root, options) = site();
        let response = get(pkg_files(&options), "/accounts.nope.wasm", "br").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response.headers().get(header::CACHE_CONTROL).is_none());
    }

    #[tokio::test]
    async fn pages_are_revalidated() {
        let (_root, options) = site();
        let response = get(router(options, SiteFlags::default()), "/login", "br").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
    }

    #[tokio::test]
    async fn public_files_are_kept_a_day() {
        let (_root, options) = site();
        let response = get(router(options, SiteFlags::default()), "/favicon.svg", "br").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[header::CACHE_CONTROL],
            "public, max-age=86400, stale-while-revalidate=604800"
        );
    }
}
