//! `POST /v1/messages` and `POST /v1/chat/completions`: one straight path from client bytes to
//! upstream and back (DESIGN.md §1).
//!
//! decode → resolve model → map to Kiro → for each attempt: pick an account, get its token,
//! send, and read until the first visible output. Failures before that point are retried or
//! switched per the fault's reaction (spec §8.1); once output is visible the reply is committed
//! and streamed (or folded) as the upstream produces it.
//!
//! Every request, refused ones included, carries a [`Trace`] that reports one
//! [`crate::telemetry::RequestRecord`] when the request ends (see `telemetry::trace`).

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use dialects::canonical::{ClientError, ErrorKind, Request, StartInfo, StreamEvent};
use dialects::encode::{ReplyEncoder, ReplyFolder};
use dialects::kiro::request::{MappedRequest, MappingOptions, map_request};
use dialects::kiro::response::{ReplyContext, ReplyMapper, UpstreamFault};
use kiro_wire::Frame;
use tokio::time::Sleep;

use super::dialect::{Dialect, too_large};
use super::request_id::RequestId;
use crate::accounts::Lease;
use crate::accounts::attempts::{After, Attempts, Next, account_effect};
use crate::accounts::failover;
use crate::accounts::reaction::{classify, empty_stream};
use crate::app::{App, AppState};
use crate::client_auth::ClientIdentity;
use crate::limits::ClientIp;
use crate::stats::BodyCapture;
use crate::telemetry::Trace;
use crate::upstream::{AccountAuth, ChatStream, UpstreamError};

pub async fn anthropic_messages(
    State(app): State<AppState>,
    front: Front,
    rid: RequestId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(app, Dialect::Anthropic, front, rid, headers, body).await
}

pub async fn openai_chat(
    State(app): State<AppState>,
    front: Front,
    rid: RequestId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    handle(app, Dialect::OpenAi, front, rid, headers, body).await
}

/// Checks the client key and reads the body; the shared front of every client route.
pub fn admit(
    app: &App,
    dialect: Dialect,
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ClientError> {
    admit_as(app, dialect, peer, headers, body, &mut None)
}

/// [`admit`], also telling who the key belongs to: `identity` is set as soon as the key is
/// accepted, even when the body is then refused.
pub fn admit_as(
    app: &App,
    dialect: Dialect,
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    identity: &mut Option<ClientIdentity>,
) -> Result<Bytes, ClientError> {
    // The traffic middleware authenticates the chat routes; only check here when it did not.
    if identity.is_none() {
        let who = app
            .client_auth
            .authenticate(headers, Some(peer.ip()))
            .map_err(|f| ClientError::new(ErrorKind::Authentication, f.message()))?;
        *identity = Some(who);
    }
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(app.config.limits.max_request_body_bytes)
        } else {
            tracing::debug!(dialect = dialect.label(), %rejection, "unreadable body");
            ClientError::invalid(format!("could not read the request body: {rejection}"))
        }
    })
}

/// The client address recorded for a request (statistics, logs): the socket peer, IPv4-mapped
/// addresses shown as IPv4. The traffic middleware, which knows the trusted proxies, may have
/// decided it already (`X-Forwarded-For` from a trusted peer only).
pub fn client_ip(_app: &App, peer: SocketAddr, _headers: &HeaderMap) -> IpAddr {
    peer.ip().to_canonical()
}

/// Who is calling, as far as the traffic middleware in front of the client routes already
/// established it (the key is then not checked twice).
#[derive(Debug)]
pub struct Front {
    pub peer: SocketAddr,
    /// The key the middleware accepted.
    pub identity: Option<ClientIdentity>,
    /// The client address after trusted-proxy handling.
    pub ip: Option<IpAddr>,
    /// When the request reached the service (before the middleware and the body read).
    pub arrived: Option<Instant>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Front {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
        Ok(Front {
            peer,
            identity: parts.extensions.get::<ClientIdentity>().cloned(),
            ip: parts.extensions.get::<ClientIp>().map(|ClientIp(ip)| *ip),
            arrived: parts.extensions.get::<super::trace::Arrived>().map(|a| a.0),
        })
    }
}

