//! A strength estimate for the master-password meter.
//!
//! [`check_password_policy`] decides what is *refused*; this module only grades what is
//! accepted, so the meter and the create button always agree: a password the policy
//! refuses scores 0 and carries the policy's reason.
//!
//! The estimate counts bits an attacker must guess, pattern-aware in a small way:
//! - each character costs `log2(pool)`, the pool being the character classes used;
//! - a repeated character, or the third and later character of a run such as `abc`,
//!   `123` or `cba`, costs 1 bit;
//! - a common password or word from the policy list, anywhere inside, costs ~8 bits;
//! - a passphrase (three or more letter-only words) costs ~12.9 bits per word (a
//!   diceware-sized list), whichever estimate is lower wins.
//!
//! Argon2id makes every guess expensive, so the bands are: under 35 bits weak, under 50
//! fair, under 65 good, else strong. The estimate never leaves the password: only a
//! score, a label and a fixed hint do.

use serde::Serialize;
use zeroize::Zeroizing;

use super::password_policy::{check_password_policy, COMMON};
use crate::secret::{ExposeSecret, SecretString};
use crate::CoreError;

/// Bits for one word of a diceware-sized list (log2 7776).
const BITS_PER_WORD: f64 = 12.925;
/// Bits for a word found in the common list (~130 entries, plus capitalisation).
const BITS_PER_COMMON_WORD: f64 = 8.0;
/// Bits for a predictable character (a repeat, or a run's continuation).
const BITS_PER_PREDICTABLE_CHAR: f64 = 1.0;
/// Common-list entries shorter than this are not looked for inside a password.
const MIN_WORD_LEN: usize = 4;

/// The meter's reading. `score` is 0 (refused) to 4 (strong).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordStrength {
    pub score: u8,
    /// A short label for the meter: "Too weak", "Weak", "Fair", "Good", "Strong".
    pub label: &'static str,
    /// Whether the policy accepts it (score ≥ 1).
    pub acceptable: bool,
    /// One fixed hint, or none when there is nothing to improve.
    pub hint: Option<&'static str>,
    /// The estimate in whole bits (0 when refused).
    pub bits: u32,
}

/// Grades a candidate master password. Empty input is score 0 without a hint.
pub fn estimate_password_strength(password: &SecretString) -> PasswordStrength {
    // EXPOSE: inspected locally to grade it; only a score and a fixed hint leave.
    let raw = password.expose_secret();
    if raw.is_empty() {
        return refused(None);
    }
    if let Err(CoreError::WeakPassword(reason)) = check_password_policy(password) {
        return refused(Some(reason));
    }
    let chars: Zeroizing<Vec<char>> = Zeroizing::new(raw.chars().map(lower).collect());
    let patterns = char_bits(raw, &chars);
    let bits = passphrase_bits(&chars).map_or(patterns.bits, |w| w.min(patterns.bits));
    let (score, label) = match bits {
        b if b < 35.0 => (1, "Weak"),
        b if b < 50.0 => (2, "Fair"),
        b if b < 65.0 => (3, "Good"),
        _ => (4, "Strong"),
    };
    let hint = match score {
        1 | 2 if patterns.common_word => Some("Common words and names are guessed first"),
        1 | 2 if patterns.runs => Some("Avoid sequences like abc or 123"),
        1 | 2 if patterns.repeats => Some("Avoid repeated characters"),
        1 | 2 => Some("Add another word or two: length beats symbols"),
        3 => Some("One more word makes it strong"),
        _ => None,
    };
    PasswordStrength {
        score,
        label,
        acceptable: true,
        hint,
        // Rounded down; the value is at most a few thousand bits (length is unbounded,
        // but the saturating float-to-int cast keeps it in range).
        bits: bits as u32,
    }
}

fn refused(reason: Option<&'static str>) -> PasswordStrength {
    PasswordStrength {
        score: 0,
        label: "Too weak",
        acceptable: false,
        hint: reason,
        bits: 0,
    }
}

fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

struct Patterns {
    bits: f64,
    common_word: bool,
    runs: bool,
    repeats: bool,
}

/// The character-level estimate over `lowered` (one lower-cased char per input char).
fn char_bits(raw: &str, lowered: &[char]) -> Patterns {
    let pool = pool_size(raw);
    let per_char = pool.log2();
    let mut out = Patterns {
        bits: 0.0,
        common_word: false,
        runs: false,
        repeats: false,
    };
    let mut i = 0;
    while i < lowered.len() {
        if let Some(len) = common_word_at(lowered, i) {
            out.bits += BITS_PER_COMMON_WORD;
            out.common_word = true;
            i += len;
            continue;
        }
        let c = lowered[i];
        let prev = i.checked_sub(1).map(|p| lowered[p]);
        let before = i.checked_sub(2).map(|p| lowered[p]);
        if prev == Some(c) {
            out.bits += BITS_PER_PREDICTABLE_CHAR;
            out.repeats = true;
        } else if let (Some(p), Some(b)) = (prev, before) {
            let step = c as i64 - p as i64;
            if step.abs() == 1 && p as i64 - b as i64 == step {
                out.bits += BITS_PER_PREDICTABLE_CHAR;
                out.runs = true;
            } else {
                out.bits += per_char;
            }
        } else {
            out.bits += per_char;
        }
        i += 1;
    }
    out
}

