//! `POST {q}/generateAssistantResponse` (spec §3.5) and the incremental event stream of its
//! answer (§6, §7.5).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use kiro_wire::{DecodeError, Event, Frame, FrameDecoder};
use tokio::time::{Instant, Sleep, sleep_until, timeout_at};

use super::client::UpstreamClient;
use super::credential::AccountAuth;
use super::error::{TransportKind, UpstreamError};

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

impl UpstreamClient {
    /// Sends one chat attempt (`attempt` is 1-based, for `amz-sdk-request`) and returns the event
    /// stream once its first byte says it is EventStream.
    ///
    /// Errors before the stream: a non-2xx status, or a JSON body under 200 (first byte `{`),
    /// both as [`UpstreamError::Http`] with the capped body; no headers within
    /// [`response_headers_timeout`](super::UpstreamConfig::response_headers_timeout) or no
    /// byte within [`first_event_timeout`](super::UpstreamConfig::first_event_timeout)
    /// ([`TransportKind::Timeout`]); connection failures.
    pub async fn chat(
        &self,
        account: &AccountAuth,
        body: Bytes,
        attempt: u32,
    ) -> Result<ChatStream, UpstreamError> {
        let headers = account
            .headers()
            .chat(account.bearer(), account.is_api_key(), attempt);
        let http = self.http_for(account)?;
        let request = match self.chat_url(account.api_region()) {
            Some(url) => http.post(url),
            None => http.post(self.urls.chat(account.api_region())),
        }
        .headers(headers)
        .body(body);
        let headers_deadline = Instant::now() + self.config.response_headers_timeout;
        let resp = self.send(request, headers_deadline, "chat").await?;

        let request_id = resp
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !resp.status().is_success() {
            let e = self
                .http_error(resp, headers_deadline, BytesMut::new())
                .await;
            tracing::debug!(request_id = request_id.as_deref(), error = %e, "chat refused");
            return Err(e);
        }
        let content_type = resp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);

        // Sniff the first byte rather than trust the content type: EventStream has been seen
        // labelled `application/json`, and JSON errors arrive under 200 (§3.5, §7.5).
        let first_deadline = Instant::now() + self.config.first_event_timeout;
        let mut resp = resp;
        let mut buf = BytesMut::new();
        while buf.is_empty() {
            match timeout_at(first_deadline, resp.chunk()).await {
                Ok(Ok(Some(chunk))) => buf.extend_from_slice(&chunk),
                // An empty 200: a clean end at a frame boundary, so an empty stream.
                Ok(Ok(None)) => break,
                Ok(Err(e)) => return Err(UpstreamError::from_reqwest(&e, false)),
                Err(_) => return Err(first_event_timeout(self.config.first_event_timeout)),
            }
        }
        if looks_like_json(&buf) {
            let e = self.http_error(resp, first_deadline, buf).await;
            tracing::debug!(request_id = request_id.as_deref(), error = %e, "JSON error under 2xx");
            return Err(e);
        }

        Ok(ChatStream {
            request_id,
            content_type,
            body: Box::pin(resp.bytes_stream()),
            buf,
            decoder: FrameDecoder::with_max_frame_len(self.config.max_frame_bytes),
            first_event_timeout: self.config.first_event_timeout,
            idle_timeout: self.config.idle_timeout,
            timer: Box::pin(sleep_until(first_deadline)),
            seen_frame: false,
            progress_at: None,
            finished: false,
        })
    }
}

