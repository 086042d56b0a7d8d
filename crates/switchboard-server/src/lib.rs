//! The HTTP and WebSocket edge: axum router, extractors, sessions, errors → responses,
//! health and metrics, the OpenAPI document and graceful shutdown.
//!
//! Invariant: no SQL and no business rules here. Handlers extract, call one core
//! function, and convert the result to the wire format.

pub mod admission;
pub mod api;
mod auth;
mod device;
pub mod error;
pub mod metrics;
mod parse;
pub mod security;
mod state;
mod ws;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use switchboard_core::{Core, Limits};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::task::TaskTracker;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use admission::{Admission, default_max_sockets, raise_open_file_limit};
pub use metrics::Metrics;
pub use state::{AppState, ServerConfig};

/// A configured server, ready to be given a listener.
pub struct Server {
    pub state: AppState,
    router: Router,
    shutdown: watch::Sender<bool>,
}

impl Server {
    pub fn new(mut core: Core, config: ServerConfig) -> Self {
        let metrics = Arc::new(Metrics::default());
        core.observer = metrics.clone();
        let (shutdown, shutdown_rx) = watch::channel(false);
        let admission = Arc::new(Admission::new(config.max_sockets, config.max_handshakes, config.handshake_wait));
        let state = AppState::new(state::Shared {
            core,
            metrics,
            config: Arc::new(config),
            shutdown: shutdown_rx,
            sockets: TaskTracker::new(),
            admission,
        });
        let router = router(state.clone());
        Self { state, router, shutdown }
    }

    /// Serves (and runs due jobs, see [`ServerConfig::run_jobs`]) until `stop` resolves,
    /// then shuts down gracefully: stop accepting, tell every socket to reconnect, wait
    /// for sockets, requests and the job under way, flush the store.
    pub async fn serve(self, listener: TcpListener, stop: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let Server { state, router, shutdown } = self;
        let sockets = state.sockets.clone();
        let jobs = state.config.run_jobs.then(|| {
            let mut stopping = state.shutdown.clone();
            state.core.spawn_job_worker(async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            })
        });
        // Proactive rules waiting on time (on a page, on the site) are asked again when due.
        let rule_checks = {
            let mut stopping = state.shutdown.clone();
            state.core.spawn_rule_checks(async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            })
        };
        let signal = async move {
            stop.await;
            tracing::info!("shutting down: closing sockets and flushing the store");
            let _ = shutdown.send(true);
        };
        axum::serve(without_nagle(listener), router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(signal)
            .await?;
        sockets.close();
        if tokio::time::timeout(Duration::from_secs(10), sockets.wait()).await.is_err() {
            tracing::warn!("some sockets did not close within 10 s");
        }
        // The job under way finishes before the store closes.
        if let Some(jobs) = jobs
            && let Err(e) = jobs.await
        {
            tracing::warn!(error = %e, "the job worker stopped abnormally");
        }
        // Page views still buffered are written before the store closes.
        state.core.flush_live().await;
        if let Err(e) = rule_checks.await {
            tracing::warn!(error = %e, "the proactive re-checks stopped abnormally");
        }
        state.core.store.close().await;
        Ok(())
    }
}

/// The OpenAPI document of the REST API and the socket frames: the whole wire contract,
/// which `cargo xtask codegen` writes to `web/generated/` for the front ends.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::router(Limits::default().max_upload_bytes).1
}

fn router(state: AppState) -> Router {
    let (api, openapi) = api::router(state.core.limits.max_upload_bytes);
    let spec = Arc::new(openapi);
    // Widget endpoints are called from businesses' pages (each handler checks the
    // site's allowed origins) and integrations call with bearer tokens, so CORS mirrors
    // the caller. Credentials are never allowed cross-origin: cookie sessions stay
    // same-site, and their writes need the CSRF header on top.
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600));
    Router::new()
        .merge(api)
        .route("/api/v1/openapi.json", get(move || async move { axum::Json(spec.as_ref().clone()) }))
        .merge(switchboard_web::router())
        .route("/widget/frame", get(widget_frame))
        .route("/ws/visitor", get(ws::visitor::upgrade))
        .route("/ws/agent", get(ws::agent::upgrade))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/", get(home))
        .layer(cors)
        // Request spans name the path without its query (`?access_token=`) and with an
        // invitation's token blanked, so a debug log holds no secret.
        .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<axum::body::Body>| {
            tracing::debug_span!("request", method = %req.method(), path = %loggable_path(req.uri().path()))
        }))
        // Outermost, so every response gets the headers, errors and the fallback included.
        .layer(axum::middleware::from_fn_with_state(state.clone(), security::headers))
        .with_state(state)
}

/// A request's path as logs may show it: the segment after `/app/invite/` or
/// `/api/v1/invitations/` (an invitation's token) becomes `{token}`.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in ["/app/invite/", "/api/v1/invitations/"] {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
        {
            let tail = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}{{token}}{tail}").into();
        }
    }
    path.into()
}

