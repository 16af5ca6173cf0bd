//! The keys Pulse names with [`Store::exclusive`]: a decision read inside a transaction (a
//! budget's spend, a handler's load, whether a unique job exists, a tree's size) still holds
//! when the transaction commits, because every transaction that makes the same decision names
//! the same key first and so waits for the others to commit. On SQLite, which serialises
//! writers, naming a key costs nothing; on PostgreSQL it is a transaction-level advisory lock.
//!
//! To rule out deadlocks, a transaction takes its keys in one fixed order: by kind, in the
//! order of this file ([`tree`], [`unique`], [`handler`], [`BUDGET`]), and sorted within a kind
//! ([`take`] sorts a set). Writes under a key of a later kind never name a key of an earlier
//! one: the completer takes the tree and unique keys of a whole batch before it claims the
//! next, and a claim takes its handler keys before it reads the budget. Code outside Pulse
//! that holds keys of its own takes them before it enqueues.

use crate::storage::{Result, Store};

/// Held while deciding whether the children of a job fit its tree's descendant bound (the
/// completer): `pulse:tree:<root>`.
pub fn tree(root: &str) -> String {
    format!("pulse:tree:{root}")
}

/// Held while a `unique` enqueue looks for an unfinished job of the same handler and source:
/// `pulse:unique:<handler>:<source>`.
pub fn unique(handler: &str, source: &str) -> String {
    format!("pulse:unique:{handler}:{source}")
}

/// Held while a claim counts the load of a handler with a rate or concurrency limit:
/// `pulse:handler:<name>`.
pub fn handler(name: &str) -> String {
    format!("pulse:handler:{name}")
}

/// Held while a claim or the budget resumer weighs estimates against the spend windows.
pub const BUDGET: &str = "pulse:budget";

/// Name every key of `keys` (of one kind, or already in kind order) in sorted order, once each.
///
/// # Errors
///
/// As [`Store::exclusive`].
pub fn take(store: &dyn Store, keys: impl IntoIterator<Item = String>) -> Result<()> {
    let keys: std::collections::BTreeSet<String> = keys.into_iter().collect();
    keys.iter().try_for_each(|key| store.exclusive(key))
}
