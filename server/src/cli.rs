//! The command line: one subcommand per operation of DESIGN.md, plus `lsp` to serve editors.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use clap::{Args, Parser, Subcommand};

use crate::assemble::{render_entry, Scored};
use crate::engine::{
    ContextRequest, Engine, EngineOptions, ExportRequest, ListRequest, RecallRequest,
    RememberRequest, StatusRequest, UpdateRequest,
};
use crate::memory::{Entry, Layer, Status};

#[derive(Parser, Debug)]
#[command(
    name = "tacit",
    version,
    about = "A durable, queryable memory of how a codebase is written, for AI copilots"
)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct GlobalArgs {
    /// Store location (directory or object-store URI). Default: $XDG_DATA_HOME/tacit.
    #[arg(long, global = true, env = "TACIT_STORE")]
    store: Option<String>,
    /// The team store, shared by every teammate: an object-store URI such as
    /// s3://bucket/tacit (endpoint, region and credentials from the AWS environment and
    /// profile) or az://container/tacit (account and credentials from the AZURE_*
    /// environment). `remember --team` writes there; every read merges it with the local store.
    #[arg(long, global = true, env = "TACIT_TEAM_STORE")]
    team_store: Option<String>,
    /// Directory holding all-MiniLM-L6-v2 (model.safetensors, tokenizer.json, config.json).
    #[arg(long, global = true)]
    model_dir: Option<PathBuf>,
    /// The workspace the command is about. Default: the repository around the current directory.
    #[arg(long, short = 'C', global = true)]
    workspace: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the Language Server Protocol over stdin/stdout (editors start this).
    Lsp {
        /// Accepted for clients that always pass it; stdio is the only transport.
        #[arg(long, hide = true)]
        stdio: bool,
    },
    /// Serve the Model Context Protocol over stdin/stdout (MCP clients such as Claude Code,
    /// Cursor, Codex CLI, Zed and Windsurf start this). The workspace is the client's roots,
    /// else -C DIR, else the repository around the working directory.
    Mcp,
    /// Scan a workspace and store what it shows about the project's conventions.
    Index {
        /// Workspace root. Default: the repository around the current directory.
        path: Option<PathBuf>,
        /// Extra paths to leave out, as gitignore globs.
        #[arg(long = "ignore")]
        ignores: Vec<String>,
        /// Commits of git history mined per run, newest first (the LSP's `historyMaxCommits`).
        #[arg(long)]
        history_max_commits: Option<usize>,
        /// Files larger than this many bytes are skipped (the LSP's `maxFileBytes`).
        #[arg(long)]
        max_file_bytes: Option<u64>,
        /// Then write what was found to the team store (`--team-store`) as the repository's
        /// publication at HEAD, which teammates' first runs start from: for the team's CI on
        /// the main branch, in a clean checkout.
        #[arg(long)]
        publish: bool,
        #[arg(long)]
        json: bool,
    },
    /// Print the assembled context for a query and/or a file.
    Context {
        /// What the copilot is about to do, in words.
        query: Vec<String>,
        /// The file being edited; its language and directory conventions rank higher.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Token budget of the rendering.
        #[arg(long)]
        budget: Option<usize>,
        #[arg(long)]
        limit: Option<usize>,
        /// Print the structured result (entries, score parts, timing) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Store a fact, preference or decision.
    Remember {
        text: Vec<String>,
        /// memory, procedure, episode or pinned.
        #[arg(long, default_value = "memory")]
        layer: Layer,
        /// A slot such as `errors.propagation`; a new value supersedes the old one.
        #[arg(long)]
        key: Option<String>,
        #[arg(long = "tag")]
        tags: Vec<String>,
        #[arg(long)]
        importance: Option<f32>,
        /// `user` for preferences that follow you across repositories.
        #[arg(long, conflicts_with = "team")]
        scope: Option<String>,
        /// Remember for the whole team: the entry goes to the team store (`--team-store`).
        #[arg(long)]
        team: bool,
        #[arg(long)]
        json: bool,
    },
    /// Search stored entries.
    Recall(RecallArgs),
    /// Delete an entry for good: from the table and every older version on disk.
    Forget { id: String },
    /// Make a superseded or expired entry active again.
    Restore { id: String },
    /// Delete every expired entry (decayed: unimportant and untouched for 120 days) for good.
    Purge,
    /// Edit an entry.
    Update {
        id: String,
        #[arg(long)]
        text: Option<String>,
        #[arg(long)]
        importance: Option<f32>,
        #[arg(long = "tag")]
        tags: Vec<String>,
    },
    /// Add an always-included block.
    Pin { text: Vec<String> },
    /// Remove a pinned block.
    Unpin { id: String },
    /// Browse entries.
    List(ListArgs),
    /// Show one entry with its history.
    Get { id: String },
    /// Write this repository's and your `user` entries as JSON lines (to stdout or a file).
    Export {
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Entries of every repository in the store.
        #[arg(long)]
        all: bool,
        /// Keep each entry's embedding (384 numbers); `import` re-embeds entries without one.
        #[arg(long)]
        with_vectors: bool,
    },
    /// Read JSON lines written by `export` (a file, or - for stdin).
    Import { file: PathBuf },
    /// Counts (this repository's and your `user` entries), model, store path, last index run.
    Status {
        /// Count the entries of every repository in the store.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Check the instruction files (AGENTS.md, CLAUDE.md, Copilot, Cursor, Windsurf, …)
    /// against the lock files, code, task runners and paths; prints one finding a line.
    Check {
        /// Exit with status 1 when anything is found (for CI).
        #[arg(long)]
        strict: bool,
        #[arg(long)]
        json: bool,
    },
    /// Write the workspace's conventions and procedures into a copilot's instruction files,
    /// between `<!-- tacit:begin -->` and `<!-- tacit:end -->` (run `tacit index` first).
    WriteInstructions {
        /// agents, claude, copilot, cursor or windsurf.
        #[arg(long)]
        format: crate::instructions::write::Target,
        /// Tokens per file (cl100k_base); the most important rules first.
        #[arg(long)]
        budget: Option<usize>,
        /// Print what would be written, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the JSON Schema of the editor protocol's requests and results (the VS Code
    /// extension's TypeScript types are generated from it).
    #[command(hide = true)]
    Schema,
    /// Benchmarks that compare against a reference measured in the same run.
    Bench {
        #[command(subcommand)]
        which: crate::bench::BenchCommand,
    },
    /// Manage the embedding model.
    Model {
        #[command(subcommand)]
        action: ModelAction,
    },
}

/// What `recall` and `list` both let you choose.
#[derive(Args, Debug)]
struct Shown {
    /// Only entries of this layer (repeat for several).
    #[arg(long = "layer")]
    layers: Vec<Layer>,
    /// The entries as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug)]
struct RecallArgs {
    /// What to look for, in words.
    query: Vec<String>,
    #[command(flatten)]
    shown: Shown,
    /// At most this many entries.
    #[arg(long)]
    limit: Option<usize>,
    /// Superseded and expired entries too.
    #[arg(long)]
    include_superseded: bool,
}

impl RecallArgs {
    fn request(&self) -> RecallRequest {
        RecallRequest {
            query: words(&self.query),
            layers: given(&self.shown.layers),
            limit: self.limit,
            include_superseded: self.include_superseded,
        }
    }
}

#[derive(Args, Debug)]
struct ListArgs {
    #[command(flatten)]
    shown: Shown,
    /// Only entries with this status (repeat for several); active ones by default.
    #[arg(long = "status")]
    statuses: Vec<Status>,
    /// Only entries whose key starts with this, e.g. `naming.` or `commit.`.
    #[arg(long)]
    key: Option<String>,
    /// Entries of every repository, not only this one's and your `user` ones.
    #[arg(long)]
    all: bool,
}

impl ListArgs {
    fn request(&self) -> ListRequest {
        ListRequest {
            layers: given(&self.shown.layers),
            statuses: given(&self.statuses),
            key_prefix: self.key.clone(),
            all_scopes: self.all,
            ..Default::default()
        }
    }
}

/// A list option given on the command line, or none: the request's default.
fn given<T: Clone>(values: &[T]) -> Option<Vec<T>> {
    (!values.is_empty()).then(|| values.to_vec())
}

#[derive(Subcommand, Debug)]
enum ModelAction {
    /// Download all-MiniLM-L6-v2 from the Hugging Face hub (needs network; offline, use scripts/fetch-model).
    Fetch,
    /// Print where the model is looked for, in order.
    Path,
}

pub fn init_tracing(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TACIT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Lance's environment setting for how long a commit may retry against conflicts, in seconds.
const LANCE_COMMIT_BUDGET: &str = "LANCE_COMMIT_RETRY_TIMEOUT_SECS";

/// Entry point of the binary.
pub fn main() -> ExitCode {
    crate::heap::limit_arenas();
    // SAFETY: the process has a single thread yet (the runtime starts below).
    unsafe { crate::history::walk::tune_object_cache() };
    let cli = Cli::parse();
    let is_server = matches!(cli.command, Command::Lsp { .. } | Command::Mcp);
    init_tracing(if is_server {
        "tacit=info"
    } else {
        "tacit=warn"
    });
    // Lance reads its commit retry budget from the environment (see `store::COMMIT_BUDGET`);
    // a user's own setting wins. Set while this process still has one thread.
    if std::env::var_os(LANCE_COMMIT_BUDGET).is_none() {
        std::env::set_var(
            LANCE_COMMIT_BUDGET,
            crate::store::COMMIT_BUDGET.as_secs().to_string(),
        );
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tacit: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // The stdin reader of `tacit lsp` and `tacit mcp` sits in a blocking read that only the client's next
    // byte would end; waiting for it would keep the process alive after `exit`.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tacit: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn options(global: &GlobalArgs) -> EngineOptions {
    EngineOptions {
        store_uri: global.store.clone(),
        team_store_uri: global.team_store.clone(),
        model_dir: global.model_dir.clone(),
        force_fallback: false,
        ..Default::default()
    }
}

async fn open(global: &GlobalArgs) -> Result<(Engine, PathBuf)> {
    let engine = Engine::open(options(global)).await?;
    // A command runs once: it reads and writes the team store whole, or says why it cannot.
    engine.team_settled().await;
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let start = global.workspace.clone().unwrap_or(cwd);
    let root = crate::workspace::root_for(&start);
    engine.add_root(&root).await;
    Ok((engine, root))
}

fn words(parts: &[String]) -> String {
    parts.join(" ").trim().to_string()
}

fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// `--json`: `found` as JSON; otherwise its `rows`, or a line that says there is nothing.
fn print_found<T: serde::Serialize>(
    json: bool,
    found: &[T],
    rows: impl FnOnce(&[T]),
) -> Result<()> {
    if json {
        return print_json(&found);
    }
    if found.is_empty() {
        println!("nothing found");
    } else {
        rows(found);
    }
    Ok(())
}

fn print_scored(items: &[Scored]) {
    for s in items {
        let e = &s.entry;
        print!("{:.3}  {} [{}] ", s.score, e.id, e.layer);
        print!("{}", render_entry(e).trim_start_matches("- "));
    }
}

fn describe(e: &Entry) -> String {
    let mut line = format!("{} [{}:{}] {}", e.id, e.layer, e.status, e.text);
    if let (Some(k), Some(v)) = (&e.key, &e.value) {
        line.push_str(&format!("  ({k} = {v})"));
    }
    line
}

async fn run(cli: Cli) -> Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Lsp { .. } => crate::lsp::serve_stdio(options(&global)).await,
        Command::Mcp => crate::mcp::serve_stdio(options(&global), global.workspace.clone()).await,
        Command::Index {
            path,
            ignores,
            history_max_commits,
            max_file_bytes,
            publish,
            json,
        } => {
            if publish
                && crate::engine::resolve_team_store_uri(global.team_store.as_deref()).is_none()
            {
                bail!(
                    "--publish writes to the team store, and none is set: pass --team-store \
                     s3://bucket/prefix (or az://container/prefix) or set TACIT_TEAM_STORE"
                );
            }
            let engine = Engine::open(options(&global)).await?;
            engine.configure(|s| {
                if let Some(commits) = history_max_commits {
                    s.history_max_commits = commits;
                }
                if let Some(bytes) = max_file_bytes {
                    s.max_file_bytes = bytes;
                }
            });
            let start = match path.or(global.workspace.clone()) {
                Some(p) => p,
                None => std::env::current_dir()?,
            };
            if !start.exists() {
                bail!("{} does not exist", start.display());
            }
            let root = crate::workspace::root_for(&start);
            let report = engine
                .index(&root, &ignores, &|p| {
                    tracing::info!("{}% {}", p.percentage, p.message)
                })
                .await?;
            engine.compact().await?;
            let published = if publish {
                engine.team_settled().await;
                Some(engine.publish(&root).await?)
            } else {
                None
            };
            if json {
                match &published {
                    Some(p) => print_json(&serde_json::json!({ "index": report, "published": p }))?,
                    None => print_json(&report)?,
                }
            } else {
                println!(
                    "indexed {} ({}): {} files scanned, {} entries written, {} unchanged, {} superseded, {} secrets redacted in {} ms",
                    report.root.display(),
                    report.scope,
                    report.files_scanned,
                    report.written.written,
                    report.written.unchanged,
                    report.written.superseded,
                    report.written.redacted,
                    report.duration_ms
                );
                for p in &report.problems {
                    println!("  skipped: {p}");
                }
                if let Some(h) = &report.history {
                    println!("  history: {}", crate::history::describe(h));
                }
                if let Some(p) = &report.publication {
                    println!(
                        "  started from the team's publication at {}: {} entries copied, {} files counted there reused, {} files that differ counted here",
                        crate::history::short(&p.commit),
                        p.entries_copied,
                        p.files_reused,
                        p.files_recounted
                    );
                }
                if let Some(p) = &published {
                    println!(
                        "published {} at {} to {}: {} entries written, {} unchanged, {} expired, counts of {} files{}",
                        p.scope,
                        crate::history::short(&p.commit),
                        p.uri,
                        p.written,
                        p.unchanged,
                        p.expired,
                        p.files,
                        if p.history { ", the history mining state" } else { "" }
                    );
                }
                if engine.embedder_info().fallback {
                    println!(
                        "note: using the lexical fallback embedder, not the model ({})",
                        engine
                            .embedder_info()
                            .fallback_reason
                            .clone()
                            .unwrap_or_default()
                    );
                }
            }
            Ok(())
        }
        Command::Context {
            query,
            file,
            budget,
            limit,
            json,
        } => {
            let (engine, _) = open(&global).await?;
            let uri = match file {
                Some(f) => Some(
                    f.canonicalize()
                        .with_context(|| format!("cannot open {}", f.display()))?
                        .to_string_lossy()
                        .into_owned(),
                ),
                None => None,
            };
            let q = words(&query);
            let result = engine
                .assemble_context(ContextRequest {
                    query: (!q.is_empty()).then_some(q),
                    uri,
                    budget_tokens: budget,
                    limit,
                    ..Default::default()
                })
                .await?;
            engine.flush().await;
            if json {
                print_json(&result)?;
            } else {
                print!("{}", result.assembled.markdown);
                if result.embedder.fallback {
                    eprintln!(
                        "note: ranked with the lexical fallback embedder (no model installed)"
                    );
                }
            }
            Ok(())
        }
        Command::Remember {
            text,
            layer,
            key,
            tags,
            importance,
            scope,
            team,
            json,
        } => {
            let (engine, _) = open(&global).await?;
            let scope = if team {
                Some(crate::engine::TEAM_SCOPE.to_string())
            } else {
                scope
            };
            let result = engine
                .remember(RememberRequest {
                    text: words(&text),
                    layer: Some(layer),
                    key,
                    tags,
                    importance,
                    scope,
                    ..Default::default()
                })
                .await?;
            if json {
                print_json(&result)?;
            } else {
                let what = if result.merged {
                    "merged into"
                } else {
                    "remembered"
                };
                let store = match result.store {
                    crate::engine::StoreKind::Local => "local",
                    crate::engine::StoreKind::Team => "team",
                };
                println!("{what} in the {store} store: {}", describe(&result.entry));
            }
            Ok(())
        }
        Command::Recall(args) => {
            let (engine, _) = open(&global).await?;
            let hits = engine.recall(args.request()).await?;
            print_found(args.shown.json, &hits, print_scored)
        }
        Command::Forget { id } => {
            let (engine, _) = open(&global).await?;
            let gone = engine.forget(&id).await?;
            println!("forgot {}", describe(&gone));
            Ok(())
        }
        Command::Purge => {
            let (engine, _) = open(&global).await?;
            let purged = engine.purge_expired().await?;
            println!("purged {} expired entries", purged.len());
            Ok(())
        }
        Command::Restore { id } => {
            let (engine, _) = open(&global).await?;
            println!("restored {}", describe(&engine.restore(&id).await?));
            Ok(())
        }
        Command::Update {
            id,
            text,
            importance,
            tags,
        } => {
            let (engine, _) = open(&global).await?;
            let entry = engine
                .update(UpdateRequest {
                    id,
                    text,
                    importance,
                    tags: given(&tags),
                    ..Default::default()
                })
                .await?;
            println!("updated {}", describe(&entry));
            Ok(())
        }
        Command::Pin { text } => {
            let (engine, _) = open(&global).await?;
            println!(
                "pinned {}",
                describe(&engine.pin(Some(words(&text)), None).await?)
            );
            Ok(())
        }
        Command::Unpin { id } => {
            let (engine, _) = open(&global).await?;
            println!("unpinned {}", describe(&engine.unpin(&id).await?));
            Ok(())
        }
        Command::List(args) => {
            let (engine, _) = open(&global).await?;
            let entries = engine.list(args.request()).await?;
            print_found(args.shown.json, &entries, |entries| {
                for e in entries {
                    println!("{}", describe(e));
                }
            })
        }
        Command::Get { id } => {
            let (engine, _) = open(&global).await?;
            let mut entry = engine.get(&id).await?;
            entry.vector.clear();
            print_json(&entry)
        }
        Command::Export {
            output,
            all,
            with_vectors,
        } => {
            let (engine, _) = open(&global).await?;
            let data = engine
                .export(&ExportRequest {
                    path: None,
                    all_scopes: all,
                    with_vectors,
                })
                .await?;
            match output {
                Some(path) => {
                    std::fs::write(&path, &data)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "exported {} entries to {}",
                        data.lines().count(),
                        path.display()
                    );
                }
                None => std::io::stdout().lock().write_all(data.as_bytes())?,
            }
            Ok(())
        }
        Command::Import { file } => {
            let (engine, _) = open(&global).await?;
            let data = if file.as_os_str() == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s)?;
                s
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let n = engine.import(&data).await?;
            println!("imported {n} entries");
            Ok(())
        }
        Command::Status { all, json } => {
            let (engine, _) = open(&global).await?;
            let status = engine.status(StatusRequest { all_scopes: all }).await?;
            if json {
                return print_json(&status);
            }
            println!("tacit {}", status.version);
            println!("store: {}", status.store);
            println!("team store: {}", status.team_store.line());
            if let Some(bytes) = status.resident_bytes {
                println!(
                    "resident memory: {} MB (this process)",
                    bytes / (1024 * 1024)
                );
            }
            let e = &status.embedder;
            if e.fallback {
                println!(
                    "embedder: {} — FALLBACK: {}",
                    e.id,
                    e.fallback_reason.clone().unwrap_or_default()
                );
            } else {
                println!(
                    "embedder: {} ({})",
                    e.id,
                    e.model_dir
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                );
            }
            for w in &status.workspaces {
                println!("workspace: {} ({})", w.root.display(), w.scope);
            }
            if status.scopes.is_empty() {
                println!("counts: every scope of the store");
            } else {
                println!(
                    "counts: {} (--all for every scope)",
                    status.scopes.join(", ")
                );
            }
            for (layer, by_status) in &status.counts {
                let parts: Vec<String> =
                    by_status.iter().map(|(s, n)| format!("{n} {s}")).collect();
                println!("{layer}: {}", parts.join(", "));
            }
            for h in &status.history {
                println!("history: {}", crate::history::describe(h));
            }
            Ok(())
        }
        Command::Check { strict, json } => {
            let start = match global.workspace.clone() {
                Some(p) => p,
                None => std::env::current_dir()?,
            };
            let root = crate::workspace::root_for(&start);
            let report = tokio::task::spawn_blocking(move || {
                crate::instructions::check_workspace(&root, None)
            })
            .await?;
            if json {
                print_json(&report)?;
            } else {
                for p in &report.problems {
                    println!("{}:{}:1: error: {}", p.file, p.line, p.message);
                }
                for f in &report.findings {
                    println!("{}", crate::instructions::check::render(f));
                }
                println!(
                    "{} finding(s), {} unreadable file(s) in {} instruction file(s)",
                    report.findings.len(),
                    report.problems.len(),
                    report.files.len()
                );
            }
            if strict && !(report.findings.is_empty() && report.problems.is_empty()) {
                bail!("the instruction files contradict the repository (--strict)");
            }
            Ok(())
        }
        Command::WriteInstructions {
            format,
            budget,
            dry_run,
        } => {
            let (engine, root) = open(&global).await?;
            let budget = budget.unwrap_or(crate::instructions::write::DEFAULT_BUDGET);
            let plan = engine.plan_instructions(&root, format, budget).await?;
            for c in &plan.conflicts {
                println!(
                    "conflict: {}:{} says “{}”; not written: “{}”",
                    c.file, c.line, c.hand_written, c.measured
                );
            }
            for p in &plan.problems {
                println!("skipped: {p}");
            }
            for f in &plan.files {
                let verb = match (f.changed, f.created, dry_run) {
                    (false, _, _) => "unchanged",
                    (true, true, true) => "would create",
                    (true, false, true) => "would update",
                    (true, true, false) => "created",
                    (true, false, false) => "updated",
                };
                println!(
                    "{verb} {} ({} rules, {} tokens{})",
                    f.path,
                    f.rules.len(),
                    f.tokens,
                    if f.left_out > 0 {
                        format!(", {} left out for the budget", f.left_out)
                    } else {
                        String::new()
                    }
                );
                if dry_run && f.changed {
                    println!("{}", f.content);
                }
            }
            if !dry_run {
                crate::instructions::write::apply(&root, &plan)
                    .with_context(|| format!("cannot write into {}", root.display()))?;
            }
            Ok(())
        }
        Command::Schema => print_json(&crate::engine::editor_protocol_schema()),
        Command::Bench { which } => crate::bench::run(which, global.model_dir.clone()).await,
        Command::Model { action } => match action {
            ModelAction::Fetch => {
                let dir = crate::embed::fetch_from_hub().await?;
                println!("model downloaded to {}", dir.display());
                Ok(())
            }
            ModelAction::Path => {
                for dir in crate::embed::model_search_path(global.model_dir.as_deref()) {
                    println!("{}", dir.display());
                }
                Ok(())
            }
        },
    }
}
