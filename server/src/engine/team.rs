//! The team store: an optional second store on object storage (`s3://bucket/prefix`, with the
//! endpoint, region and credentials of the standard AWS environment and profile chain, or
//! `az://container/prefix` with Azure's environment variables) that
//! every teammate's server reads, and where `scope: "team"` entries are written.
//!
//! It is a [`Store`] like the local one, opened at an object-store URI: LanceDB stores the
//! tables there, and its commit protocol (conditional puts) arbitrates writers on different
//! machines. tacit adds no sync of its own. The local store never waits on it: it opens in
//! the background, a server serves from what is connected, and an unreachable bucket leaves
//! local memory working while the status says why.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};

use super::snapshot::Snapshots;
use super::{EngineError, Result, TeamState, TeamStoreStatus};
use crate::embed::Embedder;
use crate::indexer::Indexer;
use crate::memory::Layer;
use crate::store::Store;

/// The scope of what is remembered for the whole team.
pub const TEAM_SCOPE: &str = "team";
/// An object store that does not answer within this is reported unreachable.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// How often a server looks for other machines' writes: each look lists the tables'
/// versions in the bucket, so less often than the local store's file check.
const REFRESH_EVERY: Duration = Duration::from_secs(2);
/// How often an unreachable team store is tried again.
const RETRY_EVERY: Duration = Duration::from_secs(30);

#[derive(Clone)]
enum State {
    Off,
    Connecting,
    Connected { store: Arc<Store>, indexer: Indexer },
    Unreachable(String),
}

pub struct TeamStore {
    uri: Option<String>,
    embedder: Arc<dyn Embedder>,
    state: watch::Sender<State>,
    /// When the store was last refreshed, or last tried while unreachable.
    last_check: std::sync::Mutex<Instant>,
    /// Why the last refresh failed; cleared by the next one that succeeds.
    refresh_error: std::sync::Mutex<Option<String>>,
    /// The engine's change channel: the team store's changes are forwarded there.
    changes: broadcast::Sender<Vec<Layer>>,
    /// The workspaces served: the team store holds their scopes' entries (a repository's
    /// publication) and the team's, not every repository the team published.
    snapshots: Arc<Snapshots>,
}

impl TeamStore {
    /// A team store at `uri` (opened in the background from now on), or none.
    pub(super) fn start(
        uri: Option<String>,
        embedder: Arc<dyn Embedder>,
        changes: broadcast::Sender<Vec<Layer>>,
        snapshots: Arc<Snapshots>,
    ) -> Arc<TeamStore> {
        let initial = if uri.is_some() {
            State::Connecting
        } else {
            State::Off
        };
        let team = Arc::new(TeamStore {
            uri,
            embedder,
            state: watch::channel(initial).0,
            last_check: std::sync::Mutex::new(Instant::now()),
            refresh_error: std::sync::Mutex::new(None),
            changes,
            snapshots,
        });
        if team.uri.is_some() {
            tokio::spawn(Arc::clone(&team).connect());
        }
        team
    }

    async fn connect(self: Arc<Self>) {
        let Some(uri) = self.uri.clone() else {
            return;
        };
        let state = match open(&uri, &self.embedder, &self.scopes()).await {
            Ok(store) => {
                // Folders may have come or gone while it connected.
                if let Err(e) = store.load_scopes(&self.scopes()).await {
                    tracing::warn!("cannot load the team's memories of the workspaces: {e}");
                }
                tracing::info!("team store {uri} connected");
                super::forward_changes(store.subscribe(), self.changes.clone());
                let indexer = Indexer::new(Arc::clone(&store), Arc::clone(&self.embedder));
                // Everything the team store holds is new to this server's views.
                let _ = self.changes.send(Layer::ALL.to_vec());
                State::Connected { store, indexer }
            }
            Err(reason) => {
                tracing::warn!("team store {uri} unreachable: {reason}");
                State::Unreachable(reason)
            }
        };
        *self.checked() = Instant::now();
        self.state.send_replace(state);
    }

    /// The scopes the team store holds in memory: the workspaces' and the team's.
    pub(super) fn scopes(&self) -> Vec<String> {
        let mut scopes = self.snapshots.current().scopes();
        scopes.push(TEAM_SCOPE.to_string());
        scopes
    }

