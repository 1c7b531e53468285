//! `tacit mcp`: the Model Context Protocol server on stdio, built on rmcp, for the copilots
//! that reach tools through MCP rather than LSP (Claude Code, Cursor, Codex CLI, Zed,
//! Windsurf, VS Code's agent mode). It opens the same engine and store as `tacit lsp`, so one
//! memory follows the user across every client; like the LSP layer it only translates and
//! schedules, and every decision about what to store or return is made in [`crate::engine`].
//!
//! The workspace comes from the client's roots when it offers them, else from `-C` or the
//! working directory, and is indexed in a background task while tools already answer with
//! what the store holds (saying that indexing is still running). Handlers run in tasks of
//! their own (rmcp spawns one per request), never hold a lock across an engine call, and turn
//! failures and panics into `isError` results; logs go to stderr only.

mod resources;
mod tools;
mod transport;

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, GetPromptRequestParams, GetPromptResponse,
    Implementation, ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProgressToken,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::{NotificationContext, Peer, RequestContext, RoleServer};
use rmcp::{ErrorData as McpError, ServerHandler, ServiceExt};
use tokio::sync::{Mutex, RwLock};

use crate::engine::{Engine, EngineOptions, IndexProgress};

/// What a model reads first: when to call what.
const INSTRUCTIONS: &str = "tacit is this project's memory of how its code is written: the conventions the source follows, the stack and tools, the before-commit routine, decisions and recent work, learned from the repository and from what people told it.
- Before writing or changing code, call `assemble_context` with the task as `query` and the file you will edit as `uri`, and follow what it returns.
- To answer a specific question about how things are done here, call `recall`.
- When the user states a preference, a rule or a decision about the code (\"we never…\", \"always use…\"), call `remember` with it (or `extract` with the conversation); when they say a stored rule is wrong, `update` or `forget` it (search with `recall` for its id).
- `pin` only what must appear in every context. `status` says what is stored and whether indexing is still running.
The same memory is shared with the user's editor (tacit's language server) and other copilots.";

/// Where an index run reports progress: the client's token of the request that asked for it.
#[derive(Clone)]
pub(crate) struct Progress {
    peer: Peer<RoleServer>,
    token: ProgressToken,
}

struct Inner {
    engine: Result<Arc<Engine>, String>,
    /// `-C` or the repository around the working directory: the workspace until the client
    /// says otherwise with its roots.
    fallback_root: PathBuf,
    /// The fallback root is indexed on start only if it was named with `-C` or is a git work
    /// tree: a client started in the home directory must not make tacit index all of it.
    index_fallback: bool,
    roots: RwLock<Vec<PathBuf>>,
    tools: Vec<Tool>,
    /// One index run at a time; a dedicated lock so that requests never wait on it.
    index_lock: Mutex<()>,
    indexing: AtomicBool,
    /// The client, once initialised: for `resources/list_changed` after an index run.
    peer: OnceLock<Peer<RoleServer>>,
}

#[derive(Clone)]
pub struct TacitMcp {
    inner: Arc<Inner>,
}

impl TacitMcp {
    fn engine(&self) -> Result<Arc<Engine>, String> {
        self.inner.engine.clone()
    }

    fn is_indexing(&self) -> bool {
        self.inner.indexing.load(Ordering::SeqCst)
    }

    async fn roots(&self) -> Vec<PathBuf> {
        self.inner.roots.read().await.clone()
    }

    /// A sentence for answers given while an index run is under way.
    async fn indexing_note(&self) -> Option<String> {
        if !self.is_indexing() {
            return None;
        }
        let roots = self.roots().await;
        let roots: Vec<String> = roots.iter().map(|r| r.display().to_string()).collect();
        Some(format!(
            "tacit is still indexing {}; this answer holds what was stored so far.",
            roots.join(", ")
        ))
    }

    /// Makes `roots` the workspace: the engine scopes new entries and context by them.
    async fn set_roots(&self, roots: Vec<PathBuf>) {
        let Ok(engine) = self.engine() else { return };
        let old = std::mem::replace(&mut *self.inner.roots.write().await, roots.clone());
        for root in old.iter().filter(|r| !roots.contains(r)) {
            engine.remove_root(root).await;
        }
        for root in roots.iter().filter(|r| !old.contains(r)) {
            engine.add_root(root).await;
        }
    }

