//! Live feeds shared by every subscriber of a node: one store poll per kind of feed, fanned
//! out in memory through a broadcast channel, rather than one poll per subscriber.
//!
//! A subscriber first subscribes, then reads what it missed from the store after its own
//! cursor until the store has no more, then takes the broadcast batches, skipping what it
//! already sent. The hub started before the subscription, so the two overlap and nothing falls
//! between them. A subscriber that falls behind by more than the channel holds is told so
//! (`Lagged`) and reads from the store again by its cursor: slow, never lossy.

use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::Event;
use qntx_core::storage::Store;
use tokio::sync::{broadcast, mpsc};

use crate::ApiError;
use crate::state::AppState;

/// How often a hub reads the store.
pub(crate) const POLL: Duration = Duration::from_millis(200);

/// Items one store read returns at most.
pub(crate) const BATCH: u32 = 1000;

/// Batches the broadcast channel holds for a subscriber before it lags.
const CAPACITY: usize = 256;

/// What a hub reads: items in cursor order after a cursor, and which a subscriber keeps.
pub(crate) trait Feed: Send + Sync + 'static {
    /// One item of the feed.
    type Item: Send + Sync + 'static;
    /// A position in the feed; items come in increasing order of it.
    type Cursor: Copy + Ord + Send + Sync + 'static;
    /// What a subscriber asks for; the default matches everything.
    type Filter: Clone + Default + Send + Sync + 'static;

    /// Where `item` is.
    fn cursor(item: &Self::Item) -> Self::Cursor;

    /// The newest position now.
    fn head(store: &dyn Store) -> Result<Self::Cursor, ApiError>;

    /// Up to `limit` items after `after`, in cursor order; a backend may apply `filter`.
    fn after(
        store: &dyn Store,
        after: Self::Cursor,
        filter: &Self::Filter,
        limit: u32,
    ) -> Result<Vec<Self::Item>, ApiError>;

    /// Whether a subscriber with `filter` gets `item`.
    fn keep(filter: &Self::Filter, item: &Self::Item) -> bool;

    /// The SSE event of `item`.
    fn event(item: &Self::Item) -> Event;
}

/// The broadcast of one feed, fed by a polling task.
#[derive(Debug)]
pub(crate) struct Hub<F: Feed> {
    sender: broadcast::Sender<Arc<[F::Item]>>,
}

impl<F: Feed> Hub<F> {
    /// Read the feed's head and start polling after it on the current runtime.
    pub(crate) async fn start(state: AppState) -> Result<Self, ApiError> {
        let head = state.store(|conn| F::head(conn.store())).await?;
        let (sender, _) = broadcast::channel(CAPACITY);
        tokio::spawn(poll::<F>(state, sender.clone(), head));
        Ok(Self { sender })
    }

    /// Send `out` every item after `from` that `filter` keeps, in order, until `out` closes
    /// or the store fails (then an `error` event ends the stream).
    pub(crate) async fn follow(
        &self,
        state: AppState,
        filter: F::Filter,
        from: F::Cursor,
        out: mpsc::Sender<Event>,
    ) {
        let mut last = from;
        loop {
            let mut live = self.sender.subscribe();
            loop {
                let (after, wanted) = (last, filter.clone());
                let page = match state
                    .store(move |conn| F::after(conn.store(), after, &wanted, BATCH))
                    .await
                {
                    Ok(page) => page,
                    Err(error) => {
                        let _ = out.send(error_event(&error)).await;
                        return;
                    }
                };
                for item in &page {
                    last = F::cursor(item);
                    if F::keep(&filter, item) && out.send(F::event(item)).await.is_err() {
                        return;
                    }
                }
                if page.len() < BATCH as usize {
                    break;
                }
            }
            loop {
                match live.recv().await {
                    Ok(batch) => {
                        for item in batch.iter() {
                            if F::cursor(item) <= last {
                                continue;
                            }
                            last = F::cursor(item);
                            if F::keep(&filter, item) && out.send(F::event(item)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::debug!(missed, "a stream subscriber lagged; reading the store");
                        break;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}

/// The `error` event that ends a stream the node cannot go on serving.
pub(crate) fn error_event(error: &ApiError) -> Event {
    Event::default()
        .event("error")
        .json_data(serde_json::json!({ "code": error.code, "message": error.message }))
        .unwrap_or_default()
}

async fn poll<F: Feed>(
    state: AppState,
    sender: broadcast::Sender<Arc<[F::Item]>>,
    mut cursor: F::Cursor,
) {
    let mut tick = tokio::time::interval(POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        loop {
            let after = cursor;
            let items = match state
                .store(move |conn| F::after(conn.store(), after, &F::Filter::default(), BATCH))
                .await
            {
                Ok(items) => items,
                Err(error) => {
                    tracing::warn!(error = %error, "a live feed could not read the store");
                    break;
                }
            };
            let Some(last) = items.last() else { break };
            cursor = F::cursor(last);
            let full = items.len() == BATCH as usize;
            let _ = sender.send(items.into());
            if !full {
                break;
            }
        }
    }
}
