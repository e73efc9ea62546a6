//! The endpoints of the directories, described like the rest of the
//! catalog: the accounts (an admin's console) and the people, and the
//! development mailbox.

use super::{first_doc_line, Credentials, Endpoint, EndpointInfo, Method, QueryParam, LIST_QUERY};
use crate::api::{
    problem::ProblemCode,
    types::{
        ListQuery, Mailbox, Person, PersonInput, PersonPage, SecurityEventList, UpdateUserRequest,
        User, UserPage,
    },
    values::{PersonId, UserId},
};

endpoints! {
    /// Turns off an account's authenticator app, for an owner who lost it (admins only). The account's sessions end.
    RemoveUserTotp {
        Delete "/api/users/{id}/totp",
        params: UserId,
        credentials: RecentAdmin,
        request: (),
        response: 204 (),
        problems: [NotFound, SecondFactorNotEnabled],
    }

    /// Lists accounts, oldest first, a page at a time (admins only).
    ListUsers {
        Get "/api/users",
        params: ListQuery,
        credentials: Admin,
        request: (),
        response: 200 UserPage,
        problems: [],
        query: LIST_QUERY,
    }

    /// One account: a user may read their own, an admin anyone's.
    GetUser {
        Get "/api/users/{id}",
        params: UserId,
        credentials: Bearer,
        request: (),
        response: 200 User,
        problems: [NotFound],
    }

    /// An account's recent activity, newest first (admins only).
    UserActivity {
        Get "/api/users/{id}/activity",
        params: UserId,
        credentials: Admin,
        request: (),
        response: 200 SecurityEventList,
        problems: [NotFound],
    }

    /// Changes an account's role or disables it, ending its sessions (admins only).
    UpdateUser {
        Patch "/api/users/{id}",
        params: UserId,
        credentials: RecentAdmin,
        request: UpdateUserRequest,
        response: 200 User,
        problems: [NotFound, LastAdmin],
    }

    /// Deletes an account and everything that is theirs, ending its sessions at once (admins only). People they added to the directory stay, without their name. An admin's own account is deleted from the account page (`DELETE /api/me`).
    DeleteUser {
        Delete "/api/users/{id}",
        params: UserId,
        credentials: RecentAdmin,
        request: (),
        response: 204 (),
        problems: [NotFound, LastAdmin, OwnAccount],
    }

    /// Lists the people of the directory, oldest first, a page at a time.
    ListPeople {
        Get "/api/people",
        params: ListQuery,
        credentials: Bearer,
        request: (),
        response: 200 PersonPage,
        problems: [],
        query: LIST_QUERY,
    }

    /// One person, with the ETag to send back when replacing them.
    GetPerson {
        Get "/api/people/{id}",
        params: PersonId,
        credentials: Bearer,
        request: (),
        response: 200 Person,
        problems: [NotFound],
        versioned: true,
    }

    /// Adds a person to the directory.
    CreatePerson {
        Post "/api/people",
        params: (),
        credentials: Bearer,
        request: PersonInput,
        response: 201 Person,
        problems: [ValidationFailed],
        versioned: true,
    }

    /// Replaces a person, only if `If-Match` names their current version.
    UpdatePerson {
        Put "/api/people/{id}",
        params: PersonId,
        credentials: Bearer,
        request: PersonInput,
        response: 200 Person,
        problems: [NotFound, ValidationFailed, PreconditionFailed, PreconditionRequired],
        versioned: true,
    }

    /// Removes a person from the directory (admins only).
    DeletePerson {
        Delete "/api/people/{id}",
        params: PersonId,
        credentials: Admin,
        request: (),
        response: 204 (),
        problems: [NotFound],
    }

    /// The newest messages of the mail outbox, with their links (development only).
    DevMailbox {
        Get "/api/dev/mailbox",
        params: (),
        credentials: None,
        request: (),
        response: 200 Mailbox,
        problems: [],
        development_only: true,
        uses_database: false,
    }
}
