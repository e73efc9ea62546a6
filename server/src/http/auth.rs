//! Registration, email verification, login, refresh token rotation with
//! reuse detection, and logout.
//!
//! A sign-up is a pending row bound to the password typed with it; its
//! link creates the account only with that password. What an attacker may
//! try, and what answers it (each has a black-box test on both databases,
//! in `tests/api/takeover.rs` and `registration.rs`):
//! - Sign up the owner's address with another password, so that the
//!   owner's click confirms the attacker's password: the second sign-up is
//!   a row of its own and the owner's link confirms only the owner's; the
//!   attacker's link goes to the owner's inbox, and asks for the password
//!   of its own sign-up.
//! - Sign up first and wait for the owner to click: the owner's click asks
//!   for the password of that sign-up, which the owner does not know; the
//!   owner's own sign-up stays usable.
//! - Guess the password of a sign-up whose link leaked: five tries per
//!   link, each counted before the check in one statement, so a parallel
//!   burst gets no more.
//! - Confirm two sign-ups of one address at once: one account, made by the
//!   first; the other gets `invalid_link`.
//! - Learn whether an address signed up: register, resend and login answer
//!   the same for a free, a pending and a taken address (a pending sign-up
//!   signs in like an unknown address).

use app::{
    api::{
        endpoints::{Login, Logout, LogoutAll, Refresh, Register, ResendVerification, VerifyEmail},
        types::{MessageResponse, TokenResponse},
        values::{Email, SessionId, UserId},
        FieldError, ProblemCode,
    },
    routes::Page,
    validation::{validate_login, validate_registration},
};
use axum::{extract::State, http::HeaderMap};
use axum_extra::extract::CookieJar;

use super::{
    cookies,
    extract::{ensure_allowed_origin, AuthUser, ClientIp, Device},
    route::{ApiRouter, Payload, Reply},
    users::user_view,
    ApiContext,
};
use crate::{
    auth::{
        sessions::{CookieLife, Opened, Refused},
        tokens,
    },
    clock::unix_now,
    error::ApiError,
    limits::Policy,
    mail::templates,
    store::{
        is_unique_violation,
        pending_signups::{self, NewPendingSignup},
        sessions::EndReason,
        users::{self, NewUser, UserRow},
    },
};

/// A sign-up's link works for a day.
const VERIFICATION_TTL_SECS: i64 = 24 * 60 * 60;
/// Sign-ups kept per address: the newest few, so that a flood of sign-ups
/// for someone else's address costs nothing to store.
const PENDING_SIGNUPS_PER_ADDRESS: i64 = 3;
/// Wrong passwords a sign-up's link takes before it is spent.
const VERIFICATION_TRIES: i64 = 5;

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<Register, _, _>(register)
        .route::<VerifyEmail, _, _>(verify_email)
        .route::<ResendVerification, _, _>(resend_verification)
        .route::<Login, _, _>(login)
        .route::<Refresh, _, _>(refresh)
        .route::<Logout, _, _>(logout)
        .route::<LogoutAll, _, _>(logout_all)
}

