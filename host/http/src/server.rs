//! The server's thread: a small tokio runtime serving the router until the node stops.

use std::net::SocketAddr;
use std::thread::JoinHandle;
use std::time::Duration;

use qntx_core::storage;
use qntx_core::tokens;
use tokio::sync::oneshot;

use crate::state::{AppState, NodeContext};
use crate::{HttpConfig, api};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address is taken or not this machine's.
    #[error("cannot serve HTTP on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A non-loopback address while no token exists: anyone on the network could knock.
    #[error(
        "refusing to serve HTTP on {0}, which other machines can reach, while no API token \
         exists: create one first (qntx token create NAME --scope read)"
    )]
    NoTokens(SocketAddr),
    /// The tokens could not be read.
    #[error("reading the API tokens")]
    Tokens(#[from] tokens::Error),
    /// The store could not be reached.
    #[error(transparent)]
    Storage(#[from] storage::Error),
    /// The server's thread could not start.
    #[error("starting the HTTP server's thread")]
    Thread(#[source] std::io::Error),
}

/// A running HTTP server; stopped when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Threads of the server's runtime: requests mostly wait for the store on blocking threads.
const RUNTIME_THREADS: usize = 2;

/// How long open requests and streams get to end once the server stops.
const STOP_GRACE: Duration = Duration::from_secs(1);

impl Server {
    /// Listen on `config.addr` and serve `node`'s API from a thread of its own.
    ///
    /// # Errors
    ///
    /// [`StartError`]: the address cannot be bound, or it is not a loopback address and no
    /// token exists, or the store fails.
    pub fn start(config: &HttpConfig, node: NodeContext) -> Result<Self, StartError> {
        if !config.addr.ip().is_loopback() {
            let conn = node.backend.connect()?;
            let tokens = tokens::list(conn.store())?;
            if tokens.iter().all(|token| token.revoked_at.is_some()) {
                return Err(StartError::NoTokens(config.addr));
            }
        }
        let bind = |source| StartError::Bind {
            addr: config.addr,
            source,
        };
        let listener = std::net::TcpListener::bind(config.addr).map_err(bind)?;
        listener.set_nonblocking(true).map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        api::describe_metrics();
        let router = api::router(AppState::new(node), config);
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("qntx-http".into())
            .spawn(move || serve(listener, router, stopped))
            .map_err(StartError::Thread)?;
        tracing::info!(%addr, "serving HTTP on http://{addr}");
        Ok(Self {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on (the port chosen, when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting, give open requests [`STOP_GRACE`] to end, and wait for the thread.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the HTTP server's thread panicked");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn serve(listener: std::net::TcpListener, router: axum::Router, stopped: oneshot::Receiver<()>) {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(RUNTIME_THREADS)
        .thread_name("qntx-http")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "starting the HTTP runtime failed; not serving HTTP");
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(error) => {
                tracing::error!(%error, "not serving HTTP");
                return;
            }
        };
        let (begin_stop, stopping) = tokio::sync::watch::channel(false);
        let served = axum::serve(listener, router).with_graceful_shutdown(async move {
            let mut stopping = stopping;
            let _ = stopping.wait_for(|stop| *stop).await;
        });
        let server = tokio::spawn(async move { served.await });
        let _ = stopped.await;
        let _ = begin_stop.send(true);
        // Streams never end by themselves: after the grace, the runtime's end cuts them.
        if let Ok(Ok(Err(error))) = tokio::time::timeout(STOP_GRACE, server).await {
            tracing::error!(%error, "the HTTP server failed");
        }
    });
    runtime.shutdown_timeout(STOP_GRACE);
}
