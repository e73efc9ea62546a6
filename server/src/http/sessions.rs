//! The signed-in user's sessions: where they are signed in, and signing
//! one of those devices out. Another user's session is as unknown as one
//! that never existed (404, never 403).

use app::api::{
    endpoints::{EndMySession, MySessions},
    types::{ListQuery, SessionInfo, SessionList},
    values::SessionId,
    FieldError, ProblemCode,
};
use axum::extract::State;

use super::{
    extract::{AuthUser, PathId, QueryParams},
    listing::Page,
    route::{ApiRouter, Reply},
    ApiContext,
};
use crate::{
    clock::{rfc3339, unix_now},
    error::ApiError,
    store::{sessions::SessionRow, After},
};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<MySessions, _, _>(list)
        .route::<EndMySession, _, _>(end)
}

/// Most recently used first, a page at a time; the cursor is where the
/// last page ended in that order (a session used while a client pages
/// moves to the front, where a client that pages on does not see it again).
async fn list(
    State(context): State<ApiContext>,
    caller: AuthUser,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Reply<MySessions>, ApiError> {
    let page = Page::read(&query)?;
    if page.search.is_some() {
        return Err(ApiError::Validation(vec![FieldError::new(
            "q",
            "Sessions cannot be searched: leave q out.",
        )]));
    }
    let mut rows = context
        .sessions
        .list(
            caller.user_id,
            unix_now(),
            page.after.as_ref(),
            page.fetch(),
        )
        .await?;
    let next_cursor = page.next_cursor(&mut rows, |row| After {
        at: row.last_seen_at,
        id: row.id.to_string(),
    });
    let sessions = rows
        .iter()
        .map(|row| session_view(row, caller.session_id))
        .collect();
    Ok(Reply::new(SessionList {
        sessions,
        next_cursor,
    }))
}

async fn end(
    State(context): State<ApiContext>,
    caller: AuthUser,
    PathId(session_id): PathId<SessionId>,
) -> Result<Reply<EndMySession>, ApiError> {
    if context
        .sessions
        .end_own(caller.user_id, session_id, unix_now())
        .await?
    {
        Ok(Reply::empty())
    } else {
        Err(ApiError::new(
            ProblemCode::NotFound,
            "You have no live session with that id.",
        ))
    }
}

pub(super) fn session_view(row: &SessionRow, current: SessionId) -> SessionInfo {
    SessionInfo {
        id: row.id,
        created_at: rfc3339(row.created_at),
        last_used_at: rfc3339(row.last_seen_at),
        device: device_name(row.user_agent.as_deref()),
        ip_address: row.ip_address.clone(),
        current: row.id == current,
    }
}

/// "Firefox on Linux", from the user agent, by a parser that knows the
/// browsers and systems.
pub(super) fn device_name(user_agent: Option<&str>) -> String {
    const UNKNOWN: &str = "UNKNOWN";
    let parsed = user_agent.and_then(|agent| woothee::parser::Parser::new().parse(agent));
    match parsed {
        Some(result) if result.name != UNKNOWN && result.os != UNKNOWN => {
            format!("{} on {}", result.name, result.os)
        }
        Some(result) if result.name != UNKNOWN => result.name.to_owned(),
        _ => "Unknown device".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_from_the_user_agent() {
        assert_eq!(
            device_name(Some(
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
            )),
            "Firefox on Linux"
        );
        assert_eq!(
            device_name(Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
            )),
            "Chrome on Windows 10"
        );
        assert_eq!(device_name(Some("curl/8.5.0")), "HTTP Library");
        assert_eq!(device_name(Some("")), "Unknown device");
        assert_eq!(device_name(None), "Unknown device");
    }
}
