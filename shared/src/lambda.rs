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
