//! The OpenAPI 3.1 document of the HTTP surface, collected from the route registrations
//! (`routes`) and the `#[utoipa::path]` of each handler, and served at GET /v1/openapi.json.
//! The document is public, like docs/api.md: it describes the API, not anyone's data, so it
//! is registered outside the key check. Every operation of the API scope is given the bearer
//! security requirement and the 401 the key check answers.

use actix_web::http::header::ContentType;
use actix_web::{get, web, App, HttpResponse};
use bytes::Bytes;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Header, Ref, RefOr, Schema};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_actix_web::AppExt;

use super::error_body::ErrorBody;
use super::routes;

/// The name of the bearer security scheme in the document.
pub const SECURITY_SCHEME: &str = "api_key";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "exception-worker",
        description = "The probes, the metrics and the tenant and operator API of exception-worker. \
            Every /v1 route needs `Authorization: Bearer <key>`: a tenant key, or the operator key; \
            which one each route takes, and what it answers, is in its description (docs/api.md)."
    ),
    tags(
        (name = "exceptions", description = "A tenant's exceptions (the operator key lists them too)"),
        (name = "dead-letters", description = "Dead letters (the operator key)"),
        (name = "fleet", description = "The processes of the deployment (the operator key)"),
        (name = "probes", description = "Liveness, readiness and metrics (no key)"),
        (name = "meta", description = "This document (no key)"),
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerScheme)
)]
struct Base;

/// Declares the bearer scheme the API scope's operations refer to.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            SECURITY_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A tenant API key (its SHA-256 is the tenant pack's api_key_sha256) or \
                         the operator key (its SHA-256 is OPERATOR_API_KEY_SHA256)",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document: the public routes as they are, the API scope's with the key requirement; every
/// query parameter (all are read by `params::Params`) may also be empty, which is no value.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, public) = App::new()
        .into_utoipa_app()
        .configure(routes::public)
        .split_for_parts();
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .configure(routes::api)
        .split_for_parts();
    for item in api.paths.paths.values_mut() {
        for (_, operation) in operations(item) {
            for parameter in operation.parameters.iter_mut().flatten() {
                if parameter.parameter_in == ParameterIn::Query {
                    parameter.schema = parameter.schema.take().map(or_empty);
                }
            }
            operation.security = Some(vec![SecurityRequirement::new(
                SECURITY_SCHEME,
                Vec::<String>::new(),
            )]);
            operation
                .responses
                .responses
                .insert("401".to_owned(), unauthorized().into());
        }
    }
    let mut document = Base::openapi();
    document.merge(public);
    document.merge(api);
    document
}

/// The 401 of the key check (`auth::unauthorized`).
fn unauthorized() -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(
            "No key, an unknown key, or the key of a tenant this deployment does not serve; \
             the connection is closed",
        )
        .header("WWW-Authenticate", Header::default())
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build(),
        )
        .build()
}

/// `schema`, or the empty string.
fn or_empty(schema: RefOr<Schema>) -> RefOr<Schema> {
    let empty = ObjectBuilder::new()
        .schema_type(Type::String)
        .max_length(Some(0))
        .description(Some("empty: the same as not given"));
    Schema::AnyOf(AnyOfBuilder::new().item(schema).item(empty).build()).into()
}

/// The operations of a path, with their methods (upper case).
pub fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("GET", &mut item.get),
        ("PUT", &mut item.put),
        ("POST", &mut item.post),
        ("DELETE", &mut item.delete),
        ("OPTIONS", &mut item.options),
        ("HEAD", &mut item.head),
        ("PATCH", &mut item.patch),
        ("TRACE", &mut item.trace),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
}

/// The document as served: serialized once, when the server starts.
#[derive(Clone)]
pub struct Served(Bytes);

impl Served {
    pub fn of(document: &utoipa::openapi::OpenApi) -> Result<Self, serde_json::Error> {
        Ok(Self(Bytes::from(document.to_json()?)))
    }
}

/// This document (OpenAPI 3.1), public.
#[utoipa::path(
    operation_id = "openapi",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of this service", body = Object)),
)]
#[get("/v1/openapi.json")]
pub async fn serve(served: web::Data<Served>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(ContentType::json())
        .body(served.0.clone())
}
