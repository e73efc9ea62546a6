//! The browser's half of passkeys: `navigator.credentials.create()` and
//! `.get()` called with the options the server made, and their answers
//! sent back, both through webauthn-rs-proto's own conversions between its
//! types and the browser's (the same types the server's library reads).
//! Only the pages that offer passkeys call these, so none of it is in the
//! main wasm module.

use crate::api::passkeys::{
    CreationChallengeResponse, Mediation, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

/// Why the browser gave no credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebAuthnError {
    /// The user closed the browser's prompt, or it timed out (the browser
    /// does not say which, on purpose).
    Cancelled,
    /// This browser has no WebAuthn.
    Unsupported,
    /// Anything else, as the browser put it.
    Failed(String),
}

impl WebAuthnError {
    pub fn message(&self) -> String {
        match self {
            Self::Cancelled => {
                "The passkey prompt was closed or timed out. Try again when ready.".into()
            }
            Self::Unsupported => "This browser cannot use passkeys.".into(),
            Self::Failed(why) => format!("The passkey could not be used: {why}"),
        }
    }
}

/// Whether passkeys can be used here: the server offers them and the
/// browser has WebAuthn. Otherwise the passkey controls stay hidden. Never
/// on the server, so they appear only once hydrated.
pub fn supported() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        crate::site_flags::passkeys_enabled() && browser::has_public_key_credential()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        false
    }
}

/// Makes a passkey with the server's creation options.
pub async fn create(
    options: CreationChallengeResponse,
) -> Result<RegisterPublicKeyCredential, WebAuthnError> {
    #[cfg(target_arch = "wasm32")]
    {
        browser::create(options).await
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = options;
        Err(WebAuthnError::Unsupported)
    }
}

/// How a passkey is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// The browser's own prompt, now (a button was pressed).
    Now,
    /// Offered among the email field's autofill suggestions, for as long as
    /// the page waits or until [`cancel_autofill`].
    Autofill,
}

/// Ends the wait of an autofill request, if one is pending. The browser
/// takes one request at a time: every request made here ends the one
/// pending first, and a page that offered autofill ends it as it goes.
pub fn cancel_autofill() {
    #[cfg(target_arch = "wasm32")]
    browser::cancel_autofill();
}

/// Whether the browser offers passkeys among autofill suggestions.
pub async fn autofill_supported() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        browser::conditional_mediation_available().await
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        false
    }
}

/// Asks for one of the site's passkeys with the server's request options.
pub async fn get(
    options: RequestChallengeResponse,
    ask: Ask,
) -> Result<PublicKeyCredential, WebAuthnError> {
    #[cfg(target_arch = "wasm32")]
    {
        browser::get(options, ask).await
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (options, ask, Mediation::Conditional);
        Err(WebAuthnError::Unsupported)
    }
}

