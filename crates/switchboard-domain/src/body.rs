//! The rules of a message body, written once for every path that writes one: a
//! visitor's `send`, an agent's reply and note (REST and socket), an integration's
//! post with an API token, and canned responses.
//!
//! - Whitespace at either end is trimmed; what is left is stored as it was sent.
//! - A body with nothing visible in it (only whitespace, zero-width characters, bidi
//!   marks, joiners, fillers, variation selectors…) is refused as empty, unless the
//!   message has attachments: it is then stored with an empty body.
//! - NUL and the other control characters but tab, line feed and carriage return are
//!   refused, and so are Unicode noncharacters (U+FDD0–U+FDEF and the last two code
//!   points of every plane). They are refused, never stripped: a client that sends
//!   them has a bug to see, and what is stored is exactly what was sent.
//! - At most `max_chars` characters (Unicode scalar values) once trimmed; the server's
//!   default is [`MAX_BODY_CHARS`] (`limits.max_message_chars`).

use crate::ValidationError;

/// The default longest body, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;

/// Characters that show nothing on their own: a body made only of these is empty.
pub fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}' // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{17B4}' | '\u{17B5}' // Khmer inherent vowels
            | '\u{180B}'..='\u{180F}' // Mongolian variation selectors and vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space, non-joiner, joiner; LRM, RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}' // bidi isolates, deprecated format characters
            | '\u{2800}' // braille blank
            | '\u{FE00}'..='\u{FE0F}' // variation selectors
            | '\u{FEFF}' // zero-width no-break space (BOM)
            | '\u{E0000}'..='\u{E007F}' // tags
            | '\u{E0100}'..='\u{E01EF}' // variation selectors supplement
        )
}

/// U+FDD0–U+FDEF and U+xFFFE, U+xFFFF of every plane: never characters to exchange.
pub fn is_noncharacter(c: char) -> bool {
    let u = c as u32;
    (0xFDD0..=0xFDEF).contains(&u) || (u & 0xFFFE) == 0xFFFE
}

/// Checks a body and returns what is stored (trimmed). `attachments` says whether the
/// message carries files, which may then go without text.
pub fn message_body(raw: &str, max_chars: usize, attachments: bool) -> Result<String, ValidationError> {
    if let Some(c) = raw.chars().find(|c| (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || is_noncharacter(*c)) {
        let what = if is_noncharacter(c) { "Unicode noncharacters" } else { "control characters (NUL included)" };
        return Err(ValidationError::new("body", format!("must not contain {what}: U+{:04X}", c as u32)));
    }
    let body = raw.trim();
    if body.chars().all(is_invisible) {
        return match attachments {
            true => Ok(String::new()),
            false => Err(ValidationError::new(
                "body",
                "must not be empty (nothing visible once whitespace and invisible characters are left out)",
            )),
        };
    }
    if body.chars().count() > max_chars {
        return Err(ValidationError::new("body", format!("must be at most {max_chars} characters")));
    }
    Ok(body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(raw: &str) -> String {
        message_body(raw, 20, false).unwrap_err().to_string()
    }

    #[test]
    fn a_body_is_trimmed_and_kept_as_sent() {
        assert_eq!(message_body("  Hello\u{200D}👩‍💻 \n", 20, false).unwrap(), "Hello\u{200D}👩‍💻");
        assert_eq!(message_body("\u{200F}שלום", 20, false).unwrap(), "\u{200F}שלום", "a mark inside the text stays");
        assert_eq!(message_body("a\tb\r\nc", 20, false).unwrap(), "a\tb\r\nc");
    }

    #[test]
    fn nothing_visible_is_empty() {
        for raw in [
            "",
            "   ",
            "\n\t",
            "\u{200B}",
            "\u{200E}\u{200F}",
            "\u{2066}\u{2069}",
            " \u{FEFF} \u{2060}",
            "\u{3164}",
            "\u{FE0F}",
            "\u{00AD}",
        ] {
            assert!(refused(raw).contains("must not be empty"), "{raw:?}");
        }
        assert_eq!(message_body("\u{200B} ", 20, true).unwrap(), "", "files may go without text");
    }

    #[test]
    fn nul_controls_and_noncharacters_are_refused() {
        assert!(refused("a\0b").contains("U+0000"));
        assert!(refused("bell\u{7}").contains("control"));
        assert!(refused("c1\u{85}x").contains("control") || refused("c1\u{85}x").contains("U+0085"));
        assert!(refused("x\u{FFFE}").contains("noncharacters"));
        assert!(refused("x\u{FDD0}").contains("noncharacters"));
        assert!(refused("x\u{10FFFF}").contains("noncharacters"));
        assert!(message_body("\u{0}", 20, true).is_err(), "even beside a file");
    }

    #[test]
    fn the_length_is_counted_in_characters_after_trimming() {
        assert!(message_body(&"ش".repeat(20), 20, false).is_ok());
        assert!(message_body(&format!("  {}  ", "ش".repeat(20)), 20, false).is_ok());
        assert!(refused(&"ش".repeat(21)).contains("at most 20"));
    }
}
