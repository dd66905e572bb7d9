//! Waiting with a deadline and an adaptive interval: fast at first (an
//! emulator answers in milliseconds), backing off to a cap (AWS's own waiters
//! poll every 15-30 s). Never a fixed sleep, never an endless loop.

use std::future::Future;
use std::time::{Duration, Instant};

/// What one probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll<T> {
    Ready(T),
    Pending,
}

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub factor: f64,
    pub cap: Duration,
}

impl Backoff {
    /// For cloud control planes: 250 ms, then x1.5 up to 15 s.
    pub const CONTROL_PLANE: Backoff = Backoff {
        first: Duration::from_millis(250),
        factor: 1.5,
        cap: Duration::from_secs(15),
    };

    fn next(&self, current: Duration) -> Duration {
        current.mul_f64(self.factor).min(self.cap)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WaitError<E> {
    #[error("gave up waiting for {what} after {:.0?}", after)]
    TimedOut { what: String, after: Duration },
    #[error(transparent)]
    Probe(E),
}

/// Call `probe` until it is ready, it fails, or `timeout` passes.
pub async fn until<T, E, F, Fut>(
    what: &str,
    timeout: Duration,
    backoff: Backoff,
    mut probe: F,
) -> Result<T, WaitError<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, E>>,
{
    let started = Instant::now();
    let mut interval = backoff.first;
    loop {
        if let Poll::Ready(value) = probe().await.map_err(WaitError::Probe)? {
            return Ok(value);
        }
        let elapsed = started.elapsed();
        if elapsed >= timeout {
            return Err(WaitError::TimedOut {
                what: what.to_owned(),
                after: elapsed,
            });
        }
        let poll_interval = interval.min(timeout - elapsed);
        tokio::time::sleep(poll_interval).await;
        interval = backoff.next(interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: Backoff = Backoff {
        first: Duration::from_millis(1),
        factor: 2.0,
        cap: Duration::from_millis(8),
    };

    #[tokio::test]
    async fn returns_once_ready() {
        let mut calls = 0;
        let value: Result<u32, WaitError<()>> =
            until("three calls", Duration::from_secs(5), FAST, || {
                calls += 1;
                let ready = calls == 3;
                async move { Ok(if ready { Poll::Ready(7) } else { Poll::Pending }) }
            })
            .await;
        assert_eq!(value.unwrap(), 7);
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline_and_says_what_it_waited_for() {
        let result: Result<(), WaitError<std::io::Error>> =
            until("the stack", Duration::from_millis(30), FAST, || async {
                Ok(Poll::Pending)
            })
            .await;
        let error = result.unwrap_err().to_string();
        assert!(
            error.starts_with("gave up waiting for the stack after"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_failing_probe_stops_the_wait() {
        let result: Result<(), WaitError<&str>> =
            until("x", Duration::from_secs(5), FAST, || async { Err("boom") }).await;
        assert!(matches!(result, Err(WaitError::Probe("boom"))));
    }

    #[test]
    fn the_interval_backs_off_to_the_cap() {
        let mut interval = FAST.first;
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(interval.as_millis());
            interval = FAST.next(interval);
        }
        assert_eq!(seen, [1, 2, 4, 8, 8, 8]);
    }
}
