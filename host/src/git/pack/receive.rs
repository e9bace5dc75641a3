//! Receiving a pack into a session's object database, verified: the pack is indexed with
//! gix-pack (deltas resolved, a thin pack completed from the session's objects, the trailing
//! checksum checked), every object is decoded and its id recomputed as it is stored, and each
//! new ref tip can be checked to reach only objects the session holds.
//!
//! The three steps split along the session's lock: [`index_pack`] reads the client's bytes and
//! needs only read access to the session's objects (for thin-pack bases); [`ReceivedPack::store`]
//! and [`StoredPack::check_connected`] run inside the caller's write transaction, so a bad
//! object or a missing one rolls everything back.
//!
//! ```no_run
//! # fn import(db: &mut pi_worker::storage::SessionDb, pack: &mut dyn std::io::BufRead,
//! #           scratch: &std::path::Path, tip: gix_hash::ObjectId)
//! #           -> Result<(), pi_worker::git::pack::PackError> {
//! use pi_worker::git::pack::index_pack;
//!
//! // Index first (no lock needed), completing thin packs from the session's objects…
//! let received = db.read(|s| index_pack(pack, scratch, s.objects()))?;
//! // …then store and verify in one write transaction: any error rolls it all back.
//! db.write(|s| {
//!     let stored = received.store(&s.objects(), s.options().into())?;
//!     stored.check_connected(&s.objects(), tip, &Default::default())?;
//!     // update refs here, in the same transaction
//!     Ok::<_, pi_worker::git::pack::PackError>(())
//! })
//! # }
//! ```

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::io::BufRead;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use gix_hash::ObjectId;
use gix_object::{Kind, ObjectRef};

use crate::storage::{ObjectDb, StorageError, StorageOptions};