/// `/readyz`: ready while the database answers, whatever the bus: a degraded bus only
/// makes delivery between nodes late (the node catches up from the database), and
/// draining every node because Redis died would help nobody. The body says how each is.
async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let bus = match app.core.bus_health() {
        switchboard_bus::BusHealth::Local => "bus: local".to_owned(),
        switchboard_bus::BusHealth::Live => "bus: live".to_owned(),
        switchboard_bus::BusHealth::Degraded { since_ms } => {
            let secs = (switchboard_bus::now_us() / 1000 - since_ms).max(0) / 1000;
            format!("bus: degraded for {secs} s (catching up from the database)")
        }
    };
    match app.core.ready().await {
        Ok(()) => (StatusCode::OK, format!("ready\ndatabase: ok\n{bus}\n")),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, format!("not ready\ndatabase: unreachable\n{bus}\n"))
        }
    }
}

async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let jobs = app.core.job_queue().await.inspect_err(|e| tracing::warn!(error = %e, "reading the job queue for /metrics")).ok();
    app.metrics.refresh(&app.core, jobs);
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"))], app.metrics.encode())
}

/// `/`: a signed-in agent (a valid session cookie) goes to the dashboard, anyone else
/// to its sign-in page. The dashboard serves both.
async fn home(State(app): State<AppState>, parts: axum::http::request::Parts) -> axum::response::Redirect {
    match auth::authenticate(&parts, &app, false).await {
        Ok(a) if a.csrf_token.is_some() => axum::response::Redirect::to("/app"),
        _ => axum::response::Redirect::to("/app/login"),
    }
}

#[derive(serde::Deserialize)]
struct FrameQuery {
    site: Option<String>,
}

/// `GET /widget/frame?site=…`: the widget's chat frame, which only the site's allowed
/// origins may embed (`frame-ancestors`). For an unknown site any page may: the frame
/// then tells the visitor, in their language, that this chat does not exist.
async fn widget_frame(
    State(app): State<AppState>,
    Query(q): Query<FrameQuery>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let ancestors = match q.site {
        Some(key) => app.core.widget_frame_ancestors(&key).await,
        None => Ok(None),
    };
    match ancestors {
        Ok(origins) => {
            let origins: Option<Vec<String>> = origins.map(|list| list.iter().map(|o| o.as_str().to_owned()).collect());
            switchboard_web::widget_frame(origins.as_deref(), &headers)
        }
        Err(switchboard_core::Error::NotFound(_)) => switchboard_web::widget_frame(None, &headers),
        Err(e) => error::ApiError::from(e).into_response(),
    }
}

/// `listener`, with Nagle's algorithm off on every accepted socket. A socket that only
/// receives (an agent's, mostly) acknowledges late — a client delays its ACK up to 40 ms
/// when it has nothing to send — and with Nagle on, each small frame written while an
/// earlier one is unacknowledged waits for that ACK: a live event could reach an agent
/// 40 ms late. Frames are already batched per flush (`ws::Conn`), so nothing is gained
/// by letting the kernel hold them.
fn without_nagle(listener: TcpListener) -> axum::serve::TapIo<TcpListener, impl FnMut(&mut tokio::net::TcpStream) + Send + 'static> {
    use axum::serve::ListenerExt as _;
    listener.tap_io(|socket| {
        if let Err(e) = socket.set_nodelay(true) {
            tracing::debug!(error = %e, "could not turn Nagle's algorithm off on an accepted socket");
        }
    })
}

#[cfg(test)]
mod tests {
    use axum::serve::Listener as _;

    use super::*;

    #[test]
    fn logged_paths_hold_no_invitation_token() {
        assert_eq!(loggable_path("/app/invite/abcDEF_-123"), "/app/invite/{token}");
        assert_eq!(loggable_path("/api/v1/invitations/abcDEF_-123"), "/api/v1/invitations/{token}");
        assert_eq!(loggable_path("/api/v1/agents/invitations/0191/resend"), "/api/v1/agents/invitations/0191/resend");
        assert_eq!(loggable_path("/api/v1/conversations"), "/api/v1/conversations");
    }

    /// Operation ids name the generated client's functions and types: two alike would
    /// collide in TypeScript.
    #[test]
    fn every_operation_has_its_own_id() {
        let doc = serde_json::to_value(openapi()).unwrap();
        let operations = doc["paths"].as_object().unwrap().values().flat_map(|item| item.as_object().unwrap().values());
        let mut ids: Vec<&str> = operations.filter_map(|op| op.get("operationId")?.as_str()).collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicate operation ids among {ids:?}");
    }

    #[tokio::test]
    async fn accepted_sockets_write_small_frames_at_once() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut listener = without_nagle(listener);
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (accepted, _) = listener.accept().await;
        assert!(accepted.nodelay().unwrap(), "Nagle's algorithm is off on the server's side");
        assert!(!client.nodelay().unwrap(), "and it is the wrapper that turned it off, not a default");
    }
}
