//! Resolving a manifest's `[limits]` against the node's own, and reading sizes.

use std::time::Duration;

use super::{Manifest, Size};
use crate::runtime::{Limits, mib};

impl Manifest {
    /// The node's limits, tightened where the manifest asks for less; asking for more is a
    /// note, not a problem.
    pub(super) fn resolve_limits(
        &self,
        node: &Limits,
        fuel_metered: bool,
        problems: &mut Vec<String>,
        notes: &mut Vec<String>,
    ) -> Limits {
        let mut limits = node.clone();
        let spec = &self.limits;
        let name = &self.name;
        if let Some(size) = &spec.memory {
            match size.bytes() {
                Some(0) | None => problems.push(format!(
                    "limits.memory {} is not a size: use bytes or text like \"32 MiB\"",
                    size.shown()
                )),
                Some(asked) if asked > node.memory_bytes => notes.push(format!(
                    "plugin '{name}' asks for {} memory; this node allows {}: using {}",
                    mib(asked),
                    mib(node.memory_bytes),
                    mib(node.memory_bytes)
                )),
                Some(asked) => limits.memory_bytes = asked,
            }
        }
        if let Some(text) = &spec.timeout {
            match humantime::parse_duration(text) {
                Ok(asked) if asked == Duration::ZERO => problems.push(format!(
                    "limits.timeout '{text}' is zero: use a duration like \"10s\""
                )),
                Err(error) => problems.push(format!(
                    "limits.timeout '{text}' is not a duration ({error}): use text like \"10s\""
                )),
                Ok(asked) if asked > node.timeout => notes.push(format!(
                    "plugin '{name}' asks for a {} timeout; this node allows {}: using {}",
                    humantime::format_duration(asked),
                    humantime::format_duration(node.timeout),
                    humantime::format_duration(node.timeout)
                )),
                Ok(asked) => limits.timeout = asked,
            }
        }
        match spec.fuel {
            None => {}
            Some(0) => problems.push("limits.fuel is 0: use a positive number or leave it out".into()),
            Some(asked) if !fuel_metered => notes.push(format!(
                "plugin '{name}' asks for fuel {asked}; this node does not meter fuel: its \
                 jobs are bounded by the timeout only"
            )),
            Some(asked) => match node.fuel {
                Some(allowed) if asked > allowed => notes.push(format!(
                    "plugin '{name}' asks for fuel {asked}; this node allows {allowed}: using {allowed}"
                )),
                _ => limits.fuel = Some(asked),
            },
        }
        match spec.concurrency {
            None => {}
            Some(0) => problems.push(
                "limits.concurrency is 0: use a positive number of jobs or leave it out".into(),
            ),
            Some(asked) if asked > node.concurrency => notes.push(format!(
                "plugin '{name}' asks for {asked} jobs at once; this node allows {}: using {}",
                node.concurrency, node.concurrency
            )),
            Some(asked) => limits.concurrency = asked,
        }
        limits
    }
}

impl Size {
    /// The size in bytes; `None` for text that is not a number followed by nothing, B, KiB,
    /// MiB or GiB.
    pub fn bytes(&self) -> Option<usize> {
        match self {
            Self::Bytes(bytes) => usize::try_from(*bytes).ok(),
            Self::Text(text) => {
                let text = text.trim();
                let split = text
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(text.len());
                let number: usize = text[..split].parse().ok()?;
                let shift = match text[split..].trim() {
                    "" | "B" => 0,
                    "KiB" => 10,
                    "MiB" => 20,
                    "GiB" => 30,
                    _ => return None,
                };
                number.checked_mul(1 << shift)
            }
        }
    }

    fn shown(&self) -> String {
        match self {
            Self::Bytes(bytes) => bytes.to_string(),
            Self::Text(text) => format!("'{text}'"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn parse(text: &str) -> Manifest {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_node_limits_win_and_the_node_says_so() {
        let manifest = parse(
            "name = \"big\"\n[limits]\nmemory = \"512 MiB\"\ntimeout = \"5s\"\nconcurrency = 1000\nfuel = 10",
        );
        let policy = manifest
            .resolve(Path::new("/"), &Limits::default(), false, &[])
            .unwrap();
        assert_eq!(policy.limits.memory_bytes, 64 << 20);
        assert_eq!(policy.limits.timeout, Duration::from_secs(5));
        assert_eq!(policy.limits.concurrency, 64);
        assert_eq!(policy.limits.fuel, None);
        assert_eq!(
            policy.notes,
            [
                "plugin 'big' asks for 512 MiB memory; this node allows 64 MiB: using 64 MiB",
                "plugin 'big' asks for fuel 10; this node does not meter fuel: its jobs are bounded by the timeout only",
                "plugin 'big' asks for 1000 jobs at once; this node allows 64: using 64",
            ]
        );
        let metered = manifest
            .resolve(Path::new("/"), &Limits::default(), true, &[])
            .unwrap();
        assert_eq!(metered.limits.fuel, Some(10));
    }

    #[test]
    fn sizes_take_units() {
        assert_eq!(Size::Text("32 MiB".into()).bytes(), Some(32 << 20));
        assert_eq!(Size::Text("512KiB".into()).bytes(), Some(512 << 10));
        assert_eq!(Size::Bytes(1000).bytes(), Some(1000));
        assert_eq!(Size::Text("1 MB".into()).bytes(), None);
    }
}
