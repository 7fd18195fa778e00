//! The web clients, embedded in the binary: plain ES modules and CSS from `web/`, no
//! build step. Pages: `/desk/` (the tablet at the counter), `/interpreter/` (the
//! console), `/join/<token>` (a resident, from an invite link), `/wall/` (the
//! supervisor's wallboard), `/admin/` (the directory); their scripts, styles and
//! strings under `/assets/`.
//!
//! Every response carries a strict content security policy (nothing from anywhere but
//! this server, no inline script), no referrer (an invite token is in the join page's
//! address) and no framing. Files are revalidated by ETag.

use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::app::App;

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path)) as &[u8])),*]
    };
}

/// Every file of `web/` (a test checks the list against the directory).
pub static ASSETS: &[(&str, &[u8])] = assets![
    "admin/admin.js",
    "admin/index.html",
    "common/call.js",
    "common/document.js",
    "common/i18n.js",
    "common/kk.css",
    "common/media.js",
    "common/protocol.js",
    "common/signal.js",
    "common/signin.js",
    "common/tiles.js",
    "common/ui.js",
    "desk/desk.js",
    "desk/index.html",
    "desk/strings.js",
    "index.html",
    "interpreter/index.html",
    "interpreter/interpreter.js",
    "interpreter/strings.js",
    "join/i18n/en.js",
    "join/i18n/es.js",
    "join/i18n/fil.js",
    "join/i18n/fr.js",
    "join/i18n/hi.js",
    "join/i18n/id.js",
    "join/i18n/ja-x-easy.js",
    "join/i18n/ja.js",
    "join/i18n/km.js",
    "join/i18n/ko.js",
    "join/i18n/ms.js",
    "join/i18n/my.js",
    "join/i18n/ne.js",
    "join/i18n/pt.js",
    "join/i18n/ru.js",
    "join/i18n/th.js",
    "join/i18n/uk.js",
    "join/i18n/vi.js",
    "join/i18n/zh.js",
    "join/index.html",
    "join/join.js",
    "wall/index.html",
    "wall/strings.js",
    "wall/wall.js",
];

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

/// A strong ETag per file, computed once.
fn etags() -> &'static Vec<String> {
    static ETAGS: OnceLock<Vec<String>> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(_, bytes)| {
                // FNV-1a over the content: stable across builds of the same file.
                let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                for b in bytes.iter() {
                    h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
                }
                format!("\"{h:016x}\"")
            })
            .collect()
    })
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

/// A file of `web/`, or 404.
fn file(path: &str, headers: &HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|(p, _)| *p == path) else {
        return secure((StatusCode::NOT_FOUND, "not found").into_response());
    };
    let etag = &etags()[i];
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v == etag) {
        return secure((StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone())]).into_response());
    }
    secure(
        (
            [
                (header::CONTENT_TYPE, mime(path).to_string()),
                (header::CACHE_CONTROL, "no-cache".to_string()),
                (header::ETAG, etag.clone()),
            ],
            ASSETS[i].1,
        )
            .into_response(),
    )
}

/// The routes.
pub fn routes() -> Router<App> {
    let page = |path: &'static str| get(move |headers: HeaderMap| async move { file(path, &headers) });
    let to = |path: &'static str| get(move || async move { Redirect::permanent(path) });
    Router::new()
        .route("/", page("index.html"))
        .route("/desk/", page("desk/index.html"))
        .route("/desk", to("/desk/"))
        .route("/interpreter/", page("interpreter/index.html"))
        .route("/interpreter", to("/interpreter/"))
        .route("/wall/", page("wall/index.html"))
        .route("/wall", to("/wall/"))
        .route("/join/{token}", page("join/index.html"))
        .route(
            "/assets/{*path}",
            get(|Path(path): Path<String>, headers: HeaderMap| async move { file(&path, &headers) }),
        )
}

/// The operator's pages (the directory), served where the admin API is.
pub fn operator_routes() -> Router<App> {
    let page = |path: &'static str| get(move |headers: HeaderMap| async move { file(path, &headers) });
    Router::new()
        .route("/admin/", page("admin/index.html"))
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file under `web/` is embedded, and every embedded file exists.
    #[test]
    fn every_web_file_is_embedded() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("web");
        let mut found = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    found.push(path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/"));
                }
            }
        }
        found.sort();
        let mut listed: Vec<String> = ASSETS.iter().map(|(p, _)| p.to_string()).collect();
        listed.sort();
        assert_eq!(found, listed, "web/ and ASSETS differ");
    }
}