async fn handle(
    app: AppState,
    dialect: Dialect,
    front: Front,
    rid: RequestId,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let peer = front.peer;
    let ip = front.ip.unwrap_or_else(|| client_ip(&app, peer, &headers));
    let mut trace = Trace::start(&app.telemetry, rid.as_str(), dialect.label(), Some(ip));
    if let Some(arrived) = front.arrived {
        trace.arrived_at(arrived);
    }
    let mut identity = front.identity;
    let admitted = admit_as(&app, dialect, peer, &headers, body, &mut identity);
    if let Some(identity) = &identity {
        trace.set_key(identity);
    }
    let result = match admitted {
        Ok(body) => {
            // The only cost of body capture while it is off: one atomic load.
            if let BodyCapture::On { max_bytes } = app.stats.body_capture() {
                trace.capture_request(&body, max_bytes);
            }
            serve(app, dialect, &rid, &body, &mut trace).await
        }
        Err(e) => Err(e),
    };
    let resp = match result {
        Ok(resp) => resp,
        Err(err) => {
            trace.refused(&err);
            tracing::info!(
                request_id = %rid,
                dialect = dialect.label(),
                status = dialect.error_body(&err, rid.as_str()).0,
                error = %err,
                "request refused"
            );
            trace.capture_reply(|| dialect.error_body(&err, rid.as_str()).1);
            let mut resp = dialect.error_response(&err, rid.as_str());
            rid.stamp(resp.headers_mut());
            resp
        }
    };
    // A streamed reply took its trace along; this one is then disarmed.
    trace.status(resp.status().as_u16());
    trace.complete();
    resp
}

/// What one request needs across its attempts.
struct Prepared {
    req: Request,
    mapped: MappedRequest,
    opts: MappingOptions,
    context_window: u64,
}

async fn prepare(app: &App, dialect: Dialect, body: &[u8]) -> Result<Prepared, ClientError> {
    let mut req = dialect.decode(body)?;
    app.settings.strip_notice(&mut req);
    refuse_remote_images(app, &mut req).await?;
    let catalogue = app.catalogue();
    let resolved = catalogue.resolve(&req.model, &app.mapping())?;
    crate::limits::check_model(&req.model, &resolved.upstream_id)?;
    let spec = catalogue.spec_or_fallback(&resolved.upstream_id);
    let context_window = spec.context_window;
    let mut opts = MappingOptions::new(resolved.upstream_id.clone(), spec);
    opts.max_body_bytes = app.config.upstream.max_body_bytes;
    opts.max_image_bytes = app.config.images.max_bytes;
    opts.thinking_forced = resolved.thinking_suffix;
    // Signatures this proxy passes through were issued by the upstream for the model the client
    // names; a replay to another model is stripped (N12).
    opts.signature_model = Some(resolved.upstream_id);
    let mapped = map_request(&req, &opts)?;
    Ok(Prepared {
        req,
        mapped,
        opts,
        context_window,
    })
}

/// Remote image URLs are fetched behind SSRF guards when the operator turned that on, else
/// refused with a precise 400 (see `crate::images`).
async fn refuse_remote_images(app: &App, req: &mut Request) -> Result<(), ClientError> {
    crate::images::resolve_remote_images(
        req,
        &app.config.images,
        &crate::images::ImageFetcher::new(),
    )
    .await
}

