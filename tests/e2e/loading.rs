//! Plugin files that are not plugins: each is refused with its own reason, and the good ones
//! still load.

use crate::fixtures::{Env, guests};

#[test]
fn broken_files_are_refused_with_distinct_reasons_and_good_plugins_still_load() {
    let env = Env::with_plugins(&[&guests().text]);
    let text = std::fs::read(&guests().text).unwrap();
    env.install_bytes(b"", "empty.wasm");
    env.install_bytes(b"this is not wasm at all", "random.wasm");
    env.install_bytes(b"\0asm\x01\0\0\0", "core.wasm");
    env.install_bytes(&text[..text.len() / 2], "truncated.wasm");
    // An empty component: valid, but of no world of ours.
    env.install_bytes(b"\0asm\x0d\0\x01\0", "empty-component.wasm");
    // A real component of another world, built from source.
    env.install(&guests().otherworld, "otherworld.wasm");
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    env.install_bytes(&noise, "noise.wasm");

    let node = env.start();
    assert_eq!(node.registry().names(), ["text/echo", "text/stats"]);
    let reasons = env.refusals(&node);
    let expect = [
        "plugin 'core.wasm' is a core WebAssembly module, not a component; build it for wasm32-wasip2 (qntx plugin build) or wrap it with 'wasm-tools component new'",
        "plugin 'empty-component.wasm' does not fit this node: it does not export 'metadata': it is not a qntx:plugin/plugin@0.1.1 component",
        "plugin 'empty.wasm' is an empty file",
        "plugin 'noise.wasm' is not WebAssembly (no '\\0asm' header)",
        "plugin 'otherworld.wasm' does not fit this node: it imports 'acme:other/greeter@1.0.0', which this node does not offer (it offers qntx:plugin/* and the WASI 0.2 interfaces of wasi:cli, clocks, filesystem, io, random and sockets)",
        "plugin 'random.wasm' is not WebAssembly (no '\\0asm' header)",
    ];
    assert_eq!(reasons[..6], expect, "{reasons:#?}");
    assert!(
        reasons
            .iter()
            .any(|r| r.starts_with("plugin 'truncated.wasm' is not a valid component: ")),
        "{reasons:#?}"
    );
    assert_eq!(reasons.len(), 7, "{reasons:#?}");
}
