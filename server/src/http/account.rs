//! The signed-in user's account as a whole: moving it to another email
//! address (and the two emailed links of that: confirm, undo), deleting it,
//! and downloading what it holds. Changing the address and deleting the
//! account are sensitive actions (the step-up extractor); the work is the
//! lifecycle service's (`account_lifecycle`), which lists the attacks each
//! flow answers.

use app::api::{
    endpoints::{
        CancelEmailChange, ChangeEmail, ConfirmEmailChange, DeleteMe, ExportMe, GetEmailChange,
        UndoEmailChange,
    },
    lifecycle::{AccountExport, EmailChangeStatus, PendingEmailChange},
    types::MessageResponse,
    values::Email,
    FieldError, ProblemCode,
};
use axum::extract::State;

use super::{
    activity::event_view,
    extract::{AuthUser, ClientIp, Device, RecentUser},
    people::person_view,
    route::{ApiRouter, Payload, Reply},
    sessions::session_view,
    users::user_view,
    ApiContext,
};
use crate::{
    account_lifecycle::{DeleteRefused, Deleter, LinkRefused},
    clock::{rfc3339, unix_now},
    error::ApiError,
    limits::Policy,
    store::{
        email_changes, people, security_events,
        users::{self, UserRow},
    },
};

/// The most activity entries an export holds (housekeeping keeps 90 days
/// of them; this bounds a flood).
const EXPORTED_EVENTS: i64 = 10_000;

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<ChangeEmail, _, _>(change_email)
        .route::<GetEmailChange, _, _>(email_change)
        .route::<CancelEmailChange, _, _>(cancel_email_change)
        .route::<ConfirmEmailChange, _, _>(confirm_email_change)
        .route::<UndoEmailChange, _, _>(undo_email_change)
        .route::<DeleteMe, _, _>(delete_me)
        .route::<ExportMe, _, _>(export)
}

/// Always the same 202 and body for a valid address, whether or not
/// another account has it: the new address's mail says which.
async fn change_email(
    State(context): State<ApiContext>,
    RecentUser(caller): RecentUser,
    ClientIp(ip): ClientIp,
    device: Device,
    Payload(request): Payload<ChangeEmail>,
) -> Result<Reply<ChangeEmail>, ApiError> {
    context
        .limits
        .check(Policy::ChangeEmail, ip, Some(&caller.user_id.to_string()))
        .await?;
    let email = Email::parse(&request.email)
        .map_err(|invalid| ApiError::Validation(vec![FieldError::new("email", invalid.0)]))?;
    let user = account(&context, &caller).await?;
    if !context
        .lifecycle
        .request_email_change(&user, caller.session_id, &email, &device, unix_now())
        .await?
    {
        return Err(gone());
    }
    Ok(Reply::new(MessageResponse::new(
        "Check the new address's inbox and open the link we sent there within 30 minutes. \
         Until then, sign in with your current address.",
    )))
}

async fn email_change(
    State(context): State<ApiContext>,
    caller: AuthUser,
) -> Result<Reply<GetEmailChange>, ApiError> {
    let pending =
        email_changes::find_for_user(context.db.pool(), caller.user_id, unix_now()).await?;
    Ok(Reply::new(EmailChangeStatus {
        pending: pending.map(pending_view),
    }))
}

/// Cancelling only takes a link away, so it needs no step-up: a borrowed
/// browser can at worst stop a change the owner can ask for again.
async fn cancel_email_change(
    State(context): State<ApiContext>,
    caller: AuthUser,
    device: Device,
) -> Result<Reply<CancelEmailChange>, ApiError> {
    context
        .lifecycle
        .cancel_email_change(caller.user_id, &device, unix_now())
        .await?;
    Ok(Reply::empty())
}

fn pending_view(change: email_changes::EmailChangeRow) -> PendingEmailChange {
    PendingEmailChange {
        new_email: change.new_email,
        expires_at: rfc3339(change.expires_at),
    }
}

