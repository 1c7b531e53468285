//! The requests and results of every command, shared by every front door (LSP commands, the
//! CLI, MCP tools). Requests derive `JsonSchema` so that MCP input schemas come from the very
//! types the LSP layer parses; all of them are camelCase on the wire.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::assemble::Assembled;
use crate::indexer::ExtractionReport;
use crate::memory::{Entry, Layer, Source, Status};

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EmbedderInfo {
    pub id: String,
    pub fallback: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_dir: Option<PathBuf>,
}

/// What the last index run did, for `tacit.status`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexReport {
    pub root: PathBuf,
    pub scope: String,
    pub files_scanned: usize,
    pub skipped: std::collections::BTreeMap<String, usize>,
    pub problems: Vec<String>,
    pub written: ExtractionReport,
    pub duration_ms: u64,
    /// Where the run's time went.
    pub phases: IndexPhases,
    /// Source files parsed for code conventions, by language, and those skipped.
    pub code: crate::code::ScanReport,
    /// What git history mining found (or why there is no history).
    pub history: Option<crate::history::HistoryStatus>,
    /// Set when this run started from the team's publication of the repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publication: Option<PublicationUsed>,
}

/// How a first index run started from the team store's publication (`tacit index --publish`
/// in the team's CI): its entries copied, only the files that differ from its commit parsed,
/// and only the commits after it mined.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicationUsed {
    pub commit: String,
    pub published_at: i64,
    /// Entries copied from the team store, vectors and all (none embedded again).
    pub entries_copied: usize,
    /// Files counted at the published commit whose counts were taken as they are.
    pub files_reused: usize,
    /// Files that differ from the published commit (changed, added, deleted), counted here.
    pub files_recounted: usize,
}

/// What `tacit index --publish` wrote to the team store.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishReport {
    pub uri: String,
    pub scope: String,
    pub commit: String,
    /// Entries of the scope written (new or changed since the last publication).
    pub written: usize,
    pub unchanged: usize,
    /// Entries of an earlier publication no longer found at this commit, now expired.
    pub expired: usize,
    /// Source files whose counts the publication carries.
    pub files: usize,
    /// Whether the history mining state went with it (commits after it are mined by readers).
    pub history: bool,
    pub bytes: usize,
}

/// The time of each phase of an index run, in milliseconds. `parse` is tree-sitter parsing
/// and the convention queries; `embed` and `store` cover every entry written, the history's
/// included; `history` is the git walk and its analysis.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexPhases {
    pub walk_ms: u64,
    pub config_ms: u64,
    pub parse_ms: u64,
    pub embed_ms: u64,
    pub store_ms: u64,
    pub history_ms: u64,
}

