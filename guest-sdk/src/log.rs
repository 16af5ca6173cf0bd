//! Logging: inside a job, lines go to the job's log (`qntx job logs ID`); outside, to the node's.

use crate::bindings::qntx::plugin::logging;
use crate::bindings::qntx::plugin::types::LogLevel;

/// Log a line at trace level.
pub fn trace(message: impl AsRef<str>) {
    logging::log(LogLevel::Trace, message.as_ref());
}

/// Log a line at debug level.
pub fn debug(message: impl AsRef<str>) {
    logging::log(LogLevel::Debug, message.as_ref());
}

/// Log a line at info level.
pub fn info(message: impl AsRef<str>) {
    logging::log(LogLevel::Info, message.as_ref());
}

/// Log a line at warn level.
pub fn warn(message: impl AsRef<str>) {
    logging::log(LogLevel::Warn, message.as_ref());
}

/// Log a line at error level.
pub fn error(message: impl AsRef<str>) {
    logging::log(LogLevel::Error, message.as_ref());
}
