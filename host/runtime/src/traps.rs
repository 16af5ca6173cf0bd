//! The kinds of guest failure the sandbox tells apart, counted in [`SANDBOX_TRAPS`] through the
//! `metrics` facade (a no-op until a recorder is installed).

/// Counter: job attempts whose guest call trapped or was stopped by a limit, by `kind`
/// (see [`TrapKind::as_str`] for the values).
pub const SANDBOX_TRAPS: &str = "qntx_sandbox_traps_total";

/// Why a guest's `execute-job` call ended without an answer. Interruptions (cancel,
/// shutdown) are not traps: Pulse counts them as outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TrapKind {
    /// The attempt's deadline passed.
    Timeout,
    /// The guest asked for more memory than its limit.
    OutOfMemory,
    /// The guest used up its fuel.
    OutOfFuel,
    /// The wasm stack overflowed.
    StackOverflow,
    /// An access outside linear memory (also a shadow stack overflow).
    MemoryOutOfBounds,
    /// The guest's resource table was full.
    TooManyResources,
    /// A Rust guest panicked.
    Panic,
    /// A Python or JavaScript guest's exception went uncaught.
    Exception,
    /// Any other wasm trap (`unreachable`, division by zero…).
    Trap,
    /// A host call failed and ended the call (store I/O, a broken invariant).
    Host,
}

impl TrapKind {
    /// The `kind` label: `timeout`, `out_of_memory`, `out_of_fuel`, `stack_overflow`,
    /// `memory_out_of_bounds`, `too_many_resources`, `panic`, `exception`, `trap`, `host`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::OutOfMemory => "out_of_memory",
            Self::OutOfFuel => "out_of_fuel",
            Self::StackOverflow => "stack_overflow",
            Self::MemoryOutOfBounds => "memory_out_of_bounds",
            Self::TooManyResources => "too_many_resources",
            Self::Panic => "panic",
            Self::Exception => "exception",
            Self::Trap => "trap",
            Self::Host => "host",
        }
    }

    /// Count one of this kind.
    pub(crate) fn count(self) {
        metrics::counter!(SANDBOX_TRAPS, "kind" => self.as_str()).increment(1);
    }
}
