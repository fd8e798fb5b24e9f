//! Bearer API keys: the tenant of a request comes from its key (compared hashed, in constant
//! time, by the packs), never from the body.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use crate::packs::{Packs, TenantPack};

/// The tenant whose key the request presents, if any.
pub fn tenant_of<'p>(request: &HttpRequest, packs: &'p Packs) -> Option<&'p TenantPack> {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|key| !key.is_empty());
    packs.tenant_for_api_key(presented?)
}

/// The 401 sent when no valid key was presented.
pub fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", "Bearer"))
        .json(json!({ "error": "a valid bearer API key is required" }))
}
