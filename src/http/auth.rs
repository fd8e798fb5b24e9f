//! Bearer API keys: the tenant of a request comes from its key (compared hashed, in constant
//! time, by the packs), never from the body.

use actix_web::http::header::AUTHORIZATION;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::HttpState;
use crate::packs::{Packs, TenantPack};

/// The tenant whose key the request presents, if any, and if this deployment serves it.
pub fn tenant_of<'p>(request: &HttpRequest, state: &'p HttpState) -> Option<&'p TenantPack> {
    let tenant = tenant_by_key(request, &state.packs)?;
    let served =
        state.tenant_allowlist.is_empty() || state.tenant_allowlist.contains(&tenant.tenant_id);
    served.then_some(tenant)
}

fn tenant_by_key<'p>(request: &HttpRequest, packs: &'p Packs) -> Option<&'p TenantPack> {
    packs.tenant_for_api_key(presented_key(request)?)
}

fn presented_key(request: &HttpRequest) -> Option<&str> {
    request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|key| !key.is_empty())
}

/// Whether the request presents the operator key (compared hashed, in constant time).
pub fn is_operator(request: &HttpRequest, state: &HttpState) -> bool {
    let (Some(expected), Some(presented)) = (state.operator_key_sha256, presented_key(request))
    else {
        return false;
    };
    let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
    bool::from(digest.ct_eq(&expected))
}

/// The 401 sent when no valid key was presented.
pub fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", "Bearer"))
        .json(json!({ "error": "a valid bearer API key is required" }))
}
