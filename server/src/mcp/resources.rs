//! MCP resources and prompts: the assembled context of the workspace or of one file, each
//! memory by id, the conventions of each language, and the `project-conventions` prompt. All
//! of them are markdown made by the same renderers as the CLI's output.

use rmcp::model::{
    GetPromptResult, Prompt, PromptArgument, PromptMessage, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, Role,
};
use rmcp::ErrorData as McpError;

use super::TacitMcp;
use crate::assemble::render_entry;
use crate::engine::{ContextRequest, ListRequest};
use crate::memory::{Entry, Layer, Status};

const CONTEXT: &str = "tacit://context";
const CONTEXT_OF: &str = "tacit://context/";
const MEMORY: &str = "tacit://memory/";
const CONVENTIONS: &str = "tacit://conventions/";
const MARKDOWN: &str = "text/markdown";
pub(super) const PROMPT: &str = "project-conventions";

/// Memories listed one by one in `resources/list`; the rest stay reachable by id.
const LISTED_MEMORIES: usize = 200;

pub(super) fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(format!("{CONTEXT_OF}{{path}}"), "context-of-file")
            .with_title("Project context for a file")
            .with_description("The assembled context for one file: its language's and directory's conventions first. `path` is relative to the workspace.")
            .with_mime_type(MARKDOWN),
        ResourceTemplate::new(format!("{MEMORY}{{id}}"), "memory")
            .with_title("One memory")
            .with_description("A stored entry by id, with its evidence and history.")
            .with_mime_type(MARKDOWN),
        ResourceTemplate::new(format!("{CONVENTIONS}{{language}}"), "conventions")
            .with_title("Conventions of a language")
            .with_description("Every active convention stored for one language (rust, python, typescript, javascript, go, java).")
            .with_mime_type(MARKDOWN),
    ]
}

fn title_of(e: &Entry) -> String {
    let text = e.text.trim();
    match text.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

pub(super) async fn list(server: &TacitMcp) -> Result<Vec<Resource>, McpError> {
    let engine = server
        .engine()
        .map_err(|e| McpError::internal_error(e, None))?;
    let mut resources = vec![Resource::new(CONTEXT, "context")
        .with_title("Project context")
        .with_description("How this workspace is written: conventions, stack, procedures and pinned rules, assembled within the token budget.")
        .with_mime_type(MARKDOWN)];
    let active = engine
        .list(ListRequest {
            layers: Some(vec![Layer::Pinned, Layer::Memory, Layer::Procedure]),
            statuses: Some(vec![Status::Active]),
            ..Default::default()
        })
        .await
        .map_err(|e| McpError::internal_error(e.to_string(), None))?;
    let mut languages: Vec<&str> = active
        .iter()
        .filter_map(|e| e.language.as_deref())
        .collect();
    languages.sort_unstable();
    languages.dedup();
    for language in languages {
        resources.push(
            Resource::new(
                format!("{CONVENTIONS}{language}"),
                format!("conventions-{language}"),
            )
            .with_title(format!("{language} conventions"))
            .with_mime_type(MARKDOWN),
        );
    }
    for e in active.iter().take(LISTED_MEMORIES) {
        resources.push(
            Resource::new(format!("{MEMORY}{}", e.id), format!("memory-{}", e.id))
                .with_title(title_of(e))
                .with_description(format!("{} from {}", e.layer, e.source))
                .with_mime_type(MARKDOWN),
        );
    }
    Ok(resources)
}

/// `%XX` escapes in a URI path, decoded; anything malformed is kept as written.
fn percent_decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

fn markdown(uri: &str, text: String) -> ReadResourceResult {
    ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type(MARKDOWN)
    ])
}

