//! The browser's CSPRNG (`crypto.getRandomValues`, through getrandom) as the core's
//! `RandomSource`.

use keyfob_core::random::RandomSource;
use keyfob_core::CoreError;

pub struct BrowserRandom;

impl RandomSource for BrowserRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CoreError> {
        getrandom::getrandom(dest).map_err(|_| CoreError::RandomUnavailable)
    }
}
