//! The guest SDK and the WIT contract, embedded in the `qntx` binary so that handlers can be
//! built away from this checkout: [`write()`] puts them in a toolchains directory.

use std::path::{Path, PathBuf};

use super::Error;

/// The WIT contract, `wit/plugin.wit`.
pub const WIT: &str = include_str!("../../../../wit/plugin.wit");

/// The workspace's lock file: handler builds use the dependency versions the SDK is tested with.
pub const CARGO_LOCK: &str = include_str!("../../../../Cargo.lock");

const ROOT_MANIFEST: &str = include_str!("../../../../Cargo.toml");
const SDK_MANIFEST: &str = include_str!("../../../../guest-sdk/Cargo.toml");

/// The SDK's source files, by path under `guest-sdk/src`.
pub(crate) const SDK_SOURCES: &[(&str, &str)] = &[
    (
        "config.rs",
        include_str!("../../../../guest-sdk/src/config.rs"),
    ),
    (
        "handler.rs",
        include_str!("../../../../guest-sdk/src/handler.rs"),
    ),
    ("job.rs", include_str!("../../../../guest-sdk/src/job.rs")),
    (
        "job_error.rs",
        include_str!("../../../../guest-sdk/src/job_error.rs"),
    ),
    ("lib.rs", include_str!("../../../../guest-sdk/src/lib.rs")),
    ("log.rs", include_str!("../../../../guest-sdk/src/log.rs")),
    (
        "plugin.rs",
        include_str!("../../../../guest-sdk/src/plugin.rs"),
    ),
    (
        "pulse.rs",
        include_str!("../../../../guest-sdk/src/pulse.rs"),
    ),
    (
        "registration.rs",
        include_str!("../../../../guest-sdk/src/registration.rs"),
    ),
    (
        "store.rs",
        include_str!("../../../../guest-sdk/src/store.rs"),
    ),
];

/// Where [`write()`] put things.
#[derive(Debug, Clone)]
pub struct SdkDirs {
    /// The directory holding `plugin.wit`.
    pub wit: PathBuf,
    /// The `qntx-guest` crate.
    pub guest_sdk: PathBuf,
}

/// Write the WIT contract and the SDK crate under `dir` (`dir/wit`, `dir/guest-sdk`). Files
/// whose content is already right are left alone, so cargo's fingerprints stay valid and the
/// SDK is compiled once for every handler.
///
/// # Errors
///
/// [`Error::Io`] when a file cannot be written.
pub fn write(dir: &Path) -> Result<SdkDirs, Error> {
    let wit = dir.join("wit");
    let guest_sdk = dir.join("guest-sdk");
    write_if_changed(&wit.join("plugin.wit"), WIT)?;
    write_if_changed(&guest_sdk.join("Cargo.toml"), &sdk_manifest())?;
    for (name, text) in SDK_SOURCES {
        write_if_changed(&guest_sdk.join("src").join(name), text)?;
    }
    Ok(SdkDirs { wit, guest_sdk })
}

/// The SDK's manifest with the workspace's inherited values filled in, as a crate of its own.
fn sdk_manifest() -> String {
    let root: toml::Table = ROOT_MANIFEST.parse().expect("the root Cargo.toml is valid");
    let mut manifest: toml::Table = SDK_MANIFEST.parse().expect("guest-sdk/Cargo.toml is valid");
    let workspace = &root["workspace"];
    if let Some(toml::Value::Table(package)) = manifest.get_mut("package") {
        for (key, value) in package.iter_mut() {
            if inherits(value) {
                *value = workspace["package"][key.as_str()].clone();
            }
        }
    }
    if let Some(toml::Value::Table(dependencies)) = manifest.get_mut("dependencies") {
        for (name, value) in dependencies.iter_mut() {
            if inherits(value) {
                *value = workspace["dependencies"][name.as_str()].clone();
            }
        }
    }
    manifest.remove("lints");
    toml::to_string(&manifest).expect("a TOML table serializes")
}

fn inherits(value: &toml::Value) -> bool {
    value.get("workspace").and_then(toml::Value::as_bool) == Some(true)
}

/// Write `text` to `path` unless it already holds exactly that; through a temporary file, so a
/// concurrent reader sees the old or the new content, never a part.
pub(crate) fn write_if_changed(path: &Path, text: &str) -> Result<(), Error> {
    if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
        return Ok(());
    }
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let temp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&temp, text).map_err(io)?;
    std::fs::rename(&temp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sdk_source_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-sdk/src");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let embedded: Vec<&str> = SDK_SOURCES.iter().map(|(name, _)| *name).collect();
        assert_eq!(on_disk, embedded, "update SDK_SOURCES");
    }

    #[test]
    fn the_sdk_manifest_stands_alone() {
        let manifest: toml::Table = sdk_manifest().parse().unwrap();
        assert_eq!(manifest["package"]["name"].as_str(), Some("qntx-guest"));
        assert_eq!(manifest["package"]["edition"].as_str(), Some("2024"));
        assert!(manifest["dependencies"]["wit-bindgen"]["version"].is_str());
        assert!(!sdk_manifest().contains("workspace"));
    }
}
