//! Per-connection control: lets a response abort its TCP connection with a reset (RST) instead
//! of a FIN. The accept loop wraps each socket in [`ConnIo`] and hands the matching
//! [`ConnCtl`] to requests as an extension; the body sets the flag, errors, hyper drops the
//! connection, and the drop sets `SO_LINGER` to zero so the kernel sends RST.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Shared between a connection and the requests it carries.
#[derive(Debug, Default)]
pub struct ConnCtl {
    reset: AtomicBool,
}

impl ConnCtl {
    /// Asks for the connection to end with RST when it is dropped.
    pub fn request_reset(&self) {
        self.reset.store(true, Ordering::Release);
    }

    pub fn reset_requested(&self) -> bool {
        self.reset.load(Ordering::Acquire)
    }
}

/// A TCP stream that resets instead of closing when its [`ConnCtl`] asks.
#[derive(Debug)]
pub struct ConnIo {
    inner: TcpStream,
    ctl: Arc<ConnCtl>,
}

impl ConnIo {
    pub fn new(inner: TcpStream, ctl: Arc<ConnCtl>) -> Self {
        ConnIo { inner, ctl }
    }
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if self.ctl.reset_requested() {
            // Zero linger: close() sends RST and discards unsent data. Nothing to do on error.
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
