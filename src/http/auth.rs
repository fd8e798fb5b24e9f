//! Bearer API keys. The caller is resolved from the `Authorization` header alone, before any
//! body is read, so a stranger costs one header parse: no key, no body. The tenant of a request
//! comes from its key (compared hashed, in constant time), never from the body.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::AUTHORIZATION;
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error_body::ErrorBody;
use super::HttpState;

/// Who presented a valid key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A tenant's API key: the tenant's own data only.
    Tenant(String),
    /// The operator key (OPERATOR_API_KEY_SHA256): dead letters and fleet.
    Operator,
}

impl Caller {
    /// The caller's tenant, when it is one.
    pub fn tenant_id(&self) -> Option<&str> {
        match self {
            Caller::Tenant(tenant_id) => Some(tenant_id),
            Caller::Operator => None,
        }
    }
}

/// Middleware for the API scope: answers 401 at once, body unread, unless the request presents
/// a tenant key this deployment serves or the operator key; otherwise records the `Caller`.
pub async fn authenticate(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let caller = request
        .app_data::<web::Data<HttpState>>()
        .and_then(|state| caller_of(request.request(), state));
    match caller {
        Some(caller) => {
            request.extensions_mut().insert(caller);
            Ok(next.call(request).await?.map_into_left_body())
        }
        // The body is never read, so the connection is closed rather than drained for reuse.
        None => {
            let mut refused = unauthorized();
            refused
                .head_mut()
                .set_connection_type(ConnectionType::Close);
            Ok(request.into_response(refused).map_into_right_body())
        }
    }
}

impl FromRequest for Caller {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let caller = request.extensions().get::<Caller>().cloned();
        std::future::ready(caller.ok_or_else(|| {
            actix_web::error::InternalError::from_response("no caller", unauthorized()).into()
        }))
    }
}

/// The caller a request's key names, if any.
fn caller_of(request: &HttpRequest, state: &HttpState) -> Option<Caller> {
    caller_for_key(presented_key(request)?, state)
}

/// The caller `key` names, if any: a tenant this deployment serves, or the operator.
pub(crate) fn caller_for_key(key: &str, state: &HttpState) -> Option<Caller> {
    if let Some(tenant) = state.runtime.packs.tenant_for_api_key(key) {
        let served = state.runtime.serves_tenant(&tenant.tenant_id);
        return served.then(|| Caller::Tenant(tenant.tenant_id.clone()));
    }
    let expected = state.operator_key_sha256?;
    let digest: [u8; 32] = Sha256::digest(key.as_bytes()).into();
    bool::from(digest.ct_eq(&expected)).then_some(Caller::Operator)
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

/// The 401 sent when no valid key was presented.
pub fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("WWW-Authenticate", "Bearer"))
        .json(ErrorBody::new("a valid bearer API key is required"))
}

/// The 403 sent to a valid key on a route that is not for it.
pub fn forbidden(reason: &str) -> HttpResponse {
    HttpResponse::Forbidden().json(ErrorBody::new(reason))
}