/// The Kiro body for one account: the mapped JSON with the account's own profile ARN, if any,
/// spliced in as the last root key (spec §2.3: never borrowed, never with API keys).
fn body_for(mapped: &MappedRequest, auth: &AccountAuth) -> Bytes {
    match auth.profile_arn().filter(|_| !auth.is_api_key()) {
        Some(arn) if mapped.json.last() == Some(&b'}') => {
            let mut json = Vec::with_capacity(mapped.json.len() + arn.len() + 20);
            json.extend_from_slice(&mapped.json[..mapped.json.len() - 1]);
            json.extend_from_slice(b",\"profileArn\":");
            // An ARN never needs escaping, but serialise it anyway.
            json.extend_from_slice(
                serde_json::to_string(arn)
                    .unwrap_or_else(|_| "\"\"".to_owned())
                    .as_bytes(),
            );
            json.push(b'}');
            Bytes::from(json)
        }
        _ => Bytes::from(mapped.json.clone()),
    }
}

/// The reply so far of the attempt that produced visible output, with the lease of the account
/// serving it: dropping it (the reply ended, the client went away, an error) frees the
/// account's slot and deducts the credits the reply metered from the account's cached quota.
struct Committed {
    lease: Lease,
    stream: Option<ChatStream>,
    mapper: ReplyMapper,
    pending: Vec<StreamEvent>,
}

impl Drop for Committed {
    fn drop(&mut self) {
        self.lease.charge(self.mapper.credits());
    }
}

async fn serve(
    app: AppState,
    dialect: Dialect,
    rid: &RequestId,
    body: &[u8],
    trace: &mut Trace,
) -> Result<Response, ClientError> {
    let mut prepared = prepare(&app, dialect, body).await?;
    trace.set_request(
        &prepared.req.model,
        &prepared.opts.upstream_model,
        prepared.req.stream,
    );
    let committed = attempt_until_output(&app, &mut prepared, rid, trace).await?;
    let start = StartInfo {
        id: rid.message_id(),
        model: prepared.req.model.clone(),
        estimated_input_tokens: prepared.mapped.estimated_input_tokens,
        created: crate::store::unix_now(),
    };
    if prepared.req.stream {
        let encoder = app.settings.encoder(dialect, &prepared.req);
        if trace.capturing() {
            // The capture keeps the fold of the stream: readable text, not SSE deltas.
            let start = StreamEvent::Start(start.clone());
            trace.capture_stream(dialect.folder(&prepared.req), &start);
        }
        Ok(stream_response(
            app,
            rid,
            encoder,
            start,
            committed,
            trace.hand_off(),
        ))
    } else {
        let folder = app.settings.folder(dialect, &prepared.req);
        let (status, json) = fold_reply(&app, folder, start, committed, trace).await;
        trace.capture_reply(|| json.clone());
        if status < 400 {
            // The whole body leaves at once.
            trace.first_byte();
        }
        let mut resp = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(json),
        )
            .into_response();
        rid.stamp(resp.headers_mut());
        Ok(resp)
    }
}

fn reply_context(p: &Prepared) -> ReplyContext {
    ReplyContext {
        tool_names: p.mapped.tool_names.clone(),
        thinking: p.mapped.thinking,
        context_window: p.context_window,
        estimated_input_tokens: p.mapped.estimated_input_tokens,
        stop_sequences: p.req.stop_sequences.clone(),
        max_tokens: p.req.max_tokens,
        dedupe_repeated_chunks: false,
    }
}