pub(super) async fn read(server: &TacitMcp, uri: &str) -> Result<ReadResourceResult, McpError> {
    let engine = server
        .engine()
        .map_err(|e| McpError::internal_error(e, None))?;
    let failed = |e: crate::engine::EngineError| McpError::internal_error(e.to_string(), None);
    let note = server
        .indexing_note()
        .await
        .map(|n| format!("_{n}_\n\n"))
        .unwrap_or_default();
    if uri == CONTEXT || uri.strip_prefix(CONTEXT_OF).is_some_and(|p| !p.is_empty()) {
        let file = uri.strip_prefix(CONTEXT_OF).map(percent_decoded);
        let result = engine
            .assemble_context(ContextRequest {
                uri: file,
                ..Default::default()
            })
            .await
            .map_err(|e| match e {
                crate::engine::EngineError::InvalidArgument(m) => McpError::invalid_params(m, None),
                e => failed(e),
            })?;
        return Ok(markdown(
            uri,
            format!("{note}{}", result.assembled.markdown),
        ));
    }
    if let Some(id) = uri.strip_prefix(MEMORY) {
        let entry = engine
            .get(&percent_decoded(id))
            .await
            .map_err(|e| McpError::resource_not_found(format!("no memory at {uri}: {e}"), None))?;
        let mut text = format!(
            "# {} ({}, {}, from {})\n\n{}",
            entry.id,
            entry.layer,
            entry.status,
            entry.source,
            render_entry(&entry)
        );
        // `render_entry` already cites the first example; list only the others.
        let others = entry.examples.iter().skip(1); // the example already cited, not a test
        for example in others {
            text.push_str(&format!("- also: {example}\n"));
        }
        return Ok(markdown(uri, text));
    }
    if let Some(language) = uri.strip_prefix(CONVENTIONS).filter(|l| !l.is_empty()) {
        let entries = engine
            .list(ListRequest {
                layers: Some(vec![Layer::Pinned, Layer::Memory, Layer::Procedure]),
                statuses: Some(vec![Status::Active]),
                language: Some(language.to_string()),
                ..Default::default()
            })
            .await
            .map_err(failed)?;
        let mut text = format!("{note}# {language} conventions\n\n");
        if entries.is_empty() {
            text.push_str("None stored yet.\n");
        }
        for e in &entries {
            text.push_str(&render_entry(e));
        }
        return Ok(markdown(uri, text));
    }
    Err(McpError::resource_not_found(
        format!("tacit has no resource `{uri}`; it serves {CONTEXT}, {CONTEXT_OF}{{path}}, {MEMORY}{{id}} and {CONVENTIONS}{{language}}"),
        None,
    ))
}

pub(super) fn prompts() -> Vec<Prompt> {
    vec![Prompt::new(
        PROMPT,
        Some("The conventions, procedures and pinned rules of this project that matter for a task, to follow while doing it."),
        Some(vec![
            PromptArgument::new("task")
                .with_description("What you are about to do, in a sentence.")
                .with_required(false),
            PromptArgument::new("file")
                .with_description("The file you will edit, relative to the workspace.")
                .with_required(false),
        ]),
    )
    .with_title("Project conventions")]
}

pub(super) async fn prompt(
    server: &TacitMcp,
    name: &str,
    arguments: Option<rmcp::model::JsonObject>,
) -> Result<GetPromptResult, McpError> {
    if name != PROMPT {
        return Err(McpError::invalid_params(
            format!("tacit has no prompt `{name}`; it has `{PROMPT}`"),
            None,
        ));
    }
    let argument = |key: &str| -> Result<Option<String>, McpError> {
        match arguments.as_ref().and_then(|a| a.get(key)) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(McpError::invalid_params(
                format!("`{key}` must be a string, got {other}"),
                None,
            )),
        }
    };
    let (task, file) = (argument("task")?, argument("file")?);
    let engine = server
        .engine()
        .map_err(|e| McpError::internal_error(e, None))?;
    let result = engine
        .assemble_context(ContextRequest {
            query: task.clone(),
            uri: file,
            ..Default::default()
        })
        .await
        .map_err(|e| match e {
            crate::engine::EngineError::InvalidArgument(m) => McpError::invalid_params(m, None),
            e => McpError::internal_error(e.to_string(), None),
        })?;
    let ask = match &task {
        Some(task) => format!("Follow these conventions of this project while you {task}."),
        None => "Follow these conventions of this project in the work that comes next.".into(),
    };
    Ok(GetPromptResult::new(vec![PromptMessage::new_text(
        Role::User,
        format!("{ask}\n\n{}", result.assembled.markdown),
    )])
    .with_description("How this project is written, from tacit"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_in_uris_are_decoded() {
        assert_eq!(percent_decoded("src/my%20file.rs"), "src/my file.rs");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz"), "%zz");
    }
}
