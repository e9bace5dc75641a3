//! Creating sessions from code: archives and repositories ([`crate::import`]).

use std::sync::Arc;

use super::lifecycle::SessionSetup;
use super::{ChatService, ServiceError};
use crate::import::archive::{self, ArchiveError, Compression};
use crate::import::limits::ImportLimits;
use crate::import::remote::{self, RemoteOptions, RemoteSource};
use crate::import::{self, ImportError, Imported};
use crate::sessions::SessionId;
use crate::tenants::Tenant;

impl ChatService {
    /// The quotas an import into a new session must fit in.
    pub fn import_limits(&self) -> ImportLimits {
        self.sessions.options().into()
    }

    /// Creates a session whose working tree is the tar archive `body` and whose first commit
    /// (`Initial commit` on `main`) holds it. The archive is read and checked once before the
    /// session is created (a refused archive leaves nothing behind), then read again to fill it.
    pub async fn create_from_archive(
        self: &Arc<Self>,
        owner: &Tenant,
        body: impl AsRef<[u8]> + Send + Sync + 'static,
        compression: Compression,
        setup: SessionSetup,
    ) -> Result<(SessionId, Imported), ServiceError> {
        let SessionSetup { author, agent } = setup;
        let limits = self.import_limits();
        let body = Arc::new(body);
        let checked = body.clone();
        tokio::task::spawn_blocking(move || {
            archive::read(checked.as_ref().as_ref(), compression, &limits, |_| {
                Ok::<_, ArchiveError>(())
            })
        })
        .await?
        .map_err(ImportError::from)?;
        self.create_session_with(owner, agent, move |db| {
            let body = body.as_ref().as_ref();
            Ok(import::fill_from_archive(
                db,
                body,
                compression,
                &limits,
                author.as_ref(),
            )?)
        })
        .await
    }

    /// Creates a session by cloning `source` over smart HTTP(S) under the operator's `options`:
    /// the ref (or the remote's default branch) checked out on a branch, its history (or `depth`
    /// commits of it) in the object store. The remote is checked, its refs discovered and the
    /// pack requested before the session is created; a failure after that removes it again.
    pub async fn create_from_repository(
        self: &Arc<Self>,
        owner: &Tenant,
        source: RemoteSource,
        options: &RemoteOptions,
        setup: SessionSetup,
    ) -> Result<(SessionId, Imported), ServiceError> {
        let SessionSetup { author, agent } = setup;
        let fetch = remote::start(&source, options, self.import_limits())
            .await
            .map_err(ImportError::from)?;
        tracing::info!(url = %source.url, reference = %fetch.wanted().name, depth = ?source.depth, "importing");
        let scratch = self.sessions.scratch_dir();
        self.create_session_with(owner, agent, move |db| {
            Ok(fetch.store(db, author.as_ref(), &scratch)?)
        })
        .await
    }
}
