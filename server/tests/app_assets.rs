//! What the first load gets, on a real port: static files served with their
//! precompressed twins and cached by content hash, pages and server-function
//! answers compressed on the fly but never stored, and the event stream
//! never compressed.

mod common;

use common::app::*;
use reqwest::header::{HeaderMap, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use reqwest::StatusCode;
use server::assets::{IMMUTABLE, REVALIDATE};
use std::path::{Path, PathBuf};

const WASM: &str = "fc_app.AAAAAAAAAAAAAAAAAAAAAA.wasm";
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A built site as `cargo leptos build --release -P` leaves it: each file
/// with a `.br` and a `.gz` twin (here with bytes that say which one was sent).
fn site() -> PathBuf {
    let root = std::env::temp_dir().join(format!("fc-site-{}", server::session::new_token()));
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let write = |path: &Path, raw: &[u8]| {
        std::fs::write(path, raw).unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        std::fs::write(path.with_file_name(format!("{name}.br")), b"brotli twin").unwrap();
        std::fs::write(path.with_file_name(format!("{name}.gz")), b"gzip twin").unwrap();
    };
    write(&pkg.join(WASM), b"\0asm raw wasm");
    write(&pkg.join("fc_app.js"), b"export default function () {}");
    write(&root.join("favicon.svg"), b"<svg xmlns='http://www.w3.org/2000/svg'/>");
    root
}

async fn spawn_on_site(root: &Path) -> Served {
    let mut options = server::leptos_options().unwrap();
    options.site_root = root.to_str().unwrap().into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_app_with_options(listener, &[("DATABASE_URL", temp_db())], options).await
}

async fn get(http: &reqwest::Client, url: &str, accept: Option<&str>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = http.get(url);
    if let Some(a) = accept {
        req = req.header("Accept-Encoding", a);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

fn header(h: &HeaderMap, name: impl reqwest::header::AsHeaderName) -> &str {
    h.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn built_assets_are_served_precompressed_and_cached_by_content_hash() {
    let root = site();
    let app = spawn_on_site(&root).await;
    let http = reqwest::Client::new();
    let wasm = format!("{}/pkg/{WASM}", app.base);

    for (accept, encoding, body) in [
        (Some("gzip, deflate, br, zstd"), "br", &b"brotli twin"[..]),
        (Some("br"), "br", b"brotli twin"),
        (Some("gzip"), "gzip", b"gzip twin"),
        (Some("br;q=0.5, gzip"), "gzip", b"gzip twin"),
        (None, "", b"\0asm raw wasm"),
    ] {
        let (status, h, bytes) = get(&http, &wasm, accept).await;
        assert_eq!(status, StatusCode::OK, "{accept:?}");
        assert_eq!(header(&h, CONTENT_ENCODING), encoding, "{accept:?}");
        assert_eq!(bytes, body, "{accept:?}");
        assert_eq!(header(&h, CONTENT_TYPE), "application/wasm", "{accept:?}");
        assert_eq!(header(&h, CACHE_CONTROL), IMMUTABLE, "{accept:?}");
        assert!(
            header(&h, VARY).to_ascii_lowercase().contains("accept-encoding"),
            "one URL, several encodings: {accept:?}"
        );
    }

    // Names without a content hash are kept but revalidated, and answer 304.
    let js = format!("{}/pkg/fc_app.js", app.base);
    let (status, h, bytes) = get(&http, &js, Some("br")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((header(&h, CONTENT_ENCODING), &bytes[..]), ("br", &b"brotli twin"[..]));
    assert_eq!(header(&h, CONTENT_TYPE), "text/javascript");
    assert_eq!(header(&h, CACHE_CONTROL), REVALIDATE);
    let modified = header(&h, "last-modified").to_owned();
    assert!(!modified.is_empty(), "revalidation needs Last-Modified");
    let again = http
        .get(&js)
        .header("Accept-Encoding", "br")
        .header("If-Modified-Since", &modified)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(again.headers(), CACHE_CONTROL), REVALIDATE);

    // Public files at the root, the same way.
    let (status, h, bytes) = get(&http, &format!("{}/favicon.svg", app.base), Some("gzip, br")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((header(&h, CONTENT_ENCODING), &bytes[..]), ("br", &b"brotli twin"[..]));
    assert_eq!(header(&h, CONTENT_TYPE), "image/svg+xml");
    assert_eq!(header(&h, CACHE_CONTROL), REVALIDATE);

    // A missing asset is a plain 404, never cached; a missing page is still the app's page.
    let (status, h, _) = get(&http, &format!("{}/pkg/fc_app.BBBBBBBBBBBBBBBBBBBBBB.wasm", app.base), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!header(&h, CACHE_CONTROL).contains("immutable"));
    let (status, h, body) = get(&http, &format!("{}/no/such/page", app.base), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(header(&h, CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(header(&h, CACHE_CONTROL), "no-store");
    assert!(String::from_utf8_lossy(&body).contains("<html"));
    std::fs::remove_dir_all(&root).unwrap();
}

#[tokio::test]
async fn pages_and_answers_are_compressed_on_the_fly_but_never_stored_and_events_stream_plain() {
    let root = site();
    let app = spawn_on_site(&root).await;
    let http = reqwest::Client::new();

    let page = http
        .get(format!("{}/", app.base))
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let h = page.headers().clone();
    assert_eq!(header(&h, CONTENT_ENCODING), "gzip");
    assert!(header(&h, CONTENT_TYPE).starts_with("text/html"));
    assert_eq!(header(&h, CACHE_CONTROL), "no-store", "a page is personal");
    assert!(h.contains_key("content-security-policy"));
    let cookie = header(&h, "set-cookie").split(';').next().unwrap().to_owned();
    assert!(page.bytes().await.unwrap().starts_with(&GZIP_MAGIC));

    let (status, h, body) = get(&http, &format!("{}/", app.base), Some("br")).await;
    assert_eq!((status, header(&h, CONTENT_ENCODING)), (StatusCode::OK, "br"));
    assert!(!String::from_utf8_lossy(&body).contains("<html"), "brotli, not HTML");
    // Without Accept-Encoding: the HTML itself.
    let (_, h, body) = get(&http, &format!("{}/", app.base), None).await;
    assert_eq!(header(&h, CONTENT_ENCODING), "");
    assert!(String::from_utf8_lossy(&body).contains("<html"));

    let answer = http
        .post(format!("{}/api/client_config", app.base))
        .header("Cookie", &cookie)
        .header("Sec-Fetch-Site", "same-origin")
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(header(answer.headers(), CONTENT_ENCODING), "gzip");
    assert_eq!(header(answer.headers(), CACHE_CONTROL), "no-store");
    assert!(answer.bytes().await.unwrap().starts_with(&GZIP_MAGIC));

    let mut events = http
        .get(format!("{}/events", app.base))
        .header("Cookie", &cookie)
        .header("Accept-Encoding", "gzip, deflate, br, zstd")
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), StatusCode::OK);
    assert!(header(events.headers(), CONTENT_TYPE).starts_with("text/event-stream"));
    assert_eq!(
        header(events.headers(), CONTENT_ENCODING),
        "",
        "events must stream as written"
    );
    // The stream is open and readable as plain text (its first frame, if any, is not compressed).
    if let Ok(Ok(Some(chunk))) = tokio::time::timeout(std::time::Duration::from_millis(200), events.chunk()).await {
        assert!(!chunk.starts_with(&GZIP_MAGIC));
    }
    drop(events);
    app.shutdown.cancel();
    std::fs::remove_dir_all(&root).unwrap();
}
