//! The MCP tools: one per engine command, with input schemas derived from the very request
//! types the LSP commands parse, output schemas from the result types, and results as
//! `structuredContent` plus a markdown text for clients that read only text.
//!
//! A tool that fails (bad arguments, an unknown id, a store error, a panic) answers with an
//! `isError` result whose text says what to fix; only an unknown tool name is a JSON-RPC error,
//! as the MCP specification asks.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use rmcp::handler::server::tool::{schema_for_input, schema_for_output};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, MetaObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use super::TacitMcp;
use crate::assemble::{render_entry, Scored};
use crate::engine::{
    parse_arguments, ContextRequest, ContextResult, EntriesResult, ExtractRequest, ForgetResult,
    IdRequest, ListRequest, NoArgs, PinRequest, RecallRequest, ReindexResult, RememberRequest,
    RememberResult, StatusReport, StatusRequest, UpdateRequest,
};
use crate::memory::Entry;

/// What a tool does to the store, for its annotations.
#[derive(Clone, Copy)]
enum Effect {
    Reads,
    Adds,
    /// Changes an entry in place: calling twice with the same arguments changes nothing more.
    Edits,
    Deletes,
}

struct Spec {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    effect: Effect,
    input: fn() -> Arc<JsonObject>,
    output: fn() -> Arc<JsonObject>,
}

fn input<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    // Every request type is a struct, whose schema root is an object: a failure here is a
    // programming error that the unit test below catches.
    let mut schema = schema_for_input::<T>()
        .unwrap_or_else(|e| panic!("input schema: {e}"))
        .as_ref()
        .clone();
    without_null_types(&mut schema);
    Arc::new(schema)
}

/// An optional field is written `"type": ["string", "null"]` by schemars; clients that map
/// tool schemas onto a single-type dialect (Gemini's function declarations) reject that. An
/// optional field may simply be left out, so its schema names the one real type.
fn without_null_types(schema: &mut JsonObject) {
    let required: Vec<Value> = schema
        .get("required")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for (name, property) in properties.iter_mut() {
            if required.contains(&Value::String(name.clone())) {
                continue;
            }
            let Some(types) = property.get("type").and_then(Value::as_array) else {
                continue;
            };
            let real: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            if let [one] = real.as_slice() {
                property["type"] = one.clone();
            }
        }
    }
    if let Some(Value::Object(definitions)) = schema.get_mut("$defs") {
        for definition in definitions.values_mut() {
            if let Value::Object(definition) = definition {
                without_null_types(definition);
            }
        }
    }
}

fn output<T: JsonSchema + 'static>() -> Arc<JsonObject> {
    schema_for_output::<T>()
}

