//! Fair shares of a node's workers, so that a plugin with long jobs cannot occupy every worker.
//!
//! A plugin's share is every worker but one when another plugin (or user handler) is
//! registered on the node or the node is still loading plugins, and every worker when it is
//! alone; its own concurrency limit (from its manifest, [`super::JobHandler::concurrency`]) can
//! lower it. Each user handler
//! (`handler/NAME`) counts as a plugin of its own. A worker starts a claimed job only while its
//! plugin runs fewer jobs than its share, and a claim leaves out the handlers of plugins at
//! their share: a worker never waits for a plugin's slot while other handlers have work.

use std::collections::HashMap;

use super::Registered;

/// Each registered handler's plugin and each plugin's share of this node's workers.
#[derive(Debug, Clone, Default)]
pub struct Shares {
    /// Handler → its plugin's index in `limits`.
    group_of: HashMap<String, usize>,
    /// Most jobs each plugin runs at once on this node.
    limits: Vec<usize>,
}

impl Shares {
    /// The shares of the `registered` handlers on a node with `workers` workers; `loading`:
    /// more plugins are still to register.
    pub fn new(registered: &[Registered], workers: usize, loading: bool) -> Self {
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut own_limits: Vec<Option<usize>> = Vec::new();
        let mut group_of = HashMap::with_capacity(registered.len());
        for handler in registered {
            let next = index.len();
            let group = *index.entry(group(handler)).or_insert(next);
            if group == own_limits.len() {
                own_limits.push(None);
            }
            if let Some(limit) = handler.target.concurrency() {
                own_limits[group] = Some(own_limits[group].map_or(limit, |l| l.min(limit)));
            }
            group_of.insert(handler.handler.clone(), group);
        }
        let share = if own_limits.len() > 1 || loading {
            workers.saturating_sub(1).max(1)
        } else {
            workers.max(1)
        };
        let limits = own_limits
            .into_iter()
            .map(|own| own.map_or(share, |limit| limit.min(share)).max(1))
            .collect();
        Self { group_of, limits }
    }

    /// Whether no plugin's share is below `workers`: then no check is needed.
    pub fn is_unbounded(&self, workers: usize) -> bool {
        self.limits.iter().all(|limit| *limit >= workers)
    }

    /// Jobs running per plugin, given the handlers of the running jobs.
    pub fn counts<'a>(&self, running: impl Iterator<Item = &'a str>) -> Vec<usize> {
        let mut counts = vec![0; self.limits.len()];
        for handler in running {
            if let Some(&group) = self.group_of.get(handler) {
                counts[group] += 1;
            }
        }
        counts
    }

    /// Whether another job of `handler` may start, with `counts` from [`Self::counts`].
    pub fn has_room(&self, handler: &str, counts: &[usize]) -> bool {
        self.group_of
            .get(handler)
            .is_none_or(|&group| counts[group] < self.limits[group])
    }
}

/// What a claim may still take of each plugin: its share of workers times the jobs one worker
/// is expected to finish within the claim horizon (judging by that plugin's recent jobs), less
/// the jobs it runs or has waiting here. Short jobs are thus claimed in batches; long ones one
/// at a time, and no more than the plugin's share can start.
#[derive(Debug, Clone)]
pub struct Room {
    group_of: HashMap<String, usize>,
    left: Vec<usize>,
}

impl Room {
    /// The room of each plugin of `shares`, given the handlers of the jobs held here (`held`)
    /// and how many jobs of a handler one worker finishes within the horizon (`per_worker`).
    pub fn new<'a>(
        shares: &Shares,
        held: impl Iterator<Item = &'a str>,
        per_worker: impl Fn(&str) -> usize,
    ) -> Self {
        let counts = shares.counts(held);
        let mut within = vec![usize::MAX; shares.limits.len()];
        for (handler, &group) in &shares.group_of {
            within[group] = within[group].min(per_worker(handler).max(1));
        }
        let left = shares
            .limits
            .iter()
            .zip(within)
            .zip(counts)
            .map(|((limit, within), held)| limit.saturating_mul(within).saturating_sub(held))
            .collect();
        Self {
            group_of: shares.group_of.clone(),
            left,
        }
    }

    /// Whether `handler`'s plugin has room for one more job.
    pub fn has_room(&self, handler: &str) -> bool {
        self.group_of
            .get(handler)
            .is_none_or(|&group| self.left[group] > 0)
    }

    /// Take room for one job of `handler`; false when its plugin has none.
    pub fn take(&mut self, handler: &str) -> bool {
        match self.group_of.get(handler) {
            Some(&group) if self.left[group] == 0 => false,
            Some(&group) => {
                self.left[group] -= 1;
                true
            }
            None => true,
        }
    }
}

/// The plugin a handler counts against: its plugin, or for a user handler the handler itself.
fn group(registered: &Registered) -> &str {
    if registered.handler.starts_with("handler/") {
        &registered.handler
    } else {
        &registered.plugin
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::pulse::{Execution, Failure, FailureKind, JobHandler, RunningJob};

    struct Refuses;

    impl JobHandler for Refuses {
        fn execute(&self, _job: &RunningJob) -> Execution {
            let failure = Failure {
                message: "not run in these tests".into(),
                details: Vec::new(),
                kind: FailureKind::Permanent,
            };
            Execution::failed(failure, "0")
        }
    }

    fn handler(plugin: &str) -> Registered {
        Registered {
            handler: format!("{plugin}/h"),
            plugin: plugin.into(),
            version: "0".into(),
            description: String::new(),
            target: Arc::new(Refuses),
        }
    }

    #[test]
    fn a_plugin_alone_takes_every_worker_unless_others_are_still_loading() {
        let alone = [handler("a")];
        assert_eq!(Shares::new(&alone, 3, false).limits, [3]);
        assert_eq!(Shares::new(&alone, 3, true).limits, [2]);
        let two = [handler("a"), handler("b")];
        assert_eq!(Shares::new(&two, 3, false).limits, [2, 2]);
        assert_eq!(Shares::new(&alone, 1, true).limits, [1], "never below one");
    }
}
