//! The response body of a stream: pre-encoded chunks, timers only where pacing asks for them,
//! and faults (abort, reset) expressed as body errors so hyper drops the connection without a
//! clean end of the chunked body.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use tokio::time::{Instant, Sleep};

use crate::conn::ConnCtl;

/// One step of a planned body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Bytes to send (one or more whole or partial frames).
    Data(Bytes),
    /// Silence.
    Sleep(Duration),
    /// Abort the connection (EOF without the chunked terminator).
    Abort,
    /// Abort the connection with a TCP reset.
    Reset,
}

/// Why a body ended abnormally (the fault was scripted).
#[derive(Debug, thiserror::Error)]
pub enum StreamFault {
    #[error("scripted connection cut")]
    Cut,
    #[error("scripted connection reset")]
    Reset,
}

/// Plays a list of [`Step`]s.
#[derive(Debug)]
pub struct SimBody {
    steps: std::vec::IntoIter<Step>,
    sleep: Option<Pin<Box<Sleep>>>,
    sleeping: bool,
    conn: Option<Arc<ConnCtl>>,
}

impl SimBody {
    pub fn new(steps: Vec<Step>, conn: Option<Arc<ConnCtl>>) -> Self {
        SimBody {
            steps: steps.into_iter(),
            sleep: None,
            sleeping: false,
            conn,
        }
    }

    fn start_sleep(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        match self.sleep.as_mut() {
            Some(s) => s.as_mut().reset(deadline),
            None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
        }
        self.sleeping = true;
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = StreamFault;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, StreamFault>>> {
        let this = self.get_mut();
        loop {
            if this.sleeping {
                if let Some(s) = this.sleep.as_mut() {
                    if s.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                this.sleeping = false;
            }
            match this.steps.next() {
                None => return Poll::Ready(None),
                Some(Step::Data(b)) => return Poll::Ready(Some(Ok(Frame::data(b)))),
                Some(Step::Sleep(d)) => this.start_sleep(d),
                Some(Step::Abort) => return Poll::Ready(Some(Err(StreamFault::Cut))),
                Some(Step::Reset) => {
                    if let Some(c) = &this.conn {
                        c.request_reset();
                    }
                    return Poll::Ready(Some(Err(StreamFault::Reset)));
                }
            }
        }
    }
}
