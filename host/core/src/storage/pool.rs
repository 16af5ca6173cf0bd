//! A few idle connections kept for short reads and writes from many threads (a guest's query,
//! a job's progress), so that none of them waits for another's connection.

use std::sync::{Arc, Mutex};

use super::{Backend, Connection, Result};

/// Connections of one backend, handed out one per caller and kept when given back.
#[derive(Debug, Clone)]
pub struct Pool {
    backend: Arc<dyn Backend>,
    idle: Arc<Mutex<Vec<Box<dyn Connection>>>>,
    keep: usize,
}

impl std::fmt::Debug for dyn Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connection")
    }
}

impl Pool {
    /// A pool on `backend` keeping at most `keep` idle connections.
    pub fn new(backend: Arc<dyn Backend>, keep: usize) -> Self {
        Self {
            backend,
            idle: Arc::default(),
            keep,
        }
    }

    /// The backend the connections are to.
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Run `work` on an idle connection (a new one when none is idle), then keep it for the
    /// next caller unless `work` failed: a connection that just failed may be broken.
    ///
    /// # Errors
    ///
    /// The error of connecting, or `work`'s.
    pub fn with<T, E: From<super::Error>>(
        &self,
        work: impl FnOnce(&mut dyn Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let idle = self.lock().pop();
        let mut conn = match idle {
            Some(conn) => conn,
            None => self.backend.connect()?,
        };
        let result = work(conn.as_mut());
        if result.is_ok() {
            let mut idle = self.lock();
            if idle.len() < self.keep {
                idle.push(conn);
            }
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Box<dyn Connection>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}
