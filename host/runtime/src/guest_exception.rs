//! A Python or JavaScript guest's own exception, recovered from what its language runtime
//! printed to stderr before it trapped, so that the job's error names it and Pulse does not
//! retry an author's bug.
//!
//! Neither runtime reports an uncaught exception through the WIT: the guest traps, and only
//! stderr (which the host captures into the job log) says why. What they print, with the
//! toolchains `qntx handler create` pins (componentize-py 0.25, componentize-js 0.23):
//!
//! ```text
//! Traceback (most recent call last):                        componentize-py, an exception
//!   File "/0/app.py", line 12, in execute_job               that is not Err(JobError_...)
//! KeyError: 'missing'
//! thread '<unnamed>' (1) panicked at runtime/src/lib.rs:1293:29:
//! Python function threw an unexpected exception
//!
//! thread '<unnamed>' (1) panicked at runtime/src/lib.rs:1494:89:     componentize-py, a value
//! called `Result::unwrap()` on an `Err` value: PyErr { type: <class 'TypeError'>,
//!   value: TypeError("'dict' object is not an instance of 'str'"), traceback: None }
//!                                                           (one line; wrapped here)
//!
//! invalid variant tag value `undefined` (received `Error: no such key`) specified for `JobError`
//! Stack:                                                    componentize-js, a throw that is
//!   export_executeJob@.../initializer.js:1216:17            not {tag, val}
//! Redirecting call to abort() to mozalloc_abort
//!
//! expected a string, received [object]                      componentize-js, a value that
//! Stack:                                                    does not fit the WIT type
//!   _utf8AllocateAndEncode@.../initializer.js:44:11
//! Redirecting call to abort() to mozalloc_abort
//! ```
//!
//! The guest controls its stderr, so it could fake these lines; all it gains is that its own
//! job fails without a retry.

use crate::pulse::{Failure, FailureKind};

/// Longest message kept, in bytes.
const MAX_MESSAGE_BYTES: usize = 1000;

/// An exception a guest's language runtime reported before the guest trapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GuestException {
    /// `Python` or `JavaScript`.
    language: &'static str,
    /// Whether the code threw, or the bindings could not convert what it returned.
    cause: Cause,
    /// The exception as its language shows it: `KeyError: 'missing'`, `Error: no such key`.
    message: String,
    /// The lines it came from (the traceback), for the job's error details.
    trace: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// The guest's code raised or threw, and nothing caught it.
    Uncaught,
    /// The guest returned or threw a value its toolchain's bindings cannot convert to the WIT.
    Conversion,
}

impl GuestException {
    /// The failure of the job attempt it ended: permanent, since the guest did not ask for a
    /// retry, with the exception in the message and the traceback in the details.
    pub(crate) fn failure(self, name: &str, error: &wasmtime::Error) -> Failure {
        let Self {
            language,
            cause,
            message,
            mut trace,
        } = self;
        let why = match (cause, language) {
            (Cause::Uncaught, language) => format!("uncaught {language} exception"),
            (Cause::Conversion, "Python") => {
                "a value componentize-py cannot convert to the WIT type".into()
            }
            (Cause::Conversion, _) => {
                "a value componentize-js cannot convert to the WIT type".into()
            }
        };
        trace.extend(error.chain().map(|cause| cause.to_string()));
        Failure {
            message: format!("{name} failed: {message} ({why})"),
            details: trace,
            kind: FailureKind::Permanent,
        }
    }
}

/// The exception in a guest's stderr lines, if its language runtime reported one.
pub(crate) fn find(stderr: &[&str]) -> Option<GuestException> {
    python_exception(stderr)
        .or_else(|| python_conversion(stderr))
        .or_else(|| javascript(stderr))
}

