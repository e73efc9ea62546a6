//! The raw Argon2id verification rate of one thread, with the parameters of
//! `server/src/auth/password.rs` (m=19456 KiB, t=2, p=1): the ceiling for
//! logins per second per hashing core. Used by `scripts/bench.sh`.
//!
//!     cargo run --release -p server --example argon2_rate -- [seconds] [--allocating]
//!
//! Prints one number: verifications per second over `seconds` (default 5).
//! Like the server, it computes every hash in one block of memory kept for
//! the whole run; `--allocating` measures the crate's `verify_password`
//! instead, which allocates (and zeroes) a fresh 19 MiB block per hash.

use std::time::{Duration, Instant};

use argon2::{
    password_hash::{
        rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
    },
    Algorithm, Argon2, Block, Params, Version,
};

fn main() {
    let mut seconds = 5.0;
    let mut allocating = false;
    for arg in std::env::args().skip(1) {
        if arg == "--allocating" {
            allocating = true;
        } else {
            seconds = arg.parse().expect("seconds must be a number");
        }
    }
    let params = Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let password = b"Plum-Quartz-Harbor-91";
    let salt = SaltString::generate(&mut OsRng);
    let phc = argon2
        .hash_password(password, &salt)
        .expect("hashing works")
        .to_string();
    let parsed = PasswordHash::new(&phc).expect("a PHC string");
    let expected = parsed.hash.expect("a hash");
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).expect("a salt");
    let mut memory = vec![Block::default(); params.block_count()];
    let mut verify = || {
        if allocating {
            argon2.verify_password(password, &parsed).is_ok()
        } else {
            let mut output = [0u8; 32];
            argon2
                .hash_password_into_with_memory(password, salt_bytes, &mut output, &mut memory)
                .expect("hashing works");
            output == expected.as_bytes()
        }
    };

    // One verification to warm up the allocator and caches.
    assert!(verify());
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut verified: u64 = 0;
    while start.elapsed() < budget {
        assert!(verify());
        verified += 1;
    }
    println!("{:.2}", verified as f64 / start.elapsed().as_secs_f64());
}
