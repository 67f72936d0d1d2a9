//! Randomness comes in from outside: the core never reaches for a system RNG.
//! The wasm crate fills buffers from `crypto.getRandomValues`; native code from the OS.

use crate::CoreError;

/// A cryptographically secure random source supplied by the caller.
pub trait RandomSource {
    /// Fills `dest` entirely with secure random bytes.
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CoreError>;
}

/// Makes an array of `N` random bytes.
pub fn make_bytes<const N: usize>(rng: &mut dyn RandomSource) -> Result<[u8; N], CoreError> {
    let mut out = [0u8; N];
    rng.fill(&mut out)?;
    Ok(out)
}

/// A deterministic source for tests only: a counter expanded with SHA-256.
#[cfg(test)]
pub(crate) struct TestRandom(pub u64);

#[cfg(test)]
impl RandomSource for TestRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CoreError> {
        for chunk in dest.chunks_mut(32) {
            self.0 += 1;
            let d = ring::digest::digest(&ring::digest::SHA256, &self.0.to_le_bytes());
            chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
        }
        Ok(())
    }
}
