//! The first of two futures (the worker is single-threaded; no executor is needed).

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

/// Which future finished first.
pub enum First<A, B> {
    Left(A),
    Right(B),
}

/// Polls both; returns the output of whichever is ready first (the left one on a tie).
pub async fn first<A, B>(
    left: impl Future<Output = A>,
    right: impl Future<Output = B>,
) -> First<A, B> {
    let mut left = pin!(left);
    let mut right = pin!(right);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(a) = left.as_mut().poll(cx) {
            return Poll::Ready(First::Left(a));
        }
        right.as_mut().poll(cx).map(First::Right)
    })
    .await
}
