//! `workspace/executeCommand`: parses each command's single JSON object argument, calls the
//! engine, and maps its errors to JSON-RPC errors a person can act on. A panicking handler
//! becomes an InternalError reply; the server keeps serving.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;

use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::ExecuteCommandParams;

use super::Backend;
use crate::engine::{
    ContextRequest, EngineError, EntriesResult, ExportRequest, ExportResult, ExtractRequest,
    ForgetResult, IdRequest, ImportRequest, ImportResult, ListRequest, NoArgs, PinRequest,
    RecallRequest, ReindexStarted, RememberRequest, StatusRequest, UpdateRequest,
};
use crate::store::StoreError;

/// Every command of DESIGN.md, as advertised in `executeCommandProvider`.
pub const COMMANDS: &[&str] = &[
    "tacit.assembleContext",
    "tacit.recall",
    "tacit.remember",
    "tacit.extract",
    "tacit.update",
    "tacit.forget",
    "tacit.restore",
    "tacit.pin",
    "tacit.unpin",
    "tacit.list",
    "tacit.get",
    "tacit.export",
    "tacit.import",
    "tacit.reindex",
    "tacit.status",
    "tacit.writeInstructions",
    super::diagnostics::OPEN_EXAMPLE,
];

/// Editors send the file in hand as a `file://` URI, percent-encoded; the engine takes paths.
/// Anything else (a path, a URI of another scheme) is passed on as it is.
fn file_path_of(uri: &str) -> String {
    use tower_lsp_server::ls_types::Uri;
    uri.parse::<Uri>()
        .ok()
        .filter(|u| u.scheme().as_str() == "file")
        .and_then(|u| u.to_file_path().map(|p| p.to_string_lossy().into_owned()))
        .unwrap_or_else(|| uri.to_string())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WriteInstructionsArgs {
    /// agents, claude, copilot, cursor or windsurf.
    format: String,
    #[serde(default)]
    budget_tokens: Option<usize>,
    /// Return what would be written without writing it.
    #[serde(default)]
    dry_run: bool,
    /// The workspace folder; default: the first.
    #[serde(default)]
    root: Option<String>,
}

/// `tacit.openExample`: the argument of the instruction diagnostics' "open an example" action.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OpenExampleArgs {
    /// A `file://` URI.
    uri: String,
    /// 1-based; default 1.
    #[serde(default)]
    line: Option<u32>,
}

/// Error messages quote what was sent (an id, a variant); a quote of 100 KB helps nobody.
const MAX_MESSAGE: usize = 1000;

fn shortened(message: String) -> String {
    if message.len() <= MAX_MESSAGE {
        return message;
    }
    let mut end = MAX_MESSAGE;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &message[..end], message.len())
}

fn invalid(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InvalidParams,
        message: shortened(message.into()).into(),
        data: None,
    }
}

fn internal(message: impl Into<String>) -> Error {
    Error {
        code: ErrorCode::InternalError,
        message: shortened(message.into()).into(),
        data: None,
    }
}

/// The one place engine errors become JSON-RPC errors.
fn to_rpc(command: &str, e: EngineError) -> Error {
    let message = format!("{command}: {e}");
    match e {
        EngineError::InvalidArgument(_)
        | EngineError::NotFound(_)
        | EngineError::Import { .. }
        | EngineError::Store(StoreError::InvalidId(_)) => invalid(message),
        _ => internal(message),
    }
}

/// Commands take one JSON object; none (or null) means `{}`.
fn args<T: DeserializeOwned>(command: &str, arguments: &[Value]) -> Result<T> {
    let value = match arguments {
        [] | [Value::Null] => json!({}),
        [v @ Value::Object(_)] => v.clone(),
        [other] => {
            return Err(invalid(format!(
                "{command}: the argument must be a JSON object, got {}",
                kind(other)
            )))
        }
        _ => {
            return Err(invalid(format!(
                "{command}: expected one JSON object argument, got {}",
                arguments.len()
            )))
        }
    };
    crate::engine::parse_arguments(value).map_err(|e| invalid(format!("{command}: {e}")))
}

