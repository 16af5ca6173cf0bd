//! The imports a guest can link against: WASI (with a context that denies by default) and the
//! `qntx:plugin` interfaces, one line each.
//!
//! Every plugin gets the same linker. The WASI interfaces that reach outside the sandbox are
//! linked for all but inert without a grant: `wasi:filesystem` sees only the directories the
//! plugin's manifest grants (none by default), `wasi:sockets` refuses every socket and name
//! lookup (this node grants no network), `wasi:cli/environment` holds only granted variables.
//! Linking them inert rather than refusing components that import them matters because Rust's
//! standard library imports them as soon as any code path touches `std::fs` or `std::net`.
//! A component importing anything else is refused at load, naming the import.

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker, Resource};

use super::JobCtx;
use super::bindings::{config, job_context, logging, pulse, store, types};

/// The WASI 0.2 interfaces this node links, without version.
pub(crate) const OFFERED_WASI: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stderr",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stderr",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:filesystem/preopens",
    "wasi:filesystem/types",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:random/random",
    "wasi:sockets/instance-network",
    "wasi:sockets/ip-name-lookup",
    "wasi:sockets/network",
    "wasi:sockets/tcp",
    "wasi:sockets/tcp-create-socket",
    "wasi:sockets/udp",
    "wasi:sockets/udp-create-socket",
];

/// A linker with every import this node offers.
///
/// # Errors
///
/// When wasmtime refuses a definition (a bug, not a runtime condition).
pub fn new_linker(engine: &Engine) -> wasmtime::Result<Linker<JobCtx>> {
    let mut linker = Linker::new(engine);
    // Async WASI: a guest waiting on a clock, a stream or a file is a pending future that the
    // job's deadline and interrupt can drop (`drive.rs`), not a blocked worker thread.
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    refuse_symlinks(&mut linker)?;
    types::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    store::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    pulse::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    job_context::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    logging::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    config::add_to_linker::<_, HasSelf<_>>(&mut linker, |ctx| ctx)?;
    Ok(linker)
}

/// The `wasi:filesystem/types` that wasmtime-wasi defines (a guest built for any 0.2.x links
/// to it).
const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// Make `symlink-at` return `not-permitted`. A symbolic link the guest plants in a writable
/// grant may point anywhere on the host (`/etc`, `../..`): wasmtime-wasi never follows it out
/// of the grant, but the node's user or another program would. Hard links need no such rule:
/// wasmtime-wasi resolves both ends of `link-at` inside writable grants, without following
/// symlinks.
fn refuse_symlinks(linker: &mut Linker<JobCtx>) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::filesystem::types::{Descriptor, ErrorCode};
    linker.allow_shadowing(true);
    linker.instance(FILESYSTEM_TYPES)?.func_wrap(
        "[method]descriptor.symlink-at",
        |_, (_dir, _target, _link): (Resource<Descriptor>, String, String)| {
            Ok((Err::<(), _>(ErrorCode::NotPermitted),))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// What this node makes of an import: `None` if it links it, else why not.
pub fn refuse_import(name: &str) -> Option<String> {
    let (interface, version) = name.split_once('@').unwrap_or((name, ""));
    if interface.starts_with(&format!("{}/", super::PACKAGE)) {
        return (!super::COMPATIBLE_VERSIONS.contains(&version)).then(|| {
            format!(
                "it imports '{name}', built for {}@{version}; this node implements {} (and \
                 loads components built for {}@{})",
                super::PACKAGE,
                super::WORLD,
                super::PACKAGE,
                super::COMPATIBLE_VERSIONS.join(", ")
            )
        });
    }
    if OFFERED_WASI.contains(&interface) {
        return (!version.starts_with("0.2.")).then(|| {
            format!("it imports '{name}'; this node offers {interface} only in WASI 0.2 (0.2.x)")
        });
    }
    Some(format!(
        "it imports '{name}', which this node does not offer (it offers {}/* and the WASI 0.2 \
         interfaces of wasi:cli, clocks, filesystem, io, random and sockets)",
        super::PACKAGE
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_are_refused_by_name() {
        assert_eq!(refuse_import("qntx:plugin/store@0.1.0"), None);
        assert_eq!(refuse_import("qntx:plugin/store@0.1.1"), None);
        assert_eq!(refuse_import("qntx:plugin/config@0.1.1"), None);
        assert_eq!(
            refuse_import("qntx:plugin/store@0.1.2").unwrap(),
            "it imports 'qntx:plugin/store@0.1.2', built for qntx:plugin@0.1.2; this node \
             implements qntx:plugin/plugin@0.1.1 (and loads components built for \
             qntx:plugin@0.1.0, 0.1.1)"
        );
        assert!(refuse_import("qntx:plugin/store").is_some());
        assert_eq!(refuse_import("wasi:io/streams@0.2.6"), None);
        assert!(
            refuse_import("qntx:plugin/store@0.2.0")
                .unwrap()
                .contains("built for qntx:plugin@0.2.0")
        );
        assert!(
            refuse_import("wasi:http/outgoing-handler@0.2.6")
                .unwrap()
                .starts_with(
                    "it imports 'wasi:http/outgoing-handler@0.2.6', which this node does not offer"
                )
        );
        assert!(
            refuse_import("wasi:io/streams@0.3.0")
                .unwrap()
                .contains("only in WASI 0.2")
        );
        assert!(refuse_import("acme:evil/backdoor").is_some());
    }
}
