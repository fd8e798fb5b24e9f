//! The operator console at `/ui`: server-rendered pages (maud) over the same store and rules as
//! the API, with a small vendored htmx for refreshing panels. Sign-in exchanges a tenant key
//! (that tenant's exceptions) or the operator key (every tenant, dead letters, the fleet) for a
//! session cookie. Every response carries a strict Content-Security-Policy; every form that
//! changes state carries the session's CSRF token.

mod assets;
mod dead_letter_pages;
mod exception_page;
mod exception_pages;
mod fleet_page;
mod fleet_view;
mod forms;
mod layout;
mod overview;
mod session;
mod sign_in;

use actix_web::middleware::DefaultHeaders;
use actix_web::web;

pub use session::COOKIE as SESSION_COOKIE;

/// What every console response says about itself: no script or style but the console's own
/// files, no framing, no caching of pages that show a session's data.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("Cache-Control", "no-store"))
}

/// The console's routes, under `/ui`.
pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope("/ui")
        .wrap(security_headers())
        .route("", web::get().to(overview::page_of))
        .route("/", web::get().to(overview::page_of))
        .route("/overview/panel", web::get().to(overview::panel))
        .route("/login", web::get().to(sign_in::form))
        .route("/login", web::post().to(sign_in::submit))
        .route("/logout", web::post().to(sign_in::sign_out))
        .route("/exceptions", web::get().to(exception_pages::list))
        .route(
            "/exceptions/{tenant_id}/{exception_id}",
            web::get().to(exception_page::show),
        )
        .route(
            "/exceptions/{tenant_id}/{exception_id}/steps/{step_number}/complete",
            web::post().to(exception_page::complete_step),
        )
        .route("/dead-letters", web::get().to(dead_letter_pages::list))
        .route(
            "/dead-letters/bulk",
            web::post().to(dead_letter_pages::bulk),
        )
        .route("/dead-letters/{id}", web::get().to(dead_letter_pages::show))
        .route(
            "/dead-letters/{id}/{action}",
            web::post().to(dead_letter_pages::act),
        )
        .route("/fleet", web::get().to(fleet_page::show))
        .route("/assets/{name}", web::get().to(assets::serve))
}
