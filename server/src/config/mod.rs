//! Temporary stand-in until the config extractor lands.
use std::path::{Path, PathBuf};
pub struct Extraction {
    pub entries: Vec<crate::memory::Entry>,
    pub problems: Vec<String>,
}
pub fn extract(_root: &Path, _files: &[PathBuf], _scope: &str) -> Extraction {
    Extraction {
        entries: Vec::new(),
        problems: Vec::new(),
    }
}
