//! Getting the code out: the session's repository over git's dumb HTTP protocol (so a stock
//! `git clone http://host/session/<id>/git` works), and the files as a streamed tar archive.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gix_hash::ObjectId;
use tokio::sync::mpsc;

use super::api_types::{ArchiveQuery, ErrorBody, ServiceQuery, SessionFilePath, SessionPath};
use super::git_smart;
use super::routes::session_id;
use super::{ApiError, AppState};
use crate::git::{GitError, Repo, tree};
use crate::service::ServiceError;
use crate::sessions::SessionId;
use crate::storage::{SessionDb, Snapshot, StorageError};

fn plain(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn not_found(message: String) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, message)
}

/// Git: the refs
///
/// With `?service=`, git's smart HTTP advertisement, the first request of `git clone`, `fetch`,
/// `pull` and `push` (`http://host/session/{id}/git` is the repository's URL). Without it, the
/// dumb protocol's `info/refs` for old clients.
#[utoipa::path(get, path = "/session/{id}/git/info/refs", tag = "git",
    params(SessionPath, ServiceQuery),
    responses(
        (status = 200, description = "The advertisement, or the refs as text", content(
            (Vec<u8> = "application/x-git-upload-pack-advertisement"),
            (Vec<u8> = "application/x-git-receive-pack-advertisement"),
            (String = "text/plain"),
        )),
        (status = 403, description = "An unknown service", body = ErrorBody),
        (status = 404, description = "No such session", body = ErrorBody),
    ))]
pub async fn info_refs(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
    Query(query): Query<ServiceQuery>,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    match query.service.as_deref() {
        Some(service) => git_smart::advertise(&state, &id, service).await,
        None => dumb_file(&state, &id, "info/refs").await,
    }
}

/// Git: a file of the dumb protocol
///
/// `HEAD`, `objects/info/packs` (empty: every object is served loose) and loose objects
/// (`objects/<2 hex>/<38 hex>`), for git clients that do not speak the smart protocol.
#[utoipa::path(get, path = "/session/{id}/git/{*path}", tag = "git", operation_id = "git_dumb_file",
    params(SessionFilePath),
    responses(
        (status = 200, description = "The file", content(
            (String = "text/plain"),
            (Vec<u8> = "application/x-git-loose-object"),
        )),
        (status = 404, description = "No such session, file or object", body = ErrorBody),
    ))]
pub async fn dumb_http(
    State(state): State<Arc<AppState>>,
    Path(SessionFilePath { id: raw_id, path }): Path<SessionFilePath>,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    dumb_file(&state, &id, &path).await
}

/// A file of the dumb protocol: `info/refs`, `HEAD`, `objects/info/packs` or a loose object.
async fn dumb_file(state: &AppState, id: &SessionId, path: &str) -> Result<Response, ApiError> {
    match path {
        "info/refs" => {
            let refs = state.service.read(id, |s| Repo::new(s).advertised_refs()).await?;
            Ok(plain(refs.iter().map(|(name, id)| format!("{id}\t{name}\n")).collect()))
        }
        "HEAD" => Ok(plain(format!(
            "{}\n",
            state.service.read(id, |s| Repo::new(s).head_ref()).await?
        ))),
        // No packs: every object is served loose.
        "objects/info/packs" => Ok(plain(String::new())),
        _ => {
            let object = path
                .strip_prefix("objects/")
                .and_then(|rest| rest.split_once('/'))
                .filter(|(fan, rest)| fan.len() == 2 && rest.len() == 38)
                .and_then(|(fan, rest)| ObjectId::from_hex(format!("{fan}{rest}").as_bytes()).ok())
                .ok_or_else(|| not_found(format!("no such git file: {path}")))?;
            let (kind, data) = state
                .service
                .read(id, move |s| s.objects().get(&object))
                .await?
                .ok_or_else(|| not_found(format!("no object {object}")))?;
            let loose = loose_object(kind, &data).map_err(|e| ApiError::internal(&e))?;
            Ok(([(header::CONTENT_TYPE, "application/x-git-loose-object")], loose).into_response())
        }
    }
}

/// A loose object file: zlib of `<kind> <size>\0<data>`.
fn loose_object(kind: gix_object::Kind, data: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&gix_object::encode::loose_header(kind, data.len() as u64))?;
    encoder.write_all(data)?;
    encoder.finish()
}

/// Chunks of the archive in flight between the thread writing it and the client: with
/// [`CHUNK_BYTES`] each, the archive holds at most about 1 MiB of memory plus the file being
/// read, whatever the workspace's size.
const CHUNKS_IN_FLIGHT: usize = 8;
const CHUNK_BYTES: usize = 128 * 1024;

/// An archive's compression.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compression {
    /// A plain `.tar`.
    None,
    /// A `.tar.gz`.
    Gzip,
}

/// Download the files as tar
///
/// The working tree, or with `?ref=` a commit's files, as a tar archive streamed as it is made.
#[utoipa::path(get, path = "/session/{id}/archive.tar", tag = "files",
    params(SessionPath, ArchiveQuery),
    responses(
        (status = 200, description = "The archive", body = Vec<u8>, content_type = "application/x-tar"),
        (status = 400, description = "A malformed session id or ref", body = ErrorBody),
        (status = 404, description = "No such session or ref", body = ErrorBody),
    ))]