/// The last traceback before componentize-py's "unexpected exception" panic: its final,
/// unindented lines are the exception.
fn python_exception(stderr: &[&str]) -> Option<GuestException> {
    let marker = stderr
        .iter()
        .rposition(|line| line.trim() == "Python function threw an unexpected exception")?;
    let panicked = marker
        .checked_sub(1)
        .filter(|&at| stderr[at].contains("panicked at "))?;
    let last = stderr[..panicked]
        .iter()
        .rposition(|line| line.starts_with("Traceback (most recent call last):"))?;
    let frames = &stderr[last + 1..panicked];
    let first = frames
        .iter()
        .position(|line| !line.is_empty() && !line.starts_with(' '))?;
    let first_traceback = stderr[..=last]
        .iter()
        .position(|line| line.starts_with("Traceback (most recent call last):"))
        .unwrap_or(last);
    Some(GuestException {
        language: "Python",
        cause: Cause::Uncaught,
        message: clip(frames[first..].join(" ")),
        trace: lines(&stderr[first_traceback..panicked]),
    })
}

/// componentize-py's panic when a returned value does not fit the WIT type: the `PyErr`'s
/// value is the Python exception the conversion raised.
fn python_conversion(stderr: &[&str]) -> Option<GuestException> {
    let at = stderr
        .iter()
        .rposition(|line| line.contains("PyErr { type: <class '"))?;
    if !at
        .checked_sub(1)
        .is_some_and(|before| stderr[before].contains("panicked at "))
    {
        return None;
    }
    let line = stderr[at];
    let value = &line[line.find(", value: ")? + ", value: ".len()..];
    let value = value
        .rfind(", traceback: ")
        .map_or(value, |end| &value[..end]);
    Some(GuestException {
        language: "Python",
        cause: Cause::Conversion,
        message: clip(value.to_owned()),
        trace: lines(&stderr[at - 1..=at]),
    })
}

/// componentize-js prints the error, `Stack:`, the stack, then aborts. A thrown value that
/// is not a `{tag, val}` job error shows as an invalid variant tag, with the value as the
/// JavaScript `String(error)` of it.
fn javascript(stderr: &[&str]) -> Option<GuestException> {
    let abort = stderr
        .iter()
        .rposition(|line| line.trim() == "Redirecting call to abort() to mozalloc_abort")?;
    let stack = stderr[..abort]
        .iter()
        .rposition(|line| line.trim() == "Stack:")?;
    let trace = |from: usize| lines(&stderr[from..abort]);
    let received = "invalid variant tag value `undefined` (received `";
    let thrown = stderr[..stack]
        .iter()
        .rposition(|line| line.starts_with(received));
    if let Some(start) = thrown {
        let text = stderr[start..stack].join("\n");
        let value = &text[received.len()..];
        let value = value
            .rfind("`) specified for `")
            .map_or(value, |end| &value[..end]);
        return Some(GuestException {
            language: "JavaScript",
            cause: Cause::Uncaught,
            message: clip(value.replace('\n', " ")),
            trace: trace(start),
        });
    }
    let start = stack.checked_sub(1)?;
    Some(GuestException {
        language: "JavaScript",
        cause: Cause::Conversion,
        message: clip(stderr[start].to_owned()),
        trace: trace(start),
    })
}

fn lines(stderr: &[&str]) -> Vec<String> {
    stderr.iter().map(|line| (*line).to_owned()).collect()
}

