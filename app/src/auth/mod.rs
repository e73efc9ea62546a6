//! Who is signed in, as the whole UI sees it. The access token itself stays
//! inside the API client, in memory only; this context holds the user and
//! the state of the session. In the browser it also restores the session
//! on load, renews the token before it expires, and keeps tabs in step.

#[cfg(target_arch = "wasm32")]
mod browser;
mod next;
mod reauth;
pub mod webauthn;

use leptos::prelude::*;

use crate::{
    api::{
        passkeys::PasskeyAssertion,
        types::{
            LoginRequest, LoginResponse, SecondFactorRequest, TokenResponse, User,
            VerifyEmailRequest,
        },
    },
    api_client::{ApiClient, ClientError},
    routes::Page,
};

pub use next::{login_path_returning_to, safe_next};
pub use reauth::ReauthPrompt;

/// A cookie the server sets beside the HttpOnly refresh cookie, with the
/// same lifetime and no secret in it: it only tells the page that a session
/// may exist, so that visitors who never signed in skip the restore call.
pub const SESSION_HINT_COOKIE: &str = "session_hint";

/// Whether `document.cookie` says a session may exist.
pub fn has_session_hint(cookies: &str) -> bool {
    cookies
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| name == SESSION_HINT_COOKIE && !value.is_empty())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthStatus {
    /// The page has loaded and is asking the server whether a session
    /// exists: show neither protected content nor the login page yet.
    Restoring,
    SignedIn(User),
    SignedOut,
}

#[derive(Clone, Copy)]
pub struct Auth {
    pub status: RwSignal<AuthStatus>,
    /// Why the user was signed out without asking, for the login page.
    pub notice: RwSignal<Option<String>>,
    /// Where a protected page sends the user once signed out, when not to
    /// the login page (after deleting the account: home).
    pub signed_out_to: RwSignal<Option<Page>>,
    /// Only in the browser, where the client lives on the page's one
    /// thread. The server never has one, and holds no slot for it: a
    /// thread-bound slot panicked when a streamed page ended on another
    /// thread of the runtime than the one it began on.
    #[cfg(target_arch = "wasm32")]
    client: StoredValue<Option<ApiClient>, LocalStorage>,
}

impl Auth {
    pub fn user(&self) -> Option<User> {
        self.status.with(|status| match status {
            AuthStatus::SignedIn(user) => Some(user.clone()),
            _ => None,
        })
    }

    /// The API client; `None` until the browser has made it.
    #[cfg(target_arch = "wasm32")]
    pub fn client(&self) -> Option<ApiClient> {
        self.client.with_value(Clone::clone)
    }

