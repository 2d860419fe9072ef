//! The HTTPS listener: rustls over TCP, HTTP/1.1 and HTTP/2 (ALPN), graceful shutdown.
//!
//! The accept loop is ours rather than a framework's so that every connection gets its peer
//! address attached (for the request log), slow TLS handshakes and slow request heads are cut
//! off instead of holding a slot, and a failed handshake never disturbs other clients. Open
//! connections are capped: at the cap, the connection idle the longest (no request in flight,
//! a handshake not finished) is closed for the new one, so clients that hold connections open
//! cannot keep others out; a connection idle past [`IDLE_TIMEOUT`] is closed anyway, and HTTP/2
//! connections are pinged so dead peers are found. One client address holds at most
//! [`Limits::per_peer`] of them (a quarter of the cap by default): at that many its own idlest
//! makes way for its new one, and when all of them are busy (slow bodies) the new one is
//! refused, so one client cannot fill every slot with requests in flight and keep others out.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::error::{Error, ErrorKind, Result};
use crate::http::PeerAddr;

/// How long a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request head.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long shutdown waits for in-flight requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long a connection may sit with no request in flight before it is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The HTTP/2 keep-alive ping interval, and how long a ping may go unanswered.
pub const H2_PING: Duration = Duration::from_secs(20);
pub use crate::config::DEFAULT_MAX_CONNECTIONS;

/// How much a server holds open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Open connections (handshaking included) above which the idlest is closed for a new one.
    pub max_connections: usize,
    /// Open connections one client address may hold: at that many, its own idlest is closed
    /// for its new one, or the new one refused when all of them are busy.
    pub per_peer: usize,
}

impl Limits {
    /// `max_connections` with the default share per client address.
    pub fn new(max_connections: usize) -> Limits {
        Limits {
            max_connections,
            per_peer: crate::config::default_per_peer(max_connections),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(DEFAULT_MAX_CONNECTIONS)
    }
}

/// One open connection, as the accept loop sees it.
struct Slot {
    /// The client's address.
    peer: IpAddr,
    /// Requests in flight.
    busy: AtomicUsize,
    /// Milliseconds since the server started, when it was last busy or opened.
    last: AtomicU64,
    /// Told to close.
    close: Notify,
}

/// The open connections.
struct Registry {
    started: Instant,
    next: AtomicU64,
    open: Mutex<Open>,
}

/// The open connections, and how many each client address holds.
#[derive(Default)]
struct Open {
    slots: HashMap<u64, Arc<Slot>>,
    per_peer: HashMap<IpAddr, usize>,
}

impl Open {
    /// Closes the connection idle the longest among those `from` admits; `None` when every
    /// one of them is busy.
    fn shed(&mut self, from: impl Fn(&Slot) -> bool) -> Option<()> {
        let (id, _) = self
            .slots
            .iter()
            .filter(|(_, s)| from(s) && s.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, s)| s.last.load(Ordering::Relaxed))?;
        let id = *id;
        self.remove(id)?.close.notify_one();
        Some(())
    }

    fn remove(&mut self, id: u64) -> Option<Arc<Slot>> {
        let slot = self.slots.remove(&id)?;
        if let Some(n) = self.per_peer.get_mut(&slot.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&slot.peer);
            }
        }
        Some(slot)
    }
}

impl Registry {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection from `peer`. When that address already holds its share, its own
    /// idlest connection is closed first; else, when the server holds `max_connections`, the
    /// idlest of all. `None`: those it would close are all busy, and the new one is refused.
    fn open(&self, peer: IpAddr, limits: Limits) -> Option<(u64, Arc<Slot>)> {
        let mut open = self.lock();
        let held = open.per_peer.get(&peer).copied().unwrap_or(0);
        if held >= limits.per_peer.max(1) {
            open.shed(|s| s.peer == peer)?;
        } else if open.slots.len() >= limits.max_connections.max(1) {
            open.shed(|_| true)?;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            peer,
            busy: AtomicUsize::new(0),
            last: AtomicU64::new(self.now_ms()),
            close: Notify::new(),
        });
        open.slots.insert(id, slot.clone());
        *open.per_peer.entry(peer).or_default() += 1;
        Some((id, slot))
    }

    fn close(&self, id: u64) {
        self.lock().remove(id);
    }
}

/// A request in flight on a slot: counted while it lives.
struct Busy(Arc<Slot>, Arc<Registry>);

impl Busy {
    fn enter(slot: &Arc<Slot>, registry: &Arc<Registry>) -> Busy {
        slot.busy.fetch_add(1, Ordering::AcqRel);
        Busy(slot.clone(), registry.clone())
    }
}

impl Busy {
    /// A response whose body is a stream (the console's live log, a probe's progress) keeps
    /// its connection busy until the body ends, so the idle reaper and the shedding at the cap
    /// leave it alone. A body of known length (nearly every answer) ends the request at once,
    /// at no cost to the hot paths.
    fn hold_while_streaming(self, response: axum::response::Response) -> axum::response::Response {
        if response.body().size_hint().exact().is_some() {
            return response;
        }
        response.map(|inner| axum::body::Body::new(HeldBody { inner, _busy: self }))
    }
}

/// A streamed body with its connection's [`Busy`] mark.
struct HeldBody {
    inner: axum::body::Body,
    _busy: Busy,
}

