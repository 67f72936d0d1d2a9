//! Times the vault's key derivation (Argon2id at `KdfParams::DEFAULT`) natively, for the
//! benchmark harness: `cargo run --release -p keyfob-core --example kdf_timing -- 5`
//! prints `{"ms":[...]}` on stdout.
#![allow(clippy::print_stdout)] // stdout is this program's output

use keyfob_core::secret::secret_string;
use keyfob_core::vault::{derive_vault_key, KdfParams};
use std::time::Instant;

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let password = secret_string("benchmark master password".into());
    let salt = [7u8; 16];
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        let key = derive_vault_key(&password, &KdfParams::DEFAULT, &salt);
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
        assert!(key.is_ok(), "derivation failed");
    }
    let list: Vec<String> = ms.iter().map(|m| format!("{m:.3}")).collect();
    println!("{{\"ms\":[{}]}}", list.join(","));
}
