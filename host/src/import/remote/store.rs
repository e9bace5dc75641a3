//! Storing a fetch in a new session: the pack read and indexed as it downloads, then, in one
//! transaction, its objects stored verified, the shallow boundary recorded and the ref checked
//! out on its branch within the workspace quotas.

use std::path::Path;

use gix_hash::ObjectId;
use gix_object::{Kind, TagRefIter};

use super::fetch::{self, AnswerError};
use super::{Fetch, RemoteError};
use crate::git::{Repo, tree};
use crate::import::{ImportError, Imported, init};
use crate::seed::GitAuthor;
use crate::storage::path::normalize;
use crate::storage::worktree::worktree_path;
use crate::storage::{ObjectDb, SessionDb};

impl Fetch {
    /// Reads the pack (blocking, as it downloads; scratch files under `scratch`) and fills the
    /// new session `db` from it, its commits authored by `author` from now on. One transaction.
    pub fn store(
        self,
        db: &mut SessionDb,
        author: Option<&GitAuthor>,
        scratch: &Path,
    ) -> Result<Imported, ImportError> {
        let failure = self.download.failure();
        let fetched = match fetch::read_answer(self.download, self.framing, scratch) {
            Ok(fetched) => fetched,
            // A download cut short (quota, time limit, network) explains the broken pack.
            Err(e) => {
                return Err(match (failure.take(), e) {
                    (Some(reason), _) => reason.into(),
                    (None, AnswerError::Remote(e)) => e.into(),
                    (None, AnswerError::Pack(e)) => e.into(),
                });
            }
        };
        let wanted = self.wanted;
        let limits = self.limits;
        db.write(|s| {
            init(s, author, "repository")?;
            let odb = s.objects();
            let stored = fetched.pack.store(&odb, s.options().into())?;
            stored.check_connected(&odb, wanted.id, &fetched.shallow)?;
            let commit = peel(&odb, wanted.id)?.ok_or_else(|| RemoteError::NotACommit(wanted.name.clone()))?;
            let mut budget = limits.budget();
            for (path, file) in tree::flatten(&odb, &tree::commit_tree(&odb, &commit)?)? {
                let at = worktree_path(&path);
                if normalize(&at).ok().as_deref() != Some(at.as_str())
                    || at.split('/').any(|s| s.eq_ignore_ascii_case(".git"))
                {
                    return Err(RemoteError::UnsafePath(path).into());
                }
                let size = odb.header(&file.id)?.map_or(0, |(_, size)| size);
                budget.file(&at, size, None)?;
            }
            let repo = Repo::new(s);
            repo.set_shallow(&fetched.shallow)?;
            repo.start_branch_at(&wanted.branch, commit)?;
            Ok(Imported {
                head: Some(commit),
                file_count: s.worktree().stats()?.file_count,
            })
        })
    }
}

/// The commit `id` names, through annotated tags; `None` when it names something else.
fn peel(odb: &ObjectDb<'_>, mut id: ObjectId) -> Result<Option<ObjectId>, ImportError> {
    loop {
        match odb.get(&id)? {
            Some((Kind::Commit, _)) => return Ok(Some(id)),
            Some((Kind::Tag, data)) => match TagRefIter::from_bytes(&data, gix_hash::Kind::Sha1).target_id() {
                Ok(target) => id = target,
                Err(_) => return Ok(None),
            },
            _ => return Ok(None),
        }
    }
}
