//! What every way of signing in shares once its proofs are checked: a
//! session opened under the credential epoch they were checked under, the
//! access token, the cookies the browser keeps, and the refusals they
//! answer with. Sign-in (`auth`), sign-up (`signup`) and the second factor
//! (`factors`) all end here, and each step's answer is counted here
//! (`auth_sign_ins_total`).

use app::api::{endpoints::Endpoint, types::TokenResponse, values::SessionId, ProblemCode};
use axum_extra::extract::CookieJar;

use super::{cookies, extract::Device, route::Reply, users::user_view, ApiContext};
use crate::{
    auth::{jwt::Authentication, sessions::Opened},
    error::ApiError,
    metrics::SignInOutcome,
    store::users::{self, UserRow},
};

/// Counts a sign-in step by its answer, so that every way out of the
/// handler is counted once: `answered` names a successful answer's outcome,
/// and a refusal counts when it is one of a sign-in's own.
pub(super) fn count_sign_in<E: Endpoint>(
    context: &ApiContext,
    answer: &Result<Reply<E>, ApiError>,
    answered: impl FnOnce(&E::Response) -> SignInOutcome,
) {
    let outcome = match answer {
        Ok(reply) => Some(answered(reply.body())),
        Err(refusal) => SignInOutcome::of_refusal(refusal.code()),
    };
    if let Some(outcome) = outcome {
        context.metrics.sign_in(outcome);
    }
}

/// The answer to a sign-in that opened a session: the access token, and
/// what the browser keeps (the refresh cookie, and a fresh device cookie
/// for this address).
pub(super) fn signed_in(
    context: &ApiContext,
    jar: CookieJar,
    user: &UserRow,
    opened: Opened,
    now: i64,
) -> Result<(TokenResponse, CookieJar), ApiError> {
    let body = token_response(
        context,
        user,
        opened.session_id,
        &opened.authentication,
        now,
    )?;
    let jar = cookies::with_refresh_token(
        &context.settings,
        jar,
        opened.refresh_token,
        opened.cookie_life,
    );
    let device = context.lockout.devices().issue(user.email.as_str(), now);
    Ok((body, cookies::with_device_cookie(jar, device)))
}

/// Opens a session for `user`, read before its password was checked, on
/// the password alone. The session opens only under the credential epoch
/// read with it, so a change that landed meanwhile wins: after a new
/// password, a new address, a disable or a second factor turned on,
/// nothing opens; after a change that leaves the password enough (a new
/// role, a passkey), the session opens under the new epoch, with the new
/// role.
pub(super) async fn open_session(
    context: &ApiContext,
    mut user: UserRow,
    device: &Device,
    remember: bool,
    now: i64,
) -> Result<(UserRow, Opened), ApiError> {
    for _ in 0..3 {
        if let Some(opened) = context
            .sessions
            .open(
                user.id,
                user.credential_epoch,
                Authentication::password(now),
                user.password_footing,
                device,
                remember,
                now,
            )
            .await?
        {
            return Ok((user, opened));
        }
        let Some(current) = users::find_by_id(context.db.pool(), user.id).await? else {
            break;
        };
        if current.is_disabled() {
            return Err(account_disabled());
        }
        // The proofs were checked against the account as it was: retried
        // only while they are still all the account asks for. A second
        // factor turned on meanwhile would otherwise be skipped by the
        // very sign-in it was turned on against.
        if current.password_hash != user.password_hash
            || current.email != user.email
            || context.factors.has_second_factor(current.id).await?
        {
            break;
        }
        user = current;
    }
    Err(invalid_credentials())
}

pub(super) fn invalid_credentials() -> ApiError {
    ApiError::new(
        ProblemCode::InvalidCredentials,
        "The email address or password is incorrect.",
    )
}

pub(super) fn account_disabled() -> ApiError {
    ApiError::new(
        ProblemCode::AccountDisabled,
        "This account has been disabled. Contact an administrator.",
    )
}

pub(super) fn token_response(
    context: &ApiContext,
    user: &UserRow,
    session_id: SessionId,
    authentication: &Authentication,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let access_token =
        context
            .access_tokens
            .issue(user.id, session_id, user.role, authentication, now)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: context.access_tokens.ttl().as_secs(),
        user: user_view(user),
    })
}