/// The client session a request belongs to, for stickiness: the session id, else the user id.
fn session_key(req: &Request) -> Option<String> {
    let m = &req.metadata;
    m.session_id
        .as_deref()
        .or(m.user_id.as_deref())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Runs attempts until one produces visible output (or ends cleanly), one account selection
/// per attempt, applying spec §8.1 to every failure on the way, within the request's failover
/// budget (attempts and time).
async fn attempt_until_output(
    app: &App,
    p: &mut Prepared,
    rid: &RequestId,
    trace: &mut Trace,
) -> Result<Committed, ClientError> {
    // The thresholds in effect when the request arrived (they may change at runtime).
    let pool_config = &app.pool.config();
    let mut attempts = Attempts::new(pool_config);
    let session = session_key(&p.req);
    let model = p.opts.upstream_model.clone();
    let mut repaired_signatures = false;
    let mut last: Option<ClientError> = None;
    loop {
        let next = attempts
            .next(
                &app.pool,
                &app.tokens,
                &model,
                session.as_deref(),
                |account, e| {
                    tracing::warn!(request_id = %rid, %account, error = %e, "no usable token");
                    trace.fault(e.label());
                    last.get_or_insert_with(|| {
                        ClientError::new(ErrorKind::Overloaded, "no upstream account is available")
                    });
                },
            )
            .await;
        let (mut lease, auth) = match next {
            Next::Ready(lease, auth) => (lease, auth),
            Next::Spent => {
                return Err(last.unwrap_or_else(|| {
                    ClientError::new(
                        ErrorKind::Overloaded,
                        "the upstream could not be reached within the failover budget",
                    )
                }));
            }
            Next::Busy => return Err(failover::all_busy(pool_config.max_concurrency)),
            Next::Unavailable { plan_excluded } => {
                return Err(failover::no_account(&app.pool, last, plan_excluded, &model));
            }
        };
        let account_id = lease.account_id().to_owned();
        trace.attempt(&account_id, attempts.count());
        let body = body_for(&p.mapped, &auth);
        let waiting = Instant::now();
        let answer = app
            .upstream
            .chat(&auth, body, attempts.count().min(3))
            .await;
        trace.waited_upstream(waiting);
        let fault = match answer {
            Ok(mut stream) => {
                let mut mapper = ReplyMapper::new(reply_context(p));
                let mut pending = Vec::new();
                match read_until_output(&mut stream, &mut mapper, &mut pending, trace).await {
                    Ok(ended) => {
                        tracing::debug!(
                            request_id = %rid,
                            account = %account_id,
                            upstream_request_id = stream.request_id().unwrap_or(""),
                            "upstream answering"
                        );
                        lease.succeeded();
                        trace.committed();
                        return Ok(Committed {
                            lease,
                            stream: (!ended).then_some(stream),
                            mapper,
                            pending,
                        });
                    }
                    Err(fault) => fault,
                }
            }
            Err(e) => classify(&e),
        };
        tracing::info!(
            request_id = %rid,
            account = %account_id,
            attempt = attempts.count(),
            fault = fault.label,
            status = fault.status,
            reason = fault.reason.as_deref().unwrap_or(""),
            "upstream attempt failed"
        );
        trace.fault(fault.label);
        last = Some(fault.client_error.clone());
        match attempts
            .failed(lease, &fault, &auth, &app.pool, &app.tokens)
            .await
        {
            After::Retry => {}
            After::ClientError(lease) => {
                if fault.label == "thinking_signature_invalid" && !repaired_signatures {
                    // N12: strip replayed reasoning and retry once, on the same account.
                    repaired_signatures = true;
                    p.opts.signature_model = None;
                    p.mapped = map_request(&p.req, &p.opts)?;
                    attempts.retry_same(lease);
                    continue;
                }
                return Err(fault.client_error);
            }
        }
    }
}

/// Reads frames until the mapper has shown something, the reply ended, or a fault arrived.
/// `Ok(true)`: the upstream stream is finished.
async fn read_until_output(
    stream: &mut ChatStream,
    mapper: &mut ReplyMapper,
    pending: &mut Vec<StreamEvent>,
    trace: &mut Trace,
) -> Result<bool, UpstreamFault> {
    let mut frames = 0u64;
    loop {
        let waiting = Instant::now();
        let item = stream.next_frame().await;
        trace.waited_upstream(waiting);
        match item {
            Some(Ok(frame)) => {
                frames += 1;
                mapper.on_frame(&frame, pending)?;
                if mapper.is_done() {
                    return Ok(true);
                }
                if mapper.has_visible_output() {
                    return Ok(false);
                }
            }
            Some(Err(e)) => return Err(classify(&e)),
            // A clean end before a single event: the service said nothing at all.
            None if frames == 0 => return Err(empty_stream()),
            None => {
                mapper.finish(pending);
                return Ok(true);
            }
        }
    }
}

/// Feeds one upstream frame (or the end) to the mapper after the reply was committed.
/// Returns false when the reply is over.
fn after_commit(
    app: &App,
    lease: &mut Lease,
    item: Option<Result<Frame, UpstreamError>>,
    mapper: &mut ReplyMapper,
    out: &mut Vec<StreamEvent>,
    trace: &mut Trace,
) -> bool {
    let fault = match item {
        Some(Ok(frame)) => match mapper.on_frame(&frame, out) {
            Ok(()) if mapper.is_done() => return false,
            Ok(()) => return true,
            Err(fault) => fault,
        },
        Some(Err(e)) => classify(&e),
        None => {
            mapper.finish(out);
            return false;
        }
    };
    tracing::warn!(
        account = lease.account_id(),
        fault = fault.label,
        "upstream failed mid-reply"
    );
    trace.fault(fault.label);
    account_effect(&app.pool, lease, &fault, app.pool.config().default_cooldown);
    mapper.finish_after_fault(&fault, out);
    false
}

async fn fold_reply(
    app: &App,
    mut folder: Box<dyn ReplyFolder>,
    start: StartInfo,
    mut c: Committed,
    trace: &mut Trace,
) -> (u16, serde_json::Value) {
    folder.push(&StreamEvent::Start(start));
    for ev in c.pending.drain(..) {
        trace.event(&ev);
        folder.push(&ev);
    }
    if let Some(mut stream) = c.stream.take() {
        let mut out = Vec::new();
        loop {
            let waiting = Instant::now();
            let item = stream.next_frame().await;
            trace.waited_upstream(waiting);
            let more = after_commit(app, &mut c.lease, item, &mut c.mapper, &mut out, trace);
            for ev in out.drain(..) {
                trace.event(&ev);
                folder.push(&ev);
            }
            if !more {
                break;
            }
        }
    }
    trace.reply(&c.mapper.usage(), c.mapper.credits());
    folder.finish()
}

/// State of a streamed reply between two body chunks.
struct Streaming {
    app: AppState,
    encoder: Box<dyn ReplyEncoder>,
    committed: Committed,
    events: Vec<StreamEvent>,
    /// Output buffer; each chunk is split off it, so its allocation is reused.
    buf: BytesMut,
    /// The start of the reply and what came with it, until the body is first polled.
    first: Option<Bytes>,
    done: bool,
    /// The keep-alive deadline of the current wait for the upstream, created on the first wait
    /// and re-armed at the start of each one.
    keepalive: Option<Pin<Box<Sleep>>>,
    /// When the current wait for the upstream began (None: not waiting).
    waiting: Option<Instant>,
    /// Reported when the body ends, or is dropped because the client went away.
    trace: Trace,
}

impl Drop for Streaming {
    fn drop(&mut self) {
        let mapper = &self.committed.mapper;
        self.trace.reply(&mapper.usage(), mapper.credits());
    }
}

fn stream_response(
    app: AppState,
    rid: &RequestId,
    mut encoder: Box<dyn ReplyEncoder>,
    start: StartInfo,
    mut committed: Committed,
    mut trace: Trace,
) -> Response {
    let mut buf = BytesMut::with_capacity(STREAM_BUFFER);
    encoder.event(&StreamEvent::Start(start), &mut buf);
    for ev in committed.pending.drain(..) {
        trace.event(&ev);
        encoder.event(&ev, &mut buf);
    }
    let first = buf.split().freeze();
    trace.status(StatusCode::OK.as_u16());
    // Boxed: the body stream stays small and `Unpin`, and the state never moves.
    let body = SseBody(Box::new(Streaming {
        done: committed.stream.is_none(),
        app,
        encoder,
        committed,
        events: Vec::new(),
        buf,
        first: Some(first),
        keepalive: None,
        waiting: None,
        trace,
    }));
    let mut resp = Response::new(Body::from_stream(body));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    rid.stamp(h);
    resp
}

/// Capacity of a streamed reply's output buffer.
const STREAM_BUFFER: usize = 8 * 1024;

impl Streaming {
    /// Maps one upstream item and encodes what it produced; false when the reply is over.
    fn feed(&mut self, item: Option<Result<Frame, UpstreamError>>) -> bool {
        let more = after_commit(
            &self.app,
            &mut self.committed.lease,
            item,
            &mut self.committed.mapper,
            &mut self.events,
            &mut self.trace,
        );
        for ev in self.events.drain(..) {
            self.trace.event(&ev);
            self.encoder.event(&ev, &mut self.buf);
        }
        if !more {
            // Dropping the upstream stream here cancels anything it still had to say (e.g.
            // after a stop sequence).
            self.committed.stream = None;
            self.done = true;
        }
        more
    }

    /// The upstream has nothing ready: starts (or continues) the wait and writes a keep-alive
    /// when it lasted the keep-alive interval. Pending while neither happened.
    fn wait(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let keepalive = match (self.waiting, self.keepalive.as_mut()) {
            (Some(_), Some(timer)) => timer,
            (_, timer) => {
                // Anthropic pings about every 15 s (`upstream.keepalive_interval`), counted
                // from the start of each wait: tokio's clock for the timer (paused in tests),
                // the wall clock for the trace.
                let deadline =
                    tokio::time::Instant::now() + self.app.config.upstream.keepalive_interval;
                self.waiting = Some(Instant::now());
                match timer {
                    Some(timer) => {
                        timer.as_mut().reset(deadline);
                        timer
                    }
                    None => self
                        .keepalive
                        .insert(Box::pin(tokio::time::sleep_until(deadline))),
                }
            }
        };
        if keepalive.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.end_wait();
        let Streaming { encoder, buf, .. } = self;
        encoder.keepalive(buf);
        Poll::Ready(())
    }

    fn end_wait(&mut self) {
        if let Some(waiting) = self.waiting.take() {
            self.trace.waited_upstream(waiting);
        }
    }
}

/// The SSE body of a streamed reply. Each poll yields the SSE of every upstream frame that has
/// arrived, or a keep-alive after a silence. Each frame is encoded the moment it is decoded and
/// nothing waits for more: frames that arrived together (one socket read) leave in one write, a
/// lone frame leaves alone.
struct SseBody(Box<Streaming>);

impl futures::Stream for SseBody {
    type Item = Result<Bytes, std::convert::Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let s = &mut *self.get_mut().0;
        if let Some(first) = s.first.take() {
            if s.committed.mapper.has_visible_output() {
                s.trace.first_byte();
            }
            return Poll::Ready(Some(Ok(first)));
        }
        loop {
            if s.done {
                s.trace.complete();
                return Poll::Ready(None);
            }
            let Some(stream) = s.committed.stream.as_mut() else {
                s.done = true;
                s.trace.complete();
                return Poll::Ready(None);
            };
            s.buf.reserve(1024);
            match stream.poll_frame(cx) {
                Poll::Ready(item) => {
                    s.end_wait();
                    let mut more = s.feed(item);
                    // Drain what is already decoded or buffered, without waiting (a pending
                    // poll leaves the waker registered for the next chunk).
                    while more {
                        let Some(stream) = s.committed.stream.as_mut() else {
                            break;
                        };
                        match stream.poll_frame(cx) {
                            Poll::Ready(item) => more = s.feed(item),
                            Poll::Pending => break,
                        }
                    }
                }
                Poll::Pending => {
                    if s.wait(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
            }
            if !s.buf.is_empty() {
                return Poll::Ready(Some(Ok(s.buf.split().freeze())));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_key_prefers_the_session_id() {
        let mut req = Request::default();
        assert_eq!(session_key(&req), None);
        req.metadata.user_id = Some("user-1".into());
        assert_eq!(session_key(&req).as_deref(), Some("user-1"));
        req.metadata.session_id = Some("sess-9".into());
        assert_eq!(session_key(&req).as_deref(), Some("sess-9"));
    }
}
