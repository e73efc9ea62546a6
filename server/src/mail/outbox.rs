//! Reading the development outbox back: the `/api/dev/mailbox` endpoint
//! shows these so that someone running the app locally can follow a link.

use std::path::Path;

use app::api::types::MailboxMessage;
use mail_parser::MessageParser;

use crate::clock::rfc3339;

/// Messages newest first, at most `limit`.
pub fn read(dir: &Path, limit: usize) -> std::io::Result<Vec<MailboxMessage>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if path.extension().is_some_and(|extension| extension == "eml") {
            let modified = entry
                .metadata()?
                .modified()
                .ok()
                .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
                .unwrap_or_default();
            files.push((modified, path));
        }
    }
    // Ties in time (within one clock tick) go by name, which starts with
    // the writing order (see `mail::deliver`).
    files.sort_by(|a, b| b.cmp(a));

    let mut messages = Vec::new();
    for (modified, path) in files.into_iter().take(limit) {
        let raw = std::fs::read(&path)?;
        let modified = i64::try_from(modified.as_secs()).unwrap_or_default();
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
    fn finds_links_in_text() {
        assert_eq!(
            links_in("Open\nhttps://a.example/verify?token=x\nnow, or http://b.example."),
            ["https://a.example/verify?token=x", "http://b.example."]
        );
    }
}