/// What an incremental update after changed files did (`IndexService::paths_changed`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FilesChanged {
    pub root: PathBuf,
    pub code: crate::code::ScanReport,
    pub written: ExtractionReport,
    /// A configuration file was among the changed files and the configuration was read again.
    pub config_reread: bool,
    /// Set when a `.git` path changed and the history was mined again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::history::HistoryStatus>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContextRequest {
    #[serde(default)]
    pub query: Option<String>,
    /// The file in hand: a path, absolute or relative to the first workspace root. The LSP
    /// front door also accepts a `file://` URI here and decodes it.
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub position: Option<serde_json::Value>,
    #[serde(default)]
    pub budget_tokens: Option<usize>,
    #[serde(default)]
    pub layers: Option<Vec<Layer>>,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    pub embed_ms: f64,
    pub search_ms: f64,
    pub score_ms: f64,
    pub total_ms: f64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContextResult {
    #[serde(flatten)]
    pub assembled: Assembled,
    pub scopes: Vec<String>,
    pub embedder: EmbedderInfo,
    pub timing: Timing,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecallRequest {
    pub query: String,
    #[serde(default)]
    pub layers: Option<Vec<Layer>>,
    #[serde(default)]
    pub limit: Option<usize>,
    #[serde(default)]
    pub include_superseded: bool,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RememberRequest {
    pub text: String,
    #[serde(default)]
    pub layer: Option<Layer>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub importance: Option<f32>,
    /// `user` for preferences that follow the person across repositories, `team` for the
    /// team store (every teammate's server reads it); default: the first workspace's scope.
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub source: Option<Source>,
}

/// Which store holds an entry: this machine's, or the team's on object storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum StoreKind {
    Local,
    Team,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RememberResult {
    pub entry: Entry,
    pub merged: bool,
    pub superseded: Vec<String>,
    pub redacted: usize,
    /// Where it was written: `team` for `scope: "team"`, else `local`.
    pub store: StoreKind,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateRequest {
    pub id: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub importance: Option<f32>,
    #[serde(default)]
    pub confidence: Option<f32>,
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListRequest {
    #[serde(default)]
    pub layers: Option<Vec<Layer>>,
    #[serde(default)]
    pub statuses: Option<Vec<Status>>,
    #[serde(default)]
    pub key_prefix: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub source: Option<Source>,
    /// Every scope, not only the open workspaces' and `user`.
    #[serde(default)]
    pub all_scopes: bool,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    pub version: &'static str,
    pub store: String,
    pub schema_version: u32,
    pub embedder: EmbedderInfo,
    pub workspaces: Vec<WorkspaceStatus>,
    /// The scopes `counts` covers; empty when it covers the whole store.
    pub scopes: Vec<String>,
    pub counts: std::collections::BTreeMap<String, std::collections::BTreeMap<String, usize>>,
    /// What each index run of this process did (files, entries written, code and history
    /// scans); its parts are described where they are made, so the schema says only "objects".
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub last_index: Vec<IndexReport>,
    /// Per root: commits mined, the head they were mined at, or why there is no history.
    #[schemars(with = "Vec<serde_json::Map<String, serde_json::Value>>")]
    pub history: Vec<crate::history::HistoryStatus>,
    /// The team store: where, and whether this server reads it.
    pub team_store: TeamStoreStatus,
    /// The resident memory of the process that answered, in bytes, as the kernel counts it
    /// (`VmRSS`); none where the platform does not say.
    pub resident_bytes: Option<u64>,
}

/// The team store of a server: `uri` null when none is configured (`off`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamStoreStatus {
    pub uri: Option<String>,
    pub state: TeamState,
    /// Why it is not connected (or, connected, why its last refresh failed).
    pub reason: Option<String>,
    /// Entries of the team store this server serves (every scope it holds).
    pub entries: usize,
}

impl TeamStoreStatus {
    /// The team store in one line, as the CLI and the MCP status say it.
    pub fn line(&self) -> String {
        let uri = self.uri.as_deref().unwrap_or_default();
        match self.state {
            TeamState::Off => {
                "off (--team-store, TACIT_TEAM_STORE or teamStore to share memory with the team)"
                    .into()
            }
            TeamState::Connecting => format!("{uri} connecting"),
            TeamState::Connected => format!("{uri} connected, {} entries", self.entries),
            TeamState::Unreachable => format!(
                "{uri} unreachable: {}",
                self.reason.as_deref().unwrap_or("no reason given")
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TeamState {
    /// No team store is configured.
    Off,
    /// Opening it, in the background: the local store serves meanwhile.
    Connecting,
    Connected,
    /// It could not be opened (or refreshed); `reason` says why. Local memory works.
    Unreachable,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceStatus {
    pub root: PathBuf,
    pub scope: String,
}

/// Arguments of a command that takes nothing.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Arguments of a command about one memory.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdRequest {
    /// The memory's id, as returned by remember, recall or list.
    pub id: String,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PinRequest {
    /// Text to remember as a pinned rule.
    #[serde(default)]
    pub text: Option<String>,
    /// Or the id of an existing memory to pin.
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportRequest {
    /// JSON lines as `tacit.export` returns them.
    #[serde(default)]
    pub jsonl: Option<String>,
    /// Or a file holding them.
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtractRequest {
    /// Free text (a conversation, a review comment) to mine for conventions and decisions.
    pub text: String,
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportRequest {
    /// Also write the JSON lines to this file.
    #[serde(default)]
    pub path: Option<String>,
    /// Every scope of the store, not only the open workspaces' and `user`.
    #[serde(default)]
    pub all_scopes: bool,
    /// Keep the 384 floats of each entry's vector (import re-embeds entries without one).
    #[serde(default)]
    pub with_vectors: bool,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusRequest {
    /// Count every scope of the store, not only the open workspaces' and `user`.
    #[serde(default)]
    pub all_scopes: bool,
}

/// Entries of `recall` (best first) or `list`, or what `extract` stored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[schemars(rename = "EntriesOf{T}")]
pub struct EntriesResult<T> {
    pub entries: Vec<T>,
}

/// `tacit.export`: the JSON lines, how many, and the file they were also written to.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExportResult {
    pub count: usize,
    pub jsonl: String,
    pub path: Option<String>,
}

/// `tacit.import`: how many entries were written.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImportResult {
    pub imported: usize,
}

/// `tacit.reindex` in the LSP: a run was started in the background for these roots (its
/// `$/progress` says when it ends).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReindexStarted {
    pub started: bool,
    pub roots: Vec<PathBuf>,
}

/// What `forget` deleted for good.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ForgetResult {
    pub forgotten: String,
}

/// What `reindex` did: started a run in the background, or (with a progress token) ran it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReindexResult {
    pub roots: Vec<PathBuf>,
    /// False when the run was started and goes on in the background.
    pub finished: bool,
    /// One line per root when `finished`.
    pub summary: Vec<String>,
}

/// Parses a command's JSON object of arguments into its request type, with a message that
/// names the field at fault: serde says what was wrong with a value but not which field held
/// it. Every front door (LSP commands, MCP tools) prefixes the command's name.
pub fn parse_arguments<T: serde::de::DeserializeOwned>(
    arguments: serde_json::Value,
) -> Result<T, String> {
    serde_json::from_value(arguments.clone()).map_err(|e| {
        let e = e.to_string();
        match culprit::<T>(&arguments).filter(|_| !e.contains("field `")) {
            Some(field) => format!("invalid arguments: `{field}`: {e}"),
            None => format!("invalid arguments: {e}"),
        }
    })
}

/// The field without which the rest of `arguments` parses (or fails only for lack of it).
fn culprit<T: serde::de::DeserializeOwned>(arguments: &serde_json::Value) -> Option<String> {
    let object = arguments.as_object()?;
    object
        .keys()
        .find(|field| {
            let mut without = object.clone();
            without.remove(*field);
            match serde_json::from_value::<T>(serde_json::Value::Object(without)) {
                Ok(_) => true,
                Err(e) => e.to_string().contains(&format!("missing field `{field}`")),
            }
        })
        .cloned()
}

/// The JSON Schema of the requests and results the editors use, one `$defs` entry per type
/// (results as serialised, requests as parsed): what the hidden `tacit schema` prints and
/// `editors/vscode/scripts/protocol-types.js` turns into the extension's TypeScript types.
pub fn editor_protocol_schema() -> serde_json::Value {
    use schemars::generate::{SchemaGenerator, SchemaSettings};
    fn named<T: JsonSchema>(generator: &mut SchemaGenerator, names: &mut Vec<String>) {
        generator.subschema_for::<T>();
        names.push(T::schema_name().into_owned());
    }
    let mut results = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut result_names = Vec::new();
    named::<ContextResult>(&mut results, &mut result_names);
    named::<RememberResult>(&mut results, &mut result_names);
    named::<StatusReport>(&mut results, &mut result_names);
    named::<ForgetResult>(&mut results, &mut result_names);
    named::<EntriesResult<crate::assemble::Scored>>(&mut results, &mut result_names);
    named::<EntriesResult<Entry>>(&mut results, &mut result_names);
    named::<EntriesResult<RememberResult>>(&mut results, &mut result_names);
    named::<ExportResult>(&mut results, &mut result_names);
    named::<ImportResult>(&mut results, &mut result_names);
    named::<ReindexStarted>(&mut results, &mut result_names);
    named::<Entry>(&mut results, &mut result_names);
    named::<crate::instructions::write::Plan>(&mut results, &mut result_names);
    let mut requests = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let mut request_names = Vec::new();
    named::<ContextRequest>(&mut requests, &mut request_names);
    named::<RecallRequest>(&mut requests, &mut request_names);
    named::<RememberRequest>(&mut requests, &mut request_names);
    named::<UpdateRequest>(&mut requests, &mut request_names);
    named::<ListRequest>(&mut requests, &mut request_names);
    named::<ExportRequest>(&mut requests, &mut request_names);
    named::<ImportRequest>(&mut requests, &mut request_names);
    named::<StatusRequest>(&mut requests, &mut request_names);
    named::<PinRequest>(&mut requests, &mut request_names);
    named::<IdRequest>(&mut requests, &mut request_names);
    let mut defs = results.take_definitions(true);
    for (name, schema) in requests.take_definitions(true) {
        // The enums (layers, statuses, sources) read the same both ways.
        defs.entry(name).or_insert(schema);
    }
    serde_json::json!({
        "results": result_names,
        "requests": request_names,
        "$defs": defs,
    })
}
