//! [`Slots`]: the per-plugin concurrency limit. A job over the limit waits for a slot on its
//! worker thread (it does not fail and loses no attempt); it stops waiting when the job is
//! interrupted or its deadline passes.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::clock::now_ms;
use crate::pulse::{Interrupt, Interruption};

/// How often a waiting job looks at its interrupt flag.
const INTERRUPT_POLL: Duration = Duration::from_millis(50);

/// A counting semaphore.
#[derive(Debug)]
pub(crate) struct Slots {
    limit: usize,
    state: Mutex<State>,
    freed: Condvar,
}

/// Slots taken, and jobs waiting for one: a freed slot wakes a waiter only when there is one,
/// so the common uncontended job makes no futex system call.
#[derive(Debug, Default)]
struct State {
    taken: usize,
    waiting: usize,
}

/// A taken slot; dropping it frees the slot.
#[derive(Debug)]
pub(crate) struct Slot<'a>(&'a Slots);

impl Slots {
    /// `limit` slots (at least one).
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    /// Take a slot, waiting while all are taken.
    ///
    /// # Errors
    ///
    /// `Some(why)` when the job was interrupted while waiting, `None` when `deadline_ms` passed.
    pub(crate) fn acquire(
        &self,
        interrupt: &Interrupt,
        deadline_ms: i64,
    ) -> Result<Slot<'_>, Option<Interruption>> {
        let mut state = self.lock();
        while state.taken >= self.limit {
            if let Some(why) = interrupt.get() {
                return Err(Some(why));
            }
            let left = deadline_ms - now_ms();
            if left <= 0 {
                return Err(None);
            }
            let wait = INTERRUPT_POLL.min(Duration::from_millis(left.unsigned_abs()));
            state.waiting += 1;
            state = self
                .freed
                .wait_timeout(state, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            state.waiting -= 1;
        }
        state.taken += 1;
        Ok(Slot(self))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Counters cannot be left inconsistent by a panic elsewhere.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.taken -= 1;
        if state.waiting > 0 {
            self.0.freed.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_plugin_makes_jobs_wait_until_a_slot_frees_or_the_job_stops() {
        let slots = Slots::new(1);
        let interrupt = Interrupt::default();
        let far = now_ms() + 60_000;
        let first = slots.acquire(&interrupt, far).unwrap();
        assert!(matches!(slots.acquire(&interrupt, now_ms()), Err(None)));
        interrupt.raise(Interruption::Shutdown);
        assert!(matches!(
            slots.acquire(&interrupt, far),
            Err(Some(Interruption::Shutdown))
        ));
        drop(first);
        assert!(
            slots.acquire(&interrupt, far).is_ok(),
            "a free slot is taken at once"
        );
    }

    #[test]
    fn a_waiting_job_gets_the_slot_another_frees() {
        let slots = std::sync::Arc::new(Slots::new(1));
        let interrupt = Interrupt::default();
        let held = slots.acquire(&interrupt, now_ms() + 60_000).unwrap();
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                slots
                    .acquire(&Interrupt::default(), now_ms() + 60_000)
                    .is_ok()
            });
            drop(held);
            assert!(waiter.join().unwrap());
        });
    }
}
