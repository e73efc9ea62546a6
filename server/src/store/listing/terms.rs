//! How a search term is written for each matching tool: LIKE patterns,
//! PostgreSQL's trigram index and SQLite's FTS5 trigram table. Every tool
//! takes every character of the term literally.

/// The shortest term the trigram indexes can answer.
pub(super) const INDEXED_TERM_CHARS: usize = 3;

/// A LIKE pattern every value containing `term` matches, made for
/// PostgreSQL's trigram index to answer by as few posting lists as it can:
/// the term's first three characters and its last three, anything between
/// (`%gra%hop%` for `grace hop`); a term of five characters or fewer
/// cannot be cut so, and is the pattern whole.
pub(super) fn ends_pattern(term: &str) -> String {
    let characters: Vec<char> = term.chars().collect();
    if characters.len() < 2 * INDEXED_TERM_CHARS {
        return format!("%{}%", escape_like(term));
    }
    let first: String = characters[..INDEXED_TERM_CHARS].iter().collect();
    let last: String = characters[characters.len() - INDEXED_TERM_CHARS..]
        .iter()
        .collect();
    format!("%{}%{}%", escape_like(&first), escape_like(&last))
}

/// An FTS5 query every row containing `term` (three characters or more)
/// matches: the trigrams that start every three characters, and the last
/// one, each a quoted phrase (a quote doubled, every other character
/// literal), all required. Asking for every trigram of the term, as one
/// phrase, cost intersecting all their posting lists, long ones when the
/// term is made of common trigrams (7-8 ms at a million rows); these are a
/// third of them, and the LIKE that follows decides.
pub(super) fn fts_trigrams(term: &str) -> String {
    let characters: Vec<char> = term.chars().collect();
    let last = characters.len().saturating_sub(INDEXED_TERM_CHARS);
    let mut starts: Vec<usize> = (0..=last).step_by(INDEXED_TERM_CHARS).collect();
    if starts.last() != Some(&last) {
        starts.push(last);
    }
    phrases(&characters, starts)
}

/// An FTS5 query every row containing `term` (three characters or more)
/// matches, and which costs reading two posting lists at most: its first
/// and its last trigram, the same one for a term of three characters.
pub(super) fn fts_ends(term: &str) -> String {
    let characters: Vec<char> = term.chars().collect();
    let last = characters.len().saturating_sub(INDEXED_TERM_CHARS);
    let mut starts = vec![0];
    if last > 0 {
        starts.push(last);
    }
    phrases(&characters, starts)
}

/// The trigrams of `characters` at `starts`, each an FTS5 phrase.
fn phrases(characters: &[char], starts: Vec<usize>) -> String {
    let trigrams: Vec<String> = starts
        .into_iter()
        .map(|start| {
            let trigram: String = characters
                [start..(start + INDEXED_TERM_CHARS).min(characters.len())]
                .iter()
                .collect();
            format!("\"{}\"", trigram.replace('"', "\"\""))
        })
        .collect();
    trigrams.join(" ")
}

/// For `LIKE … ESCAPE '\'`: `%`, `_` and the escape character itself match
/// literally.
pub(super) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if matches!(character, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_and_fts_take_every_character_literally() {
        assert_eq!(escape_like(r"100%_\x"), r"100\%\_\\x");
        assert_eq!(
            fts_trigrams(r#"o"brien "*"#),
            r#""o""b" "rie" "n """ " ""*""#
        );
    }

    #[test]
    fn a_term_is_asked_of_the_indexes_by_a_few_of_its_trigrams() {
        assert_eq!(ends_pattern("grace hop"), "%gra%hop%");
        assert_eq!(ends_pattern("gracie"), "%gra%cie%");
        assert_eq!(ends_pattern("grace"), "%grace%");
        assert_eq!(ends_pattern("50%_x\\yz"), r"%50\%%\\yz%");
        assert_eq!(ends_pattern("émile zola"), "%émi%ola%");
        assert_eq!(fts_trigrams("grace hop"), r#""gra" "ce " "hop""#);
        assert_eq!(fts_trigrams("grace hopp"), r#""gra" "ce " "hop" "opp""#);
        assert_eq!(fts_trigrams("ada"), r#""ada""#);
        assert_eq!(fts_trigrams("émile"), r#""émi" "ile""#);
        assert_eq!(fts_ends("grace hop"), r#""gra" "hop""#);
        assert_eq!(fts_ends("ada"), r#""ada""#);
        assert_eq!(fts_ends("adal"), r#""ada" "dal""#);
        assert_eq!(fts_ends(r#"a"b"#), r#""a""b""#);
    }
}