    /// The API client: never while rendering on the server.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn client(&self) -> Option<ApiClient> {
        None
    }

    fn require_client(&self) -> Result<ApiClient, ClientError> {
        self.client()
            .ok_or_else(|| ClientError::Network("The page is still loading.".into()))
    }

    /// Signs in, or answers the challenge of the account's second factor
    /// (then [`Auth::login_second_factor`]).
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, ClientError> {
        let answer = self.require_client()?.login(request).await?;
        if matches!(answer, LoginResponse::SignedIn(_)) {
            self.notice.set(None);
            self.tell_other_tabs(TabMessage::SignedIn);
        }
        Ok(answer)
    }

    /// Finishes a sign-in with its second factor.
    pub async fn login_second_factor(
        &self,
        request: &SecondFactorRequest,
    ) -> Result<TokenResponse, ClientError> {
        let tokens = self.require_client()?.login_second_factor(request).await?;
        self.notice.set(None);
        self.tell_other_tabs(TabMessage::SignedIn);
        Ok(tokens)
    }

    /// Signs in with a passkey's answer: alone (both factors), or as the
    /// second factor of a password sign-in (`after_password`).
    pub async fn login_with_passkey(
        &self,
        request: &PasskeyAssertion,
        after_password: bool,
    ) -> Result<TokenResponse, ClientError> {
        let client = self.require_client()?;
        let tokens = if after_password {
            client.login_second_factor_passkey(request).await?
        } else {
            client.login_with_passkey(request).await?
        };
        self.notice.set(None);
        self.tell_other_tabs(TabMessage::SignedIn);
        Ok(tokens)
    }

    /// Confirms a sign-up from its emailed link; the new account is then
    /// signed in, as after [`Auth::login`].
    pub async fn verify_email(
        &self,
        request: &VerifyEmailRequest,
    ) -> Result<TokenResponse, ClientError> {
        let tokens = self.require_client()?.verify_email(request).await?;
        self.notice.set(None);
        self.tell_other_tabs(TabMessage::SignedIn);
        Ok(tokens)
    }

    /// Signs out here and in the other tabs; when the server did not end
    /// the session, nothing changes and the error says why.
    pub async fn logout(&self) -> Result<(), ClientError> {
        self.require_client()?.logout().await?;
        self.tell_other_tabs(TabMessage::SignedOut);
        Ok(())
    }

    pub async fn logout_everywhere(&self) -> Result<(), ClientError> {
        self.require_client()?.logout_all().await?;
        self.tell_other_tabs(TabMessage::SignedOut);
        Ok(())
    }

    /// Deletes the signed-in account; this tab and the others are signed
    /// out, and the next page says why.
    pub async fn delete_account(&self) -> Result<(), ClientError> {
        let client = self.require_client()?;
        // Set before the answer: the client signs out as it arrives.
        self.signed_out_to.set(Some(Page::Home));
        self.notice.set(Some(
            "Your account and everything in it has been deleted.".into(),
        ));
        // The client's end of the session signs this tab out.
        if let Err(error) = client.delete_account().await {
            self.signed_out_to.set(None);
            self.notice.set(None);
            return Err(error);
        }
        self.tell_other_tabs(TabMessage::SignedOut);
        Ok(())
    }

    #[cfg_attr(not(target_arch = "wasm32"), allow(unused_variables))]
    fn tell_other_tabs(&self, message: TabMessage) {
        #[cfg(target_arch = "wasm32")]
        browser::broadcast(message);
    }
}

/// What tabs tell each other. Never a token: the other tabs fetch their own
/// from the shared refresh cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TabMessage {
    SignedIn,
    SignedOut,
}

impl TabMessage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignedIn => "signed-in",
            Self::SignedOut => "signed-out",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "signed-in" => Some(Self::SignedIn),
            "signed-out" => Some(Self::SignedOut),
            _ => None,
        }
    }
}

/// Creates the auth context for the app; in the browser, starts the
/// session machinery.
pub fn provide_auth() -> Auth {
    let auth = Auth {
        status: RwSignal::new(AuthStatus::Restoring),
        notice: RwSignal::new(None),
        signed_out_to: RwSignal::new(None),
        #[cfg(target_arch = "wasm32")]
        client: StoredValue::new_local(None),
    };
    provide_context(auth);
    #[cfg(target_arch = "wasm32")]
    browser::start(auth);
    auth
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

/// When to renew an access token that lives `expires_in` seconds: at about
/// 80% of its life, so that a working user rarely meets a 401.
pub fn renewal_delay_ms(expires_in: u64) -> u64 {
    expires_in.saturating_mul(800)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renews_at_four_fifths_of_the_lifetime() {
        assert_eq!(renewal_delay_ms(900), 720_000);
        assert_eq!(renewal_delay_ms(5), 4_000);
        assert_eq!(renewal_delay_ms(0), 0);
    }

    #[test]
    fn reads_the_session_hint() {
        assert!(has_session_hint("a=b; session_hint=1"));
        assert!(has_session_hint("session_hint=1"));
        assert!(!has_session_hint(""));
        assert!(!has_session_hint("session_hint="));
        assert!(!has_session_hint("other_session_hint=1"));
    }

    #[test]
    fn tab_messages_round_trip() {
        for message in [TabMessage::SignedIn, TabMessage::SignedOut] {
            assert_eq!(TabMessage::parse(message.as_str()), Some(message));
        }
        assert_eq!(TabMessage::parse("token"), None);
    }
}
