//! The on-disk cache of compiled components, so that a node restarting with unchanged plugins
//! compiles nothing.
//!
//! An entry is `<dir>/<wasm sha256>-<engine key>.cwasm`, where the engine key hashes wasmtime's
//! `precompile_compatibility_hash` (wasmtime version, target, and every engine setting that
//! changes compiled code, such as fuel metering). Its first line is a header naming the wasm's
//! sha256, the engine key and the sha256 of the compiled bytes that follow.
//!
//! Entries are written only by the node, atomically (a temporary file in the same directory,
//! then a rename), in a directory created with mode 0700. Before compiled code is used, the
//! whole entry is read into memory and the header checked against the wanted wasm and engine
//! and against the sha256 of the bytes read; those same bytes are then deserialized, so nothing
//! can change between the check and the use. An entry that fails a check is reported and
//! rebuilt, never executed. The checks catch corruption, truncation, entries renamed or copied
//! from another plugin or engine, and edits by anything that does not also rewrite the header;
//! someone able to write the node's private cache directory at will could equally replace the
//! plugin files, so the cache trusts no more than the plugin directory does.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// The first bytes of every entry: the format and its version.
const MAGIC: &str = "qntx-cwasm-1";

/// A directory of compiled components for one engine.
#[derive(Debug)]
pub(crate) struct ComponentCache {
    dir: PathBuf,
    engine_key: String,
}

/// What the cache holds for one component.
pub(crate) enum Lookup {
    /// A verified entry, deserialized.
    Hit(Component),
    /// No entry.
    Miss,
    /// An entry that failed verification or deserialization: why.
    Rejected(String),
}

impl ComponentCache {
    /// The cache in `dir` (created with mode 0700 if missing) for `engine`.
    ///
    /// # Errors
    ///
    /// When the directory cannot be created.
    pub(crate) fn open(dir: &Path, engine: &Engine) -> std::io::Result<Self> {
        create_private_dir(dir)?;
        let mut hasher = std::hash::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Ok(Self {
            dir: dir.to_owned(),
            engine_key: format!("{:016x}", hasher.finish()),
        })
    }

    /// The entry file for a wasm with this sha256.
    pub(crate) fn path(&self, wasm_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{wasm_sha256}-{}.cwasm", self.engine_key))
    }

    /// The verified compiled component for a wasm with this sha256, if cached.
    pub(crate) fn load(&self, engine: &Engine, wasm_sha256: &str) -> Lookup {
        let path = self.path(wasm_sha256);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Lookup::Miss,
            Err(error) => return Lookup::Rejected(format!("reading it: {error}")),
        };
        let Some(newline) = bytes.iter().position(|&b| b == b'\n') else {
            return Lookup::Rejected("it has no header".into());
        };
        let (header, code) = (&bytes[..newline], &bytes[newline + 1..]);
        let expected = self.header(wasm_sha256, code);
        if header != expected.as_bytes() {
            return Lookup::Rejected(
                "its header does not match its contents, the wasm or this engine".into(),
            );
        }
        deserialize(engine, code).map_or_else(
            |error| Lookup::Rejected(format!("deserializing it: {error:#}")),
            Lookup::Hit,
        )
    }

    /// Store the compiled form of a wasm with this sha256.
    ///
    /// # Errors
    ///
    /// When serializing or writing fails; the cache is then only missing an entry.
    pub(crate) fn store(&self, wasm_sha256: &str, component: &Component) -> anyhow::Result<()> {
        let code = component.serialize()?;
        let header = self.header(wasm_sha256, &code);
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(header.as_bytes())?;
        file.write_all(b"\n")?;
        file.write_all(&code)?;
        file.as_file().sync_all()?;
        file.persist(self.path(wasm_sha256))?;
        Ok(())
    }

    fn header(&self, wasm_sha256: &str, code: &[u8]) -> String {
        format!(
            "{MAGIC} wasm={wasm_sha256} engine={} code={}",
            self.engine_key,
            hex::encode(Sha256::digest(code))
        )
    }
}

/// Turn verified compiled bytes back into a component.
#[expect(
    unsafe_code,
    reason = "wasmtime can only load precompiled code through an unsafe constructor"
)]
fn deserialize(engine: &Engine, code: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `Component::deserialize` trusts its input to be code that wasmtime produced.
    // `code` was produced by `Component::serialize` of this node (the cache directory is
    // private to it and written only by `ComponentCache::store`), and the caller has just
    // checked these exact in-memory bytes against the sha256 recorded when they were written,
    // so they are what the node serialized. wasmtime itself refuses bytes compiled for
    // another engine configuration or version.
    unsafe { Component::deserialize(engine, code) }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    builder.create(dir)
}
