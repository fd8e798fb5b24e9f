//! Every route the server registers, in one place: the public ones (probes, metrics, the
//! OpenAPI document) and the API scope under /v1 behind the key check. The OpenAPI document is
//! collected from these same registrations (`openapi::document`), so no route is served without
//! being described, and every route of the API scope is described as needing a key. The
//! console (`/ui`, HTML for people) is registered beside them by `serve`, outside the document.

use actix_web::middleware::from_fn;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    auth, dead_letter_bulk_api, dead_letter_listing_api, dead_letters_api, exception_listing_api,
    exceptions_api, openapi, probes, steps_api, unrouted, workers_api,
};

/// The routes anyone may call. Registered before the API scope, so `/v1/openapi.json` is
/// answered here, outside the key check.
pub fn public(config: &mut ServiceConfig) {
    config
        .service(probes::healthz)
        .service(probes::readyz)
        .service(probes::metrics)
        .service(openapi::serve);
}

/// The API: every route needs a tenant or the operator key (`auth::authenticate`).
pub fn api(config: &mut ServiceConfig) {
    config.service(
        scope::scope("/v1")
            .app_data(unrouted::path_config())
            .wrap(from_fn(auth::authenticate))
            .service(exceptions_api::submit)
            .service(exception_listing_api::list)
            .service(exceptions_api::show)
            .service(steps_api::complete)
            .service(dead_letter_listing_api::list)
            .service(dead_letter_bulk_api::replay)
            .service(dead_letter_bulk_api::discard)
            .service(dead_letters_api::show)
            .service(dead_letters_api::replay)
            .service(workers_api::list),
    );
}
