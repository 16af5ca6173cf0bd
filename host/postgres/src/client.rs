//! Driving `tokio-postgres` from synchronous code.
//!
//! The storage seam is synchronous, and it is called from inside guests' executors (a guest's
//! query runs in a host call polled by the worker's current-thread tokio runtime), where the
//! `postgres` crate's `block_on` panics. So each backend owns one small multi-thread runtime
//! that runs the connections' I/O tasks, and a caller waits for its query with
//! `futures::executor::block_on`, which works on any thread: the query future only talks to
//! the connection task through channels.

use std::future::Future;

use super::Error;

/// The runtime of one backend's connections.
#[derive(Debug)]
pub(crate) struct Driver {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Driver {
    /// A runtime with one I/O thread: the connections' work is waiting on sockets.
    pub(crate) fn new() -> Result<Self, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("qntx-postgres")
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        Ok(Self {
            runtime: Some(runtime),
        })
    }

    /// Run `task` on the runtime (it needs its reactor: connecting, a connection's I/O) and
    /// wait for its output here.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        task: impl Future<Output = T> + Send + 'static,
    ) -> T {
        let handle = self.handle().spawn(task);
        match wait(handle) {
            Ok(output) => output,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }

    /// Start `task` on the runtime and return at once.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.handle().spawn(task);
    }

    /// Connect with `config` and start the connection's I/O task.
    pub(crate) fn connect(
        &self,
        config: &tokio_postgres::Config,
    ) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let config = config.clone();
        self.run(async move {
            let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
            tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(error = %error, "a PostgreSQL connection ended");
                }
            });
            Ok(client)
        })
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the driver")
            .handle()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The last connection may be dropped inside an executor (a guest's), where waiting for
        // the runtime's threads is not allowed.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Wait for `future` on this thread, whatever executor (if any) this thread is inside.
pub(crate) fn wait<F: Future>(future: F) -> F::Output {
    futures::executor::block_on(future)
}
