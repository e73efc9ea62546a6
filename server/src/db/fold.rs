//! SQLite's `fold(text)`: the text lower-cased by Unicode's rules, as Rust's
//! `str::to_lowercase` does it (and as PostgreSQL's `LOWER` does for the
//! letters people write). SQLite's own `LOWER` and `LIKE` fold ASCII
//! letters only (it is built without ICU), so "émile" did not find
//! "Émile" on SQLite while PostgreSQL found it. A search term is lower-cased
//! in Rust, and a search tests each row with `fold(column) LIKE pattern`
//! (`store/listing`), so both sides are folded by the same rules.
//!
//! The function is given to every connection this process opens by
//! `sqlite3_auto_extension`, registered once before the pool's first
//! connection. It is used in queries only, never in the schema (no index,
//! trigger or view names it), so any SQLite tool can still read and write
//! the database.
//!
//! This is the one place the server calls SQLite's C interface itself:
//! sqlx (0.8) has no way to add a function to its connections, and the
//! interface is small (read one text argument, answer one text).

use std::{
    ffi::{c_char, c_int},
    sync::OnceLock,
};

use libsqlite3_sys as ffi;

/// Has every SQLite connection opened from now on by this process define
/// `fold`. Idempotent; fails only if SQLite refuses the registration.
pub fn register() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<c_int> = OnceLock::new();
    // SAFETY: `define_fold` has the signature SQLite calls an automatic
    // extension with, and stays valid for the life of the process.
    let code =
        *REGISTERED.get_or_init(|| unsafe { ffi::sqlite3_auto_extension(Some(define_fold)) });
    anyhow::ensure!(
        code == ffi::SQLITE_OK,
        "SQLite refused the fold() function (code {code})"
    );
    Ok(())
}

/// Called by SQLite for each new connection: defines `fold(text)`.
unsafe extern "C" fn define_fold(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection SQLite is opening; the name is a
    // NUL-terminated constant; `fold` has the scalar function signature and
    // keeps no state, so there is no user data to destroy.
    unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            c"fold".as_ptr(),
            1,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS,
            std::ptr::null_mut(),
            Some(fold),
            None,
            None,
            None,
        )
    }
}

/// `fold(x)`: NULL for NULL, otherwise `x` as text, lower-cased.
unsafe extern "C" fn fold(
    context: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite calls this with `argc` (1, as registered) valid values
    // in `argv`. `sqlite3_value_text` is read before `sqlite3_value_bytes`,
    // as SQLite asks, and the bytes stay valid until the value is next
    // converted, which nothing here does. `SQLITE_TRANSIENT` has SQLite copy
    // the answer before `folded` is dropped.
    unsafe {
        if argc != 1 {
            ffi::sqlite3_result_null(context);
            return;
        }
        let value = *argv;
        if ffi::sqlite3_value_type(value) == ffi::SQLITE_NULL {
            ffi::sqlite3_result_null(context);
            return;
        }
        let text = ffi::sqlite3_value_text(value);
        let len = usize::try_from(ffi::sqlite3_value_bytes(value)).unwrap_or(0);
        if text.is_null() {
            ffi::sqlite3_result_error_nomem(context);
            return;
        }
        let folded = lower(std::slice::from_raw_parts(text, len));
        match c_int::try_from(folded.len()) {
            Ok(folded_len) => ffi::sqlite3_result_text(
                context,
                folded.as_ptr().cast(),
                folded_len,
                ffi::SQLITE_TRANSIENT(),
            ),
            Err(_) => ffi::sqlite3_result_error_toobig(context),
        }
    }
}

/// The bytes as text, lower-cased; bytes that are not UTF-8 (SQLite does
/// not check what it stores) become U+FFFD rather than an error.
fn lower(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::lower;

    #[test]
    fn lowers_by_unicode_rules() {
        assert_eq!(lower("Émile ÖZTÜRK".as_bytes()), "émile öztürk");
        assert_eq!(lower("ΣΊΣΥΦΟΣ".as_bytes()), "σίσυφος");
        assert_eq!(lower("\u{212A}elvin".as_bytes()), "kelvin");
        assert_eq!(lower(b"plain ascii"), "plain ascii");
        assert_eq!(lower(b"bad \xff byte"), "bad \u{fffd} byte");
    }
}
