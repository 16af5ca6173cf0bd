//! `--lang` of `qntx handler create`: [`Language`] as a command-line value, so the toolchain
//! does not depend on clap.

use crate::toolchain::Language;

/// The language of a handler's source, as `--lang` takes it.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(super) enum Lang {
    /// One `.rs` file using `qntx_guest::export_handler!`.
    Rust,
    /// One `.py` file defining `handle(payload, job)`.
    Python,
    /// One `.js` file defining `handle(payload, job)`.
    Js,
    /// A ready component.
    Wasm,
}

impl From<Lang> for Language {
    fn from(lang: Lang) -> Self {
        match lang {
            Lang::Rust => Self::Rust,
            Lang::Python => Self::Python,
            Lang::Js => Self::Js,
            Lang::Wasm => Self::Wasm,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    #[test]
    fn every_language_has_its_attestation_name_on_the_command_line() {
        for lang in Lang::value_variants() {
            let name = lang.to_possible_value().expect("no variant is skipped");
            assert_eq!(name.get_name(), Language::from(*lang).as_str());
        }
    }
}
