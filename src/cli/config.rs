//! Where the CLI keeps the agent token, and how it finds one.
//!
//! The token is a bearer credential for the wallet: it is stored in
//! `<config>/agent-token` with mode 0600 inside a 0700 folder, written through a fresh
//! file (never by truncating one that might carry wider permissions), and held in memory
//! as a `SecretString`.

use crate::error::KeyfobError;
use secrecy::{ExposeSecret, SecretString};
use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

const TOKEN_FILE: &str = "agent-token";

/// `$KEYFOB_CONFIG_DIR`, else `$XDG_CONFIG_HOME/keyfob`, else `$HOME/.config/keyfob`.
pub fn config_dir() -> Result<PathBuf, KeyfobError> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("KEYFOB_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(dir).join("keyfob"));
    }
    Ok(home()?.join(".config/keyfob"))
}

pub fn home() -> Result<PathBuf, KeyfobError> {
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| KeyfobError::Usage("HOME is not set".into()))
}

pub fn token_path() -> Result<PathBuf, KeyfobError> {
    Ok(config_dir()?.join(TOKEN_FILE))
}

/// Where the token in use came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Env,
    File,
}

impl TokenSource {
    pub fn label(self) -> &'static str {
        match self {
            Self::Env => "KEYFOB_AGENT_KEY",
            Self::File => "file",
        }
    }
}

/// `KEYFOB_AGENT_KEY`, else the stored token, else `None`.
pub fn token() -> Result<Option<(SecretString, TokenSource)>, KeyfobError> {
    if let Ok(key) = std::env::var("KEYFOB_AGENT_KEY") {
        if !key.trim().is_empty() {
            return Ok(Some((key.trim().into(), TokenSource::Env)));
        }
    }
    Ok(stored_token()?.map(|t| (t, TokenSource::File)))
}

/// The token in `<config>/agent-token`, if there is one.
pub fn stored_token() -> Result<Option<SecretString>, KeyfobError> {
    let path = token_path()?;
    match fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().into())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(KeyfobError::io(format!("reading {}", path.display()))(e)),
    }
}

/// `token()` or the error every token-needing command gives.
pub fn require_token() -> Result<SecretString, KeyfobError> {
    token()?.map(|(t, _)| t).ok_or(KeyfobError::NotLoggedIn)
}

/// Stores the token (0600 in a 0700 folder); returns the file's path.
pub fn store_token(token: &SecretString) -> Result<PathBuf, KeyfobError> {
    let dir = config_dir()?;
    make_private_dir(&dir)?;
    let path = dir.join(TOKEN_FILE);
    let fresh = dir.join(format!(".{TOKEN_FILE}.{}", std::process::id()));
    let _ = fs::remove_file(&fresh);
    let write = || -> std::io::Result<()> {
        let mut file = private_file(&fresh)?;
        // EXPOSE: the token is written to its own 0600 file, which is the point.
        file.write_all(token.expose_secret().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        fs::rename(&fresh, &path)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&fresh);
        KeyfobError::io(format!("writing {}", path.display()))(e)
    })?;
    Ok(path)
}

/// Deletes the stored token; `Ok(false)` when there was none.
pub fn delete_token() -> Result<bool, KeyfobError> {
    let path = token_path()?;
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(KeyfobError::io(format!("deleting {}", path.display()))(e)),
    }
}

#[cfg(unix)]
fn make_private_dir(dir: &Path) -> Result<(), KeyfobError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let context = || format!("creating {}", dir.display());
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(KeyfobError::io(context()))?;
    // An existing folder keeps whatever mode it had: tighten it.
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(KeyfobError::io(context()))
}

#[cfg(not(unix))]
fn make_private_dir(dir: &Path) -> Result<(), KeyfobError> {
    fs::create_dir_all(dir).map_err(KeyfobError::io(format!("creating {}", dir.display())))
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests here change the process environment, so they run one at a time.
    static ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("keyfob-config-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_config_folder_follows_the_documented_order() {
        let _env = ENV
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::env::set_var("KEYFOB_CONFIG_DIR", "/tmp/kf-a");
        std::env::set_var("XDG_CONFIG_HOME", "/tmp/xdg");
        assert_eq!(config_dir().unwrap(), PathBuf::from("/tmp/kf-a"));
        std::env::remove_var("KEYFOB_CONFIG_DIR");
        assert_eq!(config_dir().unwrap(), PathBuf::from("/tmp/xdg/keyfob"));
        std::env::remove_var("XDG_CONFIG_HOME");
        let home = home().unwrap();
        assert_eq!(config_dir().unwrap(), home.join(".config/keyfob"));
    }

    #[cfg(unix)]
    #[test]
    fn the_token_is_stored_0600_in_a_0700_folder_and_the_env_overrides_it() {
        use std::os::unix::fs::PermissionsExt;
        let _env = ENV
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = temp_dir("store").join("nested");
        std::env::set_var("KEYFOB_CONFIG_DIR", &dir);
        std::env::remove_var("KEYFOB_AGENT_KEY");
        assert!(token().unwrap().is_none());
        assert!(matches!(require_token(), Err(KeyfobError::NotLoggedIn)));
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        let path = store_token(&SecretString::from("kf-agent-1-abc")).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        store_token(&SecretString::from("kf-agent-2-def")).unwrap();
        let (stored, source) = token().unwrap().unwrap();
        assert_eq!(stored.expose_secret(), "kf-agent-2-def");
        assert_eq!(source, TokenSource::File);
        std::env::set_var("KEYFOB_AGENT_KEY", "kf-agent-9-env");
        let (env, source) = token().unwrap().unwrap();
        assert_eq!(env.expose_secret(), "kf-agent-9-env");
        assert_eq!(source, TokenSource::Env);
        std::env::remove_var("KEYFOB_AGENT_KEY");
        assert!(delete_token().unwrap());
        assert!(!delete_token().unwrap());
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0, "no temp file left");
        std::env::remove_var("KEYFOB_CONFIG_DIR");
        let _ = fs::remove_dir_all(temp_dir("store"));
    }
}
