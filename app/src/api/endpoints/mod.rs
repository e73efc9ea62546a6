//! Every endpoint of the JSON API, described once: method, path pattern,
//! path parameters, request and response types, the credentials it reads,
//! its success status and the problems it can answer with. The server mounts
//! its routes from these descriptions and builds its OpenAPI document from
//! them; the SPA's client sends its requests from them. A path, a method or
//! a body type therefore cannot differ between the two sides.
//!
//! These are the only places where an API path is written.

use serde::{de::DeserializeOwned, Serialize};

use super::problem::ProblemCode;

mod params;
pub use params::{PathParams, QueryParam, LIST_QUERY, PAGE_QUERY};

/// Where the JSON API lives; everything else is the web app.
pub const API_PREFIX: &str = "/api";

/// The path the refresh cookie is scoped to: the browser sends it to the
/// auth endpoints and nowhere else.
pub const AUTH_PREFIX: &str = "/api/auth";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// What proves who the caller is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Credentials {
    /// Nothing: anyone may call it.
    None,
    /// An access token in `Authorization: Bearer`. A 401 whose
    /// `WWW-Authenticate` says `error="invalid_token"` may be cured by
    /// renewing the token.
    Bearer,
    /// A bearer access token of an admin; anyone else signed in gets 403
    /// `forbidden`.
    Admin,
    /// A bearer access token whose user proved who they are recently
    /// (`auth_time` within the server's `REAUTH_MAX_AGE_SECS`): a
    /// sensitive action. Otherwise 401 `insufficient_user_authentication`
    /// (RFC 9470), which re-authenticating cures.
    RecentBearer,
    /// [`Credentials::RecentBearer`] of an admin.
    RecentAdmin,
    /// The HttpOnly refresh cookie, from a page of an allowed `Origin`.
    /// Never renewed: the cookie is what renewal itself uses.
    RefreshCookie,
}

impl Credentials {
    /// Whether an access token is sent (and may be renewed).
    pub const fn is_bearer(self) -> bool {
        matches!(
            self,
            Self::Bearer | Self::Admin | Self::RecentBearer | Self::RecentAdmin
        )
    }

    /// Whether the caller must have proved who they are recently.
    pub const fn needs_recent_authentication(self) -> bool {
        matches!(self, Self::RecentBearer | Self::RecentAdmin)
    }
}

/// With the server build, request and response bodies also describe their
/// JSON Schema for the OpenAPI document; the browser build carries no
/// schema code.
#[cfg(feature = "ssr")]
pub trait Body: Serialize + DeserializeOwned + utoipa::ToSchema + 'static {}
#[cfg(feature = "ssr")]
impl<T: Serialize + DeserializeOwned + utoipa::ToSchema + 'static> Body for T {}
#[cfg(not(feature = "ssr"))]
pub trait Body: Serialize + DeserializeOwned + 'static {}
#[cfg(not(feature = "ssr"))]
impl<T: Serialize + DeserializeOwned + 'static> Body for T {}

/// One endpoint. `()` as `Request` means no body is sent; as `Response`,
/// that the success answer has none (204).
pub trait Endpoint: 'static {
    type Params: PathParams;
    type Request: Body;
    type Response: Body;
    const METHOD: Method;
    /// The path, with `{name}` for each parameter (axum's syntax).
    const PATH: &'static str;
    const CREDENTIALS: Credentials;
    /// The status of a successful answer.
    const SUCCESS: u16;
    /// A second success status the same body type can come with (a
    /// sign-in that needs a second factor answers 202).
    const ALSO_SUCCESS: Option<u16> = None;
    /// The problems particular to this endpoint. Those that follow from its
    /// shape (a JSON body, bearer credentials, the cookie's origin check,
    /// the database) are implied; see [`EndpointInfo::problems`].
    const PROBLEMS: &'static [ProblemCode];
    /// A stable name for the operation (OpenAPI `operationId`).
    const NAME: &'static str;
    const SUMMARY: &'static str;
    /// Whether the endpoint exists only with `APP_ENV=development`.
    const DEVELOPMENT_ONLY: bool = false;
    /// Whether the endpoint reads the database (and so can answer 503).
    const USES_DATABASE: bool = true;
    /// Its query parameters.
    const QUERY: &'static [QueryParam] = &[];
    /// Whether answers carry the resource's `ETag`; a `PUT` must then send
    /// `If-Match` with it (optimistic concurrency).
    const VERSIONED: bool = false;
    /// For a download: the file name its success answer is saved under
    /// (`Content-Disposition: attachment`).
    const DOWNLOAD: Option<&'static str> = None;

    const INFO: EndpointInfo = EndpointInfo {
        method: Self::METHOD,
        path: Self::PATH,
        credentials: Self::CREDENTIALS,
        success: Self::SUCCESS,
        also_success: Self::ALSO_SUCCESS,
        specific_problems: Self::PROBLEMS,
        name: Self::NAME,
        summary: Self::SUMMARY,
        development_only: Self::DEVELOPMENT_ONLY,
        uses_database: Self::USES_DATABASE,
        has_request_body: !is_unit::<Self::Request>(),
        has_response_body: !is_unit::<Self::Response>(),
        query: Self::QUERY,
        versioned: Self::VERSIONED,
        download: Self::DOWNLOAD,
    };
}

