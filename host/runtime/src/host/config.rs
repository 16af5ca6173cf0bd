//! `qntx:plugin/config`: the plugin's manifest `[config]`, the same in every instance.

use crate::JobCtx;
use crate::bindings::config;

impl config::Host for JobCtx {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(self
            .config
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| value.clone()))
    }

    fn get_all(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self.config.to_vec())
    }
}
