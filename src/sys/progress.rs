//! Where long operations report what they are doing: stderr for the CLI, a
//! buffer for tests, nothing at all.

use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone)]
pub struct Progress {
    sink: Arc<dyn Fn(&str) + Send + Sync>,
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

impl Progress {
    pub fn new(sink: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self {
            sink: Arc::new(sink),
        }
    }

    /// Lines on stderr, each with the seconds since the start.
    pub fn stderr() -> Self {
        let started = Instant::now();
        Self::new(move |line| eprintln!("[{:>6.1}s] {line}", started.elapsed().as_secs_f64()))
    }

    pub fn silent() -> Self {
        Self::new(|_| {})
    }

    /// A progress that keeps every line, and the lines.
    pub fn collect() -> (Self, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let progress =
            Self::new(move |line| sink.lock().expect("progress lines").push(line.to_owned()));
        (progress, lines)
    }

    pub fn say(&self, line: impl AsRef<str>) {
        (self.sink)(line.as_ref());
    }
}
