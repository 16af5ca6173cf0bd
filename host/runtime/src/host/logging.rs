//! `qntx:plugin/logging`.

use crate::JobCtx;
use crate::bindings::{logging, types};
use crate::pulse::LogLevel;

/// Longest line kept; longer ones are cut.
const MAX_LINE_BYTES: usize = 4096;

impl logging::Host for JobCtx {
    fn log(&mut self, level: types::LogLevel, message: String) -> wasmtime::Result<()> {
        let level = match level {
            types::LogLevel::Trace => LogLevel::Trace,
            types::LogLevel::Debug => LogLevel::Debug,
            types::LogLevel::Info => LogLevel::Info,
            types::LogLevel::Warn => LogLevel::Warn,
            types::LogLevel::Error => LogLevel::Error,
        };
        let mut end = message.len().min(MAX_LINE_BYTES);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        self.log(level, "guest", &message[..end]);
        Ok(())
    }
}
