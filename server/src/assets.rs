//! Static files and response compression.
//!
//! The site's `pkg/` (the wasm, its JS glue, the CSS) and the public files
//! beside it are served by tower-http's `ServeDir`, **precompressed**: when the
//! build left `<file>.br` and `<file>.gz` beside a file (`cargo leptos build
//! --release -P`, as `make release` and `make bench` run it), a client that
//! accepts brotli or gzip gets those bytes with `Content-Encoding`, and no CPU
//! is spent per request.
//!
//! Caching is decided by the file name alone. cargo-leptos's `hash-files`
//! (on in `Cargo.toml`) renames the JS, wasm and CSS after their content
//! (`fc_app.<22 base64url characters>.wasm`): such a name can never hold other
//! bytes, so it is `public, max-age=31536000, immutable`. Any other file (the
//! favicon, `snippets/`, an unhashed build) is `no-cache`: the browser keeps it
//! but asks again, and `ServeDir` answers `304` from `Last-Modified`. Every
//! file answer says `Vary: Accept-Encoding` (one URL, several encodings).
//!
//! Everything else the app answers (pages, server-function JSON, and files a
//! debug build did not precompress) is compressed on the fly by
//! [`compression`], except server-sent events, which must stream as written.
//! Pages keep their `no-store` (set by `web::private_responses`).

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use std::path::{Path, PathBuf};
use tower_http::compression::predicate::DefaultPredicate;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;

/// `Cache-Control` of a file whose name carries its content's hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of any other file: keep it, but revalidate before each use.
pub const REVALIDATE: &str = "no-cache";

/// Length of cargo-leptos's content hash in a file name: an MD5 digest in
/// unpadded base64url.
const HASH_LEN: usize = 22;

/// Whether `file_name` carries a content hash as cargo-leptos writes it:
/// `<name>.<hash>.<extension>`, the hash being 22 base64url characters.
pub fn is_content_hashed(file_name: &str) -> bool {
    let mut parts = file_name.rsplit('.');
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty() && hash.len() == HASH_LEN && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `Cache-Control` a file at `path` (the request path) is served with.
pub fn cache_control_for(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or_default();
    if is_content_hashed(name) {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// The files under `dir`, answering with their `.br`/`.gz` twins when the
/// client accepts them.
pub fn files(dir: impl AsRef<Path>) -> ServeDir {
    ServeDir::new(dir.as_ref())
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
}

/// Middleware around the file services: the caching headers of a file
/// answer (`200`, `206` or `304`; errors and the not-found page keep theirs).
pub async fn cache_headers(req: Request, next: Next) -> Response {
    let cache_control = cache_control_for(req.uri().path());
    let mut resp = next.run(req).await;
    let served = matches!(
        resp.status(),
        StatusCode::OK | StatusCode::PARTIAL_CONTENT | StatusCode::NOT_MODIFIED
    );
    let is_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if served && !is_page {
        let headers = resp.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
        let varies = headers
            .get_all(header::VARY)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.to_ascii_lowercase().contains("accept-encoding")));
        if !varies {
            headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
    }
    resp
}

/// On-the-fly compression, brotli or gzip as the client prefers, at their
/// quick levels (brotli 4, gzip 6: pages and JSON are small, and built assets
/// come precompressed at the best level). tower-http's default predicate: 32
/// bytes or more, not images, not gRPC, and never `text/event-stream` (each
/// event must reach the page as it is written); answers that already have an
/// encoding (the precompressed files) are left alone.
pub fn compression() -> CompressionLayer<DefaultPredicate> {
    CompressionLayer::new()
        .br(true)
        .gzip(true)
        .quality(CompressionLevel::Default)
        .compress_when(DefaultPredicate::new())
}

/// The hashes cargo-leptos's `hash-files` wrote (`hash.txt` beside the server
/// binary, where Leptos reads it), if that file names files that exist in
/// `pkg_dir`: then pages must link the hashed names. A missing file (a build
/// without hashing, or a test binary) or a stale one (its files are gone)
/// means the plain names.
pub fn hashed_build(hash_file: &Path, pkg_dir: &Path, output_name: &str) -> bool {
    let Ok(text) = std::fs::read_to_string(hash_file) else {
        return false;
    };
    let mut named = 0;
    for line in text.lines() {
        let Some((ext, hash)) = line.split_once(':') else {
            continue;
        };
        let (ext, hash) = (ext.trim(), hash.trim());
        if !matches!(ext, "js" | "wasm" | "css") {
            continue;
        }
        if !pkg_dir.join(format!("{output_name}.{hash}.{ext}")).is_file() {
            tracing::warn!(
                hash_file = %hash_file.display(),
                "the hash file names {output_name}.{hash}.{ext}, which the site does not have: serving unhashed names"
            );
            return false;
        }
        named += 1;
    }
    named == 3
}

/// Where Leptos looks for the hash file: `name` beside the running binary.
pub fn hash_file_beside_exe(name: &str) -> Option<PathBuf> {
    Some(std::env::current_exe().ok()?.parent()?.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cargo_leptos_hashed_names_are_immutable() {
        for hashed in [
            "fc_app.Fq3yV6Qx2Xo_ZgkqLr-9aw.wasm",
            "fc_app.AAAAAAAAAAAAAAAAAAAAAA.css",
            "__wasm_split.0123456789abcdefABCDEF.js",
        ] {
            assert!(is_content_hashed(hashed), "{hashed}");
            assert_eq!(cache_control_for(&format!("/pkg/{hashed}")), IMMUTABLE);
        }
        for plain in [
            "fc_app.wasm",
            "fc_app.js",
            "favicon.svg",
            ".Fq3yV6Qx2Xo_ZgkqLr-9aw.wasm",
            "fc_app.Fq3yV6Qx2Xo_ZgkqLr-9a.wasm",
            "fc_app.Fq3yV6Qx2Xo_ZgkqLr-9aw1.wasm",
            "fc_app.Fq3yV6Qx2Xo_ZgkqLr+9aw.wasm",
            "Fq3yV6Qx2Xo_ZgkqLr-9aw.wasm",
            "",
        ] {
            assert!(!is_content_hashed(plain), "{plain}");
            assert_eq!(cache_control_for(&format!("/pkg/{plain}")), REVALIDATE);
        }
    }

    #[test]
    fn the_hash_file_counts_only_when_its_files_exist() {
        let dir = std::env::temp_dir().join(format!("fc-assets-{}", crate::session::new_token()));
        let pkg = dir.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        let hash_file = dir.join("hash.txt");
        let hashes = "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: CCCCCCCCCCCCCCCCCCCCCC\n";
        assert!(!hashed_build(&hash_file, &pkg, "fc_app"), "no hash file");
        std::fs::write(&hash_file, hashes).unwrap();
        assert!(!hashed_build(&hash_file, &pkg, "fc_app"), "a stale hash file");
        for f in ["fc_app.AAAAAAAAAAAAAAAAAAAAAA.js", "fc_app.BBBBBBBBBBBBBBBBBBBBBB.wasm"] {
            std::fs::write(pkg.join(f), "x").unwrap();
        }
        assert!(!hashed_build(&hash_file, &pkg, "fc_app"), "the CSS is missing");
        std::fs::write(pkg.join("fc_app.CCCCCCCCCCCCCCCCCCCCCC.css"), "x").unwrap();
        assert!(hashed_build(&hash_file, &pkg, "fc_app"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
