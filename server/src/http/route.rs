//! Routes are mounted from the shared endpoint descriptions
//! (`app::api::endpoints`), and the compiler holds each handler to its
//! description: it must answer with [`Reply<E>`] (so with `E::Response` and
//! `E::SUCCESS`), and an endpoint with a request body must read it as its
//! last argument through [`Payload<E>`] (so as `E::Request`), while one
//! without a body cannot read one. The router records what it mounts, so
//! the OpenAPI document lists exactly the routes that exist.

use std::{future::Future, marker::PhantomData};

use app::api::endpoints::{Endpoint, EndpointInfo, Method};
use axum::{
    extract::{FromRequest, Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{on, MethodFilter, MethodRouter},
    Json, Router,
};
use axum_extra::extract::CookieJar;

use super::{
    extract::{
        Admin, AuthUser, ClientIp, Device, OwnAccountOrAdmin, PathId, QueryParams, RecentAdmin,
        RecentUser,
    },
    openapi::DocumentBuilder,
    ApiContext, ApiJson,
};
use crate::error::ApiError;

/// The successful answer of endpoint `E`: its response body, with its
/// success status, and any cookies to set.
pub struct Reply<E: Endpoint> {
    body: E::Response,
    /// The endpoint's other success status, when this answer has it.
    also: bool,
    cookies: Option<CookieJar>,
    etag: Option<String>,
    _endpoint: PhantomData<E>,
}

impl<E: Endpoint> Reply<E> {
    pub fn new(body: E::Response) -> Self {
        Self {
            body,
            also: false,
            cookies: None,
            etag: None,
            _endpoint: PhantomData,
        }
    }

    /// The version of the resource in the body, as an entity tag (only
    /// endpoints described as versioned carry one).
    pub fn with_etag(mut self, etag: String) -> Self {
        debug_assert!(E::VERSIONED, "{} is not versioned", E::NAME);
        self.etag = Some(etag);
        self
    }

    /// Answers with the endpoint's other success status (`ALSO_SUCCESS`).
    pub fn with_also_status(mut self) -> Self {
        debug_assert!(E::ALSO_SUCCESS.is_some(), "{} has one status", E::NAME);
        self.also = true;
        self
    }

    pub fn with_cookies(mut self, jar: CookieJar) -> Self {
        self.cookies = Some(jar);
        self
    }

    pub fn body(&self) -> &E::Response {
        &self.body
    }
}

impl<E: Endpoint<Response = ()>> Reply<E> {
    /// The answer of an endpoint without a response body.
    pub fn empty() -> Self {
        Self::new(())
    }
}

impl<E: Endpoint> IntoResponse for Reply<E> {
    fn into_response(self) -> Response {
        let code = match (self.also, E::ALSO_SUCCESS) {
            (true, Some(also)) => also,
            _ => E::SUCCESS,
        };
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
        let mut response = if E::INFO.has_response_body {
            (status, Json(self.body)).into_response()
        } else {
            status.into_response()
        };
        if let Some(file) = E::DOWNLOAD {
            // A fixed name from the catalog: nothing to quote or escape.
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
                response
                    .headers_mut()
                    .insert(header::CONTENT_DISPOSITION, value);
            }
        }
        if let Some(etag) = self.etag.and_then(|etag| HeaderValue::from_str(&etag).ok()) {
            response.headers_mut().insert(header::ETAG, etag);
        }
        if let Some(jar) = self.cookies {
            let (mut parts, body) = response.into_parts();
            for (name, value) in jar.into_response().headers() {
                parts.headers.append(name, value.clone());
            }
            response = Response::from_parts(parts, body);
        }
        response
    }
}

/// The JSON body of endpoint `E`, read with the API's problem+json
/// rejections.
pub struct Payload<E: Endpoint>(pub E::Request);

impl<E: Endpoint> FromRequest<ApiContext> for Payload<E> {
    type Rejection = ApiError;

    async fn from_request(request: Request, context: &ApiContext) -> Result<Self, ApiError> {
        let ApiJson(body) = ApiJson::<E::Request>::from_request(request, context).await?;
        Ok(Self(body))
    }
}

/// What a handler of `E` may return.
pub trait Answer<E: Endpoint>: IntoResponse {}
impl<E: Endpoint> Answer<E> for Reply<E> {}
impl<E: Endpoint, Refusal: IntoResponse> Answer<E> for Result<Reply<E>, Refusal> {}

