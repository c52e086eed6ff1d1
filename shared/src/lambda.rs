//! Translation between API Gateway (HTTP API, payload v2) events as `lambda_http` presents them and
//! the plain `http::Request<Bytes>` / `http::Response<Bytes>` the handlers use, plus the console
//! principal from the JWT authorizer's claims (`org_id`, `org_mode`, `sub`).

use crate::domain::{Mode, OrgId};
use crate::org::Principal;
use crate::web::{HttpRequest, HttpResponse, MAX_BODY_BYTES};
use bytes::Bytes;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};

/// The request body is over [`MAX_BODY_BYTES`].
#[derive(Debug, thiserror::Error)]
#[error("request body is larger than {MAX_BODY_BYTES} bytes")]
pub struct BodyTooLarge;

/// The handler request, or `BodyTooLarge`.
pub fn into_http(req: lambda_http::Request) -> Result<HttpRequest, BodyTooLarge> {
    let (parts, body) = req.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(s) => Bytes::from(s),
        Body::Binary(b) => Bytes::from(b),
        _ => Bytes::new(),
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(BodyTooLarge);
    }
    Ok(http::Request::from_parts(parts, bytes))
}

pub fn into_lambda(resp: HttpResponse) -> lambda_http::Response<Body> {
    resp.map(|b| match String::from_utf8(b.to_vec()) {
        Ok(s) if s.is_empty() => Body::Empty,
        Ok(s) => Body::Text(s),
        Err(e) => Body::Binary(e.into_bytes()),
    })
}

/// The console caller from the JWT authorizer's claims; `None` if they are absent or invalid.
pub fn jwt_principal(req: &lambda_http::Request) -> Option<Principal> {
    let RequestContext::ApiGatewayV2(ctx) = req.request_context_ref()? else { return None };
    let claims = &ctx.authorizer.as_ref()?.jwt.as_ref()?.claims;
    let org = OrgId::parse(claims.get("org_id")?.as_str()).ok()?;
    let mode: Mode = claims.get("org_mode")?.parse().ok()?;
    let actor = claims.get("sub").cloned().unwrap_or_else(|| "unknown".into());
    Some(Principal { org, mode, actor })
}

/// Log targets of the Lambda runtime crates: at DEBUG/TRACE they print whole invocation events — request
/// bodies, API keys in headers — so they are held to INFO whatever the environment asks for.
const RUNTIME_TARGETS: &[&str] = &["lambda_runtime", "lambda_http", "lambda_runtime_api_client"];

/// Whether an event of `target` at `level` may be logged (the cap on the runtime crates; everything else is left
/// to the level the environment sets).
pub fn runtime_event_allowed(target: &str, level: &lambda_http::tracing::Level) -> bool {
    let runtime = RUNTIME_TARGETS.iter().any(|t| target == *t || target.starts_with(&format!("{t}::")));
    !runtime || *level <= lambda_http::tracing::Level::INFO
}

/// Installs the functions' log subscriber: `lambda_runtime`'s default behaviour (level from
/// `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO; JSON when `AWS_LAMBDA_LOG_FORMAT` says so) plus one rule no
/// environment variable can lift: [`runtime_event_allowed`].
pub fn init_tracing() {
    use lambda_http::tracing::subscriber::filter::{EnvFilter, LevelFilter, filter_fn};
    use lambda_http::tracing::subscriber::{Layer, fmt, layer::SubscriberExt, registry, util::SubscriberInitExt};
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let level = level.as_deref().unwrap_or("INFO").parse::<LevelFilter>().unwrap_or(LevelFilter::INFO);
    let env = EnvFilter::builder().with_default_directive(level.into()).from_env_lossy();
    let cap = filter_fn(|meta| runtime_event_allowed(meta.target(), meta.level()));
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let layer = fmt::layer().with_target(false).without_time();
    let layer = if json { layer.json().with_filter(cap).boxed() } else { layer.with_filter(cap).boxed() };
    let _ = registry().with(env).with(layer).try_init();
}

#[cfg(test)]
mod tracing_tests {
    use super::runtime_event_allowed;
    use lambda_http::tracing::Level;

    #[test]
    fn the_runtime_crates_never_log_below_info() {
        for t in ["lambda_runtime", "lambda_runtime::layers::trace", "lambda_http", "lambda_runtime_api_client"] {
            assert!(!runtime_event_allowed(t, &Level::TRACE), "{t}");
            assert!(!runtime_event_allowed(t, &Level::DEBUG), "{t}");
            assert!(runtime_event_allowed(t, &Level::INFO), "{t}");
            assert!(runtime_event_allowed(t, &Level::ERROR), "{t}");
        }
        // Our own crates keep the level the environment sets.
        assert!(runtime_event_allowed("tax::calculate", &Level::TRACE));
        assert!(runtime_event_allowed("lambda_runtimes_lookalike", &Level::TRACE));
    }
}
