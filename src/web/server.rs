//! The HTTP server loop, on hyper directly so that every connection has the limits a
//! public service needs (poem's own server sets none of them):
//! - a request head must arrive within `header_read_timeout` (slowloris), which also closes
//!   keep-alive connections idle that long between requests;
//! - a connection with no byte read or written for `idle_timeout` is closed (a client that
//!   stops reading a response holds nothing for long);
//! - one peer address holds at most `max_connections_per_peer` connections;
//! - on shutdown, accepting stops and requests already accepted finish within `drain`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use poem::endpoint::DynEndpoint;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt, Response};

/// What poem turns a response into for hyper.
type ResponseBody = http_body_util::combinators::BoxBody<bytes::Bytes, io::Error>;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};

#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    /// 0: no cap.
    pub max_connections_per_peer: usize,
    pub drain: Duration,
}

/// Counts live connections per peer address; a slot is given back when its guard drops.
#[derive(Clone, Default)]
struct Peers(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct PeerSlot {
    peers: Peers,
    ip: IpAddr,
}

impl Peers {
    fn admit(&self, ip: IpAddr, cap: usize) -> Option<PeerSlot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(ip).or_default();
        if cap > 0 && *count >= cap {
            return None;
        }
        *count += 1;
        Some(PeerSlot { peers: self.clone(), ip })
    }
}

impl Drop for PeerSlot {
    fn drop(&mut self) {
        let mut counts = self.peers.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.ip);
            }
        }
    }
}

/// A socket that fails with `TimedOut` once nothing moved either way for `idle`.
struct IdleTimeout<S> {
    inner: S,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl<S> IdleTimeout<S> {
    fn new(inner: S, idle: Duration) -> Self {
        Self { inner, idle, deadline: Box::pin(tokio::time::sleep(idle)) }
    }

    fn moved(&mut self) {
        self.deadline.as_mut().reset(Instant::now() + self.idle);
    }

    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for IdleTimeout<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    self.moved();
                }
                Poll::Ready(result)
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(io::ErrorKind::TimedOut.into())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match Pin::new(&mut self.inner).poll_write(cx, data) {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.moved();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(io::ErrorKind::TimedOut.into())),
            other => other,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Raises the soft limit of open files to the hard one: at the common default of 1,024,
/// a burst of connections would otherwise starve the database pool and log files.
pub fn raise_open_file_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed by pointer.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                tracing::debug!(from = limit.rlim_cur, to = limit.rlim_max, "raised the open-file limit");
            }
        }
    }
}

/// Serves `endpoint` on `listener` until `shutdown` resolves, then drains.
pub async fn serve<E>(listener: TcpListener, endpoint: E, limits: ServerLimits, shutdown: impl Future<Output = ()>) -> io::Result<()>
where
    E: Endpoint<Output = Response> + 'static,
{
    let endpoint: Arc<dyn DynEndpoint<Output = Response>> = Arc::new(poem::endpoint::ToDynEndpoint(endpoint.map_to_response()));
    let local = listener.local_addr()?;
    let peers = Peers::default();
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                // Out of descriptors (EMFILE) or a connection reset before accept: wait a
                // moment rather than spin; the timeouts above free descriptors.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(slot) = peers.admit(peer.ip(), limits.max_connections_per_peer) else {
            tracing::warn!(peer = %peer.ip(), "too many connections from one address; refused");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let endpoint = endpoint.clone();
        let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let endpoint = endpoint.clone();
            async move {
                // RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without
                // a Host header (HTTP/2 carries `:authority` instead).
                if req.version() == hyper::Version::HTTP_11 && !req.headers().contains_key(hyper::header::HOST) {
                    let refused = poem::Response::builder().status(poem::http::StatusCode::BAD_REQUEST).body("400 Bad Request: Host header required\n");
                    return Ok(refused.into());
                }
                let request: poem::Request =
                    (req, LocalAddr(Addr::SocketAddr(local)), RemoteAddr(Addr::SocketAddr(peer)), poem::http::uri::Scheme::HTTP).into();
                Ok::<hyper::Response<ResponseBody>, std::convert::Infallible>(endpoint.get_response(request).await.into())
            }
        });
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
        builder.http2().timer(TokioTimer::new()).max_concurrent_streams(200);
        let io = TokioIo::new(IdleTimeout::new(stream, limits.idle_timeout));
        let watched = graceful.watch(builder.serve_connection_with_upgrades(io, service).into_owned());
        tokio::spawn(async move {
            let _ = watched.await;
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.drain) => tracing::warn!("requests still running after the drain time; closing"),
    }
    Ok(())
}