const SPECS: &[Spec] = &[
    Spec {
        name: "assemble_context",
        title: "Project context",
        description: "How this project is written, for the task at hand: the conventions the code follows (naming, errors, tests, imports, formatting), its stack, the before-commit routine and recent stretches of work, ranked for `query` and the file in `uri`, within a token budget. Call it before writing or changing code in this repository, with the task in a sentence as `query` and the file you will edit as `uri` (a path relative to the workspace, an absolute path or a file:// URI). The markdown text is ready to follow as-is.",
        effect: Effect::Reads,
        input: input::<ContextRequest>,
        output: output::<ContextResult>,
    },
    Spec {
        name: "recall",
        title: "Search memory",
        description: "Searches the project's memory (conventions, procedures, episodes, pinned rules) for `query` and returns the best entries with their ids and scores. Use it to answer a specific question about how things are done here, or to find the id of an entry to update, pin or forget.",
        effect: Effect::Reads,
        input: input::<RecallRequest>,
        output: output::<EntriesResult<Scored>>,
    },
    Spec {
        name: "remember",
        title: "Remember",
        description: "Stores a fact, preference or decision about this project (`layer` memory, the default) or a how-to (`procedure`), so that later sessions and other copilots follow it. Give a `key` such as `errors.propagation` when the text fills a slot: a new value supersedes the old one. `scope: \"user\"` makes it follow the user across repositories. Secrets in the text are redacted before storing.",
        effect: Effect::Adds,
        input: input::<RememberRequest>,
        output: output::<RememberResult>,
    },
    Spec {
        name: "extract",
        title: "Learn from a conversation",
        description: "Reads free text (a conversation, review comments, a design note) and stores the statements of preference, prohibition, decision and workflow it finds, one entry each. Call it with what the user said about how they want the code written.",
        effect: Effect::Adds,
        input: input::<ExtractRequest>,
        output: output::<EntriesResult<RememberResult>>,
    },
    Spec {
        name: "update",
        title: "Update a memory",
        description: "Corrects an entry by id: its text, tags, importance, confidence, key or value. Use it when the user says a stored convention is wrong or out of date.",
        effect: Effect::Edits,
        input: input::<UpdateRequest>,
        output: output::<Entry>,
    },
    Spec {
        name: "forget",
        title: "Forget a memory",
        description: "Deletes an entry by id for good, from every older version of the store too. It cannot be undone: use it when the user asks to forget something, or for an entry that is plainly wrong.",
        effect: Effect::Deletes,
        input: input::<IdRequest>,
        output: output::<ForgetResult>,
    },
    Spec {
        name: "restore",
        title: "Restore a memory",
        description: "Makes a superseded or expired entry active again, by id.",
        effect: Effect::Edits,
        input: input::<IdRequest>,
        output: output::<Entry>,
    },
    Spec {
        name: "pin",
        title: "Pin a rule",
        description: "Pins a rule so that it is part of every assembled context: give `text` for a new rule, or the `id` of an existing entry. Use it only for what must never be missed.",
        effect: Effect::Edits,
        input: input::<PinRequest>,
        output: output::<Entry>,
    },
    Spec {
        name: "unpin",
        title: "Unpin a rule",
        description: "Removes a pinned rule by id; an entry that was pinned from another layer goes back to it.",
        effect: Effect::Edits,
        input: input::<IdRequest>,
        output: output::<Entry>,
    },
    Spec {
        name: "list",
        title: "List memories",
        description: "Lists stored entries, filtered by layers, statuses, key prefix, language or source; by default those of this workspace and the user's.",
        effect: Effect::Reads,
        input: input::<ListRequest>,
        output: output::<EntriesResult<Entry>>,
    },
    Spec {
        name: "get",
        title: "Show a memory",
        description: "One entry by id, with its evidence, examples and history of changes.",
        effect: Effect::Reads,
        input: input::<IdRequest>,
        output: output::<Entry>,
    },
    Spec {
        name: "status",
        title: "Status",
        description: "The store in use, the embedding model, the workspaces and how many entries each layer holds; says whether indexing is still running.",
        effect: Effect::Reads,
        input: input::<StatusRequest>,
        output: output::<StatusReport>,
    },
    Spec {
        name: "reindex",
        title: "Index the workspace again",
        description: "Scans the workspace again (configuration, source conventions, git history) after large changes. Runs in the background; with a progress token it reports progress and answers when done.",
        effect: Effect::Edits,
        input: input::<NoArgs>,
        output: output::<ReindexResult>,
    },
];

/// The tools as `tools/list` shows them.
pub(super) fn tools() -> Vec<Tool> {
    SPECS
        .iter()
        .map(|spec| {
            let annotations = match spec.effect {
                Effect::Reads => ToolAnnotations::new().read_only(true),
                Effect::Adds => ToolAnnotations::new()
                    .read_only(false)
                    .destructive(false)
                    .idempotent(false),
                Effect::Edits => ToolAnnotations::new()
                    .read_only(false)
                    .destructive(false)
                    .idempotent(true),
                Effect::Deletes => ToolAnnotations::new()
                    .read_only(false)
                    .destructive(true)
                    .idempotent(true),
            }
            // Everything stays on this machine.
            .open_world(false);
            Tool::new(spec.name, spec.description, (spec.input)())
                .with_title(spec.title)
                .with_raw_output_schema((spec.output)())
                .with_annotations(annotations)
        })
        .collect()
}

