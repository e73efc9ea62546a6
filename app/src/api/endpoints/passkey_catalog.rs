//! The passkey (WebAuthn) endpoints, described like the rest of the
//! catalog: adding and managing the account's passkeys, signing in with one
//! and no email typed, and a passkey as the second factor of a password
//! sign-in or for re-authentication.

use super::{first_doc_line, Credentials, Endpoint, EndpointInfo, Method};
use crate::api::{
    passkeys::{
        AddPasskeyRequest, Passkey, PasskeyAssertion, PasskeyChallenge, PasskeyCreation,
        PasskeyList, RenamePasskeyRequest, SecondFactorPasskeyRequest,
    },
    problem::ProblemCode,
    types::TokenResponse,
    values::PasskeyId,
};

endpoints! {
    /// Starts adding a passkey: creation options for a discoverable credential, the account's own passkeys excluded (5 minutes, once).
    PasskeyCreationOptions {
        Post "/api/me/passkeys/options",
        params: (),
        credentials: RecentBearer,
        request: (),
        response: 200 PasskeyCreation,
        problems: [],
    }

    /// Adds the passkey the browser made from the options; other sessions end and the owner is mailed.
    AddPasskey {
        Post "/api/me/passkeys",
        params: (),
        credentials: Bearer,
        request: AddPasskeyRequest,
        response: 201 Passkey,
        problems: [ValidationFailed, InvalidChallenge, MalformedCredential, PasskeyRejected, PasskeyExists],
    }

    /// The signed-in account's passkeys, oldest first.
    MyPasskeys {
        Get "/api/me/passkeys",
        params: (),
        credentials: Bearer,
        request: (),
        response: 200 PasskeyList,
        problems: [],
    }

    /// Renames one of the account's passkeys.
    RenamePasskey {
        Patch "/api/me/passkeys/{id}",
        params: PasskeyId,
        credentials: Bearer,
        request: RenamePasskeyRequest,
        response: 200 Passkey,
        problems: [ValidationFailed, NotFound],
    }

    /// Removes one of the account's passkeys; other sessions end and the owner is mailed.
    RemovePasskey {
        Delete "/api/me/passkeys/{id}",
        params: PasskeyId,
        credentials: RecentBearer,
        request: (),
        response: 204 (),
        problems: [NotFound],
    }

    /// Starts a sign-in with a passkey and no email address: request options with a fresh challenge (5 minutes, once).
    PasskeyLoginOptions {
        Post "/api/auth/passkey/options",
        params: (),
        credentials: None,
        request: (),
        response: 200 PasskeyChallenge,
        problems: [RateLimited],
    }

    /// Signs in with a passkey's answer to its challenge; sets the refresh cookie. Counts as both factors.
    PasskeyLogin {
        Post "/api/auth/passkey/login",
        params: (),
        credentials: None,
        request: PasskeyAssertion,
        response: 200 TokenResponse,
        problems: [InvalidChallenge, MalformedCredential, PasskeyRejected, UnknownPasskey, PasskeyCounterRegressed, AccountDisabled, InvalidCredentials, RateLimited],
    }

    /// Request options for finishing a password sign-in with one of the account's passkeys as its second factor.
    SecondFactorPasskeyOptions {
        Post "/api/auth/login/second-factor/passkey-options",
        params: (),
        credentials: None,
        request: SecondFactorPasskeyRequest,
        response: 200 PasskeyChallenge,
        problems: [InvalidChallenge, SecondFactorNotEnabled, RateLimited],
    }

    /// Finishes a password sign-in with a passkey as its second factor; sets the refresh cookie.
    LoginSecondFactorPasskey {
        Post "/api/auth/login/second-factor/passkey",
        params: (),
        credentials: None,
        request: PasskeyAssertion,
        response: 200 TokenResponse,
        problems: [InvalidChallenge, MalformedCredential, PasskeyRejected, UnknownPasskey, PasskeyOfAnotherAccount, PasskeyCounterRegressed, AccountDisabled, InvalidCredentials, RateLimited],
    }

    /// Request options for proving again, with one of the account's passkeys, who the signed-in user is.
    ReauthenticationPasskeyOptions {
        Post "/api/auth/reauthenticate/passkey-options",
        params: (),
        credentials: Bearer,
        request: (),
        response: 200 PasskeyChallenge,
        problems: [SecondFactorNotEnabled, RateLimited],
    }

    /// Proves again who the signed-in user is with a passkey: a new access token for the same session, with a fresh `auth_time`.
    ReauthenticateWithPasskey {
        Post "/api/auth/reauthenticate/passkey",
        params: (),
        credentials: Bearer,
        request: PasskeyAssertion,
        response: 200 TokenResponse,
        problems: [InvalidChallenge, MalformedCredential, PasskeyRejected, UnknownPasskey, PasskeyOfAnotherAccount, PasskeyCounterRegressed, RateLimited],
    }
}
