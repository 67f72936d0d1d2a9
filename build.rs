//! Builds the extension: compiles `crates/keyfob-wasm` for wasm32 in its own target dir,
//! runs wasm-bindgen (the cli-support library, pinned to the `wasm-bindgen` crate's exact
//! version), and assembles `dist/extension/` from `manifest.json`, `extension/` and the glue.
//!
//! The inner cargo gets a scrubbed environment: the outer build's `RUSTFLAGS`, `CARGO_*`,
//! `RUSTC_WRAPPER` (clippy sets one) and target settings must not leak into the wasm build.

use std::env;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Variables the inner cargo may inherit; everything else is dropped.
const INHERITED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "RUSTUP_AUTO_INSTALL",
    "TMPDIR",
    "LANG",
    "CC_wasm32_unknown_unknown",
    "AR_wasm32_unknown_unknown",
    "CARGO_NET_OFFLINE",
    "CARGO_HTTP_TIMEOUT",
];

fn main() {
    if let Err(message) = run() {
        // A build script reports failure by panicking; the message is what the user sees.
        panic!("building the extension failed: {message}");
    }
}

fn run() -> Result<(), String> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    for input in [
        "build.rs",
        "manifest.json",
        "extension",
        "Cargo.lock",
        "Cargo.toml",
        ".cargo/config.toml",
        "crates/keyfob-core/src",
        "crates/keyfob-core/Cargo.toml",
        "crates/keyfob-wasm/src",
        "crates/keyfob-wasm/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={input}");
    }

    check_manifest_version(&root)?;
    let wasm = compile_wasm(&root)?;
    let glue_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?).join("glue");
    run_wasm_bindgen(&wasm, &glue_dir)?;
    assemble_dist(&root, &glue_dir)?;
    Ok(())
}

/// The manifest's version must equal the package version: one number, one release.
fn check_manifest_version(root: &Path) -> Result<(), String> {
    let text = fs::read_to_string(root.join("manifest.json")).map_err(|e| e.to_string())?;
    let manifest: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("manifest.json: {e}"))?;
    let package_version = env::var("CARGO_PKG_VERSION").map_err(|e| e.to_string())?;
    match manifest["version"].as_str() {
        Some(v) if v == package_version => Ok(()),
        other => Err(format!(
            "manifest.json version {other:?} differs from the package version {package_version}"
        )),
    }
}

fn compile_wasm(root: &Path) -> Result<PathBuf, String> {
    let target_dir = root.join("target").join("wasm-engine");
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .env_clear()
        .envs(
            INHERITED_ENV
                .iter()
                .filter_map(|k| env::var(k).ok().map(|v| (*k, v))),
        )
        .args(["build", "--locked", "-p", "keyfob-wasm", "--lib"])
        .args(["--target", "wasm32-unknown-unknown", "--profile", "wasm"])
        .arg("--target-dir")
        .arg(&target_dir);
    let output = command
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo build of keyfob-wasm failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(target_dir.join("wasm32-unknown-unknown/wasm/keyfob_wasm.wasm"))
}

fn run_wasm_bindgen(wasm: &Path, out_dir: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(out_dir);
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .web(true)
        .map_err(|e| e.to_string())?
        .typescript(false)
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(out_dir)
        .map_err(|e| format!("wasm-bindgen: {e}"))
}

/// Builds the extension in a sibling temp dir, then swaps it in, so `dist/extension/`
/// is always either the old build or the new one, never half of each.
fn assemble_dist(root: &Path, glue_dir: &Path) -> Result<(), String> {
    let dist = root.join("dist");
    let staging = dist.join(".extension.tmp");
    let target = dist.join("extension");
    let _ = fs::remove_dir_all(&staging);
    let copy = || -> io::Result<()> {
        fs::create_dir_all(&staging)?;
        fs::copy(root.join("manifest.json"), staging.join("manifest.json"))?;
        copy_tree(&root.join("extension"), &staging)?;
        copy_tree(glue_dir, &staging.join("wasm"))?;
        Ok(())
    };
    copy().map_err(|e| format!("assembling dist/extension: {e}"))?;
    let _ = fs::remove_dir_all(&target);
    fs::rename(&staging, &target).map_err(|e| format!("moving dist/extension in place: {e}"))
}

fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &dest)?;
        } else {
            fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}
