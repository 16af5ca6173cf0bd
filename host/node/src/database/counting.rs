//! A backend that counts the connections opened through it: what a node holds, for its
//! connection budget.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::storage::{self, Backend, Connection, Store, Transaction};

/// `inner`, counting the connections of it that are open.
#[derive(Debug)]
pub struct Counting {
    inner: Arc<dyn Backend>,
    open: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

impl Counting {
    /// Count the connections made through the result.
    pub fn new(inner: Arc<dyn Backend>) -> Self {
        Self {
            inner,
            open: Arc::default(),
            peak: Arc::default(),
        }
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::SeqCst)
    }
}

impl Backend for Counting {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn local_dir(&self) -> Option<std::path::PathBuf> {
        self.inner.local_dir()
    }

    fn connect(&self) -> storage::Result<Box<dyn Connection>> {
        let inner = self.inner.connect()?;
        let now = self.open.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        Ok(Box::new(Counted {
            inner,
            open: self.open.clone(),
        }))
    }
}

/// A connection counted while it is open.
struct Counted {
    inner: Box<dyn Connection>,
    open: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Connection for Counted {
    fn store(&self) -> &(dyn Store + 'static) {
        self.inner.store()
    }

    fn transaction(&mut self) -> storage::Result<Box<dyn Transaction + '_>> {
        self.inner.transaction()
    }

    fn snapshot(&mut self) -> storage::Result<Box<dyn Transaction + '_>> {
        self.inner.snapshot()
    }

    fn wait_for_change(&mut self, timeout: Duration) -> storage::Result<bool> {
        self.inner.wait_for_change(timeout)
    }

    fn upkeep(&mut self) -> Option<String> {
        self.inner.upkeep()
    }

    fn explain(&self, error: &(dyn std::error::Error + 'static)) -> String {
        self.inner.explain(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_connections_are_counted_until_dropped_and_the_peak_is_kept() {
        let backend = Counting::new(Arc::new(crate::sqlite::SqliteBackend::temporary().unwrap()));
        let first = backend.connect().unwrap();
        let second = backend.connect().unwrap();
        assert_eq!((backend.open(), backend.peak()), (2, 2));
        drop(first);
        assert_eq!((backend.open(), backend.peak()), (1, 2));
        assert_eq!(
            second.component_count().unwrap(),
            0,
            "it is the inner connection"
        );
        drop(second);
        assert_eq!((backend.open(), backend.peak()), (0, 2));
    }
}
