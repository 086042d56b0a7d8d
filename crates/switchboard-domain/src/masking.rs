//! Masking at the point of entry: card numbers (always) and, per site, e-mail
//! addresses and phone numbers are replaced before anything is stored, so the original
//! is never written — not in the log, not in the search index, not on the contact.
//!
//! Digits are read in every script people type them in here: ASCII, Arabic-Indic
//! (`٠١٢…`) and Persian (`۰۱۲…`). A masked digit becomes [`MASK`], whatever its script;
//! separators are kept so the text still reads as "a card number was here".

use std::borrow::Cow;

/// What replaces each masked character.
pub const MASK: char = '•';

/// Which optional kinds a site masks (card numbers are always masked).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Masking {
    pub emails: bool,
    pub phones: bool,
}

/// The value of a decimal digit in any script we read (`None` for anything else).
pub fn digit(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        _ => None,
    }
}

/// Whether the digits pass the Luhn check that every payment card number passes.
pub fn luhn(digits: &[u32]) -> bool {
    let sum: u32 =
        digits.iter().rev().enumerate().map(|(i, &d)| if i % 2 == 1 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }).sum();
    !digits.is_empty() && sum.is_multiple_of(10)
}

/// `text` with card numbers, and what `masking` asks for, masked. Borrowed when
/// nothing needed masking (the common case costs no allocation).
pub fn mask(text: &str, masking: Masking) -> Cow<'_, str> {
    let has_digit = text.chars().any(|c| digit(c).is_some());
    let has_at = masking.emails && text.contains('@');
    if !has_digit && !has_at {
        return Cow::Borrowed(text);
    }
    let mut chars: Vec<char> = text.chars().collect();
    let mut changed = false;
    if has_digit {
        changed |= mask_cards(&mut chars);
    }
    if has_at {
        changed |= mask_emails(&mut chars);
    }
    if masking.phones && has_digit {
        changed |= mask_phones(&mut chars);
    }
    if changed { Cow::Owned(chars.into_iter().collect()) } else { Cow::Borrowed(text) }
}

/// Groups of digits joined by at most `max_sep` separators from `seps`: `(start, end)` index pairs
/// (end exclusive) of each group, for the run that starts at `from`.
fn digit_groups(chars: &[char], from: usize, seps: &[char], max_sep: usize) -> Vec<(usize, usize)> {
    let mut groups = Vec::new();
    let mut i = from;
    loop {
        let start = i;
        while i < chars.len() && digit(chars[i]).is_some() {
            i += 1;
        }
        if i == start {
            break;
        }
        groups.push((start, i));
        let mut next = i;
        while next < chars.len() && next - i < max_sep && seps.contains(&chars[next]) {
            next += 1;
        }
        if next > i && next < chars.len() && digit(chars[next]).is_some() {
            i = next;
        } else {
            break;
        }
    }
    groups
}

fn digits_of(chars: &[char], groups: &[(usize, usize)]) -> Vec<u32> {
    groups.iter().flat_map(|&(s, e)| chars[s..e].iter().filter_map(|&c| digit(c))).collect()
}

fn blank(chars: &mut [char], start: usize, end: usize) {
    for c in &mut chars[start..end] {
        if digit(*c).is_some() {
            *c = MASK;
        }
    }
}

/// Card numbers: 13 to 19 digits, possibly in groups split by spaces or dashes, that
/// pass the Luhn check. Within a longer run of groups, the longest valid stretch of
/// whole groups from the left is taken.
fn mask_cards(chars: &mut [char]) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() || (i > 0 && digit(chars[i - 1]).is_some()) {
            i += 1;
            continue;
        }
        let groups = digit_groups(chars, i, &[' ', '-'], 1);
        let end_of_run = groups.last().map_or(i + 1, |g| g.1);
        let mut found = None;
        'search: for first in 0..groups.len() {
            for last in (first..groups.len()).rev() {
                let digits = digits_of(chars, &groups[first..=last]);
                if (13..=19).contains(&digits.len()) && luhn(&digits) {
                    found = Some((groups[first].0, groups[last].1));
                    break 'search;
                }
            }
        }
        if let Some((start, end)) = found {
            blank(chars, start, end);
            changed = true;
        }
        i = end_of_run;
    }
    changed
}

fn local_char(c: char) -> bool {
    c.is_alphanumeric() || "._%+-'".contains(c)
}

fn domain_char(c: char) -> bool {
    c.is_alphanumeric() || c == '-' || c == '.'
}

/// E-mail addresses: something@domain.tld becomes `•••@•••` (the address's length is
/// not kept either).
fn mask_emails(chars: &mut Vec<char>) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '@' {
            i += 1;
            continue;
        }
        let mut start = i;
        while start > 0 && local_char(chars[start - 1]) {
            start -= 1;
        }
        let mut end = i + 1;
        while end < chars.len() && domain_char(chars[end]) {
            end += 1;
        }
        // A sentence's full stop after the address is not part of its domain.
        while end > i + 1 && chars[end - 1] == '.' {
            end -= 1;
        }
        let domain: String = chars[i + 1..end].iter().collect();
        let valid = start < i && domain.contains('.') && !domain.starts_with('.') && !domain.contains("..");
        if valid {
            let masked = [MASK, MASK, MASK, '@', MASK, MASK, MASK];
            chars.splice(start..end, masked);
            changed = true;
            i = start + masked.len();
        } else {
            i += 1;
        }
    }
    changed
}

