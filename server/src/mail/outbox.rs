//! The outbox directory, where mail goes when there is no SMTP server: one
//! RFC 5322 `.eml` file per message, named after its outbox row
//! (`{uuidv7}.eml`). Writing is exactly once: a file appears whole under its
//! final name or not at all, and a retry that finds it has nothing to do.
//! Reading it back serves the `/api/dev/mailbox` endpoint, so that someone
//! running the app locally can follow a link, and the tests.

use std::{
    fs::File,
    io::{self, Write as _},
    path::Path,
};

use app::api::types::MailboxMessage;
use mail_parser::MessageParser;
use uuid::Uuid;

use crate::clock::rfc3339;

/// The file of the message with this outbox id.
pub fn file_name(id: Uuid) -> String {
    format!("{id}.eml")
}

/// Writes the message with this outbox id, unless its file exists already.
/// Returns whether it wrote it. The bytes go to a temporary file, reach
/// the disk, and are renamed into place; a write cut short by a crash
/// leaves only the temporary file, which the retry overwrites. Only the
/// worker holding the message's claim writes it.
pub fn write(dir: &Path, id: Uuid, message: &[u8]) -> io::Result<bool> {
    let path = dir.join(file_name(id));
    if path.try_exists()? {
        return Ok(false);
    }
    let temporary = dir.join(format!("{id}.eml.tmp"));
    let mut file = File::create(&temporary)?;
    file.write_all(message)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, &path)?;
    // The rename is on disk once the directory is.
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(true)
}

/// Messages newest first, at most `limit`. The names start with a UUIDv7,
/// so they sort by the time the message was queued.
pub fn read(dir: &Path, limit: usize) -> io::Result<Vec<MailboxMessage>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "eml") {
            files.push(path);
        }
    }
    files.sort_by(|a, b| b.cmp(a));

    let mut messages = Vec::new();
    for path in files.into_iter().take(limit) {
        let raw = match std::fs::read(&path) {
            Ok(raw) => raw,
            // Cleared away since the listing.
            Err(error) if error.kind() == io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        let modified = std::fs::metadata(&path)
            .and_then(|metadata| metadata.modified())
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|since| i64::try_from(since.as_secs()).ok())
            .unwrap_or_default();
        if let Some(message) = parse(&path, &raw, modified) {
            messages.push(message);
        }
    }
    Ok(messages)
}

fn parse(path: &Path, raw: &[u8], modified: i64) -> Option<MailboxMessage> {
    let message = MessageParser::default().parse(raw)?;
    let text = message
        .body_text(0)
        .map(|body| body.into_owned())
        .unwrap_or_default();
    let to = message
        .to()
        .and_then(|to| to.first())
        .and_then(|address| address.address())
        .unwrap_or_default()
        .to_owned();
    Some(MailboxMessage {
        id: path.file_stem()?.to_string_lossy().into_owned(),
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        sent_at: rfc3339(modified),
        links: links_in(&text),
        text,
    })
}

fn links_in(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_each_message_once_and_reads_newest_first() {
        let temporary = tempfile::tempdir().unwrap();
        let dir = temporary.path();
        let message = |subject: &str| {
            format!(
                "To: a@example.com\r\nSubject: {subject}\r\n\r\nhttps://x.example/{subject}\r\n"
            )
        };
        let first = Uuid::now_v7();
        let second = Uuid::now_v7();
        assert!(write(dir, first, message("one").as_bytes()).unwrap());
        assert!(write(dir, second, message("two").as_bytes()).unwrap());
        // A retry of a message already written leaves it as it was.
        assert!(!write(dir, first, message("again").as_bytes()).unwrap());
        // Left over from a crash mid-write: not a message.
        std::fs::write(dir.join(format!("{}.eml.tmp", Uuid::now_v7())), "partial").unwrap();

        let messages = read(dir, 10).unwrap();
        let subjects: Vec<&str> = messages
            .iter()
            .map(|message| message.subject.as_str())
            .collect();
        assert_eq!(subjects, ["two", "one"]);
        assert_eq!(messages[1].id, first.to_string());
        assert_eq!(messages[1].links, ["https://x.example/one"]);
    }

    #[test]
    fn finds_links_in_text() {
        assert_eq!(
            links_in("Open\nhttps://a.example/verify?token=x\nnow, or http://b.example."),
            ["https://a.example/verify?token=x", "http://b.example."]
        );
    }
}
