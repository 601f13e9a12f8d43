//! Names given from outside (holders, reasons): checked on the way in, escaped on the way out,
//! so that a name can neither forge table lines nor send terminal escapes.

use std::borrow::Cow;

/// Longest name accepted, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

/// Characters a name may not hold: control characters (C0, DEL, C1: newline, escape...) and the
/// invisible ones that reorder or hide text (bidirectional overrides, zero-width, line and
/// paragraph separators).
fn unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Why `text` cannot be a name (`what` names it in the message): empty, longer than
/// [`MAX_NAME_BYTES`], or holding a control or invisible character.
pub fn check_name(what: &str, text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err(format!("the {what} must be named"));
    }
    if text.len() > MAX_NAME_BYTES {
        return Err(format!("the {what} is {} bytes long, more than {MAX_NAME_BYTES}", text.len()));
    }
    if let Some(c) = text.chars().find(|&c| unsafe_char(c)) {
        return Err(format!("the {what} holds the control or invisible character {}", c.escape_unicode()));
    }
    Ok(())
}

/// `text` with every control or invisible character written as `\u{..}`: safe to print in a
/// table or on a terminal whatever an old ledger holds.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| if unsafe_char(c) { c.escape_unicode().to_string() } else { c.to_string() })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("holder", "job-42 (team α)").is_ok());
        assert!(check_name("holder", &"x".repeat(256)).is_ok());
        assert!(check_name("holder", &"x".repeat(257)).unwrap_err().contains("257 bytes"));
        assert!(check_name("holder", " ").is_err());
        for bad in ["a\nb", "a\rb", "\u{1b}[2J", "a\u{7f}", "a\u{85}", "a\u{202e}b", "a\u{2028}b", "a\tb"] {
            assert!(check_name("holder", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escaping_leaves_no_control_character() {
        assert_eq!(escape("job-1"), "job-1");
        assert_eq!(escape("a\nb\u{1b}[2J"), "a\\u{a}b\\u{1b}[2J");
        assert_eq!(escape("x\u{202e}y"), "x\\u{202e}y");
    }
}
