//! Ctrl-C and SIGTERM as a way to stop work cleanly: the work's future is
//! dropped, and what it made is removed by the guards it holds (the
//! scenario's environment guard, the AWS engine's stack guards).

/// Run `future` unless SIGINT or SIGTERM comes first; then it is dropped
/// (its guards clean up) and the signal's name is returned. The handlers
/// are installed before the future first runs, so a signal at any moment is
/// caught.
pub async fn until_signal<F: std::future::Future>(future: F) -> Result<F::Output, &'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        return Ok(future.await);
    };
    tokio::select! {
        output = future => Ok(output),
        _ = interrupt.recv() => Err("SIGINT"),
        _ = terminate.recv() => Err("SIGTERM"),
    }
}