/// `0x00` is EventStream (a frame's length is under 16 MiB, so its first byte is zero); a
/// JSON object, possibly after whitespace, is an error body. Anything else goes to the frame
/// decoder, which rejects it as a bad prelude.
fn looks_like_json(buf: &[u8]) -> bool {
    buf.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

fn first_event_timeout(limit: Duration) -> UpstreamError {
    UpstreamError::transport(
        TransportKind::Timeout,
        format!(
            "no event within {} ms of the response headers",
            limit.as_millis()
        ),
    )
}

/// The decoded events of one chat answer, read incrementally from the body.
///
/// Yields each frame as an [`Event`] as soon as it is complete (error and exception frames
/// included, as events: classifying them is the caller's job). A payload that is not valid JSON
/// for its event type yields [`UpstreamError::Decode`] and the stream goes on (framing is
/// intact). These end it: a clean end at a frame boundary (`None`); a broken frame
/// ([`UpstreamError::BadFrame`]); the body ending or breaking inside a frame
/// ([`TransportKind::Truncated`]) or between frames ([`TransportKind::Reset`]); no first frame
/// within the first-event timeout, or a silence longer than the idle timeout afterwards
/// ([`TransportKind::Timeout`]).
///
/// Dropping it closes the upstream connection, which cancels the generation.
pub struct ChatStream {
    request_id: Option<String>,
    content_type: Option<String>,
    body: Body,
    buf: BytesMut,
    decoder: FrameDecoder,
    first_event_timeout: Duration,
    idle_timeout: Duration,
    /// The first-event deadline until a frame arrives, then the idle deadline.
    timer: Pin<Box<Sleep>>,
    seen_frame: bool,
    /// When the stream last made progress, if the timer has not been moved to it yet. The
    /// timer is only looked at when no frame is ready, so it is re-armed there, once per wait,
    /// rather than on every frame of a burst; the deadline is the same.
    progress_at: Option<Instant>,
    finished: bool,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream")
            .field("request_id", &self.request_id)
            .field("content_type", &self.content_type)
            .field("buffered", &self.buf.len())
            .field("seen_frame", &self.seen_frame)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    /// The `x-amzn-requestid` response header, for logs.
    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// The response content type as labelled (not trusted for parsing).
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The next event, or `None` at the end of the stream.
    pub async fn next_event(&mut self) -> Option<Result<Event, UpstreamError>> {
        self.next().await
    }

    /// The next raw frame, or `None` at the end of the stream. Readers that rejoin text split
    /// inside a surrogate pair (which no JSON parser accepts per frame) need the raw payload.
    pub async fn next_frame(&mut self) -> Option<Result<Frame, UpstreamError>> {
        std::future::poll_fn(|cx| self.poll_frame(cx)).await
    }

    fn fail<T>(&mut self, e: UpstreamError) -> Poll<Option<Result<T, UpstreamError>>> {
        self.finished = true;
        Poll::Ready(Some(Err(e)))
    }

    fn note_progress(&mut self) {
        self.progress_at = Some(Instant::now());
    }
}

impl Stream for ChatStream {
    type Item = Result<Event, UpstreamError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_frame(cx).map(|item| {
            item.map(|frame| {
                frame.and_then(|frame| {
                    Event::from_frame(&frame).map_err(|e| UpstreamError::decode("event payload", e))
                })
            })
        })
    }
}

impl ChatStream {
    /// [`ChatStream::next_frame`] as a poll, for hand-written streams.
    pub(crate) fn poll_frame(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame, UpstreamError>>> {
        let this = self;
        if this.finished {
            return Poll::Ready(None);
        }
        loop {
            match this.decoder.decode(&mut this.buf) {
                Ok(Some(frame)) => {
                    this.seen_frame = true;
                    this.note_progress();
                    return Poll::Ready(Some(Ok(frame)));
                }
                Ok(None) => {}
                Err(e) => return this.fail(UpstreamError::BadFrame(e)),
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    this.buf.extend_from_slice(&chunk);
                    // Bytes are progress once the stream is flowing; before the first frame
                    // only a whole frame counts, so a trickle cannot hold the deadline off.
                    if this.seen_frame {
                        this.note_progress();
                    }
                    continue;
                }
                Poll::Ready(Some(Err(e))) => {
                    let in_frame = !this.buf.is_empty();
                    return this.fail(UpstreamError::from_reqwest(&e, in_frame));
                }
                Poll::Ready(None) => {
                    this.finished = true;
                    return match this.decoder.decode_eof(&mut this.buf) {
                        Ok(_) => Poll::Ready(None),
                        Err(DecodeError::Truncated { buffered }) => {
                            Poll::Ready(Some(Err(UpstreamError::transport(
                                TransportKind::Truncated,
                                format!("body ended inside a frame ({buffered} bytes buffered)"),
                            ))))
                        }
                        Err(e) => Poll::Ready(Some(Err(UpstreamError::BadFrame(e)))),
                    };
                }
                Poll::Pending => {}
            }
            if let Some(at) = this.progress_at.take() {
                this.timer.as_mut().reset(at + this.idle_timeout);
            }
            if this.timer.as_mut().poll(cx).is_ready() {
                let e = if this.seen_frame {
                    UpstreamError::transport(
                        TransportKind::Timeout,
                        format!(
                            "no frame for {} ms (idle timeout)",
                            this.idle_timeout.as_millis()
                        ),
                    )
                } else {
                    first_event_timeout(this.first_event_timeout)
                };
                return this.fail(e);
            }
            return Poll::Pending;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert!(looks_like_json(b"{\"message\":\"x\"}"));
        assert!(looks_like_json(b" \n{"));
        assert!(!looks_like_json(&[0, 0, 0, 0x7c]));
        assert!(!looks_like_json(b""));
    }
}
