//! Requests no route takes: 405 Method Not Allowed, with `Allow`, when the path is a route's
//! under other methods; otherwise 404. Both with the JSON error body. The routes and their
//! methods are read from the OpenAPI document, which is collected from the registrations. A
//! path that names a route of its own (`/v1/dead-letters/replay`) is that route's, never an
//! instance of a pattern (`/v1/dead-letters/{id}`).

use actix_web::dev::ResourceDef;
use actix_web::http::header::ALLOW;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

use super::error_body::ErrorBody;
use super::openapi;

/// One route: its path pattern, whether it has parameters, and its methods ("GET, POST").
struct Route {
    pattern: ResourceDef,
    dynamic: bool,
    methods: String,
}

/// Every route the server registers.
pub struct Routes(Vec<Route>);

impl Routes {
    pub fn of(mut document: utoipa::openapi::OpenApi) -> Self {
        let routes = document
            .paths
            .paths
            .iter_mut()
            .map(|(path, item)| {
                let methods: Vec<&str> = openapi::operations(item)
                    .map(|(method, _)| method)
                    .collect();
                Route {
                    pattern: ResourceDef::new(path.as_str()),
                    dynamic: path.contains('{'),
                    methods: methods.join(", "),
                }
            })
            .collect();
        Self(routes)
    }

    /// The methods of the route `path` is: the route of that exact path, else the first
    /// pattern it matches.
    fn allowed(&self, path: &str) -> Option<&str> {
        let static_route = self
            .0
            .iter()
            .find(|route| !route.dynamic && route.pattern.is_match(path));
        static_route
            .or_else(|| self.0.iter().find(|route| route.pattern.is_match(path)))
            .map(|route| route.methods.as_str())
    }

    /// The methods of the route of exactly `path`, if it has one.
    fn allowed_exactly(&self, path: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|route| !route.dynamic && route.pattern.is_match(path))
            .map(|route| route.methods.as_str())
    }
}

fn not_allowed(request: &HttpRequest, methods: &str) -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header((ALLOW, methods.to_owned()))
        .json(ErrorBody::new(format!(
            "method {} not allowed here (allowed: {methods})",
            request.method()
        )))
}

/// The app's default service.
pub async fn answer(request: HttpRequest, routes: web::Data<Routes>) -> HttpResponse {
    match routes.allowed(request.path()) {
        Some(methods) => not_allowed(&request, methods),
        None => ErrorBody::answer(StatusCode::NOT_FOUND, "no such route"),
    }
}

/// A path segment that does not parse (a dead letter id that is not an integer): 405 when the
/// path is another route's (GET /v1/dead-letters/replay), else 404, as nothing has that id.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|error, request| {
        let exactly = request
            .app_data::<web::Data<Routes>>()
            .and_then(|routes| routes.allowed_exactly(request.path()));
        let response = match exactly {
            Some(methods) => not_allowed(request, methods),
            None => ErrorBody::answer(StatusCode::NOT_FOUND, format!("no such resource: {error}")),
        };
        actix_web::error::InternalError::from_response(error, response).into()
    })
}
