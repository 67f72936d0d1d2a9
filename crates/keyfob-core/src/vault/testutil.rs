//! Helpers shared by the vault's unit tests: cheap KDF parameters, hex, and a reader for
//! the known-answer files under `tests/data/` (blocks of `key = value` lines separated by
//! blank lines; `#` starts a comment; `name` names the block; `*_hex` fields are hex,
//! `*_utf8` fields are text).

use super::kdf::KdfParams;

/// Argon2id parameters small enough for debug-build tests (64 KiB, one pass).
pub(crate) const SMALL: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// One block of a known-answer file.
pub(crate) struct KatBlock(Vec<(String, String)>);

impl KatBlock {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn name(&self) -> &str {
        self.get("name").expect("every block has a name")
    }

    pub fn num(&self, key: &str) -> u32 {
        self.get(key).and_then(|v| v.parse().ok()).expect(key)
    }

    /// `key` itself if present (hex when it ends in `_hex`), else `key_hex` or `key_utf8`.
    pub fn bytes(&self, key: &str) -> Vec<u8> {
        if let Some(v) = self.get(key) {
            return if key.ends_with("_hex") {
                unhex(v)
            } else {
                v.as_bytes().to_vec()
            };
        }
        if let Some(v) = self.get(&format!("{key}_hex")) {
            return unhex(v);
        }
        self.get(&format!("{key}_utf8"))
            .expect(key)
            .as_bytes()
            .to_vec()
    }
}

pub(crate) fn kat_blocks(text: &str) -> Vec<KatBlock> {
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
