//! Text normalisation for full-text search, shared by every store backend so that
//! SQLite and PostgreSQL find exactly the same things.
//!
//! Both the indexed text and the query go through [`normalize`], which folds what
//! people type interchangeably: Arabic/Persian letter variants (ي/ی/ى, ك/ک, ة/ه,
//! hamza carriers), diacritics in every script (harakat, niqqud, Latin accents),
//! Persian/Arabic digits, the Persian zero-width non-joiner, and Turkish İ/ı.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::Attachment;

/// Folds `text` to the form stored in, and looked up from, the search index.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            // Tatweel (kashida) only stretches a word; the zero-width non-joiner
            // is typed or omitted at will in Persian words.
            '\u{0640}' | '\u{200C}' | '\u{200D}' | '\u{200E}' | '\u{200F}' => {}
            // Farsi yeh, alef maksura and yeh with hamza all search as Arabic yeh.
            '\u{06CC}' | '\u{0649}' | '\u{0626}' => out.push('\u{064A}'),
            // Keheh (Persian kaf) searches as Arabic kaf.
            '\u{06A9}' => out.push('\u{0643}'),
            // Teh marbuta and heh with yeh above search as heh.
            '\u{0629}' | '\u{06C0}' | '\u{06D5}' => out.push('\u{0647}'),
            // Alef variants not decomposed by NFKD (wasla) and waw with hamza.
            '\u{0671}' => out.push('\u{0627}'),
            '\u{0624}' => out.push('\u{0648}'),
            // Arabic-Indic and extended (Persian) digits.
            '\u{0660}'..='\u{0669}' => out.push(char::from(b'0' + (c as u32 - 0x0660) as u8)),
            '\u{06F0}'..='\u{06F9}' => out.push(char::from(b'0' + (c as u32 - 0x06F0) as u8)),
            // Turkish dotless i; dotted capital İ decomposed above into I + mark.
            '\u{0131}' => out.push('i'),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// Splits a user's query into normalised words (letters and digits in any script).
/// At most 16 words are kept, each at most 64 characters, so a query stays cheap.
/// What a message is found by, as every backend indexes it: its body and its
/// attachments' names, [`normalize`]d.
pub fn message_text(body: &str, attachments: &[Attachment]) -> String {
    let names = attachments.iter().map(|a| a.filename.as_str());
    normalize(&std::iter::once(body).chain(names).collect::<Vec<_>>().join(" "))
}

pub fn query_terms(query: &str) -> Vec<String> {
    normalize(query)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(64).collect())
        .take(16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) {
        assert_eq!(normalize(a), normalize(b), "{a:?} and {b:?} should fold together");
    }

    #[test]
    fn persian_and_arabic_yeh_and_kaf_are_one_letter() {
        same("كتاب", "کتاب");
        same("علي", "علی");
        same("مصطفى", "مصطفي");
    }

    #[test]
    fn harakat_tatweel_and_hamza_carriers_are_ignored() {
        same("مُحَمَّد", "محمد");
        same("مـــحمد", "محمد");
        same("أحمد", "احمد");
        same("إسلام", "اسلام");
        same("مدرسة", "مدرسه");
    }

    #[test]
    fn zero_width_non_joiner_does_not_split_persian_words() {
        same("می\u{200C}خواهم", "میخواهم");
    }

    #[test]
    fn hebrew_niqqud_is_ignored() {
        same("שָׁלוֹם", "שלום");
    }

    #[test]
    fn turkish_i_variants_fold_together() {
        same("İstanbul", "istanbul");
        same("ISTANBUL", "ıstanbul");
        same("KIRMIZI", "kırmızı");
    }

    #[test]
    fn latin_accents_and_case_fold() {
        same("Café Crème", "cafe creme");
    }

    #[test]
    fn digits_in_every_script_are_ascii() {
        assert_eq!(normalize("سفارش ۱۲۳ و ٤٥"), normalize("سفارش 123 و 45"));
    }

    #[test]
    fn query_terms_split_on_punctuation() {
        assert_eq!(query_terms("  Refund, order #42! "), ["refund", "order", "42"]);
        assert!(query_terms("!!! ???").is_empty());
    }
}
