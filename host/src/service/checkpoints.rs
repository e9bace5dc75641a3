//! Checkpoints, revert and fork: the working tree and the conversation taken back together to how
//! they stood after a message, in the session itself (revert) or in a copy (fork).

use std::sync::Arc;

use super::{ChatService, ServiceError};
use crate::git::Repo;
use crate::sessions::SessionId;
use crate::storage::{Checkpoint, Stores, meta, now_ms};
use crate::tenants::Tenant;

/// What a revert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reverted {
    /// The `seq` of the revert marker appended to the record.
    pub marker: u64,
    /// The checkpoint whose files the working tree now holds.
    pub checkpoint: u64,
}

/// Refuses a message number past the end of the record.
fn check_message(s: Stores<'_>, at: u64) -> Result<(), ServiceError> {
    let last = s.conversation().last_seq()?;
    if at > last {
        return Err(ServiceError::NoSuchMessage(format!(
            "atMessage {at} is past the last message ({last})"
        )));
    }
    Ok(())
}

/// The error when no checkpoint is at or before message `at`.
fn no_checkpoint(at: u64) -> ServiceError {
    ServiceError::NoSuchMessage(format!("no checkpoint at or before message {at}"))
}

impl ChatService {
    /// The session's checkpoints, oldest first.
    pub async fn checkpoints(self: &Arc<Self>, id: &SessionId) -> Result<Vec<Checkpoint>, ServiceError> {
        self.read(id, |s| s.checkpoints().list()).await
    }

    /// Takes the working tree and the model's view of the conversation back to how they stood
    /// after message `at`, in one transaction, once no chat runs. The record keeps everything (a
    /// marker is appended), the state before the revert is checkpointed so the revert can be
    /// undone, and git's refs, index and history are untouched.
    pub async fn revert(self: &Arc<Self>, id: &SessionId, at: u64) -> Result<Reverted, ServiceError> {
        self.write(id, move |s| {
            check_message(s, at)?;
            let repo = Repo::new(s);
            let conversation = s.conversation();
            repo.record_checkpoint(conversation.last_seq()?)?;
            let checkpoint = repo.restore_checkpoint(at)?.ok_or_else(|| no_checkpoint(at))?;
            let marker = conversation
                .append_revert(at)?
                .ok_or_else(|| ServiceError::NoSuchMessage(format!("no message {at}")))?;
            repo.record_checkpoint(marker)?;
            Ok::<_, ServiceError>(Reverted {
                marker,
                checkpoint: checkpoint.seq,
            })
        })
        .await
    }

    /// A new session with the same files, git state and conversation: as they are, or (with
    /// `at`) as they stood after message `at`, the conversation cut there. The copy reads one
    /// snapshot of the source, so a chat running on it meanwhile is not waited for.
    pub async fn fork(
        self: &Arc<Self>,
        from: &SessionId,
        at: Option<u64>,
        owner: &Tenant,
    ) -> Result<SessionId, ServiceError> {
        let to = SessionId::random().map_err(|e| ServiceError::Storage(e.into()))?;
        let (service, from, forked, owner) = (self.clone(), from.clone(), to.clone(), owner.clone());
        tokio::task::spawn_blocking(move || {
            let source = service.open_blocking(&from)?;
            if let Some(at) = at {
                source.read(|s| check_message(s, at))?;
            }
            service.create_blocking(
                &forked,
                &owner,
                None,
                |sessions, id| sessions.fork(&source, &from, id),
                |db| {
                    db.write(|s| {
                        s.meta().set(meta::CREATED_MS, &now_ms().to_string())?;
                        s.meta().set(meta::FORKED_FROM, from.as_str())?;
                        if let Some(at) = at {
                            Repo::new(s).restore_checkpoint(at)?.ok_or_else(|| no_checkpoint(at))?;
                            s.conversation().cut_after(at)?;
                            s.checkpoints().cut_after(at)?;
                        }
                        Ok::<_, ServiceError>(())
                    })
                },
            )
        })
        .await??;
        Ok(to)
    }
}