pub(super) fn is_tool(name: &str) -> bool {
    SPECS.iter().any(|s| s.name == name)
}

pub(super) fn names() -> String {
    SPECS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

/// A tool's answer before it becomes a `CallToolResult`.
struct Reply {
    structured: Value,
    text: String,
}

fn reply<T: Serialize>(value: &T, text: String) -> Result<Reply, String> {
    let structured =
        serde_json::to_value(value).map_err(|e| format!("cannot serialise the result: {e}"))?;
    Ok(Reply { structured, text })
}

fn args<T: DeserializeOwned>(arguments: Option<JsonObject>) -> Result<T, String> {
    parse_arguments(Value::Object(arguments.unwrap_or_default()))
}

/// Vectors are 384 floats of no use to a model.
fn bare(mut entry: Entry) -> Entry {
    entry.vector.clear();
    entry
}

fn describe(e: &Entry) -> String {
    let mut line = format!(
        "`{}` [{}, {}] {}",
        e.id,
        e.layer,
        e.status,
        render_entry(e).trim_start_matches("- ")
    );
    if let (Some(k), Some(v)) = (&e.key, &e.value) {
        line.push_str(&format!("  key `{k}` = {v}\n"));
    }
    line
}

fn scored_lines(items: &[Scored]) -> String {
    if items.is_empty() {
        return "Nothing found.\n".into();
    }
    items
        .iter()
        .map(|s| format!("{:.3} {}", s.score, describe(&s.entry)))
        .collect()
}

fn remembered(r: &RememberResult) -> String {
    let mut text = if r.merged {
        format!("Merged into {}", describe(&r.entry))
    } else {
        format!("Remembered {}", describe(&r.entry))
    };
    if r.store == crate::engine::StoreKind::Team {
        text.push_str("Written to the team store: every teammate's copilot reads it.\n");
    }
    if !r.superseded.is_empty() {
        text.push_str(&format!("Superseded: {}\n", r.superseded.join(", ")));
    }
    if r.redacted > 0 {
        text.push_str(&format!(
            "{} secret(s) redacted before storing.\n",
            r.redacted
        ));
    }
    text
}

fn status_text(status: &StatusReport, indexing: bool) -> String {
    let mut text = format!(
        "tacit {}\nstore: {}\nteam store: {}\n",
        status.version,
        status.store,
        status.team_store.line()
    );
    let e = &status.embedder;
    if e.fallback {
        text.push_str(&format!(
            "embedder: {} (lexical fallback: {})\n",
            e.id,
            e.fallback_reason.clone().unwrap_or_default()
        ));
    } else {
        text.push_str(&format!("embedder: {}\n", e.id));
    }
    if let Some(bytes) = status.resident_bytes {
        text.push_str(&format!(
            "resident memory: {} MB (this server)\n",
            bytes / (1024 * 1024)
        ));
    }
    for w in &status.workspaces {
        text.push_str(&format!("workspace: {} ({})\n", w.root.display(), w.scope));
    }
    for (layer, by_status) in &status.counts {
        let parts: Vec<String> = by_status.iter().map(|(s, n)| format!("{n} {s}")).collect();
        text.push_str(&format!("{layer}: {}\n", parts.join(", ")));
    }
    text.push_str(if indexing {
        "indexing: running\n"
    } else {
        "indexing: idle\n"
    });
    text
}

/// Runs one tool; every failure, a panic included, becomes an `isError` result.
pub(super) async fn call(
    server: &TacitMcp,
    name: &str,
    arguments: Option<JsonObject>,
    progress: Option<super::Progress>,
) -> CallToolResult {
    let indexing_before = server.indexing_note().await;
    let outcome = AssertUnwindSafe(dispatch(server, name, arguments, progress))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!("{name} panicked: {what}");
            Err(format!(
                "the tool failed unexpectedly ({what}); see the server log"
            ))
        });
    match outcome {
        Ok(Reply { structured, text }) => {
            let mut result = CallToolResult::structured(structured);
            match indexing_before {
                // Reads made while the workspace is still being indexed say so, in the text a
                // model reads and in `_meta` for programs.
                Some(note) if name != "reindex" => {
                    result.content = vec![ContentBlock::text(format!("_{note}_\n\n{text}"))];
                    let mut meta = MetaObject::new();
                    meta.0.insert("tacit/indexing".into(), json!(true));
                    result.meta = Some(meta);
                }
                _ => result.content = vec![ContentBlock::text(text)],
            }
            result
        }
        Err(message) => {
            tracing::debug!("{name} failed: {message}");
            CallToolResult::error(vec![ContentBlock::text(format!("{name}: {message}"))])
        }
    }
}