    /// Indexes `roots` in a background task, one run at a time; reports progress to the
    /// client when it gave a token, and says `resources/list_changed` when done. The task's
    /// result is one line per root.
    fn spawn_index(
        &self,
        roots: Vec<PathBuf>,
        progress: Option<Progress>,
    ) -> tokio::task::JoinHandle<Vec<String>> {
        let server = self.clone();
        // Set before the task starts, so that a tool called right after start-up says that
        // indexing is under way.
        self.inner.indexing.store(true, Ordering::SeqCst);
        tokio::spawn(async move {
            let Ok(engine) = server.engine() else {
                return Vec::new();
            };
            let _one_at_a_time = server.inner.index_lock.lock().await;
            server.inner.indexing.store(true, Ordering::SeqCst);
            let mut summary = Vec::new();
            let count = roots.len().max(1) as f64;
            for (i, root) in roots.iter().enumerate() {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<IndexProgress>();
                let job = {
                    let (engine, root) = (engine.clone(), root.clone());
                    tokio::spawn(async move {
                        engine
                            .index(&root, &[], &move |p| {
                                let _ = tx.send(p);
                            })
                            .await
                    })
                };
                while let Some(p) = rx.recv().await {
                    tracing::debug!("{}: {}% {}", root.display(), p.percentage, p.message);
                    if let Some(Progress { peer, token }) = &progress {
                        let done = (i as f64 * 100.0 + f64::from(p.percentage)) / count;
                        let note = ProgressNotificationParam::new(token.clone(), done)
                            .with_total(100.0)
                            .with_message(format!("{}: {}", root.display(), p.message));
                        if let Err(e) = peer.notify_progress(note).await {
                            tracing::debug!("cannot report progress: {e}");
                        }
                    }
                }
                let line = match job.await {
                    Ok(Ok(report)) => format!(
                        "indexed {}: {} files, {} entries written, {} superseded",
                        root.display(),
                        report.files_scanned,
                        report.written.written,
                        report.written.superseded
                    ),
                    Ok(Err(e)) => format!("indexing {} failed: {e}", root.display()),
                    Err(e) => format!("indexing {} crashed: {e}", root.display()),
                };
                tracing::info!("{line}");
                summary.push(line);
            }
            server.inner.indexing.store(false, Ordering::SeqCst);
            // Single-row writes leave small files that slow search; tidy up off the request path.
            if let Err(e) = engine.compact().await {
                tracing::debug!("compaction skipped: {e}");
            }
            // The languages and memories listed as resources may have changed.
            if let Some(peer) = server.inner.peer.get() {
                if let Err(e) = peer.notify_resource_list_changed().await {
                    tracing::debug!("cannot send resources/list_changed: {e}");
                }
            }
            summary
        })
    }

    /// The client's roots as paths, when it has the capability and answers.
    #[allow(deprecated)] // Roots are deprecated from 2026-07-28 on, which tacit does not speak.
    async fn client_roots(peer: &Peer<RoleServer>) -> Option<Vec<PathBuf>> {
        let offers = peer
            .peer_info()
            .is_some_and(|info| info.capabilities.roots.is_some());
        if !offers {
            return None;
        }
        match peer.list_roots().await {
            Ok(result) => {
                let paths: Vec<PathBuf> = result
                    .roots
                    .iter()
                    .filter_map(|root| {
                        let uri: tower_lsp_server::ls_types::Uri = root.uri.parse().ok()?;
                        uri.to_file_path().map(|p| p.into_owned())
                    })
                    .collect();
                (!paths.is_empty()).then_some(paths)
            }
            Err(e) => {
                tracing::warn!("the client did not list its roots: {e}");
                None
            }
        }
    }

    /// Takes the client's roots (or the fallback) as the workspace and indexes what is new.
    async fn adopt_roots(&self, peer: &Peer<RoleServer>, first: bool) {
        let (roots, index) = match Self::client_roots(peer).await {
            Some(roots) => (roots, true),
            None => (
                vec![self.inner.fallback_root.clone()],
                self.inner.index_fallback,
            ),
        };
        let before = self.roots().await;
        self.set_roots(roots.clone()).await;
        let new: Vec<PathBuf> = roots
            .into_iter()
            .filter(|r| first || !before.contains(r))
            .collect();
        if index && !new.is_empty() {
            self.spawn_index(new, None);
        }
    }
}

