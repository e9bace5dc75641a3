//! Git over the wire for a session: the ref advertisement, fetch (`upload-pack`, its pack
//! streamed from the database) and push (`receive-pack`: the pack indexed without the session's
//! lock, then stored and applied with the refs in one write transaction under it, so a push
//! never interleaves with a chat and a refused one changes nothing).

use std::io::Write;
use std::sync::Arc;

use super::{ChatService, ServiceError};
use crate::git::Repo;
use crate::git::pack::{PackError, index_pack};
use crate::git::transport::receive_pack::{self, PushError, PushRequest};
use crate::git::transport::upload_pack::{self, UploadError, UploadPlan, UploadRequest};
use crate::git::transport::{ProtocolError, Service, advertisement};
use crate::sessions::SessionId;
use crate::storage::{SessionDb, StorageError};

/// The answer to an upload-pack request, ready to be written (with its pack, if any) by a
/// blocking writer.
pub struct UploadPack {
    db: SessionDb,
    answer: Result<UploadPlan, ProtocolError>,
}

impl UploadPack {
    /// How many objects the pack holds (`None`: no pack in this answer).
    pub fn object_count(&self) -> Option<usize> {
        self.answer.as_ref().ok().and_then(UploadPlan::object_count)
    }

    /// Writes the answer to `out` (blocking): negotiation lines and the pack as it is made, or
    /// the `ERR` line of a refused request. A failure mid-way (the client went away, the
    /// database failed) ends the answer there.
    pub fn write_to(self, mut out: impl Write) -> std::io::Result<()> {
        match &self.answer {
            Ok(plan) => self
                .db
                .read(|s| plan.write(&s.objects(), out))
                .map_err(std::io::Error::other),
            Err(e) => out.write_all(&upload_pack::error_line(e)),
        }
    }
}

impl ChatService {
    /// The session's refs as `service` advertises them to a smart-HTTP client.
    pub async fn git_advertisement(
        self: &Arc<Self>,
        id: &SessionId,
        service: Service,
    ) -> Result<Vec<u8>, ServiceError> {
        self.read(id, move |s| advertisement(&Repo::new(s), service)).await
    }

    /// Answers an upload-pack request (its body un-gzipped): negotiation, and when the client
    /// is done, the objects its pack will hold, counted before the answer starts.
    pub async fn upload_pack(self: &Arc<Self>, id: &SessionId, request: Vec<u8>) -> Result<UploadPack, ServiceError> {
        let (service, id) = (self.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            let db = service.open_blocking(&id)?;
            let answer = match UploadRequest::parse(&request) {
                Err(e) => Err(e),
                Ok(request) => match db.read(|s| upload_pack::plan(&s.objects(), &request)) {
                    Ok(plan) => Ok(plan),
                    Err(UploadError::Protocol(e)) => Err(e),
                    Err(UploadError::Git(e)) => return Err(e.into()),
                },
            };
            Ok(UploadPack { db, answer })
        })
        .await?
    }

    /// Answers a receive-pack request (its body un-gzipped) with git's report: the pack is
    /// indexed and verified, then stored with the ref updates in one transaction under the
    /// session's lock. A bad pack, or updates that are all refused, leave the session as it was.
    pub async fn receive_pack(
        self: &Arc<Self>,
        id: &SessionId,
        body: impl AsRef<[u8]> + Send + 'static,
    ) -> Result<Vec<u8>, ServiceError> {
        let (service, session) = (self.clone(), id.clone());
        let (request, received) = tokio::task::spawn_blocking(move || {
            let (request, pack) = PushRequest::parse(body.as_ref())?;
            if !request.needs_pack() {
                return Ok((request, Ok(None)));
            }
            let db = service.open_blocking(&session)?;
            let scratch = service.sessions.scratch_dir();
            let received = db.read(|s| Ok::<_, StorageError>(index_pack(&mut &pack[..], &scratch, s.objects())))?;
            Ok::<_, ServiceError>((request, received.map(Some)))
        })
        .await??;
        let received = match received {
            Ok(received) => received,
            Err(PackError::Scratch(e)) => return Err(StorageError::Io(e).into()),
            Err(PackError::Storage(e)) => return Err(e.into()),
            Err(e) => {
                tracing::info!(session = %id, "push refused, its pack is bad: {e}");
                return Ok(request.unpack_failed(&e.to_string()).encode());
            }
        };
        let session = id.clone();
        self.with_session(id, move |db| {
            let report = match db.write(|s| receive_pack::apply(s, &request, received.as_ref())) {
                Ok(report) | Err(PushError::Refused(report)) => report,
                Err(PushError::Git(e)) => return Err(e.into()),
            };
            if let Err(e) = &report.unpack {
                tracing::info!(%session, "push refused, its pack is bad: {e}");
            }
            for (name, result) in &report.refs {
                match result {
                    Ok(()) => tracing::info!(%session, "push updated {name}"),
                    Err(reason) => tracing::info!(%session, "push refused for {name}: {reason}"),
                }
            }
            Ok(report.encode())
        })
        .await
    }
}