async fn confirm_email_change(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Payload(request): Payload<ConfirmEmailChange>,
) -> Result<Reply<ConfirmEmailChange>, ApiError> {
    context
        .limits
        .check(Policy::EmailChangeLink, ip, None)
        .await?;
    let email = context
        .lifecycle
        .confirm_email_change(&request.token, unix_now())
        .await
        .map_err(refused)?;
    Ok(Reply::new(MessageResponse::new(format!(
        "Your email address is now {email}. Sign in with it from now on."
    ))))
}

async fn undo_email_change(
    State(context): State<ApiContext>,
    ClientIp(ip): ClientIp,
    Payload(request): Payload<UndoEmailChange>,
) -> Result<Reply<UndoEmailChange>, ApiError> {
    context
        .limits
        .check(Policy::EmailChangeLink, ip, None)
        .await?;
    let email = context
        .lifecycle
        .undo_email_change(&request.token, unix_now())
        .await
        .map_err(refused)?;
    Ok(Reply::new(MessageResponse::new(format!(
        "Your email address is {email} again, and every session was signed out. We sent a \
         link there to choose a new password."
    ))))
}

fn refused(error: LinkRefused) -> ApiError {
    match error {
        LinkRefused::Invalid => ApiError::invalid_link(),
        LinkRefused::Taken => ApiError::new(
            ProblemCode::EmailTaken,
            "That email address now belongs to another account, so nothing was changed.",
        ),
        LinkRefused::OverMailLimit => ApiError::rate_limited(std::time::Duration::from_secs(3600)),
        LinkRefused::Hash(error) => error.into(),
        LinkRefused::Database(error) => error.into(),
    }
}

/// The session ends with the account: the access token that asked is
/// refused from the moment this answers.
async fn delete_me(
    State(context): State<ApiContext>,
    RecentUser(caller): RecentUser,
) -> Result<Reply<DeleteMe>, ApiError> {
    match context
        .lifecycle
        .delete_account(caller.user_id, Deleter::Owner, unix_now())
        .await
    {
        Ok(_) => Ok(Reply::empty()),
        Err(DeleteRefused::NotFound) => Err(gone()),
        Err(DeleteRefused::LastAdmin) => Err(ApiError::last_admin(
            "You are the last admin. Make someone else an admin before deleting your account.",
        )),
        Err(DeleteRefused::Database(error)) => Err(error.into()),
    }
}

/// Read after read, not one snapshot: each part is as it was when read.
async fn export(
    State(context): State<ApiContext>,
    caller: AuthUser,
) -> Result<Reply<ExportMe>, ApiError> {
    let now = unix_now();
    let pool = context.db.pool();
    let user = account(&context, &caller).await?;
    let pending = email_changes::find_for_user(pool, user.id, now).await?;
    let sessions = context.sessions.list(user.id, now, None, i64::MAX).await?;
    let second_factor = context.factors.status(user.id).await?;
    let events = security_events::recent(pool, user.id, EXPORTED_EVENTS).await?;
    let people = people::created_by(pool, user.id).await?;
    Ok(Reply::new(AccountExport {
        exported_at: rfc3339(now),
        profile: user_view(&user),
        pending_email_change: pending.map(pending_view),
        sessions: sessions
            .iter()
            .map(|row| session_view(row, caller.session_id))
            .collect(),
        second_factor,
        activity: events.iter().filter_map(event_view).collect(),
        people_created: people.iter().map(person_view).collect(),
    }))
}

async fn account(context: &ApiContext, caller: &AuthUser) -> Result<UserRow, ApiError> {
    users::find_by_id(context.db.pool(), caller.user_id)
        .await?
        .ok_or_else(gone)
}

fn gone() -> ApiError {
    ApiError::bad_token(ProblemCode::InvalidToken, "This account no longer exists.")
}