/// Every change of the store (a write of this server, of `tacit lsp` or of the CLI, seen
/// within a second) changes the memories listed as resources: says `resources/list_changed`,
/// once per burst of writes.
fn spawn_change_notifications(engine: &Engine, peer: Peer<RoleServer>) {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    let mut changes = engine.store_changes();
    tokio::spawn(async move {
        loop {
            match changes.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            }
            while !matches!(
                changes.try_recv(),
                Err(TryRecvError::Empty | TryRecvError::Closed)
            ) {}
            if let Err(e) = peer.notify_resource_list_changed().await {
                tracing::debug!("cannot send resources/list_changed: {e}");
                break;
            }
        }
    });
}

impl ServerHandler for TacitMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_prompts()
                .enable_resources()
                .enable_resources_list_changed()
                .enable_tools()
                .build(),
        )
        .with_server_info(
            Implementation::new("tacit", env!("CARGO_PKG_VERSION")).with_title("tacit"),
        )
        .with_instructions(INSTRUCTIONS)
    }

    /// Up to 2025-11-25, the revisions with a session: roots, progress during a background
    /// index run and `resources/list_changed` all need one, and 2026-07-28 dropped it.
    /// A client that asks for 2026-07-28 in `server/discover` falls back to `initialize`.
    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2025_11_25))
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let _ = self.inner.peer.set(context.peer.clone());
        if let Ok(engine) = self.engine() {
            crate::engine::spawn_store_refresh(Arc::downgrade(&engine));
            spawn_change_notifications(&engine, context.peer.clone());
        }
        self.adopt_roots(&context.peer, true).await;
    }

    async fn on_roots_list_changed(&self, context: NotificationContext<RoleServer>) {
        self.adopt_roots(&context.peer, false).await;
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.inner.tools.clone()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        if !tools::is_tool(&request.name) {
            return Err(McpError::invalid_params(
                format!(
                    "unknown tool `{}`; tacit has: {}",
                    request.name,
                    tools::names()
                ),
                None,
            ));
        }
        let progress = context.meta.get_progress_token().map(|token| Progress {
            peer: context.peer.clone(),
            token,
        });
        Ok(
            tools::call(self, &request.name, request.arguments, progress)
                .await
                .into(),
        )
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(ListResourcesResult::with_all_items(
            resources::list(self).await?,
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        Ok(resources::read(self, &request.uri).await?.into())
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(ListPromptsResult::with_all_items(resources::prompts()))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        Ok(resources::prompt(self, &request.name, request.arguments)
            .await?
            .into())
    }
}

/// Serves MCP on stdin/stdout until the client closes stdin.
pub async fn serve_stdio(
    engine_options: EngineOptions,
    workspace: Option<PathBuf>,
) -> anyhow::Result<()> {
    crate::lsp::log_panics_to_stderr();
    let named = workspace.is_some();
    let start = match workspace {
        Some(dir) => dir,
        None => std::env::current_dir()?,
    };
    let fallback_root = crate::workspace::root_for(&start);
    let in_repository = git2::Repository::discover(&fallback_root).is_ok();
    let engine = match Engine::open(engine_options).await {
        Ok(engine) => {
            engine.add_root(&fallback_root).await;
            let info = engine.embedder_info();
            tracing::info!(
                "tacit {} MCP server; store {}; embedder {}{}",
                env!("CARGO_PKG_VERSION"),
                engine.store_uri(),
                info.id,
                if info.fallback {
                    " (lexical fallback)"
                } else {
                    ""
                }
            );
            Ok(Arc::new(engine))
        }
        Err(e) => {
            let message = format!("tacit could not open its store: {e}");
            tracing::error!("{message}");
            Err(message)
        }
    };
    let server = TacitMcp {
        inner: Arc::new(Inner {
            engine,
            fallback_root: fallback_root.clone(),
            index_fallback: named || in_repository,
            roots: RwLock::new(vec![fallback_root]),
            tools: tools::tools(),
            index_lock: Mutex::new(()),
            indexing: AtomicBool::new(false),
            peer: OnceLock::new(),
        }),
    };
    let transport = transport::LineTransport::new(
        tokio::io::BufReader::new(tokio::io::stdin()),
        tokio::io::stdout(),
    );
    let running = server.clone().serve(transport).await?;
    running.waiting().await?;
    if let Ok(engine) = server.engine() {
        engine.flush().await;
    }
    Ok(())
}
