//! The compile cache: a restart with unchanged plugins compiles nothing; a corrupted or
//! tampered entry is detected, rebuilt, and never executed.

use std::path::PathBuf;

use qntx::pulse::JobStatus;
use qntx::runtime::CompileStats;
use serde_json::json;

use crate::fixtures::{Env, guests};

fn entries(env: &Env) -> Vec<PathBuf> {
    let dir = qntx::node::cache_dir(env.data_dir());
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
        .collect();
    found.sort();
    found
}

fn start_and_run(env: &Env) -> CompileStats {
    let node = env.start();
    let id = env.enqueue("probe/ok", json!({ "cached": true }));
    node.notify();
    assert_eq!(env.wait_final(&id).status, JobStatus::Completed);
    node.compile_stats()
}

#[test]
fn a_second_start_with_unchanged_plugins_compiles_nothing() {
    let env = Env::with_plugins(&[&guests().probe, &guests().text]);
    let first = start_and_run(&env);
    assert_eq!((first.compiled, first.cached, first.rejected), (2, 0, 0));
    assert_eq!(entries(&env).len(), 2);
    let second = start_and_run(&env);
    assert_eq!((second.compiled, second.cached, second.rejected), (0, 2, 0));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = qntx::node::cache_dir(env.data_dir());
        let mode = std::fs::metadata(dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "only the node may use its cache");
    }
}

#[test]
fn corrupted_truncated_or_swapped_cache_entries_are_rebuilt_not_run() {
    let env = Env::with_plugins(&[&guests().probe, &guests().text]);
    start_and_run(&env);
    let [first, second] = <[PathBuf; 2]>::try_from(entries(&env)).unwrap();
    let probe =
        if std::fs::metadata(&first).unwrap().len() > std::fs::metadata(&second).unwrap().len() {
            first.clone()
        } else {
            second.clone()
        };
    let other = if probe == first { &second } else { &first };

    // One flipped byte in the compiled code.
    let mut bytes = std::fs::read(&probe).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&probe, &bytes).unwrap();
    let stats = start_and_run(&env);
    assert_eq!((stats.compiled, stats.cached, stats.rejected), (1, 1, 1));

    // A truncated entry.
    let bytes = std::fs::read(&probe).unwrap();
    std::fs::write(&probe, &bytes[..bytes.len() / 3]).unwrap();
    let stats = start_and_run(&env);
    assert_eq!((stats.compiled, stats.cached, stats.rejected), (1, 1, 1));

    // Another plugin's valid entry under this plugin's name.
    std::fs::copy(other, &probe).unwrap();
    let stats = start_and_run(&env);
    assert_eq!((stats.compiled, stats.cached, stats.rejected), (1, 1, 1));

    let stats = start_and_run(&env);
    assert_eq!(
        (stats.compiled, stats.cached, stats.rejected),
        (0, 2, 0),
        "the rebuilt entry is good"
    );
}

#[test]
fn the_cli_shares_the_node_cache() {
    let env = Env::with_plugins(&[&guests().text]);
    start_and_run_text(&env);
    let before = entries(&env);
    let text = env.plugin_dir().join(guests().text.file_name().unwrap());
    let (code, _, stderr) =
        crate::fixtures::run(env.qntx().args(["plugin", "inspect", "-vv"]).arg(&text));
    assert_eq!(code, 0, "{stderr}");
    // The CLI's engine runs without the pooling allocator, which does not change compiled code.
    assert!(
        stderr.contains("component loaded from the compile cache"),
        "{stderr}"
    );
    assert!(!stderr.contains("component compiled"), "{stderr}");
    assert_eq!(entries(&env), before);
}

fn start_and_run_text(env: &Env) {
    let node = env.start();
    let id = env.enqueue("text/echo", json!({}));
    node.notify();
    assert_eq!(env.wait_final(&id).status, JobStatus::Completed);
}