pub async fn archive_tar(
    state: State<Arc<AppState>>,
    session: Path<SessionPath>,
    query: Query<ArchiveQuery>,
) -> Result<Response, ApiError> {
    archive(state, session, query, Compression::None).await
}

/// Download the files as tar.gz
///
/// The same as `archive.tar`, gzip-compressed as it streams.
#[utoipa::path(get, path = "/session/{id}/archive.tar.gz", tag = "files",
    params(SessionPath, ArchiveQuery),
    responses(
        (status = 200, description = "The archive", body = Vec<u8>, content_type = "application/gzip"),
        (status = 400, description = "A malformed session id or ref", body = ErrorBody),
        (status = 404, description = "No such session or ref", body = ErrorBody),
    ))]
pub async fn archive_tar_gz(
    state: State<Arc<AppState>>,
    session: Path<SessionPath>,
    query: Query<ArchiveQuery>,
) -> Result<Response, ApiError> {
    archive(state, session, query, Compression::Gzip).await
}

/// The archive in `compression`. The list of files is taken first, so an unknown session or
/// revision still answers 404; the contents then stream from a blocking thread, one file at a
/// time, never the whole archive in memory.
async fn archive(
    State(state): State<Arc<AppState>>,
    Path(SessionPath { id: raw_id }): Path<SessionPath>,
    Query(query): Query<ArchiveQuery>,
    compression: Compression,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    // One open database serves the listing and then the streaming.
    let (service, session) = (state.service.clone(), id.clone());
    let (db, files) = tokio::task::spawn_blocking(move || {
        let db = service.open_blocking(&session)?;
        let files = db.read(|s| {
            Ok::<_, GitError>(match &query.rev {
                Some(rev) => {
                    let (commit, _) = Repo::new(s).resolve(rev)?;
                    let odb = s.objects();
                    tree::flatten(&odb, &tree::commit_tree(&odb, &commit)?)?
                }
                None => s.worktree().files()?,
            })
        })?;
        Ok::<_, ServiceError>((db, files))
    })
    .await
    .map_err(ServiceError::from)??;
    let body = stream_from_blocking(move |writer| {
        let result = match compression {
            Compression::None => write_tar(writer, &db, files),
            Compression::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(writer, flate2::Compression::fast());
                write_tar(&mut gz, &db, files).and_then(|()| gz.try_finish())
            }
        };
        if let Err(e) = &result {
            tracing::error!("archive of session {id} failed mid-stream: {e}");
        }
        result
    });
    let (content_type, extension) = match compression {
        Compression::None => ("application/x-tar", "tar"),
        Compression::Gzip => ("application/gzip", "tar.gz"),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{raw_id}.{extension}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Writes `files` (contents read from `db` one at a time) as a tar archive.
fn write_tar(writer: impl std::io::Write, db: &SessionDb, files: Snapshot) -> std::io::Result<()> {
    let mut builder = tar::Builder::new(writer);
    for (path, file) in files {
        let data = db
            .read(|s| s.objects().get(&file.id))
            .map_err(std::io::Error::other)?
            .ok_or_else(|| {
                std::io::Error::other(StorageError::corrupt("objects", format!("missing blob {}", file.id)))
            })?
            .1;
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(if file.mode.is_executable() { 0o755 } else { 0o644 });
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, &path, data.as_slice())?;
    }
    builder.finish()
}

/// A response body written by `write` on a blocking thread, in bounded chunks: the writer
/// waits while the client is [`CHUNKS_IN_FLIGHT`] chunks behind. An error mid-way ends the
/// body with that error (the client sees a truncated transfer, never a short success).
pub fn stream_from_blocking(write: impl FnOnce(&mut ChunkWriter) -> std::io::Result<()> + Send + 'static) -> Body {
    let (chunks, body) = mpsc::channel::<std::io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
    tokio::task::spawn_blocking(move || {
        let mut writer = ChunkWriter {
            chunks: chunks.clone(),
            buffer: Vec::with_capacity(CHUNK_BYTES),
        };
        if let Err(e) = write(&mut writer).and_then(|()| writer.flush_chunk()) {
            let _ = chunks.blocking_send(Err(e));
        }
    });
    let stream = futures_util::stream::unfold(body, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    Body::from_stream(stream)
}

/// An [`std::io::Write`] that hands its bytes to the response in chunks, waiting while the
/// client is [`CHUNKS_IN_FLIGHT`] chunks behind.
pub struct ChunkWriter {
    chunks: mpsc::Sender<std::io::Result<Bytes>>,
    buffer: Vec<u8>,
}

impl ChunkWriter {
    fn flush_chunk(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK_BYTES)));
        self.chunks
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let room = CHUNK_BYTES - self.buffer.len();
        let taken = bytes.len().min(room);
        self.buffer.extend_from_slice(&bytes[..taken]);
        if self.buffer.len() == CHUNK_BYTES {
            self.flush_chunk()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
