//! The raw Argon2id verification rate of one thread, with the parameters of
//! `server/src/auth/password.rs` (m=19456 KiB, t=2, p=1): the ceiling for
//! logins per second per hashing core. Used by `scripts/bench.sh`.
//!
//!     cargo run --release -p server --example argon2_rate -- [seconds]
//!
//! Prints one number: verifications per second over `seconds` (default 5).

use std::time::{Duration, Instant};

use argon2::{
    password_hash::{
        rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
    },
    Algorithm, Argon2, Params, Version,
};

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .map(|arg| arg.parse().expect("seconds must be a number"))
        .unwrap_or(5.0);
    let params = Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters");
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let password = b"Plum-Quartz-Harbor-91";
    let salt = SaltString::generate(&mut OsRng);
    let phc = argon2
        .hash_password(password, &salt)
        .expect("hashing works")
        .to_string();
    let parsed = PasswordHash::new(&phc).expect("a PHC string");

    // One verification to warm up the allocator and caches.
    assert!(argon2.verify_password(password, &parsed).is_ok());
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut verified: u64 = 0;
    while start.elapsed() < budget {
        assert!(argon2.verify_password(password, &parsed).is_ok());
        verified += 1;
    }
    println!("{:.2}", verified as f64 / start.elapsed().as_secs_f64());
}
