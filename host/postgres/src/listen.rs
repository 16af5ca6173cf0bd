//! Wake-ups: one connection per backend listens on the channel `qntx_changes`; every transaction that wrote
//! something others wait for sends one `NOTIFY` as it commits.
//!
//! The listener counts the notifications it has received (a generation); a connection waiting
//! for a change remembers the generation it saw last. When the listening connection is lost,
//! waiters wake at the poll interval (polling is the backstop) until it is back.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::client::Driver;

/// `LISTEN` on the channel of qntx's notifications.
const LISTEN: &str = "LISTEN qntx_changes";

/// `NOTIFY` on that channel, as sent before a commit.
pub(crate) const NOTIFY: &str = "NOTIFY qntx_changes";

/// How long the listener waits before connecting again after losing its connection.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// What the listening task tells waiters.
#[derive(Debug, Default)]
pub(crate) struct Listener {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Notifications received (and connections lost, which may have hidden some).
    generation: u64,
    /// Whether the listening connection is up.
    listening: bool,
}

impl Listener {
    /// Start listening on the driver's runtime; waits until `LISTEN` holds (or failed once, so
    /// that a server that is down does not hold the caller: waiters poll meanwhile).
    pub(crate) fn start(driver: &Driver, config: &tokio_postgres::Config) -> Arc<Self> {
        let listener = Arc::new(Self::default());
        let (first, established) = std::sync::mpsc::channel();
        let task = listener.clone();
        let config = config.clone();
        driver.spawn(async move { task.run(config, first).await });
        let _ = established.recv_timeout(Duration::from_secs(10));
        listener
    }

    /// The generation now.
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Wait until the generation passes `seen`, at most `timeout`; while not listening, at most
    /// `poll` (a change may have happened unseen). The generation then, and whether it moved
    /// (or the wait was cut short by polling).
    pub(crate) fn wait(&self, seen: u64, timeout: Duration, poll: Duration) -> (u64, bool) {
        let deadline = Instant::now() + timeout;
        let mut state = self.lock();
        loop {
            if state.generation != seen {
                return (state.generation, true);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return (state.generation, false);
            }
            if !state.listening {
                // A change may happen unseen: after `poll`, tell the caller to look again.
                let (state, _) = self
                    .changed
                    .wait_timeout(state, left.min(poll))
                    .unwrap_or_else(|e| e.into_inner());
                return (state.generation, state.generation != seen || left > poll);
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    async fn run(
        self: Arc<Self>,
        config: tokio_postgres::Config,
        first: std::sync::mpsc::Sender<()>,
    ) {
        loop {
            match self.listen_once(&config, &first).await {
                Ok(()) => tracing::warn!("the PostgreSQL listening connection closed"),
                Err(error) => tracing::warn!(
                    error = %crate::error_chain(&error),
                    "the PostgreSQL listening connection failed; polling until it is back"
                ),
            }
            let _ = first.send(());
            self.set_listening(false);
            tokio::time::sleep(RECONNECT_DELAY).await;
        }
    }

    /// Connect, `LISTEN`, and count notifications until the connection ends.
    async fn listen_once(
        &self,
        config: &tokio_postgres::Config,
        first: &std::sync::mpsc::Sender<()>,
    ) -> Result<(), tokio_postgres::Error> {
        use futures::StreamExt;
        let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
        let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
        {
            let listen = client.batch_execute(LISTEN);
            let mut listen = std::pin::pin!(listen);
            // The connection must be polled for the LISTEN to complete.
            loop {
                tokio::select! {
                    done = &mut listen => { done?; break; }
                    message = messages.next() => match message {
                        Some(Ok(_)) => {}
                        Some(Err(error)) => return Err(error),
                        None => return Ok(()),
                    },
                }
            }
        }
        // Anything committed while not listening went unseen: count it as a change.
        self.set_listening(true);
        let _ = first.send(());
        while let Some(message) = messages.next().await {
            if let tokio_postgres::AsyncMessage::Notification(_) = message? {
                self.bump();
            }
        }
        drop(client);
        Ok(())
    }

    fn set_listening(&self, listening: bool) {
        let mut state = self.lock();
        state.listening = listening;
        state.generation += 1;
        self.changed.notify_all();
    }

    fn bump(&self) {
        self.lock().generation += 1;
        self.changed.notify_all();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