/// Phone numbers: 7 to 15 digits (the most E.164 allows), an optional leading `+`,
/// groups split by up to two spaces, dashes, dots or parentheses (`) `). Dates written 2026-12-05 or
/// 05.12.2026 are left alone.
fn mask_phones(chars: &mut [char]) -> bool {
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() || (i > 0 && digit(chars[i - 1]).is_some()) {
            i += 1;
            continue;
        }
        let groups = digit_groups(chars, i, &[' ', '-', '.', '(', ')', '\u{a0}'], 2);
        let end = groups.last().map_or(i + 1, |g| g.1);
        let count: usize = groups.iter().map(|&(s, e)| e - s).sum();
        let sizes: Vec<usize> = groups.iter().map(|&(s, e)| e - s).collect();
        let date = sizes == [4, 2, 2] || sizes == [2, 2, 4];
        if (7..=15).contains(&count) && !date {
            blank(chars, i, end);
            changed = true;
        }
        i = end;
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Masking = Masking { emails: true, phones: true };
    const CARDS_ONLY: Masking = Masking { emails: false, phones: false };

    #[test]
    fn a_card_number_is_masked_with_or_without_separators() {
        assert_eq!(mask("my card is 4111 1111 1111 1111, thanks", CARDS_ONLY), "my card is •••• •••• •••• ••••, thanks");
        assert_eq!(mask("4111-1111-1111-1111", CARDS_ONLY), "••••-••••-••••-••••");
        assert_eq!(mask("5500000000000004", CARDS_ONLY), "••••••••••••••••");
        assert_eq!(mask("amex 3782 822463 10005 exp 12/27", CARDS_ONLY), "amex •••• •••••• ••••• exp 12/27");
    }

    #[test]
    fn numbers_that_fail_the_luhn_check_are_left_alone() {
        for text in ["order 4111 1111 1111 1112", "1234567890123456", "call 12 34", "2026"] {
            assert_eq!(mask(text, CARDS_ONLY), text, "{text:?}");
            assert!(matches!(mask(text, CARDS_ONLY), Cow::Borrowed(_)), "nothing masked costs no copy");
        }
    }

    #[test]
    fn card_numbers_typed_in_arabic_indic_or_persian_digits_are_masked() {
        assert_eq!(mask("بطاقتي ٤١١١ ١١١١ ١١١١ ١١١١", CARDS_ONLY), "بطاقتي •••• •••• •••• ••••");
        assert_eq!(mask("کارت من ۴۱۱۱۱۱۱۱۱۱۱۱۱۱۱۱ است", CARDS_ONLY), "کارت من •••••••••••••••• است");
        assert_eq!(mask("mixed ٤111-١١١١-1111-۱۱۱۱", CARDS_ONLY), "mixed ••••-••••-••••-••••");
    }

    #[test]
    fn a_card_number_next_to_other_numbers_is_still_found() {
        assert_eq!(mask("4111 1111 1111 1111 12 27", CARDS_ONLY), "•••• •••• •••• •••• 12 27");
        assert_eq!(mask("ref 99 4111111111111111", CARDS_ONLY), "ref 99 ••••••••••••••••");
    }

    #[test]
    fn emails_are_masked_only_where_the_site_asks() {
        let text = "write to ana.lopez+shop@example.co.uk.";
        assert_eq!(mask(text, CARDS_ONLY), text);
        assert_eq!(mask(text, ALL), "write to •••@•••.");
        assert_eq!(mask("بريدي ali@example.com شكرا", ALL), "بريدي •••@••• شكرا");
        assert_eq!(mask("@ana on twitter, or me@localhost", ALL), "@ana on twitter, or me@localhost", "no domain, no address");
    }

    #[test]
    fn phones_are_masked_only_where_the_site_asks_and_dates_survive() {
        let text = "call +1 (555) 010-4477 after 2026-12-05";
        assert_eq!(mask(text, CARDS_ONLY), text);
        assert_eq!(mask(text, ALL), "call +• (•••) •••-•••• after 2026-12-05");
        assert_eq!(mask("رقمي ۰۹۱۲ ۳۴۵ ۶۷۸۹", ALL), "رقمي •••• ••• ••••");
        assert_eq!(mask("٠٥٠١٢٣٤٥٦٧", ALL), "••••••••••");
        assert_eq!(mask("room 12, floor 3, 05.12.2026", ALL), "room 12, floor 3, 05.12.2026");
    }

    #[test]
    fn luhn_agrees_with_known_numbers() {
        let digits = |s: &str| s.chars().filter_map(digit).collect::<Vec<_>>();
        assert!(luhn(&digits("79927398713")));
        assert!(!luhn(&digits("79927398710")));
        assert!(!luhn(&[]));
    }
}
