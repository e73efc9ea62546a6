//! The OpenAPI 3.1 document of the API, generated from the same endpoint
//! descriptions that mount the routes (`app::api::endpoints`) and from the
//! JSON Schemas that utoipa derives for the bodies. Every problem code an
//! endpoint can answer with is listed under its status.

use std::collections::BTreeMap;

use app::api::{
    endpoints::{Credentials, Endpoint, EndpointInfo, Method, API_PREFIX, AUTH_PREFIX},
    FieldError, Problem, ProblemCode,
};
use utoipa::{
    openapi::{
        header::HeaderBuilder,
        path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn},
        request_body::RequestBodyBuilder,
        schema::{AllOfBuilder, ObjectBuilder, Schema, Type},
        security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        },
        ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr,
        Required, ResponseBuilder, ResponsesBuilder,
    },
    PartialSchema, ToSchema,
};

const BEARER_SCHEME: &str = "bearer";
const COOKIE_SCHEME: &str = "refreshCookie";
const REFRESH_COOKIE: &str = super::cookies::REFRESH_COOKIE;

/// Collects the paths and schemas of the mounted endpoints.
#[derive(Default)]
pub struct DocumentBuilder {
    paths: Paths,
    schemas: BTreeMap<String, RefOr<Schema>>,
}

impl DocumentBuilder {
    /// Documents endpoint `E`.
    pub fn add<E: Endpoint>(&mut self) {
        let info = E::INFO;
        let mut operation = OperationBuilder::new()
            .operation_id(Some(info.name))
            .summary(Some(info.summary))
            .tag(tag(info.path));
        for name in path_parameters(info.path) {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some("An id (a UUID); any other value names nothing: 404."))
                    .schema(Some(String::schema())),
            );
        }
        for query in info.query {
            let schema: RefOr<Schema> = match query.integer_range {
                Some((min, max)) => ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some(min))
                    .maximum(Some(max))
                    .into(),
                None => String::schema(),
            };
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name(query.name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(query.description))
                    .schema(Some(schema)),
            );
        }
        match info.credentials {
            Credentials::None => {}
            Credentials::Bearer
            | Credentials::Admin
            | Credentials::RecentBearer
            | Credentials::RecentAdmin => {
                operation = operation.security(SecurityRequirement::new(
                    BEARER_SCHEME,
                    Vec::<String>::new(),
                ))
            }
            Credentials::RefreshCookie => {
                operation = operation
                    .security(SecurityRequirement::new(
                        COOKIE_SCHEME,
                        Vec::<String>::new(),
                    ))
                    .parameter(
                        ParameterBuilder::new()
                            .name("Origin")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::False)
                            .description(Some(
                                "Sent by browsers. When present it must be the app's own origin \
                                 or one of `ALLOWED_ORIGINS`; otherwise 403 `origin_not_allowed`.",
                            ))
                            .schema(Some(String::schema())),
                    );
            }
        }
        if info.versioned && info.method == Method::Put {
            operation = operation.parameter(
                ParameterBuilder::new()
                    .name("If-Match")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::True)
                    .description(Some(
                        "The `ETag` of the version this replaces. Without it: 428 \
                         `precondition_required`; a version changed since: 412 \
                         `precondition_failed`, and nothing is overwritten.",
                    ))
                    .schema(Some(String::schema())),
            );
        }
        if info.has_request_body {
            let schema = self.schema_of::<E::Request>();
            operation = operation.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(schema)).build(),
                    )
                    .build(),
            ));
        }

        let mut responses = ResponsesBuilder::new();
        let mut success = ResponseBuilder::new().description(success_description(&info));
        if info.has_response_body {
            let schema = self.schema_of::<E::Response>();
            success = success.content(
                "application/json",
                ContentBuilder::new().schema(Some(schema)).build(),
            );
        }
        if info.versioned {
            success = success.header(
                "ETag",
                HeaderBuilder::new()
                    .schema(Some(String::schema()))
                    .description(Some("The version of this resource, for `If-Match`."))
                    .build(),
            );
        }
        if let Some(file) = info.download {
            success = success.header(
                "Content-Disposition",
                HeaderBuilder::new()
                    .schema(Some(String::schema()))
                    .description(Some(format!(
                        "`attachment; filename=\"{file}\"`: a download, to be saved as a file."
                    )))
                    .build(),
            );
        }
        if matches!(E::NAME, "Login" | "Refresh" | "VerifyEmail") {
            success = success.header(
                "Set-Cookie",
                HeaderBuilder::new()
                    .schema(Some(String::schema()))
                    .description(Some(format!(
                        "`{REFRESH_COOKIE}` (`__Secure-{REFRESH_COOKIE}` behind HTTPS): the \
                         rotating refresh token (HttpOnly, Secure, SameSite=Strict, \
                         Path={AUTH_PREFIX}), and `session_hint=1`."
                    )))
                    .build(),
            );
        }
        let success = success.build();
        if let Some(also) = info.also_success {
            let mut other = success.clone();
            other.description = format!(
                "Also a success: for a sign-in, the password was right and a second \
                 factor is needed to finish ({}).",
                info.summary
            );
            responses = responses.response(also.to_string(), other);
        }
        responses = responses.response(info.success.to_string(), success);
        for (status, codes) in problems_by_status(&info) {
            responses = responses.response(status.to_string(), problem_response(&codes));
        }
        operation = operation.responses(responses.build());

        self.paths
            .add_path_operation(info.path, vec![http_method(info.method)], operation.build());
    }

    /// A reference to `T`'s schema, registering it and what it refers to.
    fn schema_of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        let mut nested = Vec::new();
        T::schemas(&mut nested);
        self.schemas.extend(nested);
        let name = T::name().into_owned();
        self.schemas.insert(name.clone(), T::schema());
        Ref::from_schema_name(name).into()
    }

    pub fn build(mut self) -> OpenApi {
        self.schema_of::<Problem>();
        self.schema_of::<FieldError>();
        self.schema_of::<ProblemCode>();
        let components = ComponentsBuilder::new()
            .schemas_from_iter(self.schemas)
            .security_scheme(
                BEARER_SCHEME,
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(
                            "A short-lived access token from login or refresh. A refused token \
                             is answered with `WWW-Authenticate: Bearer error=\"invalid_token\"`; \
                             a missing one with a bare `Bearer` challenge.",
                        ))
                        .build(),
                ),
            )
            .security_scheme(
                COOKIE_SCHEME,
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    REFRESH_COOKIE,
                    "The HttpOnly refresh token cookie set by login and refresh. \
                     Requests with an `Origin` must come from an allowed origin.",
                ))),
            )
            .build();
        OpenApiBuilder::new()
            .info(
                InfoBuilder::new()
                    .title("Accounts API")
                    .version(env!("CARGO_PKG_VERSION"))
                    .description(Some(
                        "Email-and-password accounts. Every error is an RFC 9457 \
                         `application/problem+json` body with a stable `code`.",
                    ))
                    .build(),
            )
            .paths(self.paths)
            .components(Some(components))
            .build()
    }
}

