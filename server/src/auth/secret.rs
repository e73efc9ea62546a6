//! The key that signs access tokens.

use std::{
    fs,
    io::{ErrorKind, Write as _},
    path::Path,
};

use anyhow::Context as _;
use base64::{engine::general_purpose::STANDARD, Engine as _};

use crate::config::{JwtSecretSource, MIN_JWT_SECRET_BYTES};

const GENERATED_SECRET_FILE: &str = "jwt-secret";

/// The configured key, or in development one generated on first start and
/// kept in the data directory (readable by the owner only).
pub fn resolve(source: &JwtSecretSource, data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    match source {
        JwtSecretSource::Provided(secret) => Ok(secret.clone()),
        JwtSecretSource::GeneratedInDataDir => {
            load_or_generate(&data_dir.join(GENERATED_SECRET_FILE))
        }
    }
}

fn load_or_generate(path: &Path) -> anyhow::Result<Vec<u8>> {
    match fs::read_to_string(path) {
        Ok(contents) if contents.trim().len() >= MIN_JWT_SECRET_BYTES => {
            return Ok(contents.trim().as_bytes().to_vec())
        }
        Ok(_) => tracing::warn!(path = %path.display(), "replacing a short development JWT secret"),
        Err(error) if error.kind() == ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("could not read {}", path.display()))
        }
    }

    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).context("no random source for the JWT secret")?;
    let secret = STANDARD.encode(bytes);

    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("could not write {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    tracing::info!(path = %path.display(), "generated a development JWT secret");
    Ok(secret.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_kept_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let first = resolve(&JwtSecretSource::GeneratedInDataDir, dir.path()).unwrap();
        let second = resolve(&JwtSecretSource::GeneratedInDataDir, dir.path()).unwrap();
        assert!(first.len() >= MIN_JWT_SECRET_BYTES);
        assert_eq!(first, second);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(dir.path().join(GENERATED_SECRET_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the secret file is private");
        }
    }

    #[test]
    fn a_provided_secret_wins() {
        let dir = tempfile::tempdir().unwrap();
        let secret = resolve(&JwtSecretSource::Provided(b"k".repeat(40)), dir.path()).unwrap();
        assert_eq!(secret, b"k".repeat(40));
        assert!(!dir.path().join(GENERATED_SECRET_FILE).exists());
    }
}
