//! The LSP backend on `tower-lsp-server`: lifecycle, configuration, background indexing
//! with `$/progress`, and `workspace/executeCommand`. It translates and schedules; every
//! decision about what to store or return is made in [`crate::engine`].
//!
//! tower-lsp starts the next message at every `.await`, so handlers finish their changes to
//! the session before their first await, and the session lock is never held across an
//! engine (LanceDB) call: handlers clone the `Arc<Engine>` out and drop the lock.

mod commands;
mod diagnostics;
mod transport;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

use crate::assemble::{AssembleSettings, Weights};
use crate::engine::{Engine, EngineOptions, IndexProgress, Settings};
use crate::memory::Layer;

pub use commands::COMMANDS;

/// `initializationOptions` and the `tacit` configuration section. Unknown or mistyped
/// options fall back to defaults with a warning, never a failed start.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ServerOptions {
    /// Store directory or URI; default `$XDG_DATA_HOME/tacit`. Read at start-up.
    pub store_path: Option<String>,
    /// The team store's object-store URI (`s3://bucket/prefix`, `az://container/prefix`);
    /// default `TACIT_TEAM_STORE`, else none. Read at start-up.
    pub team_store: Option<String>,
    /// Directory holding all-MiniLM-L6-v2. Read at start-up.
    pub model_path: Option<PathBuf>,
    /// Extra gitignore-style globs to leave out of indexing.
    pub ignore: Vec<String>,
    /// Index every workspace folder when the server starts.
    pub index_on_startup: bool,
    pub budget_tokens: Option<usize>,
    pub limit: Option<usize>,
    pub min_relevance: Option<f32>,
    /// Per-layer overrides of `minRelevance`, e.g. `{"episode": 0.3}`.
    pub layer_min_relevance: Option<std::collections::BTreeMap<Layer, f32>>,
    /// Maximal-marginal-relevance strength; 0 turns it off.
    pub diversity: Option<f32>,
    pub weights: Option<Weights>,
    /// Commits of git history mined, newest first (default 5,000).
    pub history_max_commits: Option<usize>,
    /// Source files larger than this many bytes are not read; default 1 MiB.
    pub max_file_bytes: Option<u64>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            store_path: None,
            team_store: None,
            model_path: None,
            ignore: Vec::new(),
            index_on_startup: true,
            budget_tokens: None,
            limit: None,
            min_relevance: None,
            layer_min_relevance: None,
            diversity: None,
            weights: None,
            history_max_commits: None,
            max_file_bytes: None,
        }
    }
}

impl ServerOptions {
    /// The engine settings these options give.
    fn settings(&self) -> Settings {
        Settings {
            assemble: self.assemble_settings(),
            max_file_bytes: self
                .max_file_bytes
                .unwrap_or(crate::workspace::DEFAULT_MAX_FILE_BYTES),
            history_max_commits: self
                .history_max_commits
                .unwrap_or(crate::history::DEFAULT_MAX_COMMITS),
        }
    }

    fn assemble_settings(&self) -> AssembleSettings {
        let mut s = AssembleSettings::default();
        if let Some(b) = self.budget_tokens {
            s.budget_tokens = b;
        }
        if let Some(l) = self.limit {
            s.limit = l;
        }
        if let Some(m) = self.min_relevance {
            s.min_relevance = m;
        }
        if let Some(w) = self.weights {
            s.weights = w;
        }
        if let Some(m) = &self.layer_min_relevance {
            s.layer_min_relevance = m.clone();
        }
        if let Some(d) = self.diversity {
            s.diversity = d;
        }
        s
    }

    /// Parses options, returning the defaults and a message a person can act on when they
    /// do not parse.
    fn parse(value: Option<serde_json::Value>) -> (ServerOptions, Option<String>) {
        let value = match value {
            None | Some(serde_json::Value::Null) => return (ServerOptions::default(), None),
            // Clients that send the whole settings tree nest ours under `tacit`.
            Some(serde_json::Value::Object(mut map)) if map.contains_key("tacit") => {
                map.remove("tacit").unwrap_or_default()
            }
            Some(v) => v,
        };
        match serde_json::from_value(value) {
            Ok(options) => (options, None),
            Err(e) => (
                ServerOptions::default(),
                Some(format!("tacit: invalid settings ({e}); using the defaults")),
            ),
        }
    }
}