/// An import file, read no further than the import limit (it may be a device that never ends).
async fn read_import(path: &str) -> std::io::Result<String> {
    use tokio::io::AsyncReadExt;
    let mut data = String::new();
    tokio::fs::File::open(path)
        .await?
        .take(crate::limits::MAX_IMPORT as u64 + 1)
        .read_to_string(&mut data)
        .await?;
    crate::limits::import("path", data.len()).map_err(std::io::Error::other)?;
    Ok(data)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn to_value<T: serde::Serialize>(v: T) -> Result<Option<Value>> {
    serde_json::to_value(v)
        .map(Some)
        .map_err(|e| internal(format!("cannot serialise the result: {e}")))
}

pub(super) async fn execute(
    backend: &Backend,
    params: ExecuteCommandParams,
) -> Result<Option<Value>> {
    let command = params.command.clone();
    if !COMMANDS.contains(&command.as_str()) {
        return Err(Error {
            code: ErrorCode::InvalidParams,
            message: format!(
                "unknown command `{command}`; tacit knows: {}",
                COMMANDS.join(", ")
            )
            .into(),
            data: None,
        });
    }
    match AssertUnwindSafe(dispatch(backend, &command, &params.arguments))
        .catch_unwind()
        .await
    {
        Ok(result) => {
            if let Err(e) = &result {
                tracing::debug!("{command} failed: {}", e.message);
            }
            result
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!("{command} panicked: {what}");
            Err(internal(format!(
                "{command}: request handler panicked: {what}; see the server log"
            )))
        }
    }
}

async fn dispatch(backend: &Backend, command: &str, arguments: &[Value]) -> Result<Option<Value>> {
    let err = |e| to_rpc(command, e);
    match command {
        "tacit.status" => {
            let request: StatusRequest = args(command, arguments)?;
            let engine = backend.engine().await?;
            let mut status = serde_json::to_value(engine.status(request).await.map_err(err)?)
                .map_err(|e| internal(e.to_string()))?;
            status["indexing"] = json!(backend.indexing.load(Ordering::SeqCst));
            Ok(Some(status))
        }
        "tacit.assembleContext" => {
            let mut request: ContextRequest = args(command, arguments)?;
            request.uri = request.uri.map(|uri| file_path_of(&uri));
            let engine = backend.engine().await?;
            to_value(engine.assemble_context(request).await.map_err(err)?)
        }
        "tacit.recall" => {
            let request: RecallRequest = args(command, arguments)?;
            let engine = backend.engine().await?;
            to_value(EntriesResult {
                entries: engine.recall(request).await.map_err(err)?,
            })
        }
        "tacit.remember" => {
            let request: RememberRequest = args(command, arguments)?;
            let engine = backend.engine().await?;
            to_value(engine.remember(request).await.map_err(err)?)
        }
        "tacit.extract" => {
            let request: ExtractRequest = args(command, arguments)?;
            let engine = backend.engine().await?;
            to_value(EntriesResult {
                entries: engine
                    .extract(&request.text, request.scope)
                    .await
                    .map_err(err)?,
            })
        }
        "tacit.update" => {
            let request: UpdateRequest = args(command, arguments)?;
            let engine = backend.engine().await?;
            to_value(engine.update(request).await.map_err(err)?)
        }
        "tacit.forget" => {
            let IdRequest { id } = args(command, arguments)?;
            let engine = backend.engine().await?;
            let gone = engine.forget(&id).await.map_err(err)?;
            to_value(ForgetResult { forgotten: gone.id })
        }
        "tacit.restore" => {
            let IdRequest { id } = args(command, arguments)?;
            let engine = backend.engine().await?;
            to_value(engine.restore(&id).await.map_err(err)?)
        }
        "tacit.pin" => {
            let PinRequest { text, id } = args(command, arguments)?;
            let engine = backend.engine().await?;
            to_value(engine.pin(text, id).await.map_err(err)?)
        }
        "tacit.unpin" => {
            let IdRequest { id } = args(command, arguments)?;
            let engine = backend.engine().await?;
            let gone = engine.unpin(&id).await.map_err(err)?;
            to_value(json!({ "unpinned": gone.id }))
        }
        "tacit.list" => {
            let request: ListRequest = args(command, arguments)?;
            let engine = backend.engine().await?;
            let mut entries = engine.list(request).await.map_err(err)?;
            // Dashboards do not need 384 floats per row.
            entries.iter_mut().for_each(|e| e.vector.clear());
            to_value(EntriesResult { entries })
        }
        "tacit.get" => {
            let IdRequest { id } = args(command, arguments)?;
            let engine = backend.engine().await?;
            let mut entry = engine.get(&id).await.map_err(err)?;
            entry.vector.clear();
            to_value(entry)
        }
        "tacit.export" => {
            let request: ExportRequest = args(command, arguments)?;
            let path = request.path.clone();
            let engine = backend.engine().await?;
            let jsonl = engine.export(&request).await.map_err(err)?;
            let count = jsonl.lines().count();
            if let Some(path) = &path {
                tokio::fs::write(path, &jsonl)
                    .await
                    .map_err(|e| invalid(format!("{command}: cannot write {path}: {e}")))?;
            }
            to_value(ExportResult { count, jsonl, path })
        }
        "tacit.import" => {
            let ImportRequest { jsonl, path } = args(command, arguments)?;
            let data = match (jsonl, path) {
                (Some(data), _) => data,
                (None, Some(path)) => read_import(&path)
                    .await
                    .map_err(|e| invalid(format!("{command}: cannot read {path}: {e}")))?,
                (None, None) => return Err(invalid(format!("{command}: give `jsonl` or `path`"))),
            };
            let engine = backend.engine().await?;
            let count = engine.import(&data).await.map_err(err)?;
            to_value(ImportResult { imported: count })
        }
        "tacit.reindex" => {
            let NoArgs {} = args(command, arguments)?;
            let engine = backend.engine().await?;
            let (roots, ignores, progress) = {
                let s = backend.session.read().await;
                (
                    s.roots.clone(),
                    s.options.ignore.clone(),
                    s.progress_supported,
                )
            };
            if roots.is_empty() {
                return Err(invalid(format!("{command}: no workspace folder is open")));
            }
            backend.spawn_index(engine, roots.clone(), ignores, progress);
            to_value(ReindexStarted {
                started: true,
                roots,
            })
        }
        "tacit.writeInstructions" => {
            let request: WriteInstructionsArgs = args(command, arguments)?;
            let target: crate::instructions::write::Target = request
                .format
                .parse()
                .map_err(|e: String| invalid(format!("{command}: `format`: {e}")))?;
            let engine = backend.engine().await?;
            let roots = backend.session.read().await.roots.clone();
            let root = match &request.root {
                Some(r) => std::path::PathBuf::from(r.strip_prefix("file://").unwrap_or(r)),
                None => roots
                    .first()
                    .cloned()
                    .ok_or_else(|| invalid(format!("{command}: no workspace folder is open")))?,
            };
            let budget = request
                .budget_tokens
                .unwrap_or(crate::instructions::write::DEFAULT_BUDGET);
            let plan = engine
                .plan_instructions(&root, target, budget)
                .await
                .map_err(err)?;
            let written = if request.dry_run {
                0
            } else {
                crate::instructions::write::apply(&root, &plan)
                    .map_err(|e| internal(format!("{command}: cannot write: {e}")))?
            };
            to_value(json!({ "files": plan.files, "conflicts": plan.conflicts,
                "problems": plan.problems, "written": written }))
        }
        super::diagnostics::OPEN_EXAMPLE => {
            use tower_lsp_server::ls_types::{Position, Range, ShowDocumentParams, Uri};
            let request: OpenExampleArgs = args(command, arguments)?;
            let uri = request
                .uri
                .parse::<Uri>()
                .ok()
                .filter(|u| u.scheme().as_str() == "file")
                .ok_or_else(|| {
                    invalid(format!(
                        "{command}: `uri` must be a file:// URI, not {:?}",
                        request.uri
                    ))
                })?;
            let at = Position::new(request.line.unwrap_or(1).max(1) - 1, 0);
            // The editor opens it. One without window/showDocument answers with an error,
            // which is the editor's limit, not a fault of the request: say so in the result.
            let shown = backend
                .client
                .show_document(ShowDocumentParams {
                    uri,
                    external: None,
                    take_focus: Some(true),
                    selection: Some(Range::new(at, at)),
                })
                .await;
            match shown {
                Ok(shown) => to_value(json!({ "shown": shown })),
                Err(e) => {
                    tracing::debug!("window/showDocument failed: {e}");
                    to_value(json!({ "shown": false, "reason": e.message }))
                }
            }
        }
        other => Err(invalid(format!("unknown command `{other}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: Error) -> String {
        e.message.into_owned()
    }

    #[test]
    fn a_wrong_type_is_reported_with_the_field_that_holds_it() {
        let e = args::<RememberRequest>("tacit.remember", &[json!({"text": "ok", "tags": "x"})])
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParams);
        assert_eq!(
            message(e),
            "tacit.remember: invalid arguments: `tags`: invalid type: string \"x\", expected a sequence"
        );
        let e = args::<IdRequest>("tacit.get", &[json!({"id": [1]})]).unwrap_err();
        assert!(message(e).contains("`id`: invalid type: sequence"));
        // serde names the field itself for missing and unknown fields.
        let e = args::<IdRequest>("tacit.get", &[json!({"idd": "x"})]).unwrap_err();
        assert_eq!(
            message(e),
            "tacit.get: invalid arguments: unknown field `idd`, expected `id`"
        );
    }

    #[test]
    fn a_file_uri_is_decoded_to_its_path_and_a_path_is_kept() {
        assert_eq!(
            file_path_of("file:///repo/src/a%20b.rs"),
            "/repo/src/a b.rs"
        );
        assert_eq!(file_path_of("/repo/src/main.rs"), "/repo/src/main.rs");
        assert_eq!(file_path_of("src/main.rs"), "src/main.rs");
    }

    #[test]
    fn a_message_quoting_a_huge_argument_is_shortened() {
        let id = "é".repeat(50_000);
        let e = to_rpc(
            "tacit.get",
            EngineError::Store(StoreError::InvalidId(id.clone())),
        );
        let text = message(e);
        assert!(text.len() < MAX_MESSAGE + 100, "{} bytes", text.len());
        assert!(text.starts_with("tacit.get: `éé") && text.ends_with(" bytes in all)"));
    }
}
