//! The statements of components: handler component bytes, content-addressed.

use super::Result;

/// Component bytes by their sha256.
pub trait Components {
    /// Store `bytes` under `sha256` (nothing happens when it is already stored).
    fn component_put(&self, sha256: &str, bytes: &[u8], now: i64) -> Result<()>;

    /// The bytes stored under `sha256`.
    fn component_get(&self, sha256: &str) -> Result<Option<Vec<u8>>>;

    /// How many components are stored.
    fn component_count(&self) -> Result<u64>;
}