/// State that handlers read and change; cheap to snapshot.
#[derive(Default)]
struct Session {
    engine: Option<Arc<Engine>>,
    /// Why the engine could not start (a damaged store, say); every command answers with it.
    engine_error: Option<String>,
    options: ServerOptions,
    roots: Vec<PathBuf>,
    progress_supported: bool,
    /// The client can register `workspace/didChangeWatchedFiles` dynamically.
    watch_supported: bool,
}

pub struct Backend {
    client: Client,
    session: RwLock<Session>,
    engine_options: EngineOptions,
    /// One index run at a time; a dedicated lock so that requests never wait on it.
    index_lock: Arc<Mutex<()>>,
    indexing: Arc<AtomicBool>,
    index_runs: AtomicU64,
    /// Saved or changed files waiting for the debounce to pass; a plain mutex, held only to
    /// add or take paths, never across an await.
    pending_changes: Arc<std::sync::Mutex<std::collections::BTreeSet<PathBuf>>>,
    /// Bumped by every change notification; a debounce task that sees it moved lets the later
    /// one do the work.
    change_generation: Arc<AtomicU64>,
    /// Instruction files with diagnostics, per root.
    published: Arc<diagnostics::Published>,
    /// Set once the start after `initialized` has opened the engine or failed to: commands
    /// that arrive earlier wait for it instead of failing.
    started: tokio::sync::watch::Sender<bool>,
    /// Set by the first `initialized`: a client that sends it twice would otherwise open a
    /// second engine and run every start-up task twice.
    initialized: AtomicBool,
}

/// How long changes must stop arriving before they are processed: a format-on-save or a
/// branch switch sends a burst, and one update for the whole burst is enough.
const DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(200);

/// What the client is asked to watch: the source files tacit reads, and the git refs that
/// history mining follows.
const WATCHED: &[&str] = &[
    "**/*.{rs,py,pyi,ts,tsx,mts,cts,js,jsx,mjs,cjs,go,java}",
    "**/.git/HEAD",
    "**/.git/refs/**",
    // Instruction files, read as rules and checked against the code.
    "**/{AGENTS,CLAUDE,CONVENTIONS}.md",
    "**/.github/{copilot-instructions.md,instructions/**}",
    "**/{.cursorrules,.windsurfrules,.clinerules}",
    "**/{.cursor,.windsurf,.continue}/rules/**",
    "**/.clinerules/**",
];

