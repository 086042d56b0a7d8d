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

/// Opens a hit in a [`snippet`]. A control character, so it never occurs in text a
/// person typed (the snippet drops any from the body) and a client can split on it and
/// render each part as plain text, never as HTML.
pub const HIT_START: char = '\u{1}';
/// Closes a hit in a [`snippet`].
pub const HIT_END: char = '\u{2}';

/// A character that belongs to a word as [`normalize`] sees it: letters, digits, and
/// what it drops inside words (marks, tatweel, joiners).
fn in_word(c: char) -> bool {
    c.is_alphanumeric() || is_combining_mark(c) || matches!(c, '\u{0640}' | '\u{200C}' | '\u{200D}')
}

/// The part of `body` around its first hit, at most `max_chars` characters of it, with
/// each word that one of `terms` (from [`query_terms`]) begins wrapped in
/// [`HIT_START`] … [`HIT_END`]; `…` marks where the body was cut. Words are compared
/// [`normalize`]d, as search finds them, and shown as written.
pub fn snippet(body: &str, terms: &[String], max_chars: usize) -> String {
    let chars: Vec<char> = body.chars().map(|c| if c == HIT_START || c == HIT_END { ' ' } else { c }).collect();
    let mut hits = vec![false; chars.len()];
    let mut i = 0;
    while i < chars.len() {
        if !in_word(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && in_word(chars[i]) {
            i += 1;
        }
        let word = normalize(&chars[start..i].iter().collect::<String>());
        if word.split(|c: char| !c.is_alphanumeric()).any(|w| terms.iter().any(|t| !t.is_empty() && w.starts_with(t.as_str()))) {
            hits[start..i].iter_mut().for_each(|h| *h = true);
        }
    }
    let first = hits.iter().position(|h| *h).unwrap_or(0);
    // A little context before the first hit, starting at a word's beginning.
    let mut start = first.saturating_sub(max_chars / 3);
    while start > 0 && start < first && in_word(chars[start - 1]) {
        start += 1;
    }
    let mut end = (start + max_chars).min(chars.len());
    while end < chars.len() && end > first + 1 && in_word(chars[end - 1]) && in_word(chars[end]) {
        end -= 1;
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    for k in start..end {
        if hits[k] && (k == start || !hits[k - 1]) {
            out.push(HIT_START);
        }
        out.push(chars[k]);
        if hits[k] && (k + 1 == end || !hits[k + 1]) {
            out.push(HIT_END);
        }
    }
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mark_the_words_found_as_they_were_written() {
        let terms = query_terms("siparis");
        assert_eq!(snippet("Sipariş numaram 1234, kargom nerede?", &terms, 200), "\u{1}Sipariş\u{2} numaram 1234, kargom nerede?");
        let arabic = "مَرْحَبًا، أين طلبي؟";
        assert_eq!(snippet(arabic, &query_terms("مرحبا"), 200), "\u{1}مَرْحَبًا\u{2}، أين طلبي؟", "harakat stay inside the hit");
        let persian = "سفارش من کی می‌رسد؟";
        assert_eq!(snippet(persian, &query_terms("ميرسد"), 200), "سفارش من کی \u{1}می‌رسد\u{2}؟", "a word with a ZWNJ is one word");
        assert_eq!(snippet("no \u{1}markers\u{2} of theirs", &query_terms("zzz"), 200), "no  markers  of theirs");
    }

    #[test]
    fn a_long_body_is_cut_around_its_first_hit() {
        let body = format!("{} the refund arrived {}", "word ".repeat(100), "later ".repeat(100));
        let s = snippet(&body, &query_terms("refund"), 60);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("\u{1}refund\u{2}"), "{s}");
        assert!(s.chars().count() <= 60 + 4, "{s}");
        assert!(!s.contains("wor…") && !s.starts_with("…ord"), "cut between words: {s}");
    }

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
