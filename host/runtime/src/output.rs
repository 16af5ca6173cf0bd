//! [`CappedPipe`]: where a guest's stdout and stderr go. It keeps the first bytes up to its
//! capacity and drops the rest, counting them, so that a chatty guest loses output rather than
//! its job (wasmtime's `MemoryOutputPipe` traps past its capacity, and Rust's `println!` panics on
//! a failed write).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The largest write a guest is told it may make at once.
const WRITE_PERMIT: usize = 64 << 10;

/// An in-memory output stream that keeps at most `capacity` bytes.
#[derive(Debug, Clone)]
pub(crate) struct CappedPipe {
    capacity: usize,
    state: Arc<Mutex<Captured>>,
}

#[derive(Debug, Default)]
struct Captured {
    kept: Vec<u8>,
    dropped: usize,
}

impl CappedPipe {
    /// A pipe keeping at most `capacity` bytes.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            state: Arc::default(),
        }
    }

    /// The bytes kept, and how many were dropped.
    pub(crate) fn contents(&self) -> (Vec<u8>, usize) {
        let state = self.lock();
        (state.kept.clone(), state.dropped)
    }

    fn append(&self, bytes: &[u8]) {
        let mut state = self.lock();
        let room = self.capacity.saturating_sub(state.kept.len());
        let kept = bytes.len().min(room);
        state.kept.extend_from_slice(&bytes[..kept]);
        state.dropped += bytes.len() - kept;
    }

    fn lock(&self) -> MutexGuard<'_, Captured> {
        // A panic while holding the lock cannot leave a byte buffer inconsistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl OutputStream for CappedPipe {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.append(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_PERMIT)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for CappedPipe {
    async fn ready(&mut self) {}
}

impl AsyncWrite for CappedPipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.append(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl IsTerminal for CappedPipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CappedPipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_first_bytes_and_counts_the_rest() {
        let mut pipe = CappedPipe::new(5);
        pipe.write(Bytes::from_static(b"abc")).unwrap();
        pipe.write(Bytes::from_static(b"defg")).unwrap();
        pipe.write(Bytes::from_static(b"h")).unwrap();
        assert_eq!(pipe.contents(), (b"abcde".to_vec(), 3));
        assert_eq!(pipe.check_write().unwrap(), WRITE_PERMIT);
    }
}