fn clip(mut text: String) -> String {
    let mut end = text.len().min(MAX_MESSAGE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(stderr: &str) -> Option<(Cause, String)> {
        let lines: Vec<&str> = stderr.lines().collect();
        find(&lines).map(|found| (found.cause, found.message))
    }

    const PANIC: &str = "thread '<unnamed>' (1) panicked at runtime/src/lib.rs:1293:29:\n\
                         Python function threw an unexpected exception\n\
                         note: run with `RUST_BACKTRACE=1` environment variable to display a \
                         backtrace";

    #[test]
    fn a_python_exception_is_the_last_line_of_its_traceback() {
        let stderr = format!(
            "some output first\nTraceback (most recent call last):\n  File \"/0/app.py\", line \
             12, in execute_job\n    return payload[\"missing\"]\n           ^^^^^^^^^\n\
             KeyError: 'missing'\n{PANIC}"
        );
        assert_eq!(
            message(&stderr),
            Some((Cause::Uncaught, "KeyError: 'missing'".into()))
        );
        let lines: Vec<&str> = stderr.lines().collect();
        let found = find(&lines).unwrap();
        assert_eq!(found.trace[0], "Traceback (most recent call last):");
        assert_eq!(found.trace.last().unwrap(), "KeyError: 'missing'");
    }

    #[test]
    fn a_chained_or_multi_line_python_exception_keeps_the_last_one_whole() {
        let chained = format!(
            "Traceback (most recent call last):\n  File \"/0/app.py\", line 18, in execute_job\n\
             KeyError: 'x'\nThe above exception was the direct cause of the following exception:\n\
             Traceback (most recent call last):\n  File \"/0/app.py\", line 20, in execute_job\n\
             RuntimeError: while reading x\n{PANIC}"
        );
        assert_eq!(
            message(&chained),
            Some((Cause::Uncaught, "RuntimeError: while reading x".into()))
        );
        let lines: Vec<&str> = chained.lines().collect();
        assert_eq!(find(&lines).unwrap().trace.len(), 7, "both tracebacks");
        let multi = format!(
            "Traceback (most recent call last):\n  File \"/0/app.py\", line 15, in execute_job\n\
             ValueError: first line\nsecond line\n{PANIC}"
        );
        assert_eq!(
            message(&multi),
            Some((Cause::Uncaught, "ValueError: first line second line".into()))
        );
    }

    #[test]
    fn a_python_value_that_does_not_fit_the_wit_names_the_conversion_error() {
        let stderr = "thread '<unnamed>' (1) panicked at runtime/src/lib.rs:1494:89:\n\
                      called `Result::unwrap()` on an `Err` value: PyErr { type: <class \
                      'TypeError'>, value: TypeError(\"'dict' object is not an instance of \
                      'str'\"), traceback: None }\nnote: run with `RUST_BACKTRACE=1`";
        assert_eq!(
            message(stderr),
            Some((
                Cause::Conversion,
                "TypeError(\"'dict' object is not an instance of 'str'\")".into()
            ))
        );
    }

    #[test]
    fn a_javascript_throw_is_the_value_it_threw() {
        let stderr = "invalid variant tag value `undefined` (received `Error: first line\n\
                      second `tick` line`) specified for `JobError`\nStack:\n  \
                      export_executeJob@/tmp/x/sources/initializer.js:1216:17\n\
                      Redirecting call to abort() to mozalloc_abort";
        assert_eq!(
            message(stderr),
            Some((
                Cause::Uncaught,
                "Error: first line second `tick` line".into()
            ))
        );
    }

    #[test]
    fn a_javascript_value_that_does_not_fit_the_wit_is_the_bindings_complaint() {
        let stderr = "expected a string, received [object]\nStack:\n  \
                      _utf8AllocateAndEncode@/tmp/x/sources/initializer.js:44:11\n\
                      Redirecting call to abort() to mozalloc_abort";
        assert_eq!(
            message(stderr),
            Some((
                Cause::Conversion,
                "expected a string, received [object]".into()
            ))
        );
    }

    #[test]
    fn other_stderr_is_no_exception() {
        for stderr in [
            "",
            "thread 'main' panicked at src/lib.rs:5:9:\nboom\nnote: run with `RUST_BACKTRACE=1`",
            // A traceback the guest printed and handled, then a Rust-level panic.
            "Traceback (most recent call last):\nKeyError: 'x'\nthread '<unnamed>' panicked at \
             src/lib.rs:1:1:\nsomething else",
            "Python function threw an unexpected exception",
            "Stack:\nno abort follows",
        ] {
            assert_eq!(message(stderr), None, "{stderr:?}");
        }
    }

    #[test]
    fn the_failure_is_permanent_and_keeps_the_trace() {
        let stderr = format!(
            "Traceback (most recent call last):\n  File \"/0/app.py\", line 1, in x\n\
             KeyError: 'k'\n{PANIC}"
        );
        let lines: Vec<&str> = stderr.lines().collect();
        let error = wasmtime::Error::msg("wasm trap: wasm `unreachable` instruction executed");
        let failure = find(&lines)
            .unwrap()
            .failure("plugin 'p' handler 'h'", &error);
        assert_eq!(
            failure.message,
            "plugin 'p' handler 'h' failed: KeyError: 'k' (uncaught Python exception)"
        );
        assert_eq!(failure.kind, FailureKind::Permanent);
        assert_eq!(failure.details.len(), 4);
        assert!(failure.details[3].contains("unreachable"));
    }
}
