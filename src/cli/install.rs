//! `keyfob install` / `keyfob uninstall`: the native-messaging host manifest that lets
//! Chrome (or Chromium) start this binary as `dev.keyfob.bridge`, for the Keyfob
//! extension only (`allowed_origins`).
//!
//! The extension id is derived from `manifest.json`'s `key`, read at compile time, the
//! way Chrome derives it: SHA-256 of the DER public key, the first 32 hex digits, each
//! digit 0-f spelled a-p.

use super::config;
use crate::error::KeyfobError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

pub const HOST_NAME: &str = "dev.keyfob.bridge";
const MANIFEST: &str = include_str!("../../manifest.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Browser {
    Chromium,
    Chrome,
}

/// Where and for which extension.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// Which browser's per-user folder to use.
    #[arg(long, value_enum, default_value_t = Browser::Chromium)]
    pub browser: Browser,
    /// A browser profile root: the manifest goes in DIR/NativeMessagingHosts/.
    #[arg(long, value_name = "DIR")]
    pub user_data_dir: Option<PathBuf>,
    /// The extension id (default: derived from manifest.json's `key`).
    #[arg(long, value_name = "ID")]
    pub extension_id: Option<String>,
}

/// Chrome's extension id for a base64 DER public key (manifest `key`).
pub fn derive_extension_id(key_base64: &str) -> Result<String, KeyfobError> {
    let der = STANDARD
        .decode(key_base64.trim())
        .map_err(|e| KeyfobError::Usage(format!("manifest.json's key is not base64: {e}")))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &der);
    Ok(digest.as_ref()[..16]
        .iter()
        .flat_map(|byte| [byte >> 4, byte & 0x0f])
        .map(|nibble| char::from(b'a' + nibble))
        .collect())
}

/// 32 letters a-p.
pub fn is_extension_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| (b'a'..=b'p').contains(&b))
}

/// `--extension-id`, else the id derived from the compiled-in manifest's `key`.
fn extension_id(given: Option<&str>, manifest: &str) -> Result<String, KeyfobError> {
    if let Some(id) = given {
        return match is_extension_id(id) {
            true => Ok(id.to_string()),
            false => Err(KeyfobError::Usage(format!(
                "{id:?} is not an extension id (32 letters a-p)"
            ))),
        };
    }
    let manifest: Value = serde_json::from_str(manifest)
        .map_err(|e| KeyfobError::Usage(format!("manifest.json is not JSON: {e}")))?;
    match manifest["key"].as_str() {
        Some(key) => derive_extension_id(key),
        None => Err(KeyfobError::Usage(
            "this build's manifest.json has no `key`, so the extension id is not fixed: pass \
             --extension-id ID (see chrome://extensions with Developer mode on)"
                .into(),
        )),
    }
}

/// `DIR/NativeMessagingHosts`, or the browser's per-user folder.
pub fn hosts_dir(target: &Target) -> Result<PathBuf, KeyfobError> {
    if let Some(dir) = &target.user_data_dir {
        return Ok(dir.join("NativeMessagingHosts"));
    }
    let folder = match target.browser {
        Browser::Chromium => ".config/chromium/NativeMessagingHosts",
        Browser::Chrome => ".config/google-chrome/NativeMessagingHosts",
    };
    Ok(config::home()?.join(folder))
}

/// The host manifest's content.
pub fn host_manifest(binary: &Path, extension_id: &str) -> Value {
    json!({
        "name": HOST_NAME,
        "description": "Keyfob local bridge",
        "path": binary.display().to_string(),
        "type": "stdio",
        "allowed_origins": [format!("chrome-extension://{extension_id}/")],
    })
}

