//! When the app has taken over the server's HTML.
//!
//! The pages are chunks of the wasm bundle loaded on demand, so hydration is
//! asynchronous: the router waits for the page's chunk before it hydrates
//! the page. Effects created before that, such as the app's and the
//! session's, may run in between, and a signal they change would make the
//! page render other HTML than the server sent. They wait for [`hydrated`].

use leptos::prelude::*;

#[cfg(target_arch = "wasm32")]
thread_local! {
    static HYDRATED: ArcRwSignal<bool> = ArcRwSignal::new(false);
}

/// `false` on the server and until the whole page has hydrated, then `true`.
pub fn hydrated() -> Signal<bool> {
    #[cfg(target_arch = "wasm32")]
    {
        let hydrated = HYDRATED.with(Clone::clone);
        Signal::derive(move || hydrated.get())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        Signal::stored(false)
    }
}

/// Called by the browser entry point once hydration is complete.
pub fn complete() {
    #[cfg(target_arch = "wasm32")]
    HYDRATED.with(|hydrated| hydrated.set(true));
}
