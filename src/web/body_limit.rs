//! Bounds every request body before any handler reads it: a declared length over the
//! limit is refused at once (413), and a body without a length (chunked) fails as soon as
//! it passes the limit or takes longer than the read deadline. poem's `Form` reads the
//! whole body before the handler runs, so without this an anonymous POST could make the
//! process buffer any size.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use poem::http::{header, StatusCode};
use poem::{Body, Endpoint, IntoResponse, Middleware, Request, Response};
use tokio::time::Sleep;

/// The answer to a body over the limit, in the surface's own form.
pub type Refusal = fn(req: &Request, limit: usize) -> Response;

#[derive(Clone, Copy)]
pub struct BodyLimit {
    max: usize,
    deadline: Duration,
    refuse: Refusal,
}

impl BodyLimit {
    pub fn new(max: usize, deadline: Duration, refuse: Refusal) -> Self {
        Self { max, deadline, refuse }
    }
}

/// A plain page for the HTML surfaces.
pub fn refuse_page(_req: &Request, limit: usize) -> Response {
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        poem::web::Html(format!(
            "<!doctype html><meta charset=\"utf-8\"><title>Request too large</title><h1>Request too large</h1><p>This form sends at most {limit} bytes.</p>"
        )),
    )
        .into_response()
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = Limited<E>;

    fn transform(&self, ep: E) -> Self::Output {
        Limited { inner: ep, limit: *self }
    }
}

pub struct Limited<E> {
    inner: E,
    limit: BodyLimit,
}

impl<E: Endpoint> Endpoint for Limited<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let BodyLimit { max, deadline, refuse } = self.limit;
        let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > max as u64) {
            return Ok(refuse(&req, max));
        }
        let body = req.take_body();
        // A body known to be empty (a GET, or a length of 0: most of the load) has nothing
        // to cap or to time; it skips the stream wrapper and its timer. One of unknown
        // length (chunked, or HTTP/2 without a length) is capped like any other.
        req.set_body(if body.is_empty() {
            body
        } else {
            Body::from_bytes_stream(Capped { inner: Box::pin(body.into_bytes_stream()), left: max, deadline: Box::pin(tokio::time::sleep(deadline)) })
        });
        self.inner.call(req).await.map(IntoResponse::into_response)
    }
}

/// A body stream that errs past `left` bytes or once the deadline passes.
struct Capped<S> {
    inner: Pin<Box<S>>,
    left: usize,
    deadline: Pin<Box<Sleep>>,
}

impl<S: Stream<Item = io::Result<Bytes>>> Stream for Capped<S> {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if chunk.len() > self.left {
                    self.left = 0;
                    return Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::InvalidData, "request body over the limit"))));
                }
                self.left -= chunk.len();
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Pending if self.deadline.as_mut().poll(cx).is_ready() => {
                Poll::Ready(Some(Err(io::Error::new(io::ErrorKind::TimedOut, "request body too slow"))))
            }
            other => other,
        }
    }
}
