//! Passwords: forgotten (a single-use link by email), reset with that link,
//! and changed by the signed-in user. A new password ends sessions through
//! the session service: a reset ends all of them, a change all but the
//! caller's.

use app::{
    api::{
        endpoints::{ChangePassword, ForgotPassword, ResetPassword},
        types::MessageResponse,
        values::Email,
        FieldError, ProblemCode,
    },
    routes::Page,
    validation::check_password,
};
use axum::extract::State;

use super::{
    extract::{ClientIp, Device, RecentUser},
    route::{ApiRouter, Payload, Reply},
    ApiContext,
};
use crate::{
    auth::tokens,
    clock::unix_now,
    error::ApiError,
    limits::Policy,
    mail::{templates, Letter},
    security_log::{self, EventKind},
    store::{
        email_tokens::{self, Purpose},
        sessions::EndReason,
        sign_in_failures,
        users::{self, UserRow},
    },
};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<ForgotPassword, _, _>(forgot_password)
        .route::<ResetPassword, _, _>(reset_password)
        .route::<ChangePassword, _, _>(change_password)
}

/// Always 202 with the same body, after the same work: the answer must not
/// tell whether the address has an account. The link, for an account that
/// has one, is made in the background (see `password_resets`).
async fn forgot_password(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Payload(request): Payload<ForgotPassword>,
) -> Result<Reply<ForgotPassword>, ApiError> {
    context
        .limits
        .check(Policy::ForgotPassword, ip, Some(&request.email))
        .await?;
    if let Ok(email) = Email::parse(&request.email) {
        context.password_resets.request(email, unix_now());
    }
    Ok(Reply::new(MessageResponse::new(
        "If that address has an account, a link to reset its password is on its way.",
    )))
}

async fn reset_password(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    device: Device,
    Payload(request): Payload<ResetPassword>,
) -> Result<Reply<ResetPassword>, ApiError> {
    context
        .limits
        .check(Policy::ResetPassword, ip, None)
        .await?;
    let invalid = ApiError::invalid_link;
    let token_hash = tokens::presented_hash(&request.token).ok_or_else(invalid)?;
    let now = unix_now();
    // Looked at first and spent only with the new password: a password
    // refused as too weak does not use the link up.
    let user_id =
        email_tokens::find_live(context.db.pool(), &token_hash, Purpose::ResetPassword, now)
            .await?
            .ok_or_else(invalid)?;
    let user = users::find_by_id(context.db.pool(), user_id)
        .await?
        .ok_or_else(invalid)?;
    check_new_password(&context, "password", &request.password, &user).await?;
    let password_hash = context.passwords.hash(request.password).await?;

    let mut transaction = context.db.pool().begin().await?;
    let spent =
        email_tokens::consume(&mut *transaction, &token_hash, Purpose::ResetPassword, now).await?;
    if spent != Some(user.id) {
        transaction.rollback().await?;
        return Err(invalid());
    }
    // Proven through the mailbox: no session chose it.
    users::update_password_hash(&mut *transaction, user.id, &password_hash, None, now).await?;
    // The link reached the inbox: the address is proven.
    users::mark_verified(&mut *transaction, user.id, now).await?;
    email_tokens::spend_all(&mut *transaction, user.id, Purpose::ResetPassword, now).await?;
    // Whoever reset the password owns the address: no lockout stands.
    sign_in_failures::clear(&mut *transaction, user.email.as_str()).await?;
    security_log::record_in(
        &mut *transaction,
        user.id,
        EventKind::PasswordReset,
        Some(&device),
        None,
        now,
    )
    .await?;
    let notice = password_changed(&context, &user);
    context
        .mailer
        .enqueue(&mut transaction, &notice, now)
        .await?;
    // The new password raised the credential epoch: every session ends in
    // this same transaction.
    let ending = context
        .sessions
        .end_stale_within(
            &mut transaction,
            user.id,
            None,
            EndReason::PasswordReset,
            now,
        )
        .await?;
    let ended = context.sessions.commit(transaction, ending, now).await?;
    context.mailer.wake();
    context.me_cache.forget_user(user.id);
    tracing::info!(user_id = %user.id, sessions = ended.len(), "password reset");
    Ok(Reply::new(MessageResponse::new(
        "Your password is set. Sign in with it now.",
    )))
}

