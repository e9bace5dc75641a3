//! The OpenAPI 3.1 document of the API, built from the same registrations as the router.
//!
//! [`ApiRoutes`] is the only way routes get into the router: [`ApiRoutes::documented`] takes a
//! `utoipa_axum::routes!(handler, …)` (handlers annotated with `#[utoipa::path]`) and adds it to
//! both the router and the document, so they cannot drift; [`ApiRoutes::undocumented`] adds
//! a static GET route (an alias, an asset) with the reason it is not described, listed in the
//! document under `x-undocumented-routes`. The document is served at `GET /openapi.json`.

use std::sync::Arc;

use axum::Router;
use axum::extract::Extension;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response as DocResponse};
use utoipa::{Modify, PartialSchema, ToSchema};
use utoipa_axum::router::UtoipaMethodRouter;

use super::api_types::ErrorBody;
use super::auth;

/// The name of the bearer token's security scheme in the document.
const BEARER: &str = "bearerToken";

/// The document's fixed parts: what the API is, its tags and its auth scheme.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "pi-worker",
        description = "A coding agent that lives on a server. Each session is an isolated workspace \
            (its files, its git repository and its conversation); an LLM agent reads, writes, searches \
            and version-controls those files for whoever talks to the session over HTTP.\n\n\
            Errors are JSON `{\"error\": \"...\"}` with a fitting status. With a token configured \
            (`PI_WORKER_TOKEN` or `--tokens-file`), every route but `/health`, `/openapi.json` and \
            `/docs` needs `Authorization: Bearer <token>`; a session owned by another tenant answers \
            404 like one that does not exist.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    tags(
        (name = "sessions", description = "Create, list, describe and delete sessions"),
        (name = "chat", description = "Talk to the agent, watch it work, stop it"),
        (name = "conversation", description = "The record, checkpoints, revert and fork"),
        (name = "files", description = "The working tree: read, write, delete, download"),
        (name = "git", description = "The session's repository over git's HTTP protocols"),
        (name = "server", description = "The server itself and this document"),
    ),
)]
struct ApiDoc;

/// Adds the bearer scheme, and to every operation its security and the errors any route may
/// answer: `401` where a token is needed, `500` everywhere. Runs once all routes are in.
struct AuthAndErrors;

impl Modify for AuthAndErrors {
    fn modify(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "Needed only when the server has tokens: `PI_WORKER_TOKEN` (one token), or \
                         `--tokens-file` (one per tenant; a tenant sees only its own sessions).",
                    ))
                    .build(),
            ),
        );
        components
            .schemas
            .insert(ErrorBody::name().into_owned(), ErrorBody::schema());
        let error = |description: &str| {
            let content = Content::new(Some(RefOr::Ref(Ref::from_schema_name(ErrorBody::name()))));
            DocResponse::builder()
                .description(description)
                .content("application/json", content)
                .build()
        };
        for (path, item) in doc.paths.paths.iter_mut() {
            let public = auth::is_public(path);
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                if !public {
                    operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
                    responses.insert("401".into(), error("Missing or wrong bearer token").into());
                }
                responses.insert(
                    "500".into(),
                    error("A fault of ours: the agent crashed or hit a limit, or storage failed").into(),
                );
            }
        }
    }
}

/// The routes of the API, each in the router and (unless said otherwise, with a reason) in the
/// document.
pub struct ApiRoutes<S> {
    router: Router<S>,
    doc: OpenApi,
    /// Routes deliberately left out of the document: path, and why.
    undocumented: Vec<(String, String)>,
}

impl<S: Clone + Send + Sync + 'static> Default for ApiRoutes<S> {
    fn default() -> Self {
        Self {
            router: Router::new(),
            doc: <ApiDoc as utoipa::OpenApi>::openapi(),
            undocumented: Vec::new(),
        }
    }
}

/// A path as OpenAPI writes it: axum's catch-all `{*rest}` is the parameter `{rest}`.
pub fn openapi_path(axum_path: &str) -> String {
    axum_path.replace("{*", "{")
}

impl<S: Clone + Send + Sync + 'static> ApiRoutes<S> {
    /// Adds the handlers of one path (from `utoipa_axum::routes!`) to the router and the document.
    pub fn documented(mut self, (schemas, paths, method_router): UtoipaMethodRouter<S>) -> Self {
        for (path, item) in paths.paths {
            self.router = self.router.route(&path, method_router.clone());
            let doc_path = openapi_path(&path);
            match self.doc.paths.paths.get_mut(&doc_path) {
                Some(existing) => existing.merge_operations(item),
                None => {
                    self.doc.paths.paths.insert(doc_path, item);
                }
            }
        }
        let components = self.doc.components.get_or_insert_with(Default::default);
        components.schemas.extend(schemas);
        self
    }

    /// Adds a route that the document deliberately leaves out, saying why.
    pub fn undocumented(mut self, path: &str, route: MethodRouter<S>, why: &str) -> Self {
        self.router = self.router.route(path, route);
        self.undocumented.push((path.to_string(), why.to_string()));
        self
    }

    /// The router, and the finished document (served by `GET /openapi.json`, which must be among the
    /// documented routes).
    pub fn finish(self) -> (Router<S>, Arc<ApiDocument>) {
        let Self {
            router,
            mut doc,
            undocumented,
        } = self;
        AuthAndErrors.modify(&mut doc);
        let listed: serde_json::Map<String, serde_json::Value> = undocumented
            .into_iter()
            .map(|(path, why)| (path, serde_json::Value::String(why)))
            .collect();
        let mut extensions = Extensions::default();
        extensions.insert("x-undocumented-routes".into(), listed.into());
        doc.extensions = Some(extensions);
        let json = doc.to_pretty_json().unwrap_or_default();
        (router, Arc::new(ApiDocument { json }))
    }
}

/// The OpenAPI document as served.
pub struct ApiDocument {
    json: String,
}

/// The API document
///
/// This document: OpenAPI 3.1, generated from the handlers' types. Needs no token.
#[utoipa::path(get, path = "/openapi.json", tag = "server",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json",
        body = serde_json::Value)))]
pub async fn openapi_json(Extension(doc): Extension<Arc<ApiDocument>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], doc.json.clone()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_all_segments_become_plain_parameters() {
        assert_eq!(
            openapi_path("/session/{id}/files/{*path}"),
            "/session/{id}/files/{path}"
        );
        assert_eq!(openapi_path("/session/{id}/info"), "/session/{id}/info");
    }

    #[test]
    fn undocumented_routes_are_listed_with_their_reason() {
        let (_, doc) = ApiRoutes::<()>::default()
            .undocumented("/asset.js", axum::routing::get(|| async { "x" }), "an asset")
            .finish();
        let doc: serde_json::Value = serde_json::from_str(&doc.json).unwrap();
        assert_eq!(doc["x-undocumented-routes"]["/asset.js"], "an asset");
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