/// The last argument of a handler of `E`: its [`Payload`] when `E` has a
/// request body, and otherwise any extractor that reads no body.
pub trait LastArgument<E: Endpoint> {}
impl<E: Endpoint> LastArgument<E> for Payload<E> {}
macro_rules! bodiless_extractors {
    ($($extractor:ty),*) => {
        $(impl<E: Endpoint<Request = ()>> LastArgument<E> for $extractor {})*
    };
}
bodiless_extractors!(
    Admin,
    AuthUser,
    OwnAccountOrAdmin,
    ClientIp,
    RecentAdmin,
    RecentUser,
    Device,
    CookieJar,
    HeaderMap,
    State<ApiContext>
);

impl<E: Endpoint<Request = ()>, T> LastArgument<E> for PathId<T> {}
impl<E: Endpoint<Request = ()>, T> LastArgument<E> for QueryParams<T> {}

/// A handler that fits endpoint `E`; `T` is axum's extractor list.
pub trait EndpointHandler<E: Endpoint, T>: Clone + Send + Sync + 'static {
    fn into_method_router(self) -> MethodRouter<ApiContext>;
}

impl<E, F, Fut, Out> EndpointHandler<E, ((),)> for F
where
    E: Endpoint<Request = ()>,
    F: FnOnce() -> Fut + Clone + Send + Sync + 'static,
    F: axum::handler::Handler<((),), ApiContext>,
    Fut: Future<Output = Out> + Send,
    Out: Answer<E>,
{
    fn into_method_router(self) -> MethodRouter<ApiContext> {
        on(filter(E::METHOD), self)
    }
}

macro_rules! endpoint_handler {
    ([$($ty:ident),*], $last:ident) => {
        impl<E, F, Fut, Out, M, $($ty,)* $last> EndpointHandler<E, (M, $($ty,)* $last,)> for F
        where
            M: 'static,
            $($ty: 'static,)*
            $last: 'static,
            E: Endpoint,
            F: FnOnce($($ty,)* $last,) -> Fut + Clone + Send + Sync + 'static,
            F: axum::handler::Handler<(M, $($ty,)* $last,), ApiContext>,
            Fut: Future<Output = Out> + Send,
            Out: Answer<E>,
            $last: LastArgument<E>,
        {
            fn into_method_router(self) -> MethodRouter<ApiContext> {
                on(filter(E::METHOD), self)
            }
        }
    };
}

endpoint_handler!([], T1);
endpoint_handler!([T1], T2);
endpoint_handler!([T1, T2], T3);
endpoint_handler!([T1, T2, T3], T4);
endpoint_handler!([T1, T2, T3, T4], T5);
endpoint_handler!([T1, T2, T3, T4, T5], T6);

fn filter(method: Method) -> MethodFilter {
    match method {
        Method::Get => MethodFilter::GET,
        Method::Post => MethodFilter::POST,
        Method::Put => MethodFilter::PUT,
        Method::Patch => MethodFilter::PATCH,
        Method::Delete => MethodFilter::DELETE,
    }
}

/// One mounted endpoint: its description, and how to document it.
#[derive(Clone, Copy)]
pub struct Mounted {
    pub info: EndpointInfo,
    pub document: fn(&mut DocumentBuilder),
}

/// An axum router that can only grow by described endpoints.
#[derive(Default)]
pub struct ApiRouter {
    router: Router<ApiContext>,
    mounted: Vec<Mounted>,
}

impl ApiRouter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn route<E, H, T>(mut self, handler: H) -> Self
    where
        E: Endpoint,
        H: EndpointHandler<E, T>,
    {
        self.router = self.router.route(E::PATH, handler.into_method_router());
        self.mounted.push(Mounted {
            info: E::INFO,
            document: DocumentBuilder::add::<E>,
        });
        self
    }

    pub fn merge(mut self, other: ApiRouter) -> Self {
        self.router = self.router.merge(other.router);
        self.mounted.extend(other.mounted);
        self
    }

    pub fn mounted(&self) -> &[Mounted] {
        &self.mounted
    }

    pub fn into_router(self) -> Router<ApiContext> {
        self.router
    }
}