/// Stores a pending sign-up bound to the password typed with it, and mails
/// its link; never touches another sign-up or an account. Answers the same
/// whether or not the address already has an account, whose owner is told
/// by email instead (and nothing changes).
async fn register(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Payload(request): Payload<Register>,
) -> Result<Reply<Register>, ApiError> {
    let registration = validate_registration(&request).map_err(ApiError::Validation)?;
    context
        .limits
        .check(Policy::Register, ip, Some(registration.email.as_str()))?;
    let weakness = context
        .passwords
        .weakness(
            registration.password.clone(),
            vec![
                registration.email.to_string(),
                registration.name.to_string(),
            ],
        )
        .await?;
    if let Some(message) = weakness {
        return Err(ApiError::Validation(vec![FieldError::new(
            "password", message,
        )]));
    }

    // Hashed even when the address is taken, so both cases take as long.
    let password_hash = context.passwords.hash(registration.password).await?;
    let now = unix_now();
    let token = tokens::generate();
    let token_hash = tokens::hash(&token);

    // Read before the transaction, whose first statement then writes: on
    // SQLite a transaction that reads first cannot write once another
    // connection has committed. An account made in between only means this
    // sign-up can never be confirmed.
    match users::find_by_email(context.db.pool(), &registration.email).await? {
        Some(existing) => {
            let login = context.settings.page_url(Page::Login.path());
            let letter =
                templates::already_registered(&existing.email, &existing.name, login.as_str());
            context.mailer.send(&letter, now).await?;
        }
        None => {
            let mut transaction = context.db.pool().begin().await?;
            pending_signups::insert(
                &mut *transaction,
                NewPendingSignup {
                    // Time-ordered, so that "newest" has one answer.
                    id: &uuid::Uuid::now_v7().to_string(),
                    email: &registration.email,
                    name: &registration.name,
                    password_hash: &password_hash,
                    token_hash: &token_hash,
                },
                now,
                now + VERIFICATION_TTL_SECS,
            )
            .await?;
            pending_signups::keep_newest(
                &mut *transaction,
                &registration.email,
                PENDING_SIGNUPS_PER_ADDRESS,
            )
            .await?;
            let link = verification_link(&context, &token);
            let letter = templates::verify_email(&registration.email, &link)
                .link_expiring_at(now + VERIFICATION_TTL_SECS);
            // Over the hourly mail cap the sign-up is rolled back with its
            // mail: a link nobody receives is worth nothing.
            context
                .mailer
                .commit_with(transaction, &letter, now)
                .await?;
        }
    }

    Ok(Reply::new(MessageResponse::new(
        "Check your inbox: open the link we sent you and enter the password you just chose.",
    )))
}

/// Turns the link's sign-up into an account, only with the password chosen
/// at that sign-up, and signs the new account in. The try is counted before
/// the password is checked, in one statement, so a burst of guesses gets no
/// more checks than the link allows.
async fn verify_email(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    jar: CookieJar,
    Payload(request): Payload<VerifyEmail>,
) -> Result<Reply<VerifyEmail>, ApiError> {
    context.limits.check(Policy::VerifyEmail, ip, None)?;
    let token_hash = tokens::presented_hash(&request.token).ok_or_else(ApiError::invalid_link)?;
    if request.password.is_empty() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "password",
            "Enter the password you chose when you signed up.",
        )]));
    }
    let now = unix_now();
    let signup =
        pending_signups::count_try(context.db.pool(), &token_hash, now, VERIFICATION_TRIES)
            .await?
            .ok_or_else(ApiError::invalid_link)?;
    let matches = context
        .passwords
        .verify(request.password, Some(signup.password_hash.clone()))
        .await?;
    if !matches {
        let left = VERIFICATION_TRIES - signup.tries;
        let message = match left {
            0 => "That is not the password you chose when you signed up, and this link is now \
                  spent. Sign up again, or ask for a new link."
                .to_owned(),
            1 => "That is not the password you chose when you signed up. One try left.".to_owned(),
            left => {
                format!("That is not the password you chose when you signed up. {left} tries left.")
            }
        };
        return Err(ApiError::Validation(vec![FieldError::new(
            "password", &message,
        )]));
    }

    let user_id = UserId::from_uuid(uuid::Uuid::new_v4());
    let mut transaction = context.db.pool().begin().await?;
    if !pending_signups::take_with_siblings(&mut *transaction, &signup.id, now).await? {
        transaction.rollback().await?;
        return Err(ApiError::invalid_link());
    }
    let created = users::insert_verified(
        &mut *transaction,
        NewUser {
            id: user_id,
            email: &signup.email,
            password_hash: &signup.password_hash,
            name: &signup.name,
        },
        now,
    )
    .await;
    match created {
        Ok(()) => {}
        // Another sign-up of the address was confirmed first.
        Err(error) if is_unique_violation(&error) => {
            transaction.rollback().await?;
            return Err(ApiError::invalid_link());
        }
        Err(error) => return Err(error.into()),
    }
    transaction.commit().await?;
    tracing::info!(%user_id, "sign-up confirmed");

    let user = users::find_by_id(context.db.pool(), user_id)
        .await?
        .ok_or_else(ApiError::invalid_link)?;
    let (user, opened) = open_session(&context, user, &device, true, now).await?;
    let body = token_response(&context, &user, opened.session_id, now)?;
    let jar = cookies::with_refresh_token(
        &context.settings,
        jar,
        opened.refresh_token,
        opened.cookie_life,
    );
    Ok(Reply::new(body).with_cookies(jar))
}