impl HttpBody for HeldBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<std::result::Result<Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.last.store(self.1.now_ms(), Ordering::Relaxed);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Binds a TCP listener, with an error that names the address.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|error| {
        let hint = if error.kind() == std::io::ErrorKind::AddrInUse {
            let who = crate::ports::holder(addr.port())
                .map(|p| format!(" (held by {p})"))
                .unwrap_or_default();
            format!("{who}; pick another port with --port N, or --port 0 for a free one")
        } else {
            String::new()
        };
        ErrorKind::Bind { addr, error, hint }.into()
    })
}

/// A running HTTPS server.
#[derive(Debug)]
pub struct Server {
    local_addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// Serves `router` over TLS on `listener` until [`Server::shutdown`].
    pub fn spawn(
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        router: Router,
        limits: Limits,
    ) -> Result<Server> {
        let local_addr = listener
            .local_addr()
            .map_err(|e| Error::from(ErrorKind::Server(format!("listener has no address: {e}"))))?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(accept_loop(
            listener,
            tokio_rustls::TlsAcceptor::from(tls),
            router,
            limits,
            stopped,
        ));
        Ok(Server {
            local_addr,
            stop,
            task,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets in-flight requests finish (up to [`SHUTDOWN_GRACE`]), and returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
    limits: Limits,
    mut stopped: watch::Receiver<bool>,
) {
    let graceful = GracefulShutdown::new();
    let registry = Arc::new(Registry {
        started: Instant::now(),
        next: AtomicU64::new(0),
        open: Mutex::new(Open::default()),
    });
    let mut connections = tokio::task::JoinSet::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(256 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(64 * 1024)
        .max_concurrent_streams(128)
        .keep_alive_interval(H2_PING)
        .keep_alive_timeout(H2_PING);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                // EMFILE and friends: back off briefly instead of spinning.
                Err(_) => { tokio::time::sleep(Duration::from_millis(20)).await; continue; }
            },
            _ = stopped.changed() => break,
        };
        // At the cap the idlest connection makes room (the client's own, at its share); when
        // every one is busy, this one waits for none: it is closed, which a client retries.
        let Some((id, slot)) = registry.open(peer.ip().to_canonical(), limits) else {
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let (busy_slot, busy_registry) = (slot.clone(), registry.clone());
        let service = router
            .clone()
            .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(PeerAddr(peer));
                req
            })
            .map_future(move |fut| {
                let busy = Busy::enter(&busy_slot, &busy_registry);
                async move {
                    fut.await
                        .map(|response| busy.hold_while_streaming(response))
                }
            });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let registry = registry.clone();
        // Reap finished connections so the set stays the size of the live ones.
        while connections.try_join_next().is_some() {}
        connections.spawn(async move {
            let tls = tokio::select! {
                tls = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)) => tls,
                _ = slot.close.notified() => { registry.close(id); return; }
            };
            let Ok(Ok(tls)) = tls else {
                registry.close(id);
                return;
            };
            let conn = builder.serve_connection_with_upgrades(
                TokioIo::new(tls),
                TowerToHyperService::new(service),
            );
            let conn = watcher.watch(conn.into_owned());
            tokio::pin!(conn);
            loop {
                tokio::select! {
                    _ = &mut conn => break,
                    // Shed for a new client, or past its idle time: dropping the connection
                    // closes it (only ever with no request in flight).
                    _ = slot.close.notified() => break,
                    _ = tokio::time::sleep(IDLE_TIMEOUT / 4) => {
                        let idle_ms = registry.now_ms().saturating_sub(slot.last.load(Ordering::Relaxed));
                        if slot.busy.load(Ordering::Acquire) == 0 && idle_ms >= IDLE_TIMEOUT.as_millis() as u64 {
                            break;
                        }
                    }
                }
            }
            registry.close(id);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown()).await;
    // Whatever outlived the grace period (a hanging fault, a stuck client) ends with the server.
    connections.abort_all();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> Arc<Registry> {
        Arc::new(Registry {
            started: Instant::now(),
            next: AtomicU64::new(0),
            open: Mutex::new(Open::default()),
        })
    }

    #[test]
    fn a_streamed_body_keeps_its_connection_busy_until_it_ends() {
        let registry = registry();
        let peer = std::net::IpAddr::from([127, 0, 0, 1]);
        let (_, slot) = registry.open(peer, Limits::new(4)).unwrap();
        // A stream (the live log, a probe): busy while the body lives, idle after.
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<axum::body::Bytes>>(1);
        struct Rx(tokio::sync::mpsc::Receiver<std::io::Result<axum::body::Bytes>>);
        impl futures_core::Stream for Rx {
            type Item = std::io::Result<axum::body::Bytes>;
            fn poll_next(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<Self::Item>> {
                self.0.poll_recv(cx)
            }
        }
        let streamed = axum::response::Response::new(axum::body::Body::from_stream(Rx(rx)));
        let held = Busy::enter(&slot, &registry).hold_while_streaming(streamed);
        assert_eq!(slot.busy.load(Ordering::Acquire), 1, "busy while streaming");
        drop(tx);
        drop(held);
        assert_eq!(slot.busy.load(Ordering::Acquire), 0);
        // A body of known length: the request ends with its response.
        let whole = axum::response::Response::new(axum::body::Body::from("{}"));
        let answered = Busy::enter(&slot, &registry).hold_while_streaming(whole);
        assert_eq!(slot.busy.load(Ordering::Acquire), 0);
        drop(answered);
    }
}