impl Backend {
    fn new(client: Client, engine_options: EngineOptions) -> Backend {
        Backend {
            client,
            session: RwLock::new(Session::default()),
            engine_options,
            index_lock: Arc::new(Mutex::new(())),
            indexing: Arc::new(AtomicBool::new(false)),
            index_runs: AtomicU64::new(0),
            pending_changes: Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new())),
            change_generation: Arc::new(AtomicU64::new(0)),
            published: Arc::new(diagnostics::Published::default()),
            started: tokio::sync::watch::channel(false).0,
            initialized: AtomicBool::new(false),
        }
    }

    /// Answers a frame that `transport` found malformed with the JSON-RPC error for it.
    async fn malformed_message(&self, params: transport::Malformed) -> Result<serde_json::Value> {
        Err(transport::malformed_error(params))
    }

    async fn engine(&self) -> Result<Arc<Engine>> {
        // The sender lives as long as `self`, so the wait ends only when the start has.
        let _ = self.started.subscribe().wait_for(|started| *started).await;
        let session = self.session.read().await;
        match (&session.engine, &session.engine_error) {
            (Some(engine), _) => Ok(engine.clone()),
            (None, Some(err)) => Err(Error {
                code: ErrorCode::InternalError,
                message: err.clone().into(),
                data: None,
            }),
            (None, None) => Err(Error {
                code: ErrorCode::ServerError(-32002),
                message: "tacit is still starting".into(),
                data: None,
            }),
        }
    }

    /// Indexes the given roots in a background task, reporting `$/progress`.
    fn spawn_index(
        &self,
        engine: Arc<Engine>,
        roots: Vec<PathBuf>,
        ignores: Vec<String>,
        progress_supported: bool,
    ) {
        let client = self.client.clone();
        let lock = self.index_lock.clone();
        let indexing = self.indexing.clone();
        let published = self.published.clone();
        let run = self.index_runs.fetch_add(1, Ordering::SeqCst);
        indexing.store(true, Ordering::SeqCst);
        tokio::spawn(async move {
            let _one_at_a_time = lock.lock().await;
            let token = NumberOrString::String(format!("tacit/index/{run}"));
            let progress = if progress_supported
                && client
                    .create_work_done_progress(token.clone())
                    .await
                    .is_ok()
            {
                Some(
                    client
                        .progress(token, "tacit: indexing")
                        .with_percentage(0)
                        .begin()
                        .await,
                )
            } else {
                None
            };
            let mut summary = Vec::new();
            let count = roots.len().max(1);
            for (i, root) in roots.iter().enumerate() {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<IndexProgress>();
                let job = {
                    let engine = engine.clone();
                    let root = root.clone();
                    let ignores = ignores.clone();
                    tokio::spawn(async move {
                        engine
                            .index(&root, &ignores, &move |p| {
                                let _ = tx.send(p);
                            })
                            .await
                    })
                };
                while let Some(p) = rx.recv().await {
                    if let Some(progress) = &progress {
                        let pct = ((i as u32 * 100) + p.percentage) / count as u32;
                        progress
                            .report_with_message(
                                format!("{}: {}", root.display(), p.message),
                                pct.min(99),
                            )
                            .await;
                    }
                }
                match job.await {
                    Ok(Ok(report)) => {
                        let line = format!(
                            "indexed {}: {} files, {} entries written, {} superseded",
                            root.display(),
                            report.files_scanned,
                            report.written.written,
                            report.written.superseded
                        );
                        tracing::info!("{line}");
                        client.log_message(MessageType::INFO, &line).await;
                        summary.push(line);
                        diagnostics::publish(&client, &engine, root, &published).await;
                    }
                    Ok(Err(e)) => {
                        let line = format!("indexing {} failed: {e}", root.display());
                        tracing::error!("{line}");
                        client.log_message(MessageType::ERROR, &line).await;
                        summary.push(line);
                    }
                    Err(e) => {
                        let line = format!("indexing {} crashed: {e}", root.display());
                        tracing::error!("{line}");
                        client.log_message(MessageType::ERROR, &line).await;
                        summary.push(line);
                    }
                }
            }
            indexing.store(false, Ordering::SeqCst);
            if let Some(progress) = progress {
                progress.finish_with_message(summary.join("; ")).await;
            }
            // Single-row writes leave small files that slow search; tidy up off the request path.
            if let Err(e) = engine.compact().await {
                tracing::debug!("compaction skipped: {e}");
            }
        });
    }
}

impl Backend {
    /// Opens the engine (store, model) with the options of the session, under a
    /// `tacit/start` progress, and hands it to the session with the workspace folders the
    /// client has announced by then. Commands waiting in [`Backend::engine`] go on after it.
    async fn start(&self, progress_supported: bool) -> Option<Arc<Engine>> {
        let token = NumberOrString::String("tacit/start".into());
        let progress = if progress_supported
            && self
                .client
                .create_work_done_progress(token.clone())
                .await
                .is_ok()
        {
            Some(
                self.client
                    .progress(token, "tacit: starting")
                    .with_message("opening the store and loading the model")
                    .begin()
                    .await,
            )
        } else {
            None
        };
        let mut engine_options = self.engine_options.clone();
        {
            let s = self.session.read().await;
            if s.options.store_path.is_some() {
                engine_options.store_uri = s.options.store_path.clone();
            }
            if s.options.team_store.is_some() {
                engine_options.team_store_uri = s.options.team_store.clone();
            }
            if s.options.model_path.is_some() {
                engine_options.model_dir = s.options.model_path.clone();
            }
        }
        let opened = Engine::open(engine_options).await;
        let (engine, summary) = match opened {
            Ok(engine) => {
                if engine.embedder_info().fallback {
                    tracing::warn!(
                        "embedding with the lexical fallback: {}",
                        engine
                            .embedder_info()
                            .fallback_reason
                            .clone()
                            .unwrap_or_default()
                    );
                }
                let engine = Arc::new(engine);
                // Folders added or removed while the store was opening are in the session:
                // settle on the set that was current when the engine goes in.
                loop {
                    let (options, roots) = {
                        let s = self.session.read().await;
                        (s.options.clone(), s.roots.clone())
                    };
                    engine.configure(|s| *s = options.settings());
                    for root in &roots {
                        engine.add_root(root).await;
                    }
                    let gone: Vec<PathBuf> = {
                        let mut s = self.session.write().await;
                        if s.roots == roots {
                            s.engine = Some(engine.clone());
                            break;
                        }
                        roots
                            .iter()
                            .filter(|r| !s.roots.contains(r))
                            .cloned()
                            .collect()
                    };
                    for root in &gone {
                        engine.remove_root(root).await;
                    }
                }
                let summary = format!("store {}", engine.store_uri());
                (Some(engine), summary)
            }
            Err(e) => {
                let message = format!("tacit could not open its store: {e}");
                tracing::error!("{message}");
                self.session.write().await.engine_error = Some(message.clone());
                (None, message)
            }
        };
        self.started.send_replace(true);
        if let Some(progress) = progress {
            progress.finish_with_message(summary).await;
        }
        engine
    }

