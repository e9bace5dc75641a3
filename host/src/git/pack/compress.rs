//! Pack entries compressed on helper threads: the thread holding the session's transaction reads
//! objects in steps (a few objects, a few MiB), hands each step to a compressing thread, and
//! yields the compressed entries in order. Compression is most of a pack's cost; with the
//! reading, hashing and sending on the caller's thread, it runs beside them.

use std::collections::BTreeMap;
use std::sync::mpsc;

use gix_hash::ObjectId;
use gix_object::Kind;
use gix_pack::data::output;

use crate::storage::ObjectDb;

/// Compressing threads.
pub(super) const COMPRESSORS: usize = 2;
/// Most objects in one step.
const STEP_OBJECTS: usize = 32;
/// A step ends once it holds this many bytes of objects.
const STEP_BYTES: usize = 4 * 1024 * 1024;
/// Steps read but not yet written: what bounds the memory of a pack in flight.
const STEPS_IN_FLIGHT: usize = 2 * COMPRESSORS + 2;

/// Objects read for one step: id, kind, contents.
type Objects = Vec<(ObjectId, Kind, Vec<u8>)>;
/// Objects read for one step, by sequence number.
type Step = (usize, Objects);
/// A compressed step, by sequence number.
type Compressed = (usize, gix_error::Result<Vec<output::Entry>>);

/// Compresses every step `steps` receives until it closes, sending the entries to `done`.
pub(super) fn compressor(steps: mpsc::Receiver<Step>, done: mpsc::Sender<Compressed>) {
    for (seq, objects) in steps {
        let entries = objects
            .iter()
            .map(|(id, kind, data)| {
                let data = gix_object::Data {
                    kind: *kind,
                    data,
                    object_hash: gix_hash::Kind::Sha1,
                };
                output::Entry::from_data(
                    &output::Count::from_data(*id, None),
                    &data,
                    gix_zlib::Compression::BEST_SPEED,
                )
            })
            .collect();
        if done.send((seq, entries)).is_err() {
            return;
        }
    }
}

/// The entries of `ids`, compressed by the threads behind `workers`, in order.
pub(super) struct CompressedEntries<'a> {
    odb: &'a ObjectDb<'a>,
    ids: std::slice::Iter<'a, ObjectId>,
    workers: Vec<mpsc::SyncSender<Step>>,
    done: mpsc::Receiver<Compressed>,
    /// Steps that arrived before their turn.
    early: BTreeMap<usize, gix_error::Result<Vec<output::Entry>>>,
    sent: usize,
    next: usize,
}

impl<'a> CompressedEntries<'a> {
    pub(super) fn new(
        odb: &'a ObjectDb<'a>,
        ids: &'a [ObjectId],
        workers: Vec<mpsc::SyncSender<Step>>,
        done: mpsc::Receiver<Compressed>,
    ) -> Self {
        Self {
            odb,
            ids: ids.iter(),
            workers,
            done,
            early: BTreeMap::new(),
            sent: 0,
            next: 0,
        }
    }

    /// Reads the next step's objects; `None` when every object has been read.
    fn read_step(&mut self) -> Option<gix_error::Result<Objects>> {
        let mut objects = Vec::new();
        let mut bytes = 0;
        while objects.len() < STEP_OBJECTS && bytes < STEP_BYTES {
            let Some(id) = self.ids.next() else { break };
            match self.odb.get(id) {
                Ok(Some((kind, data))) => {
                    bytes += data.len();
                    objects.push((*id, kind, data));
                }
                Ok(None) => return Some(Err(gix_error::Error::from_error(Missing(*id)))),
                Err(e) => return Some(Err(gix_error::Error::from_error(e))),
            }
        }
        (!objects.is_empty()).then_some(Ok(objects))
    }
}

impl Iterator for CompressedEntries<'_> {
    type Item = gix_error::Result<Vec<output::Entry>>;

    fn next(&mut self) -> Option<Self::Item> {
        while self.sent < self.next + STEPS_IN_FLIGHT {
            match self.read_step() {
                None => break,
                Some(Ok(objects)) => {
                    let worker = &self.workers[self.sent % self.workers.len()];
                    if worker.send((self.sent, objects)).is_err() {
                        return Some(Err(gix_error::Error::from_error(CompressorGone)));
                    }
                    self.sent += 1;
                }
                Some(Err(e)) => return Some(Err(e)),
            }
        }
        if self.next == self.sent {
            return None;
        }
        loop {
            if let Some(entries) = self.early.remove(&self.next) {
                self.next += 1;
                return Some(entries);
            }
            match self.done.recv() {
                Ok((seq, entries)) => {
                    self.early.insert(seq, entries);
                }
                Err(_) => return Some(Err(gix_error::Error::from_error(CompressorGone))),
            }
        }
    }
}

/// An object counted for the pack is not stored.
#[derive(Debug, thiserror::Error)]
#[error("object {0} is missing")]
struct Missing(ObjectId);

/// A compressing thread stopped early (it panicked).
#[derive(Debug, thiserror::Error)]
#[error("a compressing thread stopped")]
struct CompressorGone;
