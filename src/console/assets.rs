//! The console's static files, compiled into the binary: the stylesheet and htmx (vendored,
//! Zero-Clause BSD, see assets/htmx.LICENSE), served with long-lived caching.

use actix_web::{web, HttpResponse};

const HTMX: &[u8] = include_bytes!("assets/htmx.min.js");
const STYLESHEET: &[u8] = include_bytes!("assets/console.css");

pub async fn serve(name: web::Path<String>) -> HttpResponse {
    let (content_type, body) = match name.as_str() {
        "htmx.min.js" => ("text/javascript; charset=utf-8", HTMX),
        "console.css" => ("text/css; charset=utf-8", STYLESHEET),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}
