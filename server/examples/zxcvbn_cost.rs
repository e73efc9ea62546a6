//! How long the strength rating takes for crafted 128-character inputs,
//! the longest a password may be. zxcvbn's matching grows with repeats,
//! sequences and dictionary hits; this prints the worst cases found, to
//! show the cost per rating stays bounded (it runs on the hashing pool, one
//! per core, under the same queue bound as hashing).
//!
//!     cargo run --release -p server --example zxcvbn_cost

use std::time::{Duration, Instant};

fn main() {
    let words = "passwordqwertydragonmonkeyletmeinfootball";
    let cases: Vec<(&str, String)> = vec![
        ("one letter repeated", "a".repeat(128)),
        ("a digit run", "0123456789".repeat(13)[..128].to_owned()),
        ("a keyboard walk", "qwertyuiop".repeat(13)[..128].to_owned()),
        ("dictionary words", words.repeat(4)[..128].to_owned()),
        ("dates", "19700101".repeat(16)),
        ("alternating pair", "ab".repeat(64)),
        ("l33t substitutions", "p@55w0rd".repeat(16)),
        ("mixed repeats", "aab".repeat(43)[..128].to_owned()),
        (
            "random-looking",
            "tK9#vQ2!mZ7x".repeat(11)[..128].to_owned(),
        ),
        (
            "spaced words",
            "correct horse battery staple ".repeat(5)[..128].to_owned(),
        ),
    ];
    let context = ["someone@example.com", "Some One"];
    let mut worst = Duration::ZERO;
    for (name, password) in &cases {
        let runs = 5;
        let started = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(server::auth::password::weakness(password, &context));
        }
        let each = started.elapsed() / runs;
        worst = worst.max(each);
        println!("{name:<22} {:>8.2} ms", each.as_secs_f64() * 1000.0);
    }
    println!(
        "worst                  {:>8.2} ms",
        worst.as_secs_f64() * 1000.0
    );
}
