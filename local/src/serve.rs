//! `sphere-local serve`: an HTTP server hosting the connect and tax handlers — the same functions the
//! Lambda mains call — over the embedded store.

use crate::tokens::ConsoleTokens;
use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use http::StatusCode;
use shared::app::App;
use shared::clock::SystemClock;
use shared::config::Config;
use shared::domain::Mode;
use shared::store::EmbeddedStore;
use shared::web::{HttpResponse, MAX_BODY_BYTES, console_error, json, sphere_error};
use std::path::PathBuf;
use std::sync::Arc;

pub struct Options {
    pub addr: String,
    pub data_dir: PathBuf,
    /// Run the Sequence simulator in-process and point every connection at it.
    pub with_sim: bool,
    pub sequence_sandbox_url: Option<String>,
    pub sequence_production_url: Option<String>,
}

/// Where `--with-sim` writes the simulator's credentials.
pub const SIM_CREDENTIALS_FILE: &str = "sim-credentials.json";

/// Shared by every request.
pub struct Server {
    pub app: App<EmbeddedStore>,
    /// The tax API's part of `app` (same store and caches; no secrets, no queue).
    pub tax: tax::State<EmbeddedStore>,
    /// The webhook endpoint's part of `app` (store, signing secrets, the sync queue).
    pub webhook: webhook::State<EmbeddedStore>,
    pub tokens: ConsoleTokens,
    /// Sync jobs queued or running in the local worker.
    pub sync_pending: crate::worker::Pending,
}

/// Opens the data dir (store + tokens + both orgs) and builds the router.
pub async fn build(data_dir: &std::path::Path, config: Config) -> Result<(Router, Arc<Server>), String> {
    let store = EmbeddedStore::open(data_dir).map_err(|e| format!("{}: {e}", data_dir.display()))?;
    let tokens = ConsoleTokens::load_or_create(data_dir)?;
    let tick = std::time::Duration::from_secs(u64::from(config.sync_interval_minutes) * 60);
    let pepper = store.key_pepper();
    let app = App::new(config, store, Arc::new(SystemClock)).with_key_pepper(pepper);
    let (app, sync_pending) = crate::worker::start(app, Some(tick));
    for (entry, mode) in [(&tokens.test, Mode::Test), (&tokens.live, Mode::Live)] {
        shared::org::ensure(&app.store, &entry.org_id, mode, &app.now_rfc3339()).await.map_err(|e| e.to_string())?;
    }
    let tax = tax::State::of(&app).map_err(|e| format!("tax content: {e}"))?;
    let webhook = webhook::State::of(&app);
    let server = Arc::new(Server { app, tax, webhook, tokens, sync_pending });
    let router = Router::new()
        .route("/healthz", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }))
        .merge(crate::console::router())
        .fallback(dispatch)
        .with_state(Arc::clone(&server));
    Ok((router, server))
}

/// A server beside an in-process simulator, on a free loopback port (the demo, the benchmarks, tests): Sequence
/// is the simulator (no client-side limit), webhooks are subscribed to this server's own address. Returns its
/// base URL, the server and the task serving it.
pub async fn start_beside(
    data_dir: &std::path::Path,
    sim: &sequence_sim::SimHandle,
) -> Result<(String, Arc<Server>, tokio::task::JoinHandle<std::io::Result<()>>), String> {
    let mut config = Config::defaults();
    config.sequence_sandbox_url = sim.sandbox_url();
    config.sequence_production_url = sim.production_url();
    config.sequence_requests_per_minute = 100_000;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    config.webhook_base_url = Some(format!("http://{addr}"));
    let (router, server) = build(data_dir, config).await?;
    let task = tokio::spawn(async move { axum::serve(listener, router).await });
    Ok((format!("http://{addr}"), server, task))
}

