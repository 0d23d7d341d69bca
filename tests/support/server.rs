//! An HTTP server on a port the system picks (bound first, then served: no race for it),
//! serving whatever routes a test gives it; it stops when dropped.

use std::time::Duration;

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Endpoint, Route, Server};

pub struct TestServer {
    /// `http://127.0.0.1:port`
    pub base: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl TestServer {
    /// Serves the routes `routes` builds from the server's base URL.
    pub async fn start(routes: impl FnOnce(&str) -> Route) -> Self {
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        let base = format!("http://{addr}");
        let app = routes(&base);
        Self { base, _stop: serve(acceptor, app) }
    }
}

fn serve(acceptor: impl Acceptor + 'static, app: impl Endpoint + 'static) -> tokio::sync::oneshot::Sender<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(Server::new_with_acceptor(acceptor).run_with_graceful_shutdown(
        app,
        async {
            let _ = rx.await;
        },
        Some(Duration::from_millis(100)),
    ));
    tx
}