pub fn install(target: &Target, json_out: bool) -> Result<i32, KeyfobError> {
    let id = extension_id(target.extension_id.as_deref(), MANIFEST)?;
    let binary = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(KeyfobError::io("finding this executable"))?;
    let dir = hosts_dir(target)?;
    std::fs::create_dir_all(&dir)
        .map_err(KeyfobError::io(format!("creating {}", dir.display())))?;
    let path = dir.join(format!("{HOST_NAME}.json"));
    let manifest = host_manifest(&binary, &id);
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| KeyfobError::Usage(format!("encoding the manifest: {e}")))?;
    std::fs::write(&path, text + "\n")
        .map_err(KeyfobError::io(format!("writing {}", path.display())))?;
    if json_out {
        let out = json!({"installed": path.display().to_string(), "host": binary.display().to_string(), "extensionId": id});
        println!("{out}");
    } else {
        println!("Installed {HOST_NAME} in {}", path.display());
        println!("  host       {}", binary.display());
        println!("  extension  chrome-extension://{id}/");
        println!("Start the bridge in the Keyfob popup (Settings → Local apps), then run `keyfob status`.");
    }
    Ok(super::exit::OK)
}

pub fn uninstall(target: &Target, json_out: bool) -> Result<i32, KeyfobError> {
    let path = hosts_dir(target)?.join(format!("{HOST_NAME}.json"));
    let removed = match std::fs::remove_file(&path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(KeyfobError::io(format!("removing {}", path.display()))(e)),
    };
    if json_out {
        println!(
            "{}",
            json!({"removed": removed, "path": path.display().to_string()})
        );
    } else if removed {
        println!("Removed {}", path.display());
    } else {
        println!("Nothing to remove: {} does not exist", path.display());
    }
    Ok(super::exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 2048-bit RSA public key (DER, base64) made for this test with
    /// `openssl genrsa 2048 | openssl rsa -pubout -outform DER | base64 -w0`; the expected
    /// id was computed independently with
    /// `base64 -d | sha256sum | head -c32 | tr 0-9a-f a-p`.
    const KEY: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAofAa40rR5yZruuOnuR1WJXv4WGFFReSae5TN10dMvtUjBOdkNqlNCM0WWkLOcdKQOXc95gPmnq0Svtt4MSizuElHbomErKYD2FuG7tCUHX2jk7pQscbyBw8PBwpPOfcJ2u6228Wu9l422K25KuqE6t9ipJ770W2vqVli/c1f26NTJCE6mJKDY9U6rLhXb3yAZS93Merqn4QI1nTywpeL3pyQUHR0tt0yyL5731rMsAcivFqOLlt6xNyysINFizoJxuIwqAy44z7XLDFw3cIxRZ2YGBFKAVVwGDxpcuuVyKLU8EUPr/3X1FyRr3eJ8/yiHwVWkq2FgicgXhYVd/SkPwIDAQAB";
    const ID: &str = "imangbcolibmalnfmbcdpnkaclbejfho";

    #[test]
    fn the_id_is_derived_like_chrome_does() {
        assert_eq!(derive_extension_id(KEY).unwrap(), ID);
        assert!(is_extension_id(ID));
        let manifest = format!(r#"{{"name":"Keyfob","key":"{KEY}"}}"#);
        assert_eq!(extension_id(None, &manifest).unwrap(), ID);
    }

    #[test]
    fn fail_a_manifest_without_a_key_asks_for_extension_id() {
        let e = extension_id(None, r#"{"name":"Keyfob"}"#).unwrap_err();
        assert!(e.to_string().contains("--extension-id"), "{e}");
        let given = "abcdefghijklmnopabcdefghijklmnop";
        assert_eq!(extension_id(Some(given), "{}").unwrap(), given);
        assert!(extension_id(Some("xyz"), "{}").is_err());
        assert!(extension_id(Some(&"q".repeat(32)), "{}").is_err());
        assert!(derive_extension_id("not base64!").is_err());
    }

    #[test]
    fn the_host_manifest_names_the_binary_and_the_extension() {
        let m = host_manifest(Path::new("/opt/keyfob"), ID);
        assert_eq!(m["name"], "dev.keyfob.bridge");
        assert_eq!(m["path"], "/opt/keyfob");
        assert_eq!(m["type"], "stdio");
        assert_eq!(m["allowed_origins"][0], format!("chrome-extension://{ID}/"));
    }

    #[test]
    fn a_user_data_dir_wins_over_the_browser_folder() {
        let target = Target {
            browser: Browser::Chrome,
            user_data_dir: Some(PathBuf::from("/tmp/profile")),
            extension_id: None,
        };
        assert_eq!(
            hosts_dir(&target).unwrap(),
            PathBuf::from("/tmp/profile/NativeMessagingHosts")
        );
    }
}