pub async fn run(opts: Options) -> Result<(), String> {
    let mut config = Config::from_env().map_err(|e| e.to_string())?;
    if let Some(u) = opts.sequence_sandbox_url {
        config.sequence_sandbox_url = u.trim_end_matches('/').to_owned();
    }
    if let Some(u) = opts.sequence_production_url {
        config.sequence_production_url = u.trim_end_matches('/').to_owned();
    }
    // Kept alive for the server's lifetime.
    let sim = if opts.with_sim {
        let sim = sequence_sim::Simulator::start(sequence_sim::SimOptions {
            data: Some(sequence_sim::SeedSpec::default()),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("could not start the Sequence simulator: {e}"))?;
        config.sequence_sandbox_url = sim.sandbox_url();
        config.sequence_production_url = sim.production_url();
        std::fs::create_dir_all(&opts.data_dir).map_err(|e| e.to_string())?;
        let creds = serde_json::to_vec_pretty(&sim.credentials_json()).map_err(|e| e.to_string())?;
        write_private(&opts.data_dir.join(SIM_CREDENTIALS_FILE), &creds).map_err(|e| e.to_string())?;
        Some(sim)
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(&opts.addr).await.map_err(|e| format!("{}: {e}", opts.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Sequence (or the simulator) posts webhooks to this server unless WEBHOOK_BASE_URL names a public URL.
    config.webhook_base_url.get_or_insert_with(|| format!("http://{addr}"));
    let (router, server) = build(&opts.data_dir, config).await?;
    // Expired items (calculation records after 90 days, other TTL items) read as absent; purge them at
    // start and hourly so the file does not keep them.
    let store = server.app.store.clone();
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            hourly.tick().await;
            match store.purge_expired(10_000).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "expired items purged"),
                Err(e) => tracing::warn!(error = %e, "purging expired items failed; retried in an hour"),
            }
        }
    });
    println!("sphere-local serving on http://{addr}");
    println!("  console:         http://{addr}{}#token={}", crate::console::PATH, server.tokens.test.token);
    println!("  data dir:        {}", opts.data_dir.display());
    println!("  console tokens:  {}", opts.data_dir.join(crate::tokens::FILE_NAME).display());
    println!("  test org {}  (Authorization: Bearer <test token>)", server.tokens.test.org_id);
    println!("  live org {}  (Authorization: Bearer <live token>)", server.tokens.live.org_id);
    if let Some(sim) = &sim {
        println!("  Sequence simulator on http://{} (fresh in-memory accounts each start)", sim.addr);
        for env in [shared::domain::Environment::Sandbox, shared::domain::Environment::Production] {
            let c = sim.credentials(env);
            println!("    {env:<10} Client ID {}  Client Secret {}", c.client_id, c.client_secret);
        }
        println!("    (also in {})", opts.data_dir.join(SIM_CREDENTIALS_FILE).display());
    }
    axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await.map_err(|e| e.to_string())?;
    // In-flight requests have been answered. Dropping the last handle on the store closes its writer queue: the
    // writer commits what is queued (deferred calculation records included) and its thread is joined.
    drop(server);
    Ok(())
}

/// Ctrl-C or SIGTERM (what `kill`, systemd and container runtimes send): stop accepting, finish in-flight requests.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "SIGTERM handler not installed; Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// Writes a file only its owner can read (mode 0600 on Unix), replacing any earlier one.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    // `mode` applies to a new file only: an older file written with the default mode is tightened too.
    #[cfg(unix)]
    f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    std::io::Write::write_all(&mut f, bytes)
}

/// Translates an axum request into the handlers' `http::Request<Bytes>` and routes it by prefix.
async fn dispatch(State(server): State<Arc<Server>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    let tax_api = path.starts_with("/tax_api/");
    let too_large = |tax: bool| {
        let msg = format!("request body is larger than {MAX_BODY_BYTES} bytes");
        if tax {
            sphere_error(StatusCode::PAYLOAD_TOO_LARGE, "validation_errors", msg)
        } else {
            console_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", msg)
        }
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return into_axum(too_large(tax_api));
    };
    let req = http::Request::from_parts(parts, bytes);
    let resp = if tax_api {
        tax::handle(&server.tax, req).await
    } else if path.starts_with("/webhooks/") {
        webhook::handle(&server.webhook, req).await
    } else if path.starts_with("/v1/") {
        let token = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        match server.tokens.principal(token) {
            Some(p) => connect::handle(&server.app, p, req).await,
            None => console_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing or invalid console token (see console-tokens.json in the data dir)",
            ),
        }
    } else {
        json(StatusCode::NOT_FOUND, &serde_json::json!({"error": {"code": "not_found", "message": "no such route"}}))
    };
    into_axum(resp)
}

fn into_axum(resp: HttpResponse) -> Response {
    resp.map(|b: Bytes| Body::from(b))
}
