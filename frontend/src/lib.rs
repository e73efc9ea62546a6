//! Browser entry point. cargo-leptos compiles this crate to wasm and the
//! server-rendered page calls `hydrate()` once the bundle has loaded.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
