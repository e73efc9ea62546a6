//! The migrations are embedded by `sqlx::migrate!`, which cargo does not
//! know reads them: without this, a migration added or changed on its own
//! would not be built in until some Rust file changed too.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
