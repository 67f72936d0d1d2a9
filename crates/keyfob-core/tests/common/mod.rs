//! Shared helpers for keyfob-core's integration tests: random sources, hex, the
//! known-answer file reader, and paths under `tests/data/`.
#![allow(dead_code)] // each test binary uses a different subset

pub mod wallet;

use std::path::PathBuf;

use keyfob_core::random::RandomSource;
use keyfob_core::vault::KdfParams;
use keyfob_core::CoreError;
use ring::rand::SecureRandom;

/// Argon2id parameters cheap enough for debug builds.
pub const SMALL: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

/// The operating system's CSPRNG, through ring.
pub struct SystemRng(ring::rand::SystemRandom);

impl SystemRng {
    pub fn new() -> Self {
        Self(ring::rand::SystemRandom::new())
    }
}

impl RandomSource for SystemRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CoreError> {
        self.0.fill(dest).map_err(|_| CoreError::RandomUnavailable)
    }
}

/// Deterministic bytes for fixtures: SHA-256(label || counter), block after block.
pub struct DetRng {
    label: &'static str,
    counter: u64,
}

impl DetRng {
    pub fn new(label: &'static str) -> Self {
        Self { label, counter: 0 }
    }
}

impl RandomSource for DetRng {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CoreError> {
        for chunk in dest.chunks_mut(32) {
            self.counter += 1;
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            ctx.update(self.label.as_bytes());
            ctx.update(&self.counter.to_le_bytes());
            chunk.copy_from_slice(&ctx.finish().as_ref()[..chunk.len()]);
        }
        Ok(())
    }
}

pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

pub fn read_data(name: &str) -> Vec<u8> {
    std::fs::read(data_path(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// One `key = value` block of a known-answer file (format described in each file).
pub struct KatBlock(Vec<(String, String)>);

impl KatBlock {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn name(&self) -> &str {
        self.get("name").expect("every block has a name")
    }

    pub fn num(&self, key: &str) -> u32 {
        self.get(key).and_then(|v| v.parse().ok()).expect(key)
    }

    /// `key_hex` decoded, or `key_utf8` as bytes, or `None`.
    pub fn bytes(&self, key: &str) -> Option<Vec<u8>> {
        if let Some(v) = self.get(&format!("{key}_hex")) {
            return Some(unhex(v));
        }
        self.get(&format!("{key}_utf8"))
            .map(|v| v.as_bytes().to_vec())
    }
}

pub fn kat_blocks(text: &str) -> Vec<KatBlock> {
    let mut blocks = vec![];
    let mut current = vec![];
    for line in text.lines().map(str::trim) {
        if line.starts_with('#') {
            continue;
        }
        if line.is_empty() {
            if !current.is_empty() {
                blocks.push(KatBlock(std::mem::take(&mut current)));
            }
            continue;
        }
        let (k, v) = line.split_once('=').expect("key = value");
        current.push((k.trim().to_string(), v.trim().to_string()));
    }
    if !current.is_empty() {
        blocks.push(KatBlock(current));
    }
    blocks
}
