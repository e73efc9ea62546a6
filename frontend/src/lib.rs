//! Browser entry point. cargo-leptos compiles this crate to wasm and the
//! server-rendered page calls `hydrate()` once the bundle has loaded.

use leptos::{mount::hydrate_from_async, prelude::document};

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The pages are lazy-loaded chunks: hydration waits for the current
    // page's chunk, then tells the app it is complete.
    wasm_bindgen_futures::spawn_local(async {
        let Some(body) = document().body() else {
            return;
        };
        hydrate_from_async(body, app::App).await.forget();
        app::hydration::complete();
    });
}
