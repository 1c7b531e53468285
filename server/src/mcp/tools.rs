//! The MCP tools: one per engine command, with input schemas derived from the very request
//! types the LSP commands parse, output schemas from the result types, and results as
//! `structuredContent` plus a markdown text for clients that read only text.
//!
//! A tool that fails (bad arguments, an unknown id, a store error, a panic) answers with an
//! `isError` result whose text says what to fix; only an unknown tool name is a JSON-RPC error,
//! as the MCP specification asks.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use futures::FutureExt;
use rmcp::handler::server::tool::{schema_for_input, schema_for_output};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, MetaObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
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
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Effect {
    Reads,
    Adds,
    /// Changes an entry in place: calling twice with the same arguments changes nothing more.
    Edits,
    Deletes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    name: String,
    title: String,
    description: String,
    effect: Effect,
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

/// The tools' names, titles, effects and descriptions: prose for a model to read, kept as data.
const SPECS: &str = include_str!("tools.toml");

fn specs() -> &'static [Spec] {
    #[derive(Deserialize)]
    struct Specs {
        tool: Vec<Spec>,
    }
    static PARSED: OnceLock<Vec<Spec>> = OnceLock::new();
    PARSED.get_or_init(|| {
        toml::from_str::<Specs>(SPECS)
            .expect("tools.toml parses (see its unit test)")
            .tool
    })
}

type Schema = fn() -> Arc<JsonObject>;

/// A tool's input schema, from the request type `call` parses its arguments into, and its
/// output schema, from the result type it answers with.
#[rustfmt::skip]
fn schemas(name: &str) -> Option<(Schema, Schema)> {
    Some(match name {
        "assemble_context" => (input::<ContextRequest>, output::<ContextResult>),
        "recall" => (input::<RecallRequest>, output::<EntriesResult<Scored>>),
        "remember" => (input::<RememberRequest>, output::<RememberResult>),
        "extract" => (input::<ExtractRequest>, output::<EntriesResult<RememberResult>>),
        "update" => (input::<UpdateRequest>, output::<Entry>),
        "forget" => (input::<IdRequest>, output::<ForgetResult>),
        "restore" => (input::<IdRequest>, output::<Entry>),
        "pin" => (input::<PinRequest>, output::<Entry>),
        "unpin" => (input::<IdRequest>, output::<Entry>),
        "list" => (input::<ListRequest>, output::<EntriesResult<Entry>>),
        "get" => (input::<IdRequest>, output::<Entry>),
        "status" => (input::<StatusRequest>, output::<StatusReport>),
        "reindex" => (input::<NoArgs>, output::<ReindexResult>),
        _ => return None,
    })
}

/// The tools as `tools/list` shows them.
pub(super) fn tools() -> Vec<Tool> {
    specs()
        .iter()
        .filter_map(|spec| {
            let Some((input, output)) = schemas(&spec.name) else {
                // A programming error, which the unit test below catches.
                tracing::error!("tools.toml names `{}`, which has no schemas", spec.name);
                return None;
            };
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
            Some(
                Tool::new(spec.name.clone(), spec.description.clone(), input())
                    .with_title(spec.title.clone())
                    .with_raw_output_schema(output())
                    .with_annotations(annotations),
            )
        })
        .collect()
}

pub(super) fn is_tool(name: &str) -> bool {
    specs().iter().any(|s| s.name == name)
}

pub(super) fn names() -> String {
    specs()
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
        assert_eq!(
            tools.len(),
            specs().len(),
            "a tool in tools.toml has no schemas"
        );
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