const fn is_unit<T>() -> bool {
    // `()` is the only zero-sized body type of the API.
    std::mem::size_of::<T>() == 0
}

/// An endpoint's description without its types, for listing and checking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndpointInfo {
    pub method: Method,
    pub path: &'static str,
    pub credentials: Credentials,
    pub success: u16,
    pub also_success: Option<u16>,
    pub specific_problems: &'static [ProblemCode],
    pub name: &'static str,
    pub summary: &'static str,
    pub development_only: bool,
    pub uses_database: bool,
    pub has_request_body: bool,
    pub has_response_body: bool,
    pub query: &'static [QueryParam],
    pub versioned: bool,
    pub download: Option<&'static str>,
}

impl EndpointInfo {
    /// Every problem this endpoint can answer with: its own, and those that
    /// follow from its shape.
    pub fn problems(&self) -> Vec<ProblemCode> {
        use ProblemCode as P;
        let mut problems = Vec::new();
        if !self.query.is_empty() {
            problems.extend([P::InvalidQuery, P::ValidationFailed]);
        }
        if self.has_request_body {
            problems.extend([
                P::MalformedBody,
                P::InvalidBody,
                P::UnreadableBody,
                P::PayloadTooLarge,
                P::UnsupportedMediaType,
            ]);
        }
        match self.credentials {
            Credentials::None => {}
            Credentials::Bearer => {
                problems.extend([P::AuthenticationRequired, P::InvalidToken, P::TokenExpired])
            }
            Credentials::Admin => problems.extend([
                P::AuthenticationRequired,
                P::InvalidToken,
                P::TokenExpired,
                P::Forbidden,
            ]),
            Credentials::RecentBearer => problems.extend([
                P::AuthenticationRequired,
                P::InvalidToken,
                P::TokenExpired,
                P::InsufficientUserAuthentication,
            ]),
            Credentials::RecentAdmin => problems.extend([
                P::AuthenticationRequired,
                P::InvalidToken,
                P::TokenExpired,
                P::Forbidden,
                P::InsufficientUserAuthentication,
            ]),
            Credentials::RefreshCookie => problems.push(P::OriginNotAllowed),
        }
        problems.extend_from_slice(self.specific_problems);
        if self.uses_database {
            problems.push(P::ServiceUnavailable);
        }
        let mut unique = Vec::with_capacity(problems.len());
        for problem in problems {
            if !unique.contains(&problem) {
                unique.push(problem);
            }
        }
        unique
    }
}

macro_rules! endpoints {
    ($(
        $(#[$doc:meta])*
        $name:ident {
            $method:ident $path:literal,
            params: $params:ty,
            credentials: $credentials:ident,
            request: $request:ty,
            response: $success:literal $response:ty,
            $(also: $also:literal,)?
            problems: [$($problem:ident),* $(,)?],
            $(development_only: $development_only:literal,)?
            $(uses_database: $uses_database:literal,)?
            $(query: $query:expr,)?
            $(versioned: $versioned:literal,)?
            $(download: $download:literal,)?
        }
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Endpoint for $name {
                type Params = $params;
                type Request = $request;
                type Response = $response;
                const METHOD: Method = Method::$method;
                const PATH: &'static str = $path;
                const CREDENTIALS: Credentials = Credentials::$credentials;
                const SUCCESS: u16 = $success;
                $(const ALSO_SUCCESS: Option<u16> = Some($also);)?
                const PROBLEMS: &'static [ProblemCode] = &[$(ProblemCode::$problem),*];
                const NAME: &'static str = stringify!($name);
                const SUMMARY: &'static str = first_doc_line(concat!($(stringify!($doc), "\n"),*));
                $(const DEVELOPMENT_ONLY: bool = $development_only;)?
                $(const USES_DATABASE: bool = $uses_database;)?
                $(const QUERY: &'static [QueryParam] = $query;)?
                $(const VERSIONED: bool = $versioned;)?
                $(const DOWNLOAD: Option<&'static str> = Some($download);)?
            }
        )*

        /// Every endpoint of the API.
        /// The endpoints of this part of the catalog (see [`all`]).
        pub(super) const LISTED: &[EndpointInfo] = &[$(<$name as Endpoint>::INFO),*];
    };
}

/// The text of the first `doc = "…"` attribute, for summaries.
const fn first_doc_line(docs: &'static str) -> &'static str {
    let bytes = docs.as_bytes();
    let mut start = 0;
    while start < bytes.len() && bytes[start] != b'"' {
        start += 1;
    }
    start += 1;
    while start < bytes.len() && bytes[start] == b' ' {
        start += 1;
    }
    let mut end = start;
    while end < bytes.len() && bytes[end] != b'"' {
        end += 1;
    }
    if start >= end {
        return "";
    }
    match std::str::from_utf8(bytes.split_at(end).0.split_at(start).1) {
        Ok(text) => text,
        Err(_) => "",
    }
}

mod catalog;
mod directory_catalog;
mod passkey_catalog;
pub use catalog::*;
pub use directory_catalog::*;
pub use passkey_catalog::*;

/// Every endpoint of the API.
pub fn all() -> impl Iterator<Item = &'static EndpointInfo> {
    catalog::LISTED
        .iter()
        .chain(directory_catalog::LISTED)
        .chain(passkey_catalog::LISTED)
}

#[cfg(test)]
mod tests;
