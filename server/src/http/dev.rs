//! Development helpers, mounted only when `APP_ENV=development`.

use app::api::{endpoints::DevMailbox, types::Mailbox};
use axum::extract::State;

use super::{
    route::{ApiRouter, Reply},
    ApiContext,
};
use crate::{error::ApiError, mail::outbox};

const MAILBOX_LIMIT: usize = 50;

pub fn router() -> ApiRouter {
    ApiRouter::new().route::<DevMailbox, _, _>(mailbox)
}

/// The newest messages in the outbox, so a developer can follow a
/// verification link without opening files.
async fn mailbox(State(context): State<ApiContext>) -> Result<Reply<DevMailbox>, ApiError> {
    let dir = context.settings.mail.outbox_dir.clone();
    let messages = tokio::task::spawn_blocking(move || match outbox::read(&dir, MAILBOX_LIMIT) {
        Ok(messages) => Ok(messages),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(error) => Err(error),
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(anyhow::Error::from)?;
    Ok(Reply::new(Mailbox { messages }))
}
