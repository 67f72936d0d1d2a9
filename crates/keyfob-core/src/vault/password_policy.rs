//! The master-password rules. Argon2id makes each guess slow; these rules make sure the
//! first guesses of any attacker's list are not already the answer.
//!
//! A password is refused when it:
//! - has fewer than [`MIN_CHARS`] characters;
//! - is, ignoring case, one of the ~120 most common passwords in [`COMMON`];
//! - is such a password with only digits or symbols added before or after
//!   (`Password123!`, `2024iloveyou`);
//! - is one short piece repeated (`aaaaaaaaaa`, `abcabcabcabc`, `passwordpassword`);
//! - is only digits.
//!
//! Reasons are fixed, human sentences ([`CoreError::WeakPassword`]); they never quote the
//! password.

use crate::secret::{ExposeSecret, SecretString};
use crate::CoreError;

/// Minimum length in characters (Unicode scalar values).
pub const MIN_CHARS: usize = 10;

/// Common passwords and base words, lowercase. Sources: the usual top-100 lists
/// (NCSC "100k most common", SecLists) as reference, written out by hand.
pub(super) const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "p@ssword",
    "p@ssw0rd",
    "pass",
    "passwort",
    "motdepasse",
    "contraseña",
    "123456",
    "1234567",
    "12345678",
    "123456789",
    "1234567890",
    "12345",
    "0123456789",
    "0987654321",
    "111111",
    "000000",
    "123123",
    "654321",
    "666666",
    "121212",
    "112233",
    "987654321",
    "11111111",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1q2w3e",
    "1qaz2wsx",
    "qwerty",
    "qwertyuiop",
    "qwerty123",
    "qwertz",
    "azerty",
    "asdf",
    "asdfgh",
    "asdfghjkl",
    "zxcvbnm",
    "zxcvbn",
    "qazwsx",
    "abc",
    "abc123",
    "abcdef",
    "abcdefg",
    "abcdefgh",
    "abcd1234",
    "iloveyou",
    "admin",
    "administrator",
    "root",
    "toor",
    "welcome",
    "letmein",
    "login",
    "master",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "basketball",
    "soccer",
    "hockey",
    "superman",
    "batman",
    "spiderman",
    "trustno1",
    "sunshine",
    "shadow",
    "princess",
    "starwars",
    "whatever",
    "freedom",
    "hello",
    "helloworld",
    "charlie",
    "michael",
    "jennifer",
    "jordan",
    "hunter",
    "hunter2",
    "ranger",
    "buster",
    "tigger",
    "pokemon",
    "pepper",
    "cheese",
    "computer",
    "internet",
    "secret",
    "mustang",
    "harley",
    "jessica",
    "ashley",
    "daniel",
    "andrew",
    "thomas",
    "summer",
    "winter",
    "spring",
    "autumn",
    "flower",
    "lovely",
    "loveme",
    "love",
    "killer",
    "maggie",
    "ginger",
    "cookie",
    "chocolate",
    "banana",
    "orange",
    "purple",
    "silver",
    "golden",
    "diamond",
    "matrix",
    "google",
    "facebook",
    "changeme",
    "default",
    "guest",
    "test",
    "testing",
    "access",
    "mypassword",
    "qwe123",
    "keyfob",
    "openai",
    "anthropic",
    "chatgpt",
    "apikey",
    "wallet",
    "bitcoin",
    "crypto",
    "correcthorsebatterystaple",
];

/// Checks a new master (or backup) password; `Err(WeakPassword(reason))` if it is weak.
pub fn check_password_policy(password: &SecretString) -> Result<(), CoreError> {
    // EXPOSE: inspected locally to judge its strength; only a fixed reason leaves.
    let pw = password.expose_secret();
    if pw.chars().count() < MIN_CHARS {
        return Err(CoreError::WeakPassword("use at least 10 characters"));
    }
    let lower = pw.to_lowercase();
    if COMMON.contains(&lower.as_str()) {
        return Err(CoreError::WeakPassword(
            "this is one of the most common passwords",
        ));
    }
    if lower.chars().all(|c| c.is_ascii_digit()) {
        return Err(CoreError::WeakPassword(
            "a password of only digits is easy to guess",
        ));
    }
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    if COMMON.contains(&core) {
        return Err(CoreError::WeakPassword(
            "a common password with digits or symbols added is easy to guess",
        ));
    }
    if is_repetition(&lower) {
        return Err(CoreError::WeakPassword(
            "a repeated pattern is easy to guess",
        ));
    }
    Ok(())
}

/// Whether `s` is some shorter string repeated two or more times.
fn is_repetition(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    (1..=n / 2)
        .any(|period| n % period == 0 && chars.iter().skip(period).zip(&chars).all(|(a, b)| a == b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::secret_string;

    fn check(pw: &str) -> Result<(), CoreError> {
        check_password_policy(&secret_string(pw.into()))
    }

    #[test]
    fn accepts_reasonable_passwords() {
        for pw in [
            "correct horse battery staple",
            "Tr0ub4dor&3-extended",
            "keyfob-fixture-v1 password",
            "mañana-llueve-7",
            "ab12cd34ef",
        ] {
            assert_eq!(check(pw), Ok(()), "{pw}");
        }
    }

    #[test]
    fn refuses_short_common_and_decorated_passwords() {
        let short = CoreError::WeakPassword("use at least 10 characters");
        assert_eq!(check("Sh0rt!pw"), Err(short.clone()));
        assert_eq!(check(""), Err(short.clone()));
        assert_eq!(
            check("ñññññññññ"),
            Err(short),
            "9 chars even though 18 bytes"
        );
        for pw in [
            "qwertyuiop",
            "QWERTYUIOP",
            "1234567890",
            "administrator",
            "P@ssw0rd123",
        ] {
            assert!(matches!(check(pw), Err(CoreError::WeakPassword(_))), "{pw}");
        }
        let decorated = CoreError::WeakPassword(
            "a common password with digits or symbols added is easy to guess",
        );
        for pw in [
            "password123",
            "Password2024!",
            "2024iloveyou",
            "!!monkey!!99",
            "Dragon12345",
        ] {
            assert_eq!(check(pw), Err(decorated.clone()), "{pw}");
        }
    }

    #[test]
    fn refuses_digits_and_repetition() {
        assert!(
            matches!(check("5551234567"), Err(CoreError::WeakPassword(r)) if r.contains("digits"))
        );
        for pw in [
            "aaaaaaaaaaaa",
            "abcabcabcabc",
            "passwordpassword",
            "xyzxyzxyzxyz",
        ] {
            assert_eq!(
                check(pw),
                Err(CoreError::WeakPassword(
                    "a repeated pattern is easy to guess"
                ))
            );
        }
        assert!(!is_repetition("abcabcabcab"));
        assert!(is_repetition("abab"));
    }

    #[test]
    fn common_list_is_lowercase_and_substantial() {
        assert!(COMMON.len() >= 100, "{}", COMMON.len());
        for w in COMMON {
            assert_eq!(*w, w.to_lowercase(), "{w}");
        }
    }
}
