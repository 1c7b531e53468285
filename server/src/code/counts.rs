//! The per-file counts of a [`CodeIndex`] in a form that travels. A team publication carries
//! them, so that a teammate's server parses only the files that differ from the published
//! commit and sums the rest as they were counted there.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};

use serde::{Deserialize, Serialize};

use super::analyze::{FileFacts, Tally};
use super::{CodeIndex, Registry};

/// Counts of another process can name at most this many distinct keys and values (this
/// build's own are a few hundred); more is not counts tacit wrote.
const MAX_NAMES: usize = 4096;
const MAX_NAME_BYTES: usize = 64;

/// Every counted file of one root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortableCounts {
    pub files: Vec<PortableFile>,
}

/// One file's [`FileFacts`], its names as strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortableFile {
    /// Relative to the root, `/`-separated.
    pub path: String,
    pub language: String,
    /// `(key, value, count, first lines)`.
    pub tallies: Vec<(String, String, u32, Vec<u32>)>,
    pub line_lengths: Vec<(u16, u32)>,
    pub longest: (u32, u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CountsError {
    #[error("the counts name more than {MAX_NAMES} distinct keys and values")]
    TooManyNames,
    #[error("the counts name a key or value of {0} bytes")]
    NameTooLong(usize),
    #[error("the counts hold an absolute or parent path: {0}")]
    Path(String),
}

/// The one `&'static str` of each key and value name read from counts. [`FileFacts`] name
/// them by static strings, which this build's counting takes from its literals; names read
/// back are kept once for the life of the process, and few (capped).
fn intern(name: &str) -> Result<&'static str, CountsError> {
    static NAMES: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);
    if name.len() > MAX_NAME_BYTES {
        return Err(CountsError::NameTooLong(name.len()));
    }
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = names.get(name) {
        return Ok(known);
    }
    if names.len() >= MAX_NAMES {
        return Err(CountsError::TooManyNames);
    }
    let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(kept);
    Ok(kept)
}

impl CodeIndex {
    /// The per-file counts, in path order.
    pub fn portable(&self) -> PortableCounts {
        let mut files: Vec<PortableFile> = self
            .files
            .iter()
            .map(|(path, facts)| PortableFile {
                path: super::slash(path),
                language: facts.language.to_string(),
                tallies: facts
                    .tallies
                    .iter()
                    .map(|((k, v), t)| (k.to_string(), v.to_string(), t.count, t.lines.clone()))
                    .collect(),
                line_lengths: facts.line_lengths.iter().map(|(l, n)| (*l, *n)).collect(),
                longest: facts.longest,
            })
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        PortableCounts { files }
    }

    /// An index holding `counts` as if this process had counted them, for a run with these
    /// ignores and size limit. A file of a language this build does not parse is left out
    /// (returned, so that the caller counts it again or lets it go).
    pub fn from_portable(
        registry: &Registry,
        counts: PortableCounts,
        ignores: &[String],
        max_file_bytes: u64,
    ) -> Result<(CodeIndex, Vec<PathBuf>), CountsError> {
        let languages: HashMap<&str, &'static str> = registry
            .grammars
            .iter()
            .map(|g| (g.language, g.language))
            .collect();
        let mut index = CodeIndex {
            ignores: ignores.to_vec(),
            max_file_bytes,
            ..Default::default()
        };
        let mut unknown = Vec::new();
        for file in counts.files {
            let path = PathBuf::from(&file.path);
            if path.is_absolute()
                || path
                    .components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(CountsError::Path(file.path));
            }
            let Some(language) = languages.get(file.language.as_str()) else {
                unknown.push(path);
                continue;
            };
            let mut tallies = BTreeMap::new();
            for (key, value, count, lines) in file.tallies {
                tallies.insert((intern(&key)?, intern(&value)?), Tally { count, lines });
            }
            index.files.insert(
                path,
                FileFacts {
                    language,
                    tallies,
                    line_lengths: file.line_lengths.into_iter().collect(),
                    longest: file.longest,
                },
            );
        }
        Ok((index, unknown))
    }

    /// The paths counted, relative to the root.
    pub fn counted_paths(&self) -> impl Iterator<Item = &PathBuf> {
        self.files.keys()
    }
}
