//! Statements on handler registrations: which handlers some node announced.

use super::Result;
use crate::pulse::HandlerRecord;

/// Statements on handler registrations.
pub trait Registrations {
    /// Record (or refresh) that a node registered a handler.
    fn handler_register(&self, record: &HandlerRecord) -> Result<()>;

    /// The registration of `handler`, if any node made one.
    fn handler_get(&self, handler: &str) -> Result<Option<HandlerRecord>>;

    /// Names of every registered handler, sorted.
    fn handler_names(&self) -> Result<Vec<String>>;
}
