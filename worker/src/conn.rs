//! A header-read timeout for `axum::serve`: a request whose headers have not
//! all arrived within the time from its first byte is dropped, so a client
//! that sends a request slowly, or half of one, cannot hold connections open
//! (slowloris). hyper has this (`http1().header_read_timeout`), but only with
//! a timer, which `axum::serve` does not set; this wraps the listener's
//! sockets instead, without another server loop.
//!
//! Per connection: the clock starts at the first byte of a request and stops
//! at the blank line that ends its headers. A body, a response however long
//! it streams (a Spark run, a Kafka read), an idle keep-alive connection and
//! an upgraded one (the live tail's WebSocket) have no deadline.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{Instant, Sleep};

/// The default: hyper's own.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A listener whose connections drop requests with slow headers.
pub struct HeaderTimeout {
    inner: TcpListener,
    timeout: Duration,
}

impl HeaderTimeout {
    pub fn new(inner: TcpListener, timeout: Duration) -> HeaderTimeout {
        HeaderTimeout { inner, timeout }
    }
}

impl axum::serve::Listener for HeaderTimeout {
    type Io = TimedIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TimedIo, SocketAddr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (TimedIo::new(io, self.timeout), addr)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Between requests: no deadline until a byte arrives.
    Idle,
    /// In a request's headers: the deadline runs.
    Headers,
    /// Past the headers (body, handler, response): no deadline.
    Past,
    /// Switched protocols (WebSocket): never again.
    Upgraded,
}

/// A socket that tracks where in a request it is.
pub struct TimedIo {
    io: TcpStream,
    timeout: Duration,
    phase: Phase,
    scan: Scan,
    deadline: Pin<Box<Sleep>>,
}

impl TimedIo {
    fn new(io: TcpStream, timeout: Duration) -> TimedIo {
        TimedIo {
            io,
            timeout,
            phase: Phase::Idle,
            scan: Scan::default(),
            deadline: Box::pin(tokio::time::sleep(timeout)),
        }
    }
}

/// Finds the end of a header block: an empty line, `\r\n\r\n` or `\n\n`.
#[derive(Debug, Default, Clone, Copy)]
struct Scan {
    /// 1 after `\n`, 2 after `\n\r`.
    state: u8,
}

impl Scan {
    /// The index just past the header block's end in `bytes`, if it is there.
    fn feed(&mut self, bytes: &[u8]) -> Option<usize> {
        for (i, b) in bytes.iter().enumerate() {
            self.state = match (*b, self.state) {
                (b'\n', 1 | 2) => {
                    self.state = 0;
                    return Some(i + 1);
                }
                (b'\n', _) => 1,
                (b'\r', 1) => 2,
                _ => 0,
            };
        }
        None
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.phase == Phase::Headers && this.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request's headers did not arrive in time; the connection is dropped",
            )));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
        let mut new = &buf.filled()[before..];
        if this.phase == Phase::Idle && !new.is_empty() {
            // Blank lines between requests are allowed (RFC 9112 §2.2), and are no request.
            let skip = new.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
            new = &new[skip..];
            if !new.is_empty() {
                this.phase = Phase::Headers;
                this.scan = Scan::default();
                this.deadline.as_mut().reset(Instant::now() + this.timeout);
            }
        }
        if this.phase == Phase::Headers && this.scan.feed(new).is_some() {
            this.phase = Phase::Past;
        }
        Poll::Ready(Ok(()))
    }
}

impl TimedIo {
    /// What a write says about the phase: a response ends the request.
    fn wrote(&mut self, data: &[u8]) {
        let status = |code: &[u8]| {
            data.len() >= 12
                && (data.starts_with(b"HTTP/1.1 ") || data.starts_with(b"HTTP/1.0 "))
                && &data[9..12] == code
        };
        if self.phase == Phase::Upgraded || status(b"100") {
            // 100 Continue: the body follows, not another request.
        } else if status(b"101") {
            self.phase = Phase::Upgraded;
        } else {
            // A response: what arrives next is the next request.
            self.phase = Phase::Idle;
        }
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        self.wrote(data);
        Pin::new(&mut self.io).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs.iter().find(|b| !b.is_empty()).map(|b| &b[..]).unwrap_or_default();
        self.wrote(first);
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_of_headers_is_found_across_reads() {
        let mut s = Scan::default();
        assert_eq!(s.feed(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(s.feed(b"\r"), None);
        assert_eq!(s.feed(b"\nbody"), Some(1));
        let mut s = Scan::default();
        assert_eq!(s.feed(b"GET / HTTP/1.0\n\n"), Some(16));
        let mut s = Scan::default();
        assert_eq!(s.feed(b"a\r\r\n\rb\n"), None);
    }
}

/// The peer's address, as each request's `ConnectInfo` (the Kafka limits per
/// client read it): `axum::serve(listener, app.into_make_service_with_connect_info::<PeerAddr>())`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddr(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, HeaderTimeout>> for PeerAddr {
    fn connect_info(stream: axum::serve::IncomingStream<'_, HeaderTimeout>) -> PeerAddr {
        PeerAddr(*stream.remote_addr())
    }
}