async fn dispatch(
    server: &TacitMcp,
    name: &str,
    arguments: Option<JsonObject>,
    progress: Option<super::Progress>,
) -> Result<Reply, String> {
    let err = |e: crate::engine::EngineError| e.to_string();
    match name {
        "assemble_context" => {
            let request: ContextRequest = args(arguments)?;
            let engine = server.engine()?;
            let mut result = engine.assemble_context(request).await.map_err(err)?;
            for list in [
                &mut result.assembled.pinned,
                &mut result.assembled.memories,
                &mut result.assembled.procedures,
                &mut result.assembled.episodes,
            ] {
                list.iter_mut().for_each(|s| s.entry.vector.clear());
            }
            let text = result.assembled.markdown.clone();
            reply(&result, text)
        }
        "recall" => {
            let request: RecallRequest = args(arguments)?;
            let engine = server.engine()?;
            let mut entries = engine.recall(request).await.map_err(err)?;
            entries.iter_mut().for_each(|s| s.entry.vector.clear());
            let text = scored_lines(&entries);
            reply(&EntriesResult { entries }, text)
        }
        "remember" => {
            let request: RememberRequest = args(arguments)?;
            let engine = server.engine()?;
            let mut result = engine.remember(request).await.map_err(err)?;
            result.entry.vector.clear();
            let text = remembered(&result);
            reply(&result, text)
        }
        "extract" => {
            let request: ExtractRequest = args(arguments)?;
            let engine = server.engine()?;
            let mut entries = engine
                .extract(&request.text, request.scope)
                .await
                .map_err(err)?;
            entries.iter_mut().for_each(|r| r.entry.vector.clear());
            let text = if entries.is_empty() {
                "No statement of preference, prohibition, decision or workflow found.\n".into()
            } else {
                entries.iter().map(remembered).collect()
            };
            reply(&EntriesResult { entries }, text)
        }
        "update" => {
            let request: UpdateRequest = args(arguments)?;
            let engine = server.engine()?;
            let entry = bare(engine.update(request).await.map_err(err)?);
            let text = format!("Updated {}", describe(&entry));
            reply(&entry, text)
        }
        "forget" => {
            let IdRequest { id } = args(arguments)?;
            let engine = server.engine()?;
            let gone = engine.forget(&id).await.map_err(err)?;
            let text = format!("Forgot {}", describe(&gone));
            reply(&ForgetResult { forgotten: gone.id }, text)
        }
        "restore" => {
            let IdRequest { id } = args(arguments)?;
            let engine = server.engine()?;
            let entry = bare(engine.restore(&id).await.map_err(err)?);
            let text = format!("Restored {}", describe(&entry));
            reply(&entry, text)
        }
        "pin" => {
            let PinRequest { text, id } = args(arguments)?;
            let engine = server.engine()?;
            let entry = bare(engine.pin(text, id).await.map_err(err)?);
            let text = format!("Pinned {}", describe(&entry));
            reply(&entry, text)
        }
        "unpin" => {
            let IdRequest { id } = args(arguments)?;
            let engine = server.engine()?;
            let entry = bare(engine.unpin(&id).await.map_err(err)?);
            let text = format!("Unpinned {}", describe(&entry));
            reply(&entry, text)
        }
        "list" => {
            let request: ListRequest = args(arguments)?;
            let engine = server.engine()?;
            let entries: Vec<Entry> = engine
                .list(request)
                .await
                .map_err(err)?
                .into_iter()
                .map(bare)
                .collect();
            let text = if entries.is_empty() {
                "No entries.\n".into()
            } else {
                entries.iter().map(describe).collect()
            };
            reply(&EntriesResult { entries }, text)
        }
        "get" => {
            let IdRequest { id } = args(arguments)?;
            let engine = server.engine()?;
            let entry = bare(engine.get(&id).await.map_err(err)?);
            let mut text = describe(&entry);
            for event in &entry.history {
                text.push_str(&format!(
                    "- {} at {}{}\n",
                    event.action,
                    event.at,
                    event
                        .detail
                        .as_deref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                ));
            }
            reply(&entry, text)
        }
        "status" => {
            let request: StatusRequest = args(arguments)?;
            let engine = server.engine()?;
            let status = engine.status(request).await.map_err(err)?;
            let text = status_text(&status, server.is_indexing());
            reply(&status, text)
        }
        "reindex" => {
            let NoArgs {} = args(arguments)?;
            server.engine()?;
            let roots = server.roots().await;
            if roots.is_empty() {
                return Err("no workspace to index: start tacit mcp inside a repository, pass -C DIR, or let the client send its roots".into());
            }
            let job = server.spawn_index(roots.clone(), progress.clone());
            let result = match progress {
                Some(_) => {
                    let summary = job.await.map_err(|e| format!("indexing failed: {e}"))?;
                    ReindexResult {
                        roots,
                        finished: true,
                        summary,
                    }
                }
                None => ReindexResult {
                    roots,
                    finished: false,
                    summary: Vec::new(),
                },
            };
            let text = if result.finished {
                format!("Indexed again:\n{}\n", result.summary.join("\n"))
            } else {
                format!(
                    "Indexing {} in the background; `status` says when it is done.\n",
                    result
                        .roots
                        .iter()
                        .map(|r| r.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            reply(&result, text)
        }
        other => Err(format!("unknown tool `{other}`; tacit has: {}", names())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_object_schemas_from_the_protocol_types() {
        let tools = tools();
        assert_eq!(tools.len(), SPECS.len());
        for tool in &tools {
            assert_eq!(
                tool.input_schema.get("type"),
                Some(&json!("object")),
                "{}",
                tool.name
            );
            let output = tool.output_schema.as_ref().expect("an output schema");
            assert_eq!(output.get("type"), Some(&json!("object")), "{}", tool.name);
        }
        let remember = tools.iter().find(|t| t.name == "remember").unwrap();
        assert_eq!(remember.input_schema["required"], json!(["text"]));
        assert_eq!(remember.input_schema["properties"]["key"]["type"], "string");
        let forget = tools.iter().find(|t| t.name == "forget").unwrap();
        assert_eq!(
            forget.annotations.as_ref().and_then(|a| a.destructive_hint),
            Some(true)
        );
    }

    #[test]
    fn arguments_of_the_wrong_type_name_the_field() {
        let mut arguments = JsonObject::new();
        arguments.insert("text".into(), json!("ok"));
        arguments.insert("tags".into(), json!("x"));
        let e = args::<RememberRequest>(Some(arguments)).unwrap_err();
        assert!(
            e.starts_with("invalid arguments: `tags`: invalid type"),
            "{e}"
        );
        let e = args::<IdRequest>(None).unwrap_err();
        assert_eq!(e, "invalid arguments: missing field `id`");
    }
}
