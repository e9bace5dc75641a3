//! Getting the code out: the session's repository over git's dumb HTTP protocol (so a stock
//! `git clone http://host/session/<id>/git` works), and the files as a tar archive.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use gix_hash::ObjectId;
use serde::Deserialize;

use super::routes::{blocking, open_existing, session_id};
use super::{ApiError, AppState};
use crate::git::{GitError, Repo, tree};

fn git_error(e: GitError) -> ApiError {
    match e {
        GitError::UnknownRevision(_) | GitError::NoCommits | GitError::NotARepository => {
            ApiError::new(StatusCode::NOT_FOUND, e.to_string())
        }
        GitError::InvalidPath(_) | GitError::InvalidName(_) => ApiError::bad_request(e.to_string()),
        other => ApiError::internal(other),
    }
}

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

/// `GET /session/:id/git/*path`: `info/refs`, `HEAD`, `objects/info/packs` and loose objects.
pub async fn dumb_http(
    State(state): State<Arc<AppState>>,
    Path((raw_id, path)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let mut db = open_existing(&state, &id).await?;
    blocking(move || {
        let repo = Repo::new(&mut db);
        match path.as_str() {
            "info/refs" => {
                let refs = repo.advertised_refs().map_err(git_error)?;
                Ok(plain(refs.iter().map(|(name, id)| format!("{id}\t{name}\n")).collect()))
            }
            "HEAD" => Ok(plain(format!("{}\n", repo.head_ref().map_err(git_error)?))),
            // No packs: every object is served loose.
            "objects/info/packs" => Ok(plain(String::new())),
            _ => {
                let object = path
                    .strip_prefix("objects/")
                    .and_then(|rest| rest.split_once('/'))
                    .filter(|(fan, rest)| fan.len() == 2 && rest.len() == 38)
                    .and_then(|(fan, rest)| ObjectId::from_hex(format!("{fan}{rest}").as_bytes()).ok())
                    .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no such git file: {path}")))?;
                let (kind, data) = db
                    .objects()
                    .get(&object)
                    .map_err(ApiError::internal)?
                    .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no object {object}")))?;
                let loose = loose_object(kind, &data).map_err(ApiError::internal)?;
                Ok(([(header::CONTENT_TYPE, "application/x-git-loose-object")], loose).into_response())
            }
        }
    })
    .await
}

/// A loose object file: zlib of `<kind> <size>\0<data>`.
fn loose_object(kind: gix_object::Kind, data: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&gix_object::encode::loose_header(kind, data.len() as u64))?;
    encoder.write_all(data)?;
    encoder.finish()
}

#[derive(Deserialize)]
pub struct ArchiveQuery {
    #[serde(rename = "ref")]
    rev: Option<String>,
}

/// `GET /session/:id/archive.tar[?ref=REV]`: the working tree, or a commit's tree.
pub async fn archive(
    State(state): State<Arc<AppState>>,
    Path(raw_id): Path<String>,
    Query(query): Query<ArchiveQuery>,
) -> Result<Response, ApiError> {
    let id = session_id(&raw_id)?;
    let mut db = open_existing(&state, &id).await?;
    let name = format!("{id}.tar");
    let tar = blocking(move || {
        let files: Vec<(String, u32, ObjectId)> = match &query.rev {
            Some(rev) => {
                let repo = Repo::new(&mut db);
                let (commit, _) = repo.resolve(rev).map_err(git_error)?;
                let odb = db.objects();
                let tree_id = tree::commit_tree(&odb, &commit).map_err(git_error)?;
                tree::flatten(&odb, &tree_id)
                    .map_err(git_error)?
                    .into_iter()
                    .map(|(path, (mode, id))| Ok((path, mode, parse(&id)?)))
                    .collect::<Result<_, ApiError>>()?
            }
            None => db
                .walk("/")
                .map_err(ApiError::internal)?
                .into_iter()
                .filter(|e| e.kind == crate::storage::EntryKind::File)
                .map(|e| {
                    Ok((
                        e.path[1..].to_string(),
                        0o100644,
                        parse(&db.blob_id(&e.path).map_err(ApiError::internal)?)?,
                    ))
                })
                .collect::<Result<_, ApiError>>()?,
        };
        let mut builder = tar::Builder::new(Vec::new());
        let odb = db.objects();
        for (path, mode, object) in files {
            let data = odb
                .get(&object)
                .map_err(ApiError::internal)?
                .map(|(_, d)| d)
                .unwrap_or_default();
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(if mode == 0o100755 { 0o755 } else { 0o644 });
            header.set_entry_type(tar::EntryType::Regular);
            builder
                .append_data(&mut header, &path, data.as_slice())
                .map_err(ApiError::internal)?;
        }
        builder.into_inner().map_err(ApiError::internal)
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        Body::from(tar),
    )
        .into_response())
}

fn parse(hex: &str) -> Result<ObjectId, ApiError> {
    ObjectId::from_hex(hex.as_bytes()).map_err(ApiError::internal)
}
