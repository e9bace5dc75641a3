//! Sessions' lifecycle: creating, listing and deleting them, and keeping the
//! [catalogue](crate::storage::catalogue) that lists them in step with their databases.
//!
//! Every change to a session is bracketed: [`ChatService::changing`] marks its catalogue row stale
//! before, [`ChatService::changed`] stores its fresh summary after. A crash in between leaves the
//! row stale, and [`ChatService::reconcile`] (run before the server serves) recomputes it.

use std::collections::HashSet;
use std::sync::Arc;

use super::{ChatService, ServiceError};
use crate::agents::Agent;
use crate::git::{GitError, Repo};
use crate::seed::{self, GitAuthor, Template};
use crate::sessions::{SessionId, SessionStore};
use crate::storage::{Cursor, OpenError, SessionDb, SessionSummary, StorageError, meta, now_ms};
use crate::tenants::Tenant;

/// Longest title in a listing, in characters; longer first messages are cut with `…`.
const TITLE_CHARS: usize = 80;

/// A chat (or another holder of the session's lock) is running on the session.
#[derive(Debug, thiserror::Error)]
#[error("session '{0}' is busy: a chat is running on it")]
pub struct SessionBusy(pub SessionId);

/// One page of the session listing.
#[derive(Debug, Clone)]
pub struct Page {
    /// The sessions, newest first.
    pub sessions: Vec<SessionSummary>,
    /// Where the next page starts, if there may be one.
    pub next: Option<Cursor>,
}

/// The summary the catalogue keeps of a session's database.
fn summarize(id: &SessionId, db: &SessionDb) -> Result<SessionSummary, ServiceError> {
    db.read(|s| {
        let repo = Repo::new(s);
        let (branch, head) = match (repo.current_branch(), repo.head_commit()) {
            (Err(GitError::NotARepository), _) | (_, Err(GitError::NotARepository)) => (None, None),
            (branch, head) => (branch?, head?),
        };
        let created_ms = s
            .meta()
            .get(meta::CREATED_MS)?
            .and_then(|v| v.parse().ok())
            .unwrap_or_default();
        let title = s.conversation().first_user_text()?.map(|text| {
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            match text.char_indices().nth(TITLE_CHARS) {
                Some((cut, _)) => format!("{}…", &text[..cut]),
                None => text,
            }
        });
        Ok::<_, ServiceError>(SessionSummary {
            id: id.as_str().to_string(),
            tenant: s.meta().get(meta::OWNER)?.unwrap_or_default(),
            created_ms,
            updated_ms: now_ms(),
            head: head.map(|h| h.to_string()),
            branch,
            file_count: s.worktree().file_count()?,
            message_count: s.conversation().count()?,
            title,
        })
    })
}

/// How a new session is set up besides its files.
#[derive(Debug, Clone, Default)]
pub struct SessionSetup {
    /// Who its commits are authored by (`None`: the default author).
    pub author: Option<GitAuthor>,
    /// The agent it runs (`None`: the default agent).
    pub agent: Option<String>,
}

impl ChatService {
    /// Creates a session from `template`.
    pub async fn create_session(
        self: &Arc<Self>,
        owner: &Tenant,
        template: Template,
        setup: SessionSetup,
    ) -> Result<SessionId, ServiceError> {
        let SessionSetup { author, agent } = setup;
        let (id, ()) = self
            .create_session_with(owner, agent, move |db| Ok(seed::seed(db, template, author.as_ref())?))
            .await?;
        Ok(id)
    }

    /// Creates a session with a fresh id, running `agent`, and fills it with `fill`, on a
    /// blocking thread. The session appears (to the listing and every route) only once `fill`
    /// succeeded; when it fails, nothing of it is left behind. An unknown agent creates nothing.
    pub async fn create_session_with<T: Send + 'static>(
        self: &Arc<Self>,
        owner: &Tenant,
        agent: Option<String>,
        fill: impl FnOnce(&mut SessionDb) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<(SessionId, T), ServiceError> {
        let agent = self.agents.get(agent.as_deref())?.clone();
        let id = SessionId::random().map_err(|e| ServiceError::Storage(e.into()))?;
        let (service, created, owner) = (self.clone(), id.clone(), owner.clone());
        let filled = tokio::task::spawn_blocking(move || {
            service.create_blocking(&created, &owner, Some(&agent), |sessions, id| sessions.create(id), fill)
        })
        .await??;
        Ok((id, filled))
    }

    /// Creates the session `id` (which must not exist) for `owner` with `start` (a new
    /// database, or a copy), records its agent (a copy keeps its own when `agent` is `None`),
    /// fills it with `fill`, and publishes it. Blocking.
    pub(super) fn create_blocking<T>(
        &self,
        id: &SessionId,
        owner: &Tenant,
        agent: Option<&Agent>,
        start: impl FnOnce(&SessionStore, &SessionId) -> Result<SessionDb, OpenError>,
        fill: impl FnOnce(&mut SessionDb) -> Result<T, ServiceError>,
    ) -> Result<T, ServiceError> {
        let catalogue = self.sessions.catalogue();
        catalogue.mark_stale(id.as_str(), owner.name(), now_ms())?;
        self.hubs.forget(id);
        let created = start(&self.sessions, id)
            .map_err(ServiceError::from)
            .and_then(|mut db| {
                db.write(|s| {
                    s.meta().set(meta::OWNER, owner.name())?;
                    if let Some(agent) = agent {
                        s.meta().set(meta::AGENT, &agent.name)?;
                        s.meta().set(meta::AGENT_HASH, &agent.hash)?;
                    }
                    Ok::<_, StorageError>(())
                })?;
                let filled = fill(&mut db)?;
                self.sessions.publish(id, db)?;
                Ok(filled)
            });
        match created {
            Ok(filled) => {
                tracing::info!(session = %id, "created session");
                let db = self.sessions.open(id)?;
                self.changed(id, &db);
                Ok(filled)
            }
            Err(e) => {
                if let Err(cleanup) = self
                    .sessions
                    .discard(id)
                    .map_err(StorageError::from)
                    .and_then(|()| catalogue.remove(id.as_str()))
                {
                    tracing::error!(session = %id, "could not remove a session that failed to fill: {cleanup}");
                }
                Err(e)
            }
        }
    }