    /// Queues changed files and, once no change has arrived for [`DEBOUNCE`], hands them to
    /// the engine's incremental update, which splits them by workspace root. Runs after any
    /// index in progress (the same lock), so an update never races a full scan.
    async fn queue_changes(&self, paths: Vec<PathBuf>) {
        if paths.is_empty() {
            return;
        }
        self.pending_changes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(paths);
        let generation = self.change_generation.fetch_add(1, Ordering::SeqCst) + 1;
        // Saves made while the store is still opening are handled once it is open.
        let Ok(engine) = self.engine().await else {
            return;
        };
        let pending = self.pending_changes.clone();
        let counter = self.change_generation.clone();
        let lock = self.index_lock.clone();
        let client = self.client.clone();
        let published = self.published.clone();
        tokio::spawn(async move {
            tokio::time::sleep(DEBOUNCE).await;
            if counter.load(Ordering::SeqCst) != generation {
                return;
            }
            let _one_at_a_time = lock.lock().await;
            let paths: Vec<PathBuf> =
                std::mem::take(&mut *pending.lock().unwrap_or_else(|e| e.into_inner()))
                    .into_iter()
                    .collect();
            for (root, outcome) in engine.indexing.paths_changed(&paths).await {
                let instructions = paths
                    .iter()
                    .any(|p| diagnostics::is_instruction_file(std::slice::from_ref(&root), p));
                match outcome {
                    Ok(done) => {
                        tracing::debug!(
                            "{} changed files in {}: {} parsed, {} memories written, {} superseded",
                            paths.len(),
                            root.display(),
                            done.code.files_parsed,
                            done.written.written,
                            done.written.superseded
                        );
                        if instructions {
                            diagnostics::publish(&client, &engine, &root, &published).await;
                        }
                    }
                    Err(e) => {
                        let line = format!("updating {} failed: {e}", root.display());
                        tracing::warn!("{line}");
                        client.log_message(MessageType::WARNING, line).await;
                    }
                }
            }
        });
    }
}

fn folder_paths(params: &InitializeParams) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .collect();
    #[allow(deprecated)]
    if roots.is_empty() {
        if let Some(uri) = &params.root_uri {
            roots.extend(uri.to_file_path().map(|p| p.into_owned()));
        }
    }
    roots
}

/// `tacit/storeChanged`: the store changed (a write of this server or of another process),
/// so views of it (the VS Code Memory Explorer) can refresh.
enum StoreChanged {}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoreChangedParams {
    layers: Vec<crate::memory::Layer>,
}

impl notification::Notification for StoreChanged {
    type Params = StoreChangedParams;
    const METHOD: &'static str = "tacit/storeChanged";
}