/// The whole document, from each mounted endpoint's way of documenting
/// itself (`DocumentBuilder::add::<E>`, recorded by the router).
pub fn document(endpoints: impl IntoIterator<Item = fn(&mut DocumentBuilder)>) -> OpenApi {
    let mut builder = DocumentBuilder::default();
    for add in endpoints {
        add(&mut builder);
    }
    builder.build()
}

fn http_method(method: Method) -> HttpMethod {
    match method {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Put => HttpMethod::Put,
        Method::Patch => HttpMethod::Patch,
        Method::Delete => HttpMethod::Delete,
    }
}

/// `/api/auth/login` → `auth`, `/api/me` → `me`.
fn tag(path: &str) -> String {
    path.trim_start_matches(API_PREFIX)
        .split('/')
        .find(|segment| !segment.is_empty())
        .unwrap_or("api")
        .trim_end_matches(".json")
        .to_owned()
}

fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

fn success_description(info: &EndpointInfo) -> String {
    match info.success {
        202 => "Accepted.".into(),
        204 => "Done; no body.".into(),
        _ => "Success.".into(),
    }
}

fn problems_by_status(info: &EndpointInfo) -> BTreeMap<u16, Vec<ProblemCode>> {
    let mut by_status: BTreeMap<u16, Vec<ProblemCode>> = BTreeMap::new();
    for code in info.problems() {
        by_status.entry(code.status()).or_default().push(code);
    }
    by_status
}

/// A problem+json response whose `code` can only be one of `codes`.
fn problem_response(codes: &[ProblemCode]) -> utoipa::openapi::Response {
    let listed: Vec<String> = codes
        .iter()
        .map(|code| format!("`{code}`: {}", code.title()))
        .collect();
    let narrowed = ObjectBuilder::new().property(
        "code",
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(codes.iter().map(|code| code.as_str()))),
    );
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name(Problem::name()))
        .item(narrowed);
    let mut response = ResponseBuilder::new()
        .description(listed.join("; "))
        .content(
            app::api::problem::PROBLEM_JSON,
            ContentBuilder::new().schema(Some(schema)).build(),
        );
    if codes.iter().any(|code| code.status() == 401) {
        response = response.header(
            "WWW-Authenticate",
            HeaderBuilder::new()
                .schema(Some(String::schema()))
                .description(Some(
                    "On bearer endpoints: `Bearer` without a token, \
                     `Bearer error=\"invalid_token\"` with a refused one.",
                ))
                .build(),
        );
    }
    if codes.iter().any(|code| matches!(code.status(), 429 | 503)) {
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(String::schema()))
                .description(Some("Seconds to wait before retrying."))
                .build(),
        );
    }
    response.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_parameters_come_from_the_path() {
        assert_eq!(tag("/api/auth/login"), "auth");
        assert_eq!(tag("/api/me"), "me");
        assert_eq!(tag("/api/openapi.json"), "openapi");
        assert_eq!(
            path_parameters("/api/people/{id}/notes/{note}").collect::<Vec<_>>(),
            ["id", "note"]
        );
    }
}
