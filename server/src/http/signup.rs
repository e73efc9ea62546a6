//! Sign-up: a pending row bound to the password typed with it, its
//! confirmation (which creates the account and signs in), and resending
//! its link.
//!
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
        endpoints::{Register, ResendVerification, VerifyEmail},
        types::MessageResponse,
        values::{Email, UserId},
        FieldError,
    },
    routes::Page,
    validation::validate_registration,
};
use axum::extract::State;
use axum_extra::extract::CookieJar;

use super::{
    extract::{ClientIp, Device},
    route::{ApiRouter, Payload, Reply},
    sign_in::{open_session, signed_in},
    ApiContext,
};
use crate::{
    auth::tokens,
    clock::unix_now,
    error::ApiError,
    limits::Policy,
    mail::templates,
    store::{
        is_unique_violation,
        pending_signups::{self, NewPendingSignup},
        users::{self, NewUser},
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
        .check(Policy::Register, ip, Some(registration.email.as_str()))
        .await?;
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
    context.limits.check(Policy::VerifyEmail, ip, None).await?;
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
    let (body, jar) = signed_in(&context, jar, &user, opened, now)?;
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
        .check(Policy::ResendVerification, ip, Some(&request.email))
        .await?;
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

fn verification_link(context: &ApiContext, token: &str) -> String {
    let mut url = context.settings.page_url(Page::VerifyEmail.path());
    url.query_pairs_mut().append_pair("token", token);
    url.into()
}