fn spawn_change_notifications(engine: &Engine, client: Client) {
    let mut changes = engine.store_changes();
    tokio::spawn(async move {
        loop {
            let layers = match changes.recv().await {
                Ok(layers) => layers,
                // Too many changes to tell one by one: say that everything may have changed.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    crate::memory::Layer::ALL.to_vec()
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            client
                .send_notification::<StoreChanged>(StoreChangedParams { layers })
                .await;
        }
    });
}

impl LanguageServer for Backend {
    #[tracing::instrument(skip_all)]
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let (options, warning) = ServerOptions::parse(params.initialization_options.clone());
        let roots = folder_paths(&params);
        let progress_supported = params
            .capabilities
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false);
        let watch_supported = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|w| w.dynamic_registration)
            .unwrap_or(false);
        {
            let mut session = self.session.write().await;
            session.options = options.clone();
            session.roots = roots.clone();
            session.progress_supported = progress_supported;
            session.watch_supported = watch_supported;
        }
        if let Some(w) = warning {
            tracing::warn!("{w}");
            self.client.show_message(MessageType::WARNING, w).await;
        }

        // Opening the store (which may wait on another process's write lock), loading the
        // model and walking history all happen after `initialized`, under progress: the
        // editor gets its reply at once whatever the repository.
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "tacit".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            capabilities: ServerCapabilities {
                // Quick fixes that put the measured value into an instruction file's rule.
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                        ..Default::default()
                    },
                )),
                execute_command_provider: Some(ExecuteCommandOptions {
                    commands: COMMANDS.iter().map(|c| c.to_string()).collect(),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                // Open and saved documents are what make file-aware context possible later;
                // asking for open/close only costs nothing now.
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::NONE),
                        save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                        ..Default::default()
                    },
                )),
                workspace: Some(WorkspaceServerCapabilities {
                    workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                        supported: Some(true),
                        change_notifications: Some(OneOf::Left(true)),
                    }),
                    file_operations: None,
                }),
                ..Default::default()
            },
            offset_encoding: None,
        })
    }

    #[tracing::instrument(skip_all)]
    async fn initialized(&self, _: InitializedParams) {
        if self.initialized.swap(true, Ordering::SeqCst) {
            tracing::warn!("a second `initialized` notification was ignored");
            return;
        }
        let (engine, roots, options, progress, watch) = {
            let s = self.session.read().await;
            (
                s.engine.clone(),
                s.roots.clone(),
                s.options.clone(),
                s.progress_supported,
                s.watch_supported,
            )
        };
        if watch {
            let watchers = DidChangeWatchedFilesRegistrationOptions {
                watchers: WATCHED
                    .iter()
                    .map(|glob| FileSystemWatcher {
                        glob_pattern: GlobPattern::String(glob.to_string()),
                        kind: None,
                    })
                    .collect(),
            };
            let registration = Registration {
                id: "tacit/watched-files".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(watchers).ok(),
            };
            if let Err(e) = self.client.register_capability(vec![registration]).await {
                tracing::warn!("the client refused to watch files: {e}");
            }
        }
        let engine = match engine {
            Some(engine) => Some(engine),
            None => self.start(progress).await,
        };
        match engine {
            Some(engine) => {
                let info = engine.embedder_info();
                let line = if info.fallback {
                    format!(
                        "tacit {} ready; store {}; embedder: lexical FALLBACK ({})",
                        env!("CARGO_PKG_VERSION"),
                        engine.store_uri(),
                        info.fallback_reason.clone().unwrap_or_default()
                    )
                } else {
                    format!(
                        "tacit {} ready; store {}; embedder {}",
                        env!("CARGO_PKG_VERSION"),
                        engine.store_uri(),
                        info.id
                    )
                };
                self.client.log_message(MessageType::INFO, line).await;
                crate::engine::spawn_store_refresh(Arc::downgrade(&engine));
                spawn_change_notifications(&engine, self.client.clone());
                if options.index_on_startup && !roots.is_empty() {
                    self.spawn_index(engine, roots, options.ignore, progress);
                }
            }
            None => {
                let err = self
                    .session
                    .read()
                    .await
                    .engine_error
                    .clone()
                    .unwrap_or_default();
                self.client.show_message(MessageType::ERROR, err).await;
            }
        }
    }

    async fn shutdown(&self) -> Result<()> {
        let engine = self.session.read().await.engine.clone();
        if let Some(engine) = engine {
            engine.flush().await;
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        // Some clients push the settings, others push nothing and expect a pull.
        let pushed = match params.settings {
            serde_json::Value::Null => None,
            serde_json::Value::Object(ref m) if m.is_empty() => None,
            v => Some(v),
        };
        let value = match pushed {
            Some(v) => Some(v),
            None => self
                .client
                .configuration(vec![ConfigurationItem {
                    scope_uri: None,
                    section: Some("tacit".into()),
                }])
                .await
                .ok()
                .and_then(|mut v| v.pop()),
        };
        let (options, warning) = ServerOptions::parse(value);
        if let Some(w) = warning {
            self.client.show_message(MessageType::WARNING, w).await;
            return;
        }
        let engine = {
            let mut s = self.session.write().await;
            s.options = options.clone();
            s.engine.clone()
        };
        if let Some(engine) = engine {
            engine.configure(|s| *s = options.settings());
        }
        tracing::info!("configuration updated");
    }

    #[tracing::instrument(skip_all)]
    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        let added: Vec<PathBuf> = params
            .event
            .added
            .iter()
            .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        let removed: Vec<PathBuf> = params
            .event
            .removed
            .iter()
            .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        let (engine, options, progress) = {
            let mut s = self.session.write().await;
            s.roots.retain(|r| !removed.contains(r));
            s.roots.extend(added.iter().cloned());
            (s.engine.clone(), s.options.clone(), s.progress_supported)
        };
        if let Some(engine) = engine {
            for r in &removed {
                engine.remove_root(r).await;
            }
            if !added.is_empty() {
                self.spawn_index(engine, added, options.ignore, progress);
            }
        }
    }

    #[tracing::instrument(skip_all)]
    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        // An instruction file gets its findings when it is opened, not only after an index
        // run or a save: one created since the last run, or in a client that watches no files.
        let Some(path) = params
            .text_document
            .uri
            .to_file_path()
            .map(|p| p.into_owned())
        else {
            return;
        };
        let roots = self.session.read().await.roots.clone();
        let Some(root) = roots
            .into_iter()
            .find(|r| diagnostics::is_instruction_file(std::slice::from_ref(r), &path))
        else {
            return;
        };
        // A file opened while the store is still opening is checked once it is open.
        let Ok(engine) = self.engine().await else {
            return;
        };
        let client = self.client.clone();
        let published = self.published.clone();
        let lock = self.index_lock.clone();
        tokio::spawn(async move {
            // After any index run in progress, whose own publication would otherwise be
            // overwritten by this one's older reading of the store.
            let _one_at_a_time = lock.lock().await;
            diagnostics::publish(&client, &engine, &root, &published).await;
        });
    }

    #[tracing::instrument(skip_all)]
    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        let path = params
            .text_document
            .uri
            .to_file_path()
            .map(|p| p.into_owned());
        self.queue_changes(path.into_iter().collect()).await;
    }

    #[tracing::instrument(skip_all)]
    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let paths = params
            .changes
            .iter()
            .filter_map(|c| c.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        self.queue_changes(paths).await;
    }

    #[tracing::instrument(skip_all)]
    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let actions = diagnostics::code_actions(&params);
        Ok((!actions.is_empty()).then_some(actions))
    }

    #[tracing::instrument(skip_all, fields(command = %params.command))]
    async fn execute_command(
        &self,
        params: ExecuteCommandParams,
    ) -> Result<Option<serde_json::Value>> {
        commands::execute(self, params).await
    }
}

/// Logs a panic with its backtrace to stderr (stdout is the protocol channel of a server on
/// stdio), then runs the default hook.
pub(crate) fn log_panics_to_stderr() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // stdout is the protocol channel: the report goes to stderr only.
        tracing::error!(
            "panic: {info}\n{}",
            std::backtrace::Backtrace::force_capture()
        );
        default_hook(info);
    }));
}

/// Serves LSP on stdin/stdout until the client exits.
pub async fn serve_stdio(engine_options: EngineOptions) -> anyhow::Result<()> {
    log_panics_to_stderr();
    let (service, socket) = LspService::build(|client| Backend::new(client, engine_options))
        .custom_method(transport::MALFORMED_METHOD, Backend::malformed_message)
        .finish();
    Server::new(
        transport::guard(tokio::io::stdin()),
        tokio::io::stdout(),
        socket,
    )
    .serve(service)
    .await;
    Ok(())
}