    fn checked(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.last_check.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn refresh_error(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.refresh_error.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a team store is set up (connected or not).
    pub fn configured(&self) -> bool {
        self.uri.is_some()
    }

    /// The connected team store, if any, as it is now: the hot path never waits for one.
    pub fn store(&self) -> Option<Arc<Store>> {
        match &*self.state.borrow() {
            State::Connected { store, .. } => Some(Arc::clone(store)),
            _ => None,
        }
    }

    /// Waits until the team store is connected or known to be unreachable (at most the open
    /// timeout): a CLI command reads and writes it whole.
    pub async fn settled(&self) {
        let mut rx = self.state.subscribe();
        let _ = rx.wait_for(|s| !matches!(s, State::Connecting)).await;
    }

    /// The store and indexer to write a team entry with, waiting for a connection in
    /// progress; an error that says why when there is none.
    pub(super) async fn writer(&self) -> Result<(Arc<Store>, Indexer)> {
        self.settled().await;
        match &*self.state.borrow() {
            State::Connected { store, indexer } => Ok((Arc::clone(store), indexer.clone())),
            State::Off => Err(EngineError::InvalidArgument(format!(
                "`scope: \"{TEAM_SCOPE}\"` needs a team store, and none is configured: set \
                 `teamStore` (or `--team-store`, `TACIT_TEAM_STORE`) to an object-store URI \
                 such as s3://bucket/tacit or az://container/tacit"
            ))),
            State::Unreachable(reason) => Err(EngineError::TeamUnreachable {
                uri: self.uri.clone().unwrap_or_default(),
                reason: reason.clone(),
            }),
            State::Connecting => Err(EngineError::TeamUnreachable {
                uri: self.uri.clone().unwrap_or_default(),
                reason: "still connecting".into(),
            }),
        }
    }

    /// Picks up other machines' writes every few seconds, and tries an unreachable team store
    /// again every half minute (in the background: a refresh never waits for a connection).
    pub(super) async fn refresh(self: &Arc<Self>) -> Result<bool> {
        let state = self.state.borrow().clone();
        let every = match state {
            State::Connected { .. } => REFRESH_EVERY,
            State::Unreachable(_) => RETRY_EVERY,
            State::Off | State::Connecting => return Ok(false),
        };
        {
            let mut checked = self.checked();
            if checked.elapsed() < every {
                return Ok(false);
            }
            *checked = Instant::now();
        }
        match state {
            State::Connected { store, .. } => match store.refresh().await {
                Ok(any) => {
                    *self.refresh_error() = None;
                    Ok(any)
                }
                Err(e) => {
                    *self.refresh_error() = Some(e.to_string());
                    Err(e.into())
                }
            },
            _ => {
                tokio::spawn(Arc::clone(self).connect());
                Ok(false)
            }
        }
    }

    pub fn status(&self) -> TeamStoreStatus {
        let (state, reason, entries) = match &*self.state.borrow() {
            State::Off => (TeamState::Off, None, 0),
            State::Connecting => (TeamState::Connecting, None, 0),
            State::Connected { store, .. } => match self.refresh_error().clone() {
                Some(e) => (
                    TeamState::Unreachable,
                    Some(format!(
                        "the last refresh failed ({e}); serving what was read before"
                    )),
                    store.len(),
                ),
                None => (TeamState::Connected, None, store.len()),
            },
            State::Unreachable(reason) => (TeamState::Unreachable, Some(reason.clone()), 0),
        };
        TeamStoreStatus {
            uri: self.uri.clone(),
            state,
            reason,
            entries,
        }
    }
}

/// Opens the team store and checks that its vectors are comparable with this server's.
async fn open(
    uri: &str,
    embedder: &Arc<dyn Embedder>,
    scopes: &[String],
) -> std::result::Result<Arc<Store>, String> {
    let store = tokio::time::timeout(OPEN_TIMEOUT, Store::open_scopes(uri, scopes))
        .await
        .map_err(|_| format!("no answer within {} s", OPEN_TIMEOUT.as_secs()))?
        .map_err(|e| e.to_string())?;
    match store
        .meta_get("embedder")
        .await
        .map_err(|e| e.to_string())?
    {
        None => store
            .meta_set("embedder", embedder.id())
            .await
            .map_err(|e| e.to_string())?,
        Some(id) if id == embedder.id() => {}
        // Vectors of two embedders cannot be ranked together, and re-embedding the whole
        // team's memory from one laptop is not this server's call.
        Some(id) => {
            return Err(format!(
                "its entries were embedded with {id}, this server embeds with {} (install the \
                 model with scripts/fetch-model, or point modelPath at it)",
                embedder.id()
            ))
        }
    }
    Ok(Arc::new(store))
}