    /// The owner of an existing session (`None`: no such session).
    pub async fn owner_of(self: &Arc<Self>, id: &SessionId) -> Result<Option<Tenant>, ServiceError> {
        let (service, id) = (self.clone(), id.clone());
        tokio::task::spawn_blocking(move || Ok(service.sessions.catalogue().tenant_of(id.as_str())?.map(Tenant::named)))
            .await?
    }

    /// How many sessions there are, every tenant's.
    pub async fn session_count(self: &Arc<Self>) -> Result<u64, ServiceError> {
        let service = self.clone();
        tokio::task::spawn_blocking(move || Ok(service.sessions.catalogue().count()?)).await?
    }

    /// Marks the session's listing stale: call before changing it (an existing session's row
    /// keeps its owner).
    pub(super) fn changing(&self, id: &SessionId) -> Result<(), StorageError> {
        self.sessions.catalogue().mark_stale(id.as_str(), "", now_ms())
    }

    /// Stores the session's fresh summary in the listing: call after changing it. A failure is
    /// logged, not returned: the change itself is done, and the stale row is recomputed at the
    /// next start.
    pub(super) fn changed(&self, id: &SessionId, db: &SessionDb) {
        let recorded = summarize(id, db).and_then(|summary| Ok(self.sessions.catalogue().record(&summary)?));
        if let Err(e) = recorded {
            tracing::error!(session = %id, "cannot update the session listing (fixed at the next start): {e}");
        }
    }

    /// Up to `limit` of `owner`'s sessions, newest first, starting after `after`. Reads only the
    /// catalogue.
    pub async fn list_sessions(
        self: &Arc<Self>,
        owner: &Tenant,
        limit: usize,
        after: Option<Cursor>,
    ) -> Result<Page, ServiceError> {
        let (service, owner) = (self.clone(), owner.clone());
        tokio::task::spawn_blocking(move || {
            // One more than asked: whether a next page exists, without a second query.
            let mut sessions = service
                .sessions
                .catalogue()
                .page(owner.name(), limit + 1, after.as_ref())?;
            let next = (sessions.len() > limit).then(|| {
                sessions.truncate(limit);
                sessions.last().map(|last| Cursor {
                    created_ms: last.created_ms,
                    id: last.id.clone(),
                })
            });
            Ok(Page {
                sessions,
                next: next.flatten(),
            })
        })
        .await?
    }

    /// Deletes a session: its database, its spilled blobs, its listing and the copy of its
    /// files that programs ran in. Refused with [`SessionBusy`] while a chat runs on it.
    pub async fn delete_session(self: &Arc<Self>, id: &SessionId) -> Result<(), ServiceError> {
        let guard = self.locks.try_lock(id).ok_or_else(|| SessionBusy(id.clone()))?;
        let (service, id) = (self.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            let _held = guard;
            if !service.sessions.exists(&id) {
                return Err(ServiceError::NotFound(id));
            }
            service.changing(&id)?;
            service.sessions.remove(&id).map_err(StorageError::from)?;
            let db = service.sessions.db_path(&id);
            for agent in service.agents.iter() {
                agent.engine.programs().workdirs().forget(&db);
            }
            service.hubs.forget(&id);
            service.sessions.catalogue().remove(id.as_str())?;
            tracing::info!(session = %id, "deleted session");
            Ok(())
        })
        .await?
    }

    /// Brings the catalogue in step with the sessions on disk: removes what crashed creations
    /// left, recomputes stale rows, adds sessions it does not list (from older builds) and
    /// forgets rows whose session is gone. Blocking; run before serving. Returns how many rows
    /// it fixed.
    pub fn reconcile(&self) -> Result<usize, ServiceError> {
        let leftovers = self.sessions.clean_unfinished().map_err(StorageError::from)?;
        if leftovers > 0 {
            tracing::warn!(leftovers, "removed the leftovers of interrupted session creations");
        }
        let catalogue = self.sessions.catalogue();
        let rows = catalogue.rows()?;
        let listed: HashSet<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
        let on_disk = self.sessions.ids().map_err(StorageError::from)?;
        let mut fixed = 0;
        for (id, stale) in &rows {
            let Some(id) = SessionId::parse(id) else { continue };
            if !self.sessions.exists(&id) {
                catalogue.remove(id.as_str())?;
                fixed += 1;
            } else if *stale {
                self.changed(&id, &self.sessions.open(&id)?);
                fixed += 1;
            }
        }
        for id in on_disk.iter().filter(|id| !listed.contains(id.as_str())) {
            self.changed(id, &self.sessions.open(id)?);
            fixed += 1;
        }
        if fixed > 0 {
            tracing::info!(fixed, "brought the session listing up to date");
        }
        Ok(fixed)
    }
}
