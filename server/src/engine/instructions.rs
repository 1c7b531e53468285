//! Instruction files against the store: checking them with the conventions the last index
//! run stored, and planning what `write-instructions` writes from the active entries.

use std::path::Path;

use super::{Engine, EngineError, ListRequest, Result};
use crate::instructions::{self, write, CheckReport};
use crate::memory::{Entry, Layer, Source, Status};

impl Engine {
    /// The active entries of `root`'s own scope (not `user`), as stored by the last index run.
    async fn workspace_entries(
        &self,
        root: &Path,
        key_prefix: Option<&str>,
        source: Option<Source>,
    ) -> Result<Vec<Entry>> {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let scope = self
            .roots()
            .await
            .into_iter()
            .find(|(r, _)| *r == root)
            .map(|(_, s)| s)
            .ok_or_else(|| {
                EngineError::InvalidArgument(format!("{} is not a workspace root", root.display()))
            })?;
        let entries = self
            .list(ListRequest {
                layers: Some(vec![Layer::Memory, Layer::Procedure]),
                statuses: Some(vec![Status::Active]),
                key_prefix: key_prefix.map(str::to_string),
                source,
                ..Default::default()
            })
            .await?;
        Ok(entries.into_iter().filter(|e| e.scope == scope).collect())
    }

    /// Checks `root`'s instruction files with the code conventions the store holds (the
    /// server, after indexing).
    pub async fn check_instructions(&self, root: &Path) -> Result<CheckReport> {
        let code = self
            .workspace_entries(root, Some("format.indent"), Some(Source::Code))
            .await?;
        let root = root.to_path_buf();
        tokio::task::spawn_blocking(move || instructions::check_workspace(&root, Some(code)))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))
    }

    /// What `write-instructions` would write for `root` from the store's active entries.
    pub async fn plan_instructions(
        &self,
        root: &Path,
        target: write::Target,
        budget: usize,
    ) -> Result<write::Plan> {
        let entries = self.workspace_entries(root, None, None).await?;
        if entries.is_empty() {
            return Err(EngineError::InvalidArgument(format!(
                "nothing is stored for {} yet: index it first (`tacit index`)",
                root.display()
            )));
        }
        let root = root.to_path_buf();
        tokio::task::spawn_blocking(move || write::plan(&root, target, &entries, budget))
            .await
            .map_err(|e| EngineError::Task(e.to_string()))
    }
}
