//! The web clients' files, embedded in the binary (`ASSETS`: every file of `web/`, a test
//! checks the list against the directory), as served: each once compressed (gzip, for text), with a strong
//! ETag, and the pages pointing at a *versioned* path (`/assets/v-<version>/…`, the
//! version a hash of every file) that phones may keep for a year without asking again. A
//! new build has a new version, so no phone runs old scripts against a new server; the
//! pages themselves are always revalidated. Unversioned `/assets/…` paths still work,
//! revalidated by ETag.

use std::io::Write;
use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, header};

macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/web/", $path)) as &[u8])),*]
    };
}

/// Every file of `web/` (a test checks the list against the directory).
pub(crate) static ASSETS: &[(&str, &[u8])] = assets![
    "admin/admin.js",
    "admin/centre-calendar.js",
    "admin/index.html",
    "admin/partners.js",
    "admin/pins.js",
    "admin/policy.js",
    "admin/records.js",
    "admin/rosters.js",
    "bookings/bookings.js",
    "bookings/index.html",
    "bookings/move.js",
    "bookings/standing.js",
    "bookings/strings.js",
    "common/call.js",
    "common/document.js",
    "common/errors.js",
    "common/fields.js",
    "common/i18n.js",
    "common/kk.css",
    "common/media.js",
    "common/protocol.js",
    "common/roster-strings.js",
    "common/roster.js",
    "common/signal.js",
    "common/signin.js",
    "common/tiles.js",
    "common/ui.js",
    "desk/bookings.js",
    "desk/desk.js",
    "desk/grid.js",
    "desk/hours.js",
    "desk/index.html",
    "desk/outcome.js",
    "desk/strings.js",
    "index.html",
    "interpreter/index.html",
    "interpreter/interpreter.js",
    "interpreter/notices.js",
    "interpreter/own-roster.js",
    "interpreter/strings.js",
    "join/i18n/ar.js",
    "join/i18n/bn.js",
    "join/i18n/de.js",
    "join/i18n/en.js",
    "join/i18n/es.js",
    "join/i18n/fa.js",
    "join/i18n/fil.js",
    "join/i18n/fr.js",
    "join/i18n/hi.js",
    "join/i18n/id.js",
    "join/i18n/ja.js",
    "join/i18n/ja-x-easy.js",
    "join/i18n/km.js",
    "join/i18n/ko.js",
    "join/i18n/lo.js",
    "join/i18n/mn.js",
    "join/i18n/ms.js",
    "join/i18n/my.js",
    "join/i18n/ne.js",
    "join/i18n/pt.js",
    "join/i18n/ru.js",
    "join/i18n/si.js",
    "join/i18n/ta.js",
    "join/i18n/th.js",
    "join/i18n/tr.js",
    "join/i18n/uk.js",
    "join/i18n/ur.js",
    "join/i18n/uz.js",
    "join/i18n/vi.js",
    "join/i18n/zh.js",
    "join/index.html",
    "join/join.js",
    "join/languages.js",
    "reports/charts.js",
    "reports/cost.js",
    "reports/daily.js",
    "reports/download.js",
    "reports/index.html",
    "reports/monthly.js",
    "reports/reports.css",
    "reports/reports.js",
    "reports/staffing.js",
    "reports/strings.js",
    "start/index.html",
    "start/start.js",
    "wall/assign.js",
    "wall/index.html",
    "wall/notices.js",
    "wall/strings.js",
    "wall/wall.js",
];

/// A file ready to serve.
pub(crate) struct Asset {
    /// Its path under `web/`.
    pub path: &'static str,
    /// The bytes (pages with their versioned asset paths).
    pub body: Vec<u8>,
    /// The same, gzipped, when that is smaller.
    pub gzip: Option<Vec<u8>>,
    /// A strong ETag of `body` (`gzip` has its own, suffixed).
    pub etag: String,
}

fn fnv(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// The version of this build's files: a hash of all of them.
pub(crate) fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let h = ASSETS.iter().fold(FNV_START, |h, (path, bytes)| fnv(bytes, fnv(path.as_bytes(), h)));
        format!("{:012x}", h >> 16)
    })
}

fn compressible(path: &str) -> bool {
    matches!(path.rsplit('.').next(), Some("html" | "js" | "css" | "svg" | "json"))
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok().filter(|z| z.len() < bytes.len())
}

/// Every file, prepared once.
pub(crate) fn all() -> &'static [Asset] {
    static ALL: OnceLock<Vec<Asset>> = OnceLock::new();
    ALL.get_or_init(|| {
        let versioned = format!("/assets/v-{}/", version());
        ASSETS
            .iter()
            .map(|(path, bytes)| {
                let body = if path.ends_with(".html") {
                    String::from_utf8_lossy(bytes).replace("\"/assets/", &format!("\"{versioned}")).into_bytes()
                } else {
                    bytes.to_vec()
                };
                let gzip = if compressible(path) { gzip(&body) } else { None };
                let etag = format!("\"{:016x}\"", fnv(&body, FNV_START));
                Asset { path, body, gzip, etag }
            })
            .collect()
    })
}

/// A file by its path under `web/`.
pub(crate) fn get(path: &str) -> Option<&'static Asset> {
    all().iter().find(|a| a.path == path)
}

/// Whether the request takes gzip (`Accept-Encoding`, not refused with `q=0`).
pub(crate) fn takes_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| p.replace(' ', "").eq_ignore_ascii_case("q=0") || p == "q=0.0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        },
    )
}

/// How long a response may be kept: a versioned file of this build for a year, anything
/// else revalidated every time.
pub(crate) fn cache_control(immutable: bool) -> HeaderValue {
    if immutable {
        HeaderValue::from_static("public, max-age=31536000, immutable")
    } else {
        HeaderValue::from_static("no-cache")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_point_at_this_builds_versioned_files_and_text_is_compressed() {
        let page = get("join/index.html").unwrap();
        let html = String::from_utf8_lossy(&page.body);
        assert!(html.contains(&format!("\"/assets/v-{}/join/join.js\"", version())), "{html}");
        assert!(!html.contains("\"/assets/join/"), "{html}");
        let js = get("common/call.js").unwrap();
        let z = js.gzip.as_ref().unwrap();
        assert!(z.len() * 2 < js.body.len(), "{} of {}", z.len(), js.body.len());
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&z[..]), &mut back).unwrap();
        assert_eq!(back, js.body);
    }

    #[test]
    fn accept_encoding_is_read_with_its_refusals() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            takes_gzip(&m)
        };
        assert!(h("gzip, deflate, br"));
        assert!(h("br;q=1.0, GZIP;q=0.5"));
        assert!(h("*"));
        assert!(!h("gzip;q=0"));
        assert!(!h("br, identity"));
        assert!(!takes_gzip(&HeaderMap::new()));
    }

    /// The resident's page is written in every language a desk can ask for.
    #[test]
    fn the_resident_page_speaks_every_language_of_the_catalogue() {
        for l in kakehashi_dispatch::LanguageId::all() {
            let file = format!("join/i18n/{}.js", l.tag());
            assert!(ASSETS.iter().any(|(p, _)| *p == file), "{file} is missing");
        }
    }

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
