//! The local console: one static page (`local/console/`), embedded in the binary and served at
//! `GET /console`. It talks only to this server's `/v1/` console API with the bearer token the user
//! gives it (from the URL fragment `#token=…`, which never reaches the server, or a small form).
//!
//! Every response carries a strict Content-Security-Policy: scripts and styles only from this origin
//! (no inline code, no `eval`), requests only to this origin, Trusted Types enforced (so no string
//! can reach an HTML sink), no framing, no referrer.

use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::get;
use http::{HeaderValue, StatusCode, header};

pub const INDEX_HTML: &str = include_str!("../console/index.html");
pub const CONSOLE_JS: &str = include_str!("../console/console.js");
pub const CONSOLE_CSS: &str = include_str!("../console/console.css");

/// The policy every console response carries.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'; \
     require-trusted-types-for 'script'; trusted-types 'none'";

/// The path the console is served at; `serve` prints `http://ADDR{PATH}#token=…`.
pub const PATH: &str = "/console";

/// One embedded file: its body and content type, by request path.
pub fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "/console" | "/console/" => Some((INDEX_HTML, "text/html; charset=utf-8")),
        "/console/console.js" => Some((CONSOLE_JS, "text/javascript; charset=utf-8")),
        "/console/console.css" => Some((CONSOLE_CSS, "text/css; charset=utf-8")),
        _ => None,
    }
}

/// The response for an embedded file, with the security headers.
pub fn response(body: &'static str, content_type: &'static str) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    r
}

fn serve(path: &'static str) -> Response {
    match asset(path) {
        Some((body, ty)) => response(body, ty),
        None => Response::builder().status(StatusCode::NOT_FOUND).body(Body::empty()).unwrap_or_default(),
    }
}

/// The console's routes, to be merged into the server's router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/console", get(|| async { serve("/console") }))
        .route("/console/", get(|| async { serve("/console/") }))
        .route("/console/console.js", get(|| async { serve("/console/console.js") }))
        .route("/console/console.css", get(|| async { serve("/console/console.css") }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_its_own_files_and_has_no_inline_code() {
        let html = INDEX_HTML.to_ascii_lowercase();
        assert!(html.contains(r#"<script src="/console/console.js" defer></script>"#));
        assert!(html.contains(r#"<link rel="stylesheet" href="/console/console.css">"#));
        assert_eq!(html.matches("<script").count(), 1, "exactly one script, and it is external");
        for banned in [
            " style=",
            "<style",
            " onclick",
            " onload",
            " onerror",
            " onsubmit",
            "javascript:",
            "http://",
            "https://",
            "//cdn",
        ] {
            assert!(!html.contains(banned), "index.html contains {banned:?}");
        }
        assert!(html.contains(r#"role="alert""#));
    }

    #[test]
    fn the_script_never_writes_html_from_strings() {
        for banned in [".innerHTML", ".outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            assert!(!CONSOLE_JS.contains(banned), "console.js uses {banned}");
        }
        assert!(!CONSOLE_CSS.contains("url(http"), "no external assets in the stylesheet");
        assert!(!CONSOLE_CSS.contains("@import"), "no imports in the stylesheet");
    }

    #[tokio::test]
    async fn served_with_content_types_and_a_strict_policy() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, router::<()>()).await });
        let http = reqwest::Client::new();
        for (path, ty, needle) in [
            ("/console", "text/html; charset=utf-8", "<!doctype html>"),
            ("/console/", "text/html; charset=utf-8", "<!doctype html>"),
            ("/console/console.js", "text/javascript; charset=utf-8", "use strict"),
            ("/console/console.css", "text/css; charset=utf-8", "--accent"),
        ] {
            let r = http.get(format!("http://{addr}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            let h = r.headers().clone();
            assert_eq!(h[header::CONTENT_TYPE], ty, "{path}");
            let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            for part in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
                assert!(csp.contains(part), "{path}: {csp}");
            }
            assert!(!csp.contains("unsafe-"), "{csp}");
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
            assert!(r.text().await.unwrap().to_ascii_lowercase().contains(needle), "{path}");
        }
        let r = http.get(format!("http://{addr}/console/nope.js")).send().await.unwrap();
        assert_eq!(r.status(), 404);
        server.abort();
    }

    #[tokio::test]
    async fn mounted_on_the_server_beside_the_console_api() {
        let dir = std::env::temp_dir().join(format!("console-serve-{}", shared::domain::new_uuid()));
        let (router, server) = crate::serve::build(&dir, shared::config::Config::defaults()).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move { axum::serve(listener, router).await });
        let http = reqwest::Client::new();
        let page = http.get(format!("http://{addr}{PATH}")).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        // the API is still behind the bearer token, and still answers JSON errors
        let r = http.get(format!("http://{addr}/v1/organization")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        let r = http
            .get(format!("http://{addr}/v1/organization"))
            .bearer_auth(&server.tokens.test.token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        task.abort();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