/// The size of the character classes `raw` draws from.
fn pool_size(raw: &str) -> f64 {
    let has = |f: fn(char) -> bool| raw.chars().any(f);
    let mut pool = 0.0;
    if has(|c| c.is_ascii_lowercase()) {
        pool += 26.0;
    }
    if has(|c| c.is_ascii_uppercase()) {
        pool += 26.0;
    }
    if has(|c| c.is_ascii_digit()) {
        pool += 10.0;
    }
    if has(|c| c == ' ') {
        pool += 1.0;
    }
    if has(|c| c.is_ascii_punctuation()) {
        pool += 33.0;
    }
    if has(|c| !c.is_ascii()) {
        pool += 100.0;
    }
    f64::max(pool, 2.0)
}

/// The length of the longest common-list entry (of at least [`MIN_WORD_LEN`] chars)
/// starting at `at`, if any.
fn common_word_at(lowered: &[char], at: usize) -> Option<usize> {
    COMMON
        .iter()
        .filter(|w| w.chars().count() >= MIN_WORD_LEN)
        .filter(|w| {
            let mut rest = lowered[at..].iter();
            w.chars().all(|wc| rest.next() == Some(&wc))
        })
        .map(|w| w.chars().count())
        .max()
}

/// For three or more letter-only words split by spaces or `-_.,`: bits per word plus
/// a little for the separator choice. `None` if it is not shaped like a passphrase.
fn passphrase_bits(lowered: &[char]) -> Option<f64> {
    let is_sep = |c: &char| matches!(c, ' ' | '-' | '_' | '.' | ',');
    let words: Vec<&[char]> = lowered.split(is_sep).filter(|w| !w.is_empty()).collect();
    let letters_only = words.iter().all(|w| w.iter().all(|c| c.is_alphabetic()));
    if words.len() < 3 || !letters_only {
        return None;
    }
    Some(words.len() as f64 * BITS_PER_WORD + 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::secret_string;

    fn grade(pw: &str) -> PasswordStrength {
        estimate_password_strength(&secret_string(pw.into()))
    }

    #[test]
    fn empty_and_refused_passwords_score_zero_with_the_policy_reason() {
        let empty = grade("");
        assert_eq!(
            (empty.score, empty.acceptable, empty.hint),
            (0, false, None)
        );
        let short = grade("Sh0rt!pw");
        assert_eq!(short.score, 0);
        assert_eq!(short.hint, Some("use at least 10 characters"));
        for pw in ["password123", "qwertyuiop", "1234567890", "abcabcabcabc"] {
            let g = grade(pw);
            assert_eq!(
                (g.score, g.acceptable, g.label),
                (0, false, "Too weak"),
                "{pw}"
            );
            assert!(g.hint.is_some(), "{pw}");
        }
    }

    #[test]
    fn patterned_passwords_that_pass_the_policy_still_grade_low() {
        for (pw, at_most) in [
            ("aaaaaaaaab", 1),
            ("monkeybanana42", 1),
            ("abcdefghij1", 1),
            ("Password1234abc", 2),
        ] {
            let g = grade(pw);
            assert!(g.acceptable, "{pw}: the policy accepts it");
            assert!(g.score <= at_most, "{pw}: {g:?}");
            assert!(g.hint.is_some(), "{pw}");
        }
        assert_eq!(
            grade("monkeybanana42").hint,
            Some("Common words and names are guessed first")
        );
        assert_eq!(
            grade("xq3456789zw").hint,
            Some("Avoid sequences like abc or 123")
        );
    }

    #[test]
    fn passphrases_are_graded_by_word_count() {
        let four = grade("correct horse battery staple");
        assert_eq!((four.score, four.label), (3, "Good"), "{four:?}");
        let six = grade("plum anvil orbit tulip gravel quiet");
        assert_eq!((six.score, six.label, six.hint), (4, "Strong", None));
        assert!(six.bits >= 75 && six.bits <= 80, "{six:?}");
    }

    #[test]
    fn random_looking_passwords_grade_strong() {
        for pw in [
            "Tr0ub4dor&3-extended",
            "k9#Vq!2mZr@8Lw",
            "mañana-llueve-7 sí",
        ] {
            let g = grade(pw);
            assert_eq!(g.score, 4, "{pw}: {g:?}");
        }
    }

    #[test]
    fn longer_never_grades_lower_for_random_text() {
        let base = "x7Rk2pQw9Zm4Tb";
        let mut last = 0;
        for n in 10..=base.len() {
            let g = grade(&base[..n]);
            assert!(g.score >= last, "{n}: {g:?}");
            last = g.score;
        }
    }

    #[test]
    fn the_reading_holds_nothing_of_the_password() {
        let pw = "zebra-quartz-uniqueword-91";
        let g = grade(pw);
        let json = serde_json::to_string(&g).unwrap_or_default();
        assert!(
            !json.contains("zebra") && !json.contains("uniqueword"),
            "{json}"
        );
        assert!(json.contains("\"acceptable\":true"), "{json}");
    }
}
