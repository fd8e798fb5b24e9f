//! Console sign-in and the checks every console request passes. A key is exchanged once for a
//! random session cookie (HttpOnly, SameSite=Strict, Secure over TLS, path /ui); only its SHA-256
//! is stored, in the database, so any process behind the Service knows the session. Keys never
//! travel in URLs. Every state-changing form carries the session's CSRF token and must come from
//! the console's own origin.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::header;
use actix_web::HttpRequest;
use base64::Engine;
use chrono::Duration;
use rand::RngCore;
use sea_orm::DbErr;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::http::auth::Caller;
use crate::http::HttpState;
use crate::store::console_sessions;

/// The session cookie's name.
pub const COOKIE: &str = "exception_worker_console";
/// How long a session lasts after sign-in.
const SESSION_HOURS: i64 = 8;

/// A signed-in console user.
#[derive(Debug, Clone)]
pub struct Session {
    pub caller: Caller,
    /// The token this session's forms carry.
    pub csrf_token: String,
    id_sha256: String,
}

impl Session {
    pub fn is_operator(&self) -> bool {
        self.caller == Caller::Operator
    }

    /// The tenant signed in; None for the operator.
    pub fn tenant_id(&self) -> Option<&str> {
        self.caller.tenant_id()
    }

    /// Who the console records as the actor of what this session does.
    pub fn actor(&self) -> String {
        match &self.caller {
            Caller::Tenant(tenant_id) => format!("console:{tenant_id}"),
            Caller::Operator => "console:operator".to_owned(),
        }
    }

    /// Whether `presented` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, presented: &str) -> bool {
        bool::from(self.csrf_token.as_bytes().ct_eq(presented.as_bytes()))
    }
}

/// The session the request's cookie names, if it is live and its caller is still served (a
/// tenant removed from the packs or the allowlist, or a withdrawn operator key, ends it).
pub async fn current(request: &HttpRequest, state: &HttpState) -> Result<Option<Session>, DbErr> {
    let Some(cookie) = request.cookie(COOKIE) else {
        return Ok(None);
    };
    let id_sha256 = digest_hex(cookie.value());
    let Some(row) =
        console_sessions::find_live(&state.runtime.db, &id_sha256, state.runtime.clock.now())
            .await?
    else {
        return Ok(None);
    };
    let caller = match row.tenant_id {
        Some(tenant_id) => {
            let served = state.runtime.packs.tenant(&tenant_id).is_some()
                && state.runtime.serves_tenant(&tenant_id);
            if !served {
                return Ok(None);
            }
            Caller::Tenant(tenant_id)
        }
        None if state.operator_key_sha256.is_some() => Caller::Operator,
        None => return Ok(None),
    };
    Ok(Some(Session {
        caller,
        csrf_token: row.csrf_token,
        id_sha256,
    }))
}

/// Starts a session for `caller`; answers the cookie to set.
pub async fn start(
    request: &HttpRequest,
    state: &HttpState,
    caller: &Caller,
) -> Result<Cookie<'static>, DbErr> {
    let now = state.runtime.clock.now();
    // Expired sessions go at sign-in, the one moment a row is added.
    console_sessions::delete_expired(&state.runtime.db, now).await?;
    let secret = random_token();
    console_sessions::create(
        &state.runtime.db,
        entity::console_sessions::Model {
            id_sha256: digest_hex(&secret),
            tenant_id: caller.tenant_id().map(str::to_owned),
            csrf_token: random_token(),
            created_at: now,
            expires_at: now + Duration::hours(SESSION_HOURS),
        },
    )
    .await?;
    let mut cookie = base_cookie(request, secret);
    cookie.set_max_age(time::Duration::hours(SESSION_HOURS));
    Ok(cookie)
}

/// Ends `session`; answers the cookie that clears it in the browser.
pub async fn end(
    request: &HttpRequest,
    state: &HttpState,
    session: &Session,
) -> Result<Cookie<'static>, DbErr> {
    console_sessions::delete(&state.runtime.db, &session.id_sha256).await?;
    let mut cookie = base_cookie(request, String::new());
    cookie.make_removal();
    Ok(cookie)
}

/// Whether a state-changing request comes from the console's own pages: the browser's
/// `Sec-Fetch-Site` and `Origin`, when sent, must name this origin.
pub fn same_origin(request: &HttpRequest) -> bool {
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str(), Ok("same-origin") | Ok("none")) {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let info = request.connection_info();
    let expected = format!("{}://{}", info.scheme(), info.host());
    origin.to_str().is_ok_and(|origin| origin == expected)
}

fn base_cookie(request: &HttpRequest, value: String) -> Cookie<'static> {
    let secure = request.connection_info().scheme() == "https";
    Cookie::build(COOKIE, value)
        .path("/ui")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish()
}

/// 32 random bytes, URL-safe base64.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn digest_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}
