//! Handler names.

use super::{Error, PREFIX};
use crate::plugins::check_plugin_name;

/// Handler names follow the plugin-name rule (1 to 64 of lowercase letters, digits and `-`,
/// starting with a letter or digit): a handler's name is its identity, like a plugin's.
///
/// # Errors
///
/// [`Error::InvalidName`] with the rule.
pub fn check_name(name: &str) -> Result<(), Error> {
    check_plugin_name(name)
        .map_err(|reason| Error::InvalidName(reason.replacen("plugin name", "handler name", 1)))
}

/// The name Pulse knows a handler by: `handler/NAME`.
pub fn registered_name(name: &str) -> String {
    format!("{PREFIX}{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_names_are_identities() {
        assert!(check_name("word-freq").is_ok());
        assert!(check_name("w2").is_ok());
        for bad in ["", "Word", "a_b", "a/b", "-a", "a b", "handler"] {
            let error = check_name(bad).unwrap_err().to_string();
            assert!(error.contains("handler name"), "{bad}: {error}");
        }
        assert_eq!(registered_name("x"), "handler/x");
    }
}
