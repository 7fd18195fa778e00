//! The web clients, embedded in the binary: plain ES modules and CSS from `web/`, no
//! build step. Pages: `/desk/` (the tablet at the counter), `/interpreter/` (the
//! console), `/join/<token>` (a resident, from an invite link), `/wall/` (the
//! supervisor's wallboard), `/reports/` (the centre's reports), `/admin/` (the directory); their scripts, styles and
//! strings under `/assets/`.
//!
//! Every response carries a strict content security policy (nothing from anywhere but
//! this server, no inline script), no referrer (an invite token is in the join page's
//! address) and no framing. Files are compressed and cached as `assets.rs` says.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::assets;
use crate::app::App;

/// The content security policy of every page: this server only, no inline script;
/// images from documents and the QR code are `blob:` and `data:` URLs.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                       media-src 'self' blob:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; \
                       base-uri 'none'; form-action 'self'; object-src 'none'";

fn mime(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// The headers every page and file gets.
pub fn secure(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(self), display-capture=(self), geolocation=()"),
    );
    response
}

/// A file of `web/`, or 404: gzipped when the client takes it, revalidated by ETag, and
/// kept for a year when `immutable` (a versioned path of this build).
fn file(path: &str, headers: &HeaderMap, immutable: bool) -> Response {
    let Some(asset) = assets::get(path) else {
        return secure((StatusCode::NOT_FOUND, "not found").into_response());
    };
    let gzip = asset.gzip.as_ref().filter(|_| assets::takes_gzip(headers));
    let etag = match gzip {
        Some(_) => format!("{}-gz\"", asset.etag.trim_end_matches('"')),
        None => asset.etag.clone(),
    };
    let cache = assets::cache_control(immutable);
    let vary = HeaderValue::from_static("accept-encoding");
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag) {
        return secure(
            (
                StatusCode::NOT_MODIFIED,
                [(header::ETAG, etag.clone())],
                [(header::CACHE_CONTROL, cache)],
                [(header::VARY, vary)],
            )
                .into_response(),
        );
    }
    let mut response = match gzip {
        Some(z) => ([(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"))], z.clone()).into_response(),
        None => asset.body.clone().into_response(),
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime(path)));
    h.insert(header::CACHE_CONTROL, cache);
    h.insert(header::VARY, vary);
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    secure(response)
}

/// `/assets/…`: a versioned path of this build is immutable; any other version, or none,
/// is served the current file, revalidated.
fn asset(path: &str, headers: &HeaderMap) -> Response {
    match path.strip_prefix("v-").and_then(|rest| rest.split_once('/')) {
        Some((version, file_path)) => file(file_path, headers, version == assets::version()),
        None => file(path, headers, false),
    }
}

/// The routes.
pub fn routes() -> Router<App> {
    let page = |path: &'static str| get(move |headers: HeaderMap| async move { file(path, &headers, false) });
    let to = |path: &'static str| get(move || async move { Redirect::permanent(path) });
    Router::new()
        .route("/", page("index.html"))
        .route("/desk/", page("desk/index.html"))
        .route("/desk", to("/desk/"))
        .route("/interpreter/", page("interpreter/index.html"))
        .route("/interpreter", to("/interpreter/"))
        .route("/wall/", page("wall/index.html"))
        .route("/wall", to("/wall/"))
        .route("/reports/", page("reports/index.html"))
        .route("/bookings/", page("bookings/index.html"))
        .route("/bookings", to("/bookings/"))
        .route("/reports", to("/reports/"))
        .route("/join/{token}", page("join/index.html"))
        .route("/start/{tenant}", page("start/index.html"))
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move { asset(&path, &headers) }),
        )
}

/// The operator's pages (the directory), served where the admin API is.
pub fn operator_routes() -> Router<App> {
    let page = |path: &'static str| get(move |headers: HeaderMap| async move { file(path, &headers, false) });
    Router::new()
        .route("/admin/", page("admin/index.html"))
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
}