/// Always 202, whatever the address: the answer must not tell whether it
/// has an account or a sign-up, and a malformed address matches nothing.
/// The newest pending sign-up of the address gets a fresh link; the one
/// mailed before stops working.
async fn resend_verification(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Payload(request): Payload<ResendVerification>,
) -> Result<Reply<ResendVerification>, ApiError> {
    context
        .limits
        .check(Policy::ResendVerification, ip, Some(&request.email))?;
    if let Ok(email) = Email::parse(&request.email) {
        let now = unix_now();
        let token = tokens::generate();
        let mut transaction = context.db.pool().begin().await?;
        let renewed = pending_signups::renew_newest(
            &mut *transaction,
            &email,
            &tokens::hash(&token),
            now,
            now + VERIFICATION_TTL_SECS,
        )
        .await?;
        if renewed.is_some() {
            let link = verification_link(&context, &token);
            let letter = templates::verify_email(&email, &link)
                .link_expiring_at(now + VERIFICATION_TTL_SECS);
            context
                .mailer
                .commit_with(transaction, &letter, now)
                .await?;
        } else {
            transaction.rollback().await?;
        }
    }
    Ok(Reply::new(MessageResponse::new(
        "If that address is waiting to be confirmed, a new link is on its way.",
    )))
}

/// A sign-up that is not confirmed is no account: its address signs in
/// exactly like an unknown one.
async fn login(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    jar: CookieJar,
    Payload(request): Payload<Login>,
) -> Result<Reply<Login>, ApiError> {
    let (email, password) = validate_login(&request).map_err(ApiError::Validation)?;
    context.limits.check(Policy::Login, ip, Some(&email))?;
    let now = unix_now();
    // Both questions on one connection: each one given back to the pool
    // costs a trip to its thread.
    let mut connection = context.db.pool().acquire().await?;
    let on_record = context
        .lockout
        .ensure_unlocked(&mut *connection, &email, now)
        .await?;
    // An address that cannot exist matches no account, and costs the same.
    let user = match Email::parse(&email) {
        Ok(email) => users::find_by_email(&mut *connection, &email).await?,
        Err(_) => None,
    };
    // Not held while the password is checked.
    drop(connection);
    let user = user.filter(UserRow::is_verified);
    let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
    let password_matches = context.passwords.verify(password, stored_hash).await?;
    let user = match user {
        Some(user) if password_matches => user,
        user => {
            let failure = context.lockout.failed(&email, now).await?;
            context
                .security_log
                .sign_in_failed(user.as_ref().map(|user| user.id), &device, failure, now)
                .await;
            return Err(invalid_credentials());
        }
    };
    context.lockout.cleared(&email, on_record).await?;
    // Only after the right password: a wrong one says nothing about the
    // account's state.
    if user.is_disabled() {
        return Err(account_disabled());
    }

    // Logs the sign-in too.
    let (user, opened) = open_session(&context, user, &device, request.remember, now).await?;
    let body = token_response(&context, &user, opened.session_id, now)?;
    let jar = cookies::with_refresh_token(
        &context.settings,
        jar,
        opened.refresh_token,
        opened.cookie_life,
    );
    Ok(Reply::new(body).with_cookies(jar))
}

/// Opens a session for `user`, read before its password was checked. The
/// session opens only under the credential epoch read with it, so a change
/// that landed meanwhile wins: after a new password or a disable nothing
/// opens; after a new role only, the session opens with the new role.
async fn open_session(
    context: &ApiContext,
    mut user: UserRow,
    device: &Device,
    remember: bool,
    now: i64,
) -> Result<(UserRow, Opened), ApiError> {
    for _ in 0..3 {
        if let Some(opened) = context
            .sessions
            .open(user.id, user.credential_epoch, device, remember, now)
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
        if current.password_hash != user.password_hash {
            break;
        }
        user = current;
    }
    Err(invalid_credentials())
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        ProblemCode::InvalidCredentials,
        "The email address or password is incorrect.",
    )
}

