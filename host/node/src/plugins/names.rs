//! Naming rules for plugins and handlers.

/// A name that cannot be a plugin's: reserved for user handlers (`handler/NAME`).
pub const RESERVED_PLUGIN_NAME: &str = "handler";

/// Plugin names: 1 to 64 of lowercase letters, digits and `-`, starting with a letter or digit.
///
/// # Errors
///
/// The rule that `name` breaks.
pub fn check_plugin_name(name: &str) -> Result<(), String> {
    check(name, "plugin", |c| c == '-')?;
    if name == RESERVED_PLUGIN_NAME {
        return Err(format!(
            "plugin name '{name}' is reserved for user handlers"
        ));
    }
    Ok(())
}

/// Handler names: 1 to 64 of lowercase letters, digits, `-` and `_`, starting with a letter or
/// digit.
///
/// # Errors
///
/// The rule that `name` breaks.
pub fn check_handler_name(name: &str) -> Result<(), String> {
    check(name, "handler", |c| c == '-' || c == '_')
}

fn check(name: &str, what: &str, also: impl Fn(char) -> bool) -> Result<(), String> {
    let ok_start = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || also(c));
    if name.is_empty() || name.len() > 64 || !ok_start || !ok_chars {
        return Err(format!(
            "{what} name '{}' is invalid: use 1 to 64 lowercase letters, digits{}, starting with a letter or digit",
            shown(name),
            if also('_') {
                ", '-' and '_'"
            } else {
                " and '-'"
            }
        ));
    }
    Ok(())
}

/// A guest's string for an error message: at most 64 characters, escaped.
pub(crate) fn shown(text: &str) -> String {
    let mut shown: String = text.chars().take(64).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    shown.escape_debug().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rules() {
        assert!(check_plugin_name("text").is_ok());
        assert!(check_plugin_name("code-2").is_ok());
        assert!(check_plugin_name("Text").is_err());
        assert!(check_plugin_name("-x").is_err());
        assert!(check_plugin_name("a_b").is_err());
        assert!(check_plugin_name("").is_err());
        assert!(check_plugin_name(&"a".repeat(65)).is_err());
        assert!(
            check_plugin_name("handler")
                .unwrap_err()
                .contains("reserved")
        );
        assert!(check_handler_name("word_count").is_ok());
        assert!(check_handler_name("a/b").is_err());
    }
}
