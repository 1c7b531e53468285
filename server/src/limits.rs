//! How much text tacit takes in one request. One place, so that remember, update, extract and
//! import (over LSP and from the CLI alike) refuse the same input with the same message, and
//! so that no request can make the server tokenize and embed megabytes at once.
//!
//! - An entry's `text`: at most [`MAX_ENTRY_TEXT`] bytes, a memory being a few sentences;
//!   its other free text (key, value, language, tags) at most as much again.
//! - A transcript given to `extract`: at most [`MAX_TRANSCRIPT`] bytes.
//! - The JSON lines given to `import` (inline or as a file): at most [`MAX_IMPORT`] bytes,
//!   every entry in them within the entry limits.

use crate::memory::Entry;

/// The most bytes of `text` one entry holds.
pub const MAX_ENTRY_TEXT: usize = 8_000;
/// The most bytes of one `extract` transcript (a long chat session).
pub const MAX_TRANSCRIPT: usize = 1024 * 1024;
/// The most bytes of one `import`: some 10,000 exported entries with their vectors. (Given
/// inline over LSP, the message that carries it is limited to 64 MiB as well.)
pub const MAX_IMPORT: usize = 64 * 1024 * 1024;

/// A request over one of the limits; the message names the field, its size and the limit.
#[derive(Debug, thiserror::Error)]
#[error("`{field}` is {size} bytes; {what} (at most {limit} bytes)")]
pub struct TooLarge {
    pub field: &'static str,
    pub size: usize,
    pub limit: usize,
    what: &'static str,
}

fn at_most(
    field: &'static str,
    size: usize,
    limit: usize,
    what: &'static str,
) -> Result<(), TooLarge> {
    if size > limit {
        return Err(TooLarge {
            field,
            size,
            limit,
            what,
        });
    }
    Ok(())
}

/// The text of a memory, however it arrives.
pub fn entry_text(text: &str) -> Result<(), TooLarge> {
    at_most(
        "text",
        text.len(),
        MAX_ENTRY_TEXT,
        "a memory is a few sentences",
    )
}

/// The free text an entry carries besides `text`, taken together.
pub fn entry_fields<'a>(
    key: Option<&'a str>,
    value: Option<&'a str>,
    language: Option<&'a str>,
    tags: impl IntoIterator<Item = &'a String>,
) -> Result<(), TooLarge> {
    let size = [key, value, language]
        .into_iter()
        .flatten()
        .map(str::len)
        .sum::<usize>()
        + tags.into_iter().map(String::len).sum::<usize>();
    at_most(
        "key, value, language and tags",
        size,
        MAX_ENTRY_TEXT,
        "together they name and label a memory",
    )
}

/// Both entry limits, for an entry read from an import.
pub fn entry(entry: &Entry) -> Result<(), TooLarge> {
    entry_text(&entry.text)?;
    entry_fields(
        entry.key.as_deref(),
        entry.value.as_deref(),
        entry.language.as_deref(),
        &entry.tags,
    )
}

pub fn transcript(text: &str) -> Result<(), TooLarge> {
    at_most(
        "text",
        text.len(),
        MAX_TRANSCRIPT,
        "split a longer transcript into several extracts",
    )
}

/// The import data: `jsonl` given inline, or the file at `path`.
pub fn import(field: &'static str, size: usize) -> Result<(), TooLarge> {
    at_most(
        field,
        size,
        MAX_IMPORT,
        "split a larger export into several imports",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_the_field_the_size_and_the_limit() {
        assert!(entry_text(&"a".repeat(MAX_ENTRY_TEXT)).is_ok());
        let e = entry_text(&"a".repeat(MAX_ENTRY_TEXT + 1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "`text` is 8001 bytes; a memory is a few sentences (at most 8000 bytes)"
        );
        let tags = vec!["t".repeat(5000), "u".repeat(3001)];
        let e = entry_fields(None, None, None, &tags).unwrap_err();
        assert!(e.to_string().contains("at most 8000 bytes"), "{e}");
        assert!(transcript(&"a".repeat(MAX_TRANSCRIPT + 1)).is_err());
        assert!(import("jsonl", MAX_IMPORT).is_ok() && import("path", MAX_IMPORT + 1).is_err());
    }
}