fn account_disabled() -> ApiError {
    ApiError::new(
        ProblemCode::AccountDisabled,
        "This account has been disabled. Contact an administrator.",
    )
}

/// Exchanges the refresh cookie for a new access token and, normally, a new
/// refresh cookie.
async fn refresh(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Reply<Refresh>, (CookieJar, ApiError)> {
    ensure_allowed_origin(&headers, &context.settings).map_err(|error| (jar.clone(), error))?;
    context
        .limits
        .check(Policy::Refresh, ip, None)
        .map_err(|error| (jar.clone(), error))?;
    match rotate_refresh_token(&context, &jar).await {
        Ok((body, Some((token, remaining)))) => Ok(Reply::new(body).with_cookies(
            cookies::with_refresh_token(&context.settings, jar, token, remaining),
        )),
        Ok((body, None)) => Ok(Reply::new(body)),
        // A refused cookie is useless to the browser: clear it.
        Err(error) if error.status() == axum::http::StatusCode::UNAUTHORIZED => Err((
            cookies::without_refresh_token(&context.settings, jar),
            error,
        )),
        Err(error) => Err((jar, error)),
    }
}

/// The new access token, and the new refresh token with the session's
/// remaining lifetime when this request rotated it.
async fn rotate_refresh_token(
    context: &ApiContext,
    jar: &CookieJar,
) -> Result<(TokenResponse, Option<(String, CookieLife)>), ApiError> {
    let invalid = || {
        ApiError::new(
            ProblemCode::InvalidRefreshToken,
            "The session is missing, expired or signed out. Sign in again.",
        )
    };
    let presented = cookies::refresh_token(&context.settings, jar).ok_or_else(invalid)?;
    let now = unix_now();
    let renewed = match context.sessions.renew(&presented, now).await {
        Ok(renewed) => renewed,
        Err(Refused::Invalid) => return Err(invalid()),
        Err(Refused::Reused { .. }) => {
            return Err(ApiError::new(
                ProblemCode::RefreshTokenReused,
                "This session was signed out because its refresh token was used twice. \
                 Sign in again.",
            ))
        }
        Err(Refused::Database(error)) => return Err(error.into()),
    };
    let user = users::find_by_id(context.db.pool(), renewed.user_id)
        .await?
        .ok_or_else(invalid)?;
    let body = token_response(context, &user, renewed.session_id, now)?;
    Ok((body, renewed.successor))
}

async fn logout(
    State(context): State<ApiContext>,
    headers: HeaderMap,
    jar: CookieJar,
) -> Result<Reply<Logout>, ApiError> {
    ensure_allowed_origin(&headers, &context.settings)?;
    if let Some(token) = cookies::refresh_token(&context.settings, &jar) {
        context
            .sessions
            .end_by_refresh_token(&token, EndReason::Logout, unix_now())
            .await?;
    }
    Ok(Reply::empty().with_cookies(cookies::without_refresh_token(&context.settings, jar)))
}

async fn logout_all(
    State(context): State<ApiContext>,
    jar: CookieJar,
    caller: AuthUser,
) -> Result<Reply<LogoutAll>, ApiError> {
    let revoked = context
        .sessions
        .end_all(caller.user_id, EndReason::LogoutAll, unix_now())
        .await?;
    tracing::info!(
        user_id = %caller.user_id,
        sessions = revoked.len(),
        "signed out everywhere"
    );
    Ok(Reply::empty().with_cookies(cookies::without_refresh_token(&context.settings, jar)))
}

fn token_response(
    context: &ApiContext,
    user: &UserRow,
    session_id: SessionId,
    now: i64,
) -> Result<TokenResponse, ApiError> {
    let access_token = context
        .access_tokens
        .issue(user.id, session_id, user.role, now)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: context.access_tokens.ttl().as_secs(),
        user: user_view(user),
    })
}

fn verification_link(context: &ApiContext, token: &str) -> String {
    let mut url = context.settings.page_url(Page::VerifyEmail.path());
    url.query_pairs_mut().append_pair("token", token);
    url.into()
}
