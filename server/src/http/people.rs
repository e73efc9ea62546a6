//! The people directory: every signed-in user may list, read, add and
//! replace people; only an admin may delete one. Replacing is optimistic:
//! each answer carries the person's `ETag`, and a `PUT` must send it back
//! in `If-Match` (428 without, 412 when someone changed the person since,
//! and then nothing is overwritten).

use app::{
    api::{
        endpoints::{CreatePerson, DeletePerson, GetPerson, ListPeople, UpdatePerson},
        types::{ListQuery, Person, PersonPage},
        values::PersonId,
        ProblemCode,
    },
    validation::validate_person,
};
use axum::{
    extract::State,
    http::{header, HeaderMap},
};

use super::{
    extract::{Admin, AuthUser, PathId, QueryParams},
    listing::Page,
    route::{ApiRouter, Payload, Reply},
    ApiContext,
};
use crate::{
    clock::{rfc3339, unix_now},
    error::ApiError,
    store::{
        people::{self, PersonRow},
        After,
    },
};

pub fn router() -> ApiRouter {
    ApiRouter::new()
        .route::<ListPeople, _, _>(list)
        .route::<GetPerson, _, _>(get)
        .route::<CreatePerson, _, _>(create)
        .route::<UpdatePerson, _, _>(replace)
        .route::<DeletePerson, _, _>(delete)
}

async fn list(
    State(context): State<ApiContext>,
    _caller: AuthUser,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Reply<ListPeople>, ApiError> {
    let page = Page::read(&query)?;
    let mut rows = people::page(
        &context.db,
        page.search.as_deref(),
        page.after.as_ref(),
        page.fetch(),
    )
    .await?;
    let next_cursor = page.next_cursor(&mut rows, |row| After {
        at: row.created_at,
        id: row.id.to_string(),
    });
    Ok(Reply::new(PersonPage {
        people: rows.iter().map(person_view).collect(),
        next_cursor,
    }))
}

async fn get(
    State(context): State<ApiContext>,
    _caller: AuthUser,
    PathId(id): PathId<PersonId>,
) -> Result<Reply<GetPerson>, ApiError> {
    let row = people::find(context.db.pool(), id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Reply::new(person_view(&row)).with_etag(etag(&row)))
}

async fn create(
    State(context): State<ApiContext>,
    caller: AuthUser,
    Payload(input): Payload<CreatePerson>,
) -> Result<Reply<CreatePerson>, ApiError> {
    let person = validate_person(&input).map_err(ApiError::Validation)?;
    let id = PersonId::from_uuid(uuid::Uuid::new_v4());
    let pool = context.db.pool();
    people::insert(pool, id, &person, caller.user_id, unix_now()).await?;
    let row = people::find(pool, id).await?.ok_or_else(not_found)?;
    Ok(Reply::new(person_view(&row)).with_etag(etag(&row)))
}

async fn replace(
    State(context): State<ApiContext>,
    caller: AuthUser,
    PathId(id): PathId<PersonId>,
    headers: HeaderMap,
    Payload(input): Payload<UpdatePerson>,
) -> Result<Reply<UpdatePerson>, ApiError> {
    let pool = context.db.pool();
    let current = people::find(pool, id).await?.ok_or_else(not_found)?;
    let Some(if_match) = headers.get(header::IF_MATCH) else {
        return Err(ApiError::new(
            ProblemCode::PreconditionRequired,
            "Send the person's ETag in `If-Match`, so that no one else's change is overwritten.",
        ));
    };
    let version = if_match
        .to_str()
        .ok()
        .and_then(|value| matching_version(value, current.version))
        .ok_or_else(changed_since)?;
    let person = validate_person(&input).map_err(ApiError::Validation)?;
    if !people::replace(pool, id, version, &person, caller.user_id, unix_now()).await? {
        return Err(match people::find(pool, id).await? {
            Some(_) => changed_since(),
            None => not_found(),
        });
    }
    let row = people::find(pool, id).await?.ok_or_else(not_found)?;
    Ok(Reply::new(person_view(&row)).with_etag(etag(&row)))
}

async fn delete(
    State(context): State<ApiContext>,
    Admin(caller): Admin,
    PathId(id): PathId<PersonId>,
) -> Result<Reply<DeletePerson>, ApiError> {
    if !people::delete(context.db.pool(), id).await? {
        return Err(not_found());
    }
    tracing::info!(admin = %caller.user_id, person = %id, "person deleted");
    Ok(Reply::empty())
}

pub(super) fn person_view(row: &PersonRow) -> Person {
    Person {
        id: row.id,
        name: row.name.to_string(),
        email: row.email(),
        phone: row.phone.clone(),
        notes: row.notes.clone(),
        created_at: rfc3339(row.created_at),
        updated_at: rfc3339(row.updated_at),
        created_by: row.created_by(),
        updated_by: row.updated_by(),
    }
}

fn etag(row: &PersonRow) -> String {
    format!("\"v{}\"", row.version)
}

/// The version `If-Match` names, if it is the current one. `*` matches
/// whatever exists; weak tags never match (RFC 9110 §13.1.1).
fn matching_version(if_match: &str, current: i64) -> Option<i64> {
    let matches = if_match.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || tag
                .strip_prefix("\"v")
                .and_then(|rest| rest.strip_suffix('"'))
                .and_then(|version| version.parse::<i64>().ok())
                == Some(current)
    });
    matches.then_some(current)
}

fn not_found() -> ApiError {
    ApiError::new(ProblemCode::NotFound, "There is no such person.")
}

fn changed_since() -> ApiError {
    ApiError::new(
        ProblemCode::PreconditionFailed,
        "Someone changed this person since you read it. Reload, then make your change again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_names_the_current_version_or_anything() {
        assert_eq!(matching_version("\"v3\"", 3), Some(3));
        assert_eq!(matching_version("\"v2\", \"v3\"", 3), Some(3));
        assert_eq!(matching_version("*", 3), Some(3));
        assert_eq!(matching_version("\"v2\"", 3), None);
        assert_eq!(matching_version("W/\"v3\"", 3), None);
        assert_eq!(matching_version("v3", 3), None);
        assert_eq!(matching_version("", 3), None);
    }
}
