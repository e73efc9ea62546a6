//! A software passkey authenticator (1Password's passkey-rs) with the
//! browser's half of WebAuthn, for the passkey tests: it answers the
//! server's options as a browser at `origin` would, keeps discoverable
//! credentials with their user handles, counts signatures, and verifies
//! its user every time.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use passkey::{
    authenticator::{
        Authenticator, CredentialStore, DiscoverabilitySupport, StoreInfo, UiHint, UserCheck,
        UserValidationMethod,
    },
    client::{Client, DefaultClientData},
    crypto::AvailableBackend,
    types::{
        ctap2::{
            make_credential::{
                Options, PublicKeyCredentialRpEntity, PublicKeyCredentialUserEntity,
            },
            Aaguid, Ctap2Error, StatusCode,
        },
        webauthn::{self, PublicKeyCredentialDescriptor},
        Passkey,
    },
};
use serde_json::Value;
use url::Url;

/// The user is always there and always verified (a PIN typed, a finger).
struct VerifiedUser;

#[async_trait::async_trait]
impl UserValidationMethod for VerifiedUser {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Passkey>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
}

/// One discoverable credential, as a platform authenticator keeps it: an
/// empty `allowCredentials` (a sign-in with no email typed) finds it too,
/// which passkey-rs's own stores do not do.
#[derive(Clone, Default)]
pub struct Keychain(Option<Passkey>);

#[async_trait::async_trait]
impl CredentialStore for Keychain {
    type PasskeyItem = Passkey;

    async fn find_credentials(
        &self,
        allowed: Option<&[PublicKeyCredentialDescriptor]>,
        _rp_id: &str,
        _user_handle: Option<&[u8]>,
    ) -> Result<Vec<Passkey>, StatusCode> {
        let allowed = allowed.unwrap_or_default();
        self.0
            .clone()
            .filter(|passkey| {
                allowed.is_empty()
                    || allowed
                        .iter()
                        .any(|descriptor| descriptor.id == passkey.credential_id)
            })
            .map(|passkey| vec![passkey])
            .ok_or(Ctap2Error::NoCredentials.into())
    }

    async fn save_credential(
        &mut self,
        passkey: Passkey,
        _user: PublicKeyCredentialUserEntity,
        _rp: PublicKeyCredentialRpEntity,
        _options: Options,
    ) -> Result<(), StatusCode> {
        self.0 = Some(passkey);
        Ok(())
    }

    async fn update_credential(&mut self, passkey: &Passkey) -> Result<(), StatusCode> {
        self.0 = Some(passkey.clone());
        Ok(())
    }

    async fn get_info(&self) -> StoreInfo {
        StoreInfo {
            discoverability: DiscoverabilitySupport::ForcedDiscoverable,
        }
    }
}

type SoftClient =
    Client<Keychain, VerifiedUser, AvailableBackend, public_suffix::PublicSuffixList, ()>;

pub struct SoftPasskey {
    client: SoftClient,
    origin: Url,
}

impl SoftPasskey {
    /// An authenticator in a browser showing a page of `origin`.
    pub fn at(origin: &str) -> Self {
        let mut authenticator = Authenticator::new(
            Aaguid::new_empty(),
            Keychain::default(),
            VerifiedUser,
            AvailableBackend,
        );
        authenticator.set_make_credentials_with_signature_counter(true);
        Self {
            client: Client::new(authenticator).allows_insecure_localhost(true),
            origin: Url::parse(origin).expect("an origin"),
        }
    }

    /// `navigator.credentials.create(options)`, as JSON.
    pub async fn create(&mut self, options: &Value) -> Value {
        let request: webauthn::CredentialCreationOptions =
            serde_json::from_value(options.clone()).expect("creation options");
        let created = self
            .client
            .register(&self.origin, request, DefaultClientData)
            .await
            .expect("the authenticator makes a credential");
        browser_json(serde_json::to_value(created).expect("JSON"))
    }

    /// `navigator.credentials.get(options)`, as JSON.
    pub async fn get(&mut self, options: &Value) -> Value {
        let request: webauthn::CredentialRequestOptions =
            serde_json::from_value(options.clone()).expect("request options");
        let answered = self
            .client
            .authenticate(&self.origin, request, DefaultClientData)
            .await
            .expect("the authenticator signs");
        browser_json(serde_json::to_value(answered).expect("JSON"))
    }

    /// The authenticator's credentials as they are now (a copy of it).
    pub fn snapshot(&self) -> Keychain {
        self.client.authenticator().store().clone()
    }

    /// Puts back a copy taken before: its signature counters go back too.
    pub fn restore(&mut self, store: Keychain) {
        *self.client.authenticator_mut().store_mut() = store;
    }

    /// The same credentials, answering for a page of another origin.
    pub fn moved_to(&self, origin: &str) -> Self {
        let mut other = Self::at(origin);
        other.restore(self.snapshot());
        other
    }
}

/// passkey-rs writes binary fields as arrays of numbers; a browser's
/// `toJSON()`, and the server, use base64url strings.
fn browser_json(value: Value) -> Value {
    match value {
        Value::Array(items)
            if !items.is_empty()
                && items
                    .iter()
                    .all(|item| item.as_u64().is_some_and(|byte| byte <= 255)) =>
        {
            let bytes: Vec<u8> = items
                .iter()
                .map(|item| item.as_u64().unwrap_or_default() as u8)
                .collect();
            Value::String(URL_SAFE_NO_PAD.encode(bytes))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(browser_json).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(name, field)| (name, browser_json(field)))
                .collect(),
        ),
        other => other,
    }
}