/// A name for a new passkey, from the device it is made on: "Chrome on
/// Linux", say. The user may change it.
pub fn suggested_name() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        browser::device_name()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        "Passkey".into()
    }
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use wasm_bindgen::{JsCast as _, JsValue};
    use wasm_bindgen_futures::JsFuture;

    use super::{
        Ask, CreationChallengeResponse, Mediation, PublicKeyCredential,
        RegisterPublicKeyCredential, RequestChallengeResponse, WebAuthnError,
    };

    thread_local! {
        /// The pending autofill request's controller.
        static AUTOFILL: std::cell::RefCell<Option<web_sys::AbortController>> =
            const { std::cell::RefCell::new(None) };
    }

    pub(super) fn cancel_autofill() {
        if let Some(controller) = AUTOFILL.with(|slot| slot.borrow_mut().take()) {
            controller.abort();
        }
    }

    fn credential_class() -> Option<JsValue> {
        js_sys::Reflect::get(&js_sys::global(), &"PublicKeyCredential".into())
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null())
    }

    pub(super) fn has_public_key_credential() -> bool {
        credential_class().is_some()
    }

    pub(super) async fn conditional_mediation_available() -> bool {
        let Some(class) = credential_class() else {
            return false;
        };
        let Ok(check) = js_sys::Reflect::get(&class, &"isConditionalMediationAvailable".into())
        else {
            return false;
        };
        let Ok(check) = check.dyn_into::<js_sys::Function>() else {
            return false;
        };
        let Ok(promise) = check.call0(&class) else {
            return false;
        };
        let Ok(promise) = promise.dyn_into::<js_sys::Promise>() else {
            return false;
        };
        JsFuture::from(promise)
            .await
            .ok()
            .and_then(|answer| answer.as_bool())
            .unwrap_or(false)
    }

    fn refusal(error: JsValue) -> WebAuthnError {
        let name = js_sys::Reflect::get(&error, &"name".into())
            .ok()
            .and_then(|name| name.as_string())
            .unwrap_or_default();
        match name.as_str() {
            "NotAllowedError" | "AbortError" => WebAuthnError::Cancelled,
            _ => WebAuthnError::Failed(
                js_sys::Reflect::get(&error, &"message".into())
                    .ok()
                    .and_then(|message| message.as_string())
                    .unwrap_or(name),
            ),
        }
    }

    fn credentials() -> Result<web_sys::CredentialsContainer, WebAuthnError> {
        if !has_public_key_credential() {
            return Err(WebAuthnError::Unsupported);
        }
        Ok(leptos::prelude::window().navigator().credentials())
    }

    pub(super) async fn create(
        options: CreationChallengeResponse,
    ) -> Result<RegisterPublicKeyCredential, WebAuthnError> {
        let container = credentials()?;
        cancel_autofill();
        let options: web_sys::CredentialCreationOptions = options.into();
        let promise = container.create_with_options(&options).map_err(refusal)?;
        let answer = JsFuture::from(promise).await.map_err(refusal)?;
        let credential = answer
            .dyn_into::<web_sys::PublicKeyCredential>()
            .map_err(|_| WebAuthnError::Failed("no credential was made".into()))?;
        Ok(credential.into())
    }

    pub(super) async fn get(
        mut options: RequestChallengeResponse,
        ask: Ask,
    ) -> Result<PublicKeyCredential, WebAuthnError> {
        let container = credentials()?;
        cancel_autofill();
        options.mediation = match ask {
            Ask::Now => None,
            Ask::Autofill => Some(Mediation::Conditional),
        };
        let request: web_sys::CredentialRequestOptions = options.into();
        if ask == Ask::Autofill {
            let controller = web_sys::AbortController::new()
                .map_err(|_| WebAuthnError::Failed("cannot wait for autofill".into()))?;
            request.set_signal(&controller.signal());
            AUTOFILL.with(|slot| *slot.borrow_mut() = Some(controller));
        }
        let promise = container.get_with_options(&request).map_err(refusal)?;
        let answer = JsFuture::from(promise).await.map_err(refusal)?;
        let credential = answer
            .dyn_into::<web_sys::PublicKeyCredential>()
            .map_err(|_| WebAuthnError::Failed("no passkey was chosen".into()))?;
        Ok(credential.into())
    }

    /// "Chrome on Linux", from the user agent; "Passkey" when unknown.
    pub(super) fn device_name() -> String {
        let agent = leptos::prelude::window()
            .navigator()
            .user_agent()
            .unwrap_or_default();
        let browser = [
            ("Edg/", "Edge"),
            ("Firefox/", "Firefox"),
            ("Chrome/", "Chrome"),
            ("Safari/", "Safari"),
        ]
        .into_iter()
        .find(|(mark, _)| agent.contains(mark))
        .map(|(_, name)| name);
        let system = [
            ("Android", "Android"),
            ("iPhone", "iPhone"),
            ("iPad", "iPad"),
            ("Mac OS X", "macOS"),
            ("Windows", "Windows"),
            ("CrOS", "ChromeOS"),
            ("Linux", "Linux"),
        ]
        .into_iter()
        .find(|(mark, _)| agent.contains(mark))
        .map(|(_, name)| name);
        match (browser, system) {
            (Some(browser), Some(system)) => format!("{browser} on {system}"),
            (Some(name), None) | (None, Some(name)) => name.to_owned(),
            (None, None) => "Passkey".into(),
        }
    }
}