/// A sensitive action: the user must have proved who they are recently,
/// besides typing the current password (which a borrowed, signed-in
/// browser does not know anyway; the step-up also covers the session).
async fn change_password(
    State(context): State<ApiContext>,
    RecentUser(caller): RecentUser,
    ClientIp(ip): ClientIp,
    device: Device,
    Payload(request): Payload<ChangePassword>,
) -> Result<Reply<ChangePassword>, ApiError> {
    context
        .limits
        .check(
            Policy::ChangePassword,
            ip,
            Some(&caller.user_id.to_string()),
        )
        .await?;
    let user = users::find_by_id(context.db.pool(), caller.user_id)
        .await?
        .ok_or_else(|| {
            ApiError::bad_token(ProblemCode::InvalidToken, "This account no longer exists.")
        })?;
    if request.current_password.is_empty() {
        return Err(field_error(
            "current_password",
            "Enter your current password.",
        ));
    }
    check_password(&request.new_password)
        .map_err(|message| field_error("new_password", message))?;
    let matches = context
        .passwords
        .verify(request.current_password, Some(user.password_hash.clone()))
        .await?;
    if !matches {
        return Err(field_error(
            "current_password",
            "That is not your current password.",
        ));
    }
    check_new_password(&context, "new_password", &request.new_password, &user).await?;
    let password_hash = context.passwords.hash(request.new_password).await?;
    let now = unix_now();
    // Whoever holds this session chose it (auth::factors::footing).
    let footing = context.sessions.footing(caller.session_id, now).await?;
    let mut transaction = context.db.pool().begin().await?;
    users::update_password_hash(
        &mut *transaction,
        user.id,
        &password_hash,
        Some(footing),
        now,
    )
    .await?;
    security_log::record_in(
        &mut *transaction,
        user.id,
        EventKind::PasswordChanged,
        Some(&device),
        None,
        now,
    )
    .await?;
    let notice = password_changed(&context, &user);
    context
        .mailer
        .enqueue(&mut transaction, &notice, now)
        .await?;
    // Every other session ends in this same transaction; the caller's
    // moves to the new credential epoch.
    let ending = context
        .sessions
        .end_stale_within(
            &mut transaction,
            user.id,
            Some(caller.session_id),
            EndReason::PasswordChanged,
            now,
        )
        .await?;
    let ended = context.sessions.commit(transaction, ending, now).await?;
    context.mailer.wake();
    tracing::info!(user_id = %user.id, sessions = ended.len(), "password changed");
    Ok(Reply::empty())
}

/// The shared rules, then the strength rating with the user's own details
/// held against it.
async fn check_new_password(
    context: &ApiContext,
    field: &str,
    password: &str,
    user: &UserRow,
) -> Result<(), ApiError> {
    check_password(password).map_err(|message| field_error(field, message))?;
    let weakness = context
        .passwords
        .weakness(
            password.to_owned(),
            vec![user.email.to_string(), user.name.to_string()],
        )
        .await?;
    match weakness {
        Some(message) => Err(field_error(field, &message)),
        None => Ok(()),
    }
}

fn field_error(field: &str, message: &str) -> ApiError {
    ApiError::Validation(vec![FieldError::new(field, message)])
}

/// Tells the owner, with the way back in should it not have been them.
fn password_changed(context: &ApiContext, user: &UserRow) -> Letter {
    let forgot = context.settings.page_url(Page::ForgotPassword.path());
    templates::password_changed(&user.email, &user.name, forgot.as_str())
}