/// Why a pack was refused. Nothing is stored when it is (the caller's transaction rolls back).
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The scratch directory for the pack and its index could not be made.
    #[error("cannot make a scratch directory for the pack: {0}")]
    Scratch(#[source] std::io::Error),
    /// The pack does not parse, is truncated, fails its checksum, or a delta has no base.
    #[error("invalid pack: {0}")]
    Invalid(#[source] gix_error::Error),
    /// An object in the pack does not decode as its kind.
    #[error("bad {kind} object {id}: {source}")]
    BadObject {
        /// The object's id.
        id: ObjectId,
        /// What it claims to be.
        kind: Kind,
        /// Why it does not decode.
        #[source]
        source: gix_error::Error,
    },
    /// An object's recomputed id differs from the one the pack index holds.
    #[error("object {expected} hashes to {actual}")]
    HashMismatch {
        /// The id in the index.
        expected: ObjectId,
        /// The id of its contents.
        actual: ObjectId,
    },
    /// An object reachable from a new tip is neither in the pack nor in the session.
    #[error("missing object {0}")]
    Missing(ObjectId),
    /// The pack unpacks to more than the session accepts (see [`UnpackLimits`]).
    #[error("the pack unpacks to more than the session accepts: {0}")]
    TooLarge(String),
    /// Storage failed (a host fault).
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The largest object (or delta result) a received pack may hold: a pack whose headers claim
/// more is refused instead of making the server allocate it.
pub const MAX_OBJECT_BYTES: usize = 512 * 1024 * 1024;

/// A pack read from a client and indexed on disk, not yet stored. Its scratch directory is
/// removed when it is dropped.
pub struct ReceivedPack {
    /// `None`: the pack holds no objects.
    bundle: Option<gix_pack::Bundle>,
    _scratch: tempfile::TempDir,
}

/// Reads a pack from `pack` (everything up to its trailing checksum) and indexes it in a fresh
/// directory under `scratch_dir`, resolving deltas and recomputing every object's id. Bases a
/// thin pack leaves out are looked up in `thin_bases` (the session's objects; pass
/// [`gix_object::find::Never`] when there are none) and added to the pack.
pub fn index_pack(
    pack: &mut dyn BufRead,
    scratch_dir: &Path,
    thin_bases: impl gix_object::Find,
) -> Result<ReceivedPack, PackError> {
    std::fs::create_dir_all(scratch_dir).map_err(PackError::Scratch)?;
    let scratch = tempfile::Builder::new()
        .prefix("receive-")
        .tempdir_in(scratch_dir)
        .map_err(PackError::Scratch)?;
    let options = gix_pack::bundle::write::Options {
        thread_limit: Some(1),
        iteration_mode: gix_pack::data::input::Mode::Verify,
        index_version: gix_pack::index::Version::default(),
        alloc_limit_bytes: Some(MAX_OBJECT_BYTES),
        compression: gix_zlib::Compression::BEST_SPEED,
    };
    let outcome = gix_pack::Bundle::write_to_directory(
        pack,
        Some(scratch.path()),
        &mut gix_utils::progress::Discard,
        &AtomicBool::new(false),
        Some(thin_bases),
        gix_hash::Kind::Sha1,
        options,
    )
    .map_err(PackError::Invalid)?;
    let bundle = outcome.to_bundle().transpose().map_err(PackError::Invalid)?;
    Ok(ReceivedPack {
        bundle,
        _scratch: scratch,
    })
}

impl ReceivedPack {
    /// How many objects the pack holds (thin-pack bases included).
    pub fn object_count(&self) -> u32 {
        self.bundle.as_ref().map_or(0, |b| b.index.num_objects())
    }

    /// Stores every object of the pack in `odb`, each decoded (commits, trees and tags must
    /// parse) and its id recomputed from its contents. Run it in a write transaction: an error
    /// leaves objects half-stored until the transaction rolls back.
    /// Refuses the pack, storing nothing, past `limits`.
    pub fn store(&self, odb: &ObjectDb<'_>, limits: UnpackLimits) -> Result<StoredPack, PackError> {
        let mut kinds = HashMap::new();
        let mut total: u64 = 0;
        let Some(bundle) = &self.bundle else {
            return Ok(StoredPack { kinds });
        };
        // In pack order, so the base of a delta was decoded shortly before it and is still in
        // the cache: each delta is applied once, not once per object above it in its chain.
        let index = &bundle.index;
        let mut entries: Vec<u32> = (0..index.num_objects()).collect();
        entries.sort_by_key(|i| index.pack_offset_at_index(*i));
        let mut inflate = gix_zlib::Inflate::default();
        let mut cache = RecentObjects::default();
        let mut buf = Vec::new();
        for i in entries {
            let expected = index.oid_at_index(i).to_owned();
            let (data, _) = bundle
                .get_object_by_index(i, &mut buf, &mut inflate, &mut cache)
                .map_err(PackError::Invalid)?;
            let size = data.data.len() as u64;
            total += size;
            if size > limits.max_object_bytes {
                return Err(PackError::TooLarge(format!(
                    "object {expected} has {size} bytes, over the {}-byte limit",
                    limits.max_object_bytes
                )));
            }
            if total > limits.max_total_bytes {
                return Err(PackError::TooLarge(format!(
                    "its objects hold over {} bytes",
                    limits.max_total_bytes
                )));
            }
            ObjectRef::from_bytes(data.data, data.kind, gix_hash::Kind::Sha1).map_err(|source| {
                PackError::BadObject {
                    id: expected,
                    kind: data.kind,
                    source,
                }
            })?;
            let actual = odb.put(data.kind, data.data)?;
            if actual != expected {
                return Err(PackError::HashMismatch { expected, actual });
            }
            kinds.insert(actual, data.kind);
        }
        Ok(StoredPack { kinds })
    }
}

/// Bounds on what a pack unpacks to, however well it compressed: no object larger than the
/// largest file the session accepts, and no more bytes in all than its workspace quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnpackLimits {
    /// The largest object, in bytes.
    pub max_object_bytes: u64,
    /// The most bytes of all the pack's objects together.
    pub max_total_bytes: u64,
}

impl From<StorageOptions> for UnpackLimits {
    fn from(options: StorageOptions) -> Self {
        Self {
            max_object_bytes: options.max_file_bytes,
            max_total_bytes: options.max_workspace_bytes,
        }
    }
}

/// Decoded objects by pack offset, the most recent first kept, up to [`Self::MAX_BYTES`]: the
/// bases deltas are resolved against.
#[derive(Default)]
struct RecentObjects {
    objects: HashMap<u64, (Kind, Vec<u8>, usize)>,
    order: VecDeque<u64>,
    bytes: usize,
}

impl RecentObjects {
    /// The most bytes of objects kept.
    const MAX_BYTES: usize = 64 * 1024 * 1024;
}

impl gix_pack::cache::DecodeEntry for RecentObjects {
    fn put(&mut self, _pack: u32, offset: u64, data: &[u8], kind: Kind, compressed_size: usize) {
        if data.len() > Self::MAX_BYTES / 4 || self.objects.contains_key(&offset) {
            return;
        }
        while self.bytes + data.len() > Self::MAX_BYTES
            && let Some(oldest) = self.order.pop_front()
        {
            if let Some((_, evicted, _)) = self.objects.remove(&oldest) {
                self.bytes -= evicted.len();
            }
        }
        self.bytes += data.len();
        self.order.push_back(offset);
        self.objects.insert(offset, (kind, data.to_vec(), compressed_size));
    }

    fn get(&mut self, _pack: u32, offset: u64, out: &mut Vec<u8>) -> Option<(Kind, usize)> {
        let (kind, data, compressed_size) = self.objects.get(&offset)?;
        out.clear();
        out.extend_from_slice(data);
        Some((*kind, *compressed_size))
    }
}

/// The objects of a pack, as stored by [`ReceivedPack::store`].
#[derive(Debug, Default)]
pub struct StoredPack {
    kinds: HashMap<ObjectId, Kind>,
}

impl StoredPack {
    /// Whether the pack held `id`.
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.kinds.contains_key(id)
    }

    /// The kind of `id`, if the pack held it.
    pub fn kind(&self, id: &ObjectId) -> Option<Kind> {
        self.kinds.get(id).copied()
    }

    /// How many objects were stored.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Whether the pack was empty.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Checks that every object reachable from `tip` is stored: objects of this pack are
    /// walked into (commits to their tree and parents, trees to their entries, tags to their
    /// target); any other object must already be in `odb`, whose objects are complete.
    /// Submodule entries (commits of another repository) are not followed, nor the parents of
    /// the `shallow` commits (a shallow fetch's boundary; empty for a whole history).
    pub fn check_connected(
        &self,
        odb: &ObjectDb<'_>,
        tip: ObjectId,
        shallow: &BTreeSet<ObjectId>,
    ) -> Result<(), PackError> {
        let mut seen = HashSet::new();
        let mut stack = vec![tip];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let kind = match self.kind(&id) {
                Some(Kind::Blob) => continue,
                Some(kind) => kind,
                None if odb.contains(&id)? => continue,
                None => return Err(PackError::Missing(id)),
            };
            let (_, data) = odb.get(&id)?.ok_or(PackError::Missing(id))?;
            let decoded = ObjectRef::from_bytes(&data, kind, gix_hash::Kind::Sha1)
                .map_err(|source| PackError::BadObject { id, kind, source })?;
            match decoded {
                ObjectRef::Commit(commit) => {
                    stack.push(commit.tree());
                    if !shallow.contains(&id) {
                        stack.extend(commit.parents());
                    }
                }
                ObjectRef::Tree(tree) => stack.extend(
                    tree.entries
                        .iter()
                        .filter(|e| !e.mode.is_commit())
                        .map(|e| e.oid.to_owned()),
                ),
                ObjectRef::Tag(tag) => stack.push(tag.target()),
                ObjectRef::Blob(_) => {}
            }
        }
        Ok(())
    }
}
