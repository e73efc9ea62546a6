//! Argon2id computed in memory the caller keeps: the server's parameters,
//! a PHC string out, and verification of stored PHC strings (whatever
//! parameters they were made with) that agrees with the crate's own.

use anyhow::Context as _;
use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, Salt, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};

/// OWASP's minimum for Argon2id: 19 MiB, two passes, one lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const PARALLELISM: u32 = 1;

/// One hashing thread's Argon2 memory: a block of the server's size,
/// allocated at the thread's first hash and reused by every later one.
#[derive(Default)]
pub struct Memory {
    blocks: Vec<Block>,
}

/// Argon2 blocks (1 KiB each) of the server's parameters.
const BLOCKS: usize = MEMORY_KIB as usize;

impl Memory {
    /// The first `count` blocks, in whatever state the last hash left them;
    /// `None` when `count` is more than the server's parameters need.
    fn blocks(&mut self, count: usize) -> Option<&mut [Block]> {
        if count > BLOCKS {
            return None;
        }
        if self.blocks.is_empty() {
            self.blocks = vec![Block::default(); BLOCKS];
        }
        Some(&mut self.blocks[..count])
    }
}

/// The server's Argon2id, hashing into a caller's memory.
#[derive(Clone)]
pub struct Hasher {
    argon2: Argon2<'static>,
    params: Params,
}

impl Hasher {
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
            .map_err(|error| anyhow::anyhow!("invalid Argon2 parameters: {error}"))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        Ok(Self { argon2, params })
    }

    /// What `Argon2::hash_password` makes with a fresh random salt: a PHC
    /// string, but computed in `memory`.
    pub fn hash(&self, password: &[u8], memory: &mut Memory) -> anyhow::Result<String> {
        self.hash_with_salt(password, &SaltString::generate(&mut OsRng), memory)
    }

    fn hash_with_salt(
        &self,
        password: &[u8],
        salt: &SaltString,
        memory: &mut Memory,
    ) -> anyhow::Result<String> {
        let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
        let salt_bytes = salt
            .decode_b64(&mut salt_bytes)
            .map_err(|error| anyhow::anyhow!("could not hash a password: {error}"))?;
        let mut output = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let blocks = memory
            .blocks(self.params.block_count())
            .context("the server's Argon2 parameters need more memory than a slot has")?;
        self.argon2
            .hash_password_into_with_memory(password, salt_bytes, &mut output, blocks)
            .map_err(|error| anyhow::anyhow!("could not hash a password: {error}"))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&self.params)
                .map_err(|error| anyhow::anyhow!("could not hash a password: {error}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(
                Output::new(&output)
                    .map_err(|error| anyhow::anyhow!("could not hash a password: {error}"))?,
            ),
        };
        Ok(phc.to_string())
    }
}

/// What `Argon2::verify_password` answers for `password` against the PHC
/// string `stored`, computed in `memory` (or, for a hash made with more
/// memory than the server's, in a block of its own): the algorithm, version and
/// parameters are the stored ones, and the outputs are compared in constant
/// time. A string that is not PHC is an error; one that is but cannot be
/// computed (an unknown algorithm, say) simply does not match.
pub fn verify(password: &[u8], stored: &str, memory: &mut Memory) -> anyhow::Result<bool> {
    let parsed = PasswordHash::new(stored)
        .map_err(|error| anyhow::anyhow!("stored password hash is malformed: {error}"))?;
    Ok(recompute(password, &parsed, memory).unwrap_or(false))
}

fn recompute(
    password: &[u8],
    parsed: &PasswordHash<'_>,
    memory: &mut Memory,
) -> argon2::password_hash::Result<bool> {
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(parsed)?;
    let block_count = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let mut output = [0u8; Output::MAX_LENGTH];
    let output = &mut output[..expected.len()];
    match memory.blocks(block_count) {
        Some(blocks) => {
            argon2.hash_password_into_with_memory(password, salt_bytes, output, blocks)?
        }
        // A hash made with more memory than the server uses today.
        None => argon2.hash_password_into(password, salt_bytes, output)?,
    }
    // `Output`'s equality is constant-time.
    Ok(Output::new(output)? == *expected)
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    #[test]
    fn a_slot_holds_exactly_the_servers_blocks() {
        assert_eq!(Hasher::new().unwrap().params.block_count(), BLOCKS);
    }

    /// Reused memory holds the previous hash's blocks: the result must be
    /// what the crate computes in fresh, zeroed memory.
    #[test]
    fn reused_memory_hashes_like_fresh_memory() {
        let hasher = Hasher::new().unwrap();
        let mut memory = Memory::default();
        hasher.hash(b"something else first", &mut memory).unwrap();
        for password in ["correct horse battery staple", ""] {
            let salt = SaltString::generate(&mut OsRng);
            let ours = hasher
                .hash_with_salt(password.as_bytes(), &salt, &mut memory)
                .unwrap();
            let theirs = hasher
                .argon2
                .hash_password(password.as_bytes(), &salt)
                .unwrap()
                .to_string();
            assert_eq!(ours, theirs);
        }
    }

    /// Stored hashes of other algorithms, versions and sizes (smaller and
    /// larger than a slot) are judged as the crate's verifier judges them.
    #[test]
    fn verification_agrees_with_the_crate() {
        let mut memory = Memory::default();
        let mut stored = Vec::new();
        for (algorithm, version, m_cost, t_cost, output_len) in [
            (Algorithm::Argon2id, Version::V0x13, MEMORY_KIB, 2, 32),
            (Algorithm::Argon2id, Version::V0x13, 4096, 3, 16),
            (Algorithm::Argon2id, Version::V0x13, 2 * MEMORY_KIB, 1, 32),
            (Algorithm::Argon2i, Version::V0x13, 1024, 2, 32),
            (Algorithm::Argon2d, Version::V0x10, 1024, 1, 64),
        ] {
            let params = Params::new(m_cost, t_cost, 1, Some(output_len)).unwrap();
            let salt = SaltString::generate(&mut OsRng);
            let phc = Argon2::new(algorithm, version, params)
                .hash_password(b"open sesame", &salt)
                .unwrap()
                .to_string();
            stored.push(phc);
        }
        for phc in &stored {
            let parsed = PasswordHash::new(phc).unwrap();
            for password in ["open sesame", "open sesame!", ""] {
                let expected = Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok();
                let ours = verify(password.as_bytes(), phc, &mut memory).unwrap();
                assert_eq!(ours, expected, "{phc} {password:?}");
            }
            assert!(verify(b"open sesame", phc, &mut memory).unwrap(), "{phc}");
        }
        // PHC strings that are not Argon2 or have no hash never match.
        let mut truncated: Vec<&str> = stored[0].split('$').collect();
        truncated.pop();
        for phc in [
            "$scrypt$ln=1,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
            &truncated.join("$"),
        ] {
            assert!(!verify(b"open sesame", phc, &mut memory).unwrap(), "{phc}");
        }
        assert_eq!(memory.blocks.len(), BLOCKS, "a slot never grows");
    }
}
