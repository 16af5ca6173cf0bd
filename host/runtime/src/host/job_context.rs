//! `qntx:plugin/job-context`.

use crate::JobCtx;
use crate::bindings::job_context;
use crate::pulse::{Interruption, LogLevel, Progress};

impl job_context::Host for JobCtx {
    fn progress(&mut self, current: u64, total: u64) -> wasmtime::Result<()> {
        if let Some(scope) = &mut self.scope {
            scope.progress = Progress { current, total };
            self.flush();
        }
        Ok(())
    }

    fn add_cost(&mut self, amount: f64) -> wasmtime::Result<()> {
        let Some(scope) = &mut self.scope else {
            return Ok(());
        };
        if amount.is_finite() && amount >= 0.0 {
            scope.cost += amount;
            self.flush();
        } else {
            self.log(
                LogLevel::Warn,
                "runtime",
                &format!("ignored add-cost({amount}): a cost must be a non-negative number"),
            );
        }
        Ok(())
    }

    fn is_cancelled(&mut self) -> wasmtime::Result<bool> {
        Ok(self
            .scope
            .as_ref()
            .is_some_and(|scope| scope.interrupt.get() == Some(Interruption::Cancelled)))
    }
}
