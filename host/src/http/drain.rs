//! Answers reach clients that are still sending.
//!
//! When a handler answers before reading the whole request body (a `413` for a body over the
//! limit, a `404` for an unknown session), the connection would close with unread bytes in its
//! receive buffer, and the kernel answers those with a reset: a client that writes its whole body
//! before reading (Python's `urllib`, for one) then sees a broken pipe instead of the answer.
//! Every request body is therefore wrapped so that, dropped unfinished, it is read to its end in
//! the background: at most [`DRAIN_BYTES`], for at most [`DRAIN_TIME`]. The answer is sent
//! meanwhile; past either bound the connection closes as before.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};

/// The most bytes of an unread body drained after the answer.
pub const DRAIN_BYTES: u64 = 32 * 1024 * 1024;
/// The longest an unread body is drained after the answer.
pub const DRAIN_TIME: Duration = Duration::from_secs(10);

/// Middleware: wraps the request's body in a [`DrainOnDrop`].
pub async fn drain_unread_bodies(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = Body::new(DrainOnDrop { inner: Some(body) });
    next.run(Request::from_parts(parts, body)).await
}

/// A request body that drains itself when dropped before its end.
struct DrainOnDrop {
    inner: Option<Body>,
}

impl http_body::Body for DrainOnDrop {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        match self.get_mut().inner.as_mut() {
            Some(body) => Pin::new(body).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.as_ref().map(http_body::Body::size_hint).unwrap_or_default()
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else { return };
        if http_body::Body::is_end_stream(&body) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(body));
        }
    }
}

/// Reads and discards what is left of `body`, within [`DRAIN_BYTES`] and [`DRAIN_TIME`].
async fn drain(body: Body) {
    use futures_util::StreamExt as _;
    let mut chunks = body.into_data_stream();
    let mut drained = 0u64;
    let _ = tokio::time::timeout(DRAIN_TIME, async {
        while let Some(Ok(chunk)) = chunks.next().await {
            drained += chunk.len() as u64;
            if drained > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
}
