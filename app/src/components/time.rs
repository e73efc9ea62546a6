//! Times as people read them: in the viewer's own time zone and locale
//! (the browser's `Intl.DateTimeFormat`). The server cannot know either,
//! so a page it renders shows the UTC minute, which [`LocalTime`] swaps
//! for the local time once the page runs in the browser.

use leptos::prelude::*;

/// A `<time>`: the UTC minute as rendered, then local time in the browser.
#[component]
pub fn LocalTime(#[prop(into)] at: String) -> impl IntoView {
    let shown = RwSignal::new(utc_minute(&at));
    // Effects run only in the browser, after hydration.
    Effect::new({
        let at = at.clone();
        move |_| shown.set(local_time(&at))
    });
    view! { <time datetime=at>{shown}</time> }
}

/// A timestamp for people: in the browser, local time in the browser's
/// format; elsewhere (or if the browser cannot read it) the UTC minute.
pub fn local_time(rfc3339: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    if let Some(text) = browser_local_time(rfc3339) {
        return text;
    }
    utc_minute(rfc3339)
}

#[cfg(target_arch = "wasm32")]
fn browser_local_time(rfc3339: &str) -> Option<String> {
    use wasm_bindgen::JsValue;

    let date = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if date.get_time().is_nan() {
        return None;
    }
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into()).ok()?;
    js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into()).ok()?;
    js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &options)
        .format()
        .call1(&JsValue::UNDEFINED, &date)
        .ok()?
        .as_string()
}

/// `2026-11-26T10:11:12.345Z` → `2026-11-26 10:11 UTC`.
pub fn utc_minute(rfc3339: &str) -> String {
    let Some((date, time)) = rfc3339.split_once('T') else {
        return rfc3339.to_owned();
    };
    let Some(minute) = time.get(..5) else {
        return rfc3339.to_owned();
    };
    if time.ends_with('Z') || time.ends_with("+00:00") {
        format!("{date} {minute} UTC")
    } else {
        rfc3339.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::utc_minute;

    #[test]
    fn times_fall_back_to_the_utc_minute() {
        assert_eq!(
            utc_minute("2026-11-26T10:11:12.345Z"),
            "2026-11-26 10:11 UTC"
        );
        assert_eq!(
            utc_minute("2026-11-26T10:11:12+00:00"),
            "2026-11-26 10:11 UTC"
        );
        assert_eq!(
            utc_minute("2026-11-26T10:11:12+02:00"),
            "2026-11-26T10:11:12+02:00"
        );
        assert_eq!(utc_minute("yesterday"), "yesterday");
    }
}
