//! Ctrl-C and SIGTERM as a way to stop work cleanly: the work's future is
//! dropped, and what it made is removed by the guards it holds (the
//! scenario's environment guard, the AWS engine's stack guards).
//!
//! Much of the work is synchronous (a `vagrant up`, an image build, the
//! backend calls the environment guard needs from `Drop`), and a signal
//! must not wait for it. So the signal is watched on a thread of its own,
//! which ends the process group of every child in flight ([`spawn`],
//! [`spawn_async`]) and wakes every wait made [`Stoppable`]; the call then
//! returns an "interrupted" error at once. Children run in process groups
//! of their own (a Ctrl-C from the terminal reaches argos-cloud alone), so
//! this is the only way they end: nothing is orphaned.
//!
//! Cleanup after a signal runs under [`cleanup`]: children it starts and
//! waits it makes are not stopped, so the teardown finishes.

use std::cell::Cell;
use std::future::Future;
use std::sync::{LazyLock, Mutex};

use tokio::sync::watch;

/// The signal that stopped the work, once one came.
static STOP: LazyLock<watch::Sender<Option<&'static str>>> =
    LazyLock::new(|| watch::Sender::new(None));

/// The process groups of children in flight: (group id, started by cleanup).
static GROUPS: Mutex<Vec<(i32, bool)>> = Mutex::new(Vec::new());

thread_local! {
    static CLEANING_UP: Cell<bool> = const { Cell::new(false) };
}

/// Run `future` unless SIGINT or SIGTERM comes first; then it is dropped
/// (its guards clean up) and the signal's name is returned. The handlers
/// are installed before the future first runs, so a signal at any moment is
/// caught; a signal that arrives while the future is blocked in a
/// synchronous step ends that step's children, and the step's error is
/// replaced by the signal's name too.
pub async fn until_signal<F: Future>(future: F) -> Result<F::Output, &'static str> {
    let Some(watcher) = Watcher::start() else {
        return Ok(future.await);
    };
    let outcome = tokio::select! {
        biased;
        signal = stopped() => Err(signal),
        output = future => Ok(output),
    };
    drop(watcher);
    match (outcome, received()) {
        (Ok(_), Some(signal)) => Err(signal),
        (outcome, _) => outcome,
    }
}

/// The signal that stopped the work, if one came.
pub fn received() -> Option<&'static str> {
    *STOP.borrow()
}

/// Resolves when a signal has come.
async fn stopped() -> &'static str {
    let mut receiver = STOP.subscribe();
    match receiver.wait_for(Option::is_some).await {
        Ok(signal) => signal.unwrap_or("a signal"),
        // The sender is a static: it never closes.
        Err(_) => std::future::pending().await,
    }
}

/// Stop the work as `signal` would: end every child's process group that
/// cleanup did not start. What the signal watcher calls; public for tests.
pub fn stop(signal: &'static str) {
    let groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
    STOP.send_replace(Some(signal));
    for (group, cleaning) in groups.iter() {
        if !cleaning {
            kill_group(*group);
        }
    }
}

/// Run `work` as cleanup: a signal that came (or comes) does not stop the
/// children it starts or the waits it makes, so the teardown completes.
pub fn cleanup<T>(work: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            CLEANING_UP.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(CLEANING_UP.with(|c| c.replace(true)));
    work()
}

fn cleaning_up() -> bool {
    CLEANING_UP.with(Cell::get)
}

/// A wait that a signal ends, unless it was made by cleanup. Taken on the
/// calling thread (where [`cleanup`] is known), awaited on any.
#[derive(Debug, Clone, Copy)]
pub struct Stoppable {
    cleaning_up: bool,
}

impl Stoppable {
    pub fn here() -> Self {
        Self {
            cleaning_up: cleaning_up(),
        }
    }

    /// `future`'s output, or the signal's name (the future is then dropped,
    /// and its guards clean up).
    pub async fn run<F: Future>(self, future: F) -> Result<F::Output, &'static str> {
        if self.cleaning_up {
            return Ok(future.await);
        }
        tokio::select! {
            biased;
            signal = stopped() => Err(signal),
            output = future => Ok(output),
        }
    }
}

/// A child's process group, registered while the child runs: a signal ends
/// the group, and so does dropping this (a child whose caller gave up, or
/// what the child left running after it exited).
#[derive(Debug)]
pub struct ChildGroup {
    group: i32,
    cleaning_up: bool,
}

impl ChildGroup {
    /// Register the group led by `pid` (spawned with `process_group(0)`).
    /// A signal that came before (outside cleanup) ends it at once.
    fn register(pid: u32) -> Self {
        let group = i32::try_from(pid).expect("process ids fit in i32");
        let cleaning_up = cleaning_up();
        let mut groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
        groups.push((group, cleaning_up));
        if !cleaning_up && received().is_some() {
            kill_group(group);
        }
        Self { group, cleaning_up }
    }

    /// The signal that ended this child, if one did.
    pub fn interrupted(&self) -> Option<&'static str> {
        if self.cleaning_up { None } else { received() }
    }
}

impl Drop for ChildGroup {
    fn drop(&mut self) {
        let mut groups = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
        groups.retain(|(group, _)| *group != self.group);
        kill_group(self.group);
    }
}

/// Start `command` in a process group of its own, registered (see [`ChildGroup`]).
pub fn spawn(
    command: &mut std::process::Command,
) -> std::io::Result<(std::process::Child, ChildGroup)> {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    let child = command.spawn()?;
    let group = ChildGroup::register(child.id());
    Ok((child, group))
}

/// [`spawn`] for tokio's commands.
pub fn spawn_async(
    command: &mut tokio::process::Command,
) -> std::io::Result<(tokio::process::Child, ChildGroup)> {
    command.process_group(0);
    let child = command.spawn()?;
    let pid = child
        .id()
        .ok_or_else(|| std::io::Error::other("the child exited before it could be registered"))?;
    let group = ChildGroup::register(pid);
    Ok((child, group))
}

/// SIGKILL to the process group `group` (led by the child we started), to
/// every process that child started, and to their groups: Ansible's
/// workers start sessions of their own (setsid), so the group alone would
/// miss them and their ssh. Nothing when all of it is gone.
fn kill_group(group: i32) {
    // SAFETY: getpgrp, killpg and kill have no memory-safety preconditions.
    let own = unsafe { libc::getpgrp() };
    let tree = descendants(group);
    let mut groups: Vec<i32> = tree.iter().map(|(_, g)| *g).collect();
    groups.push(group);
    groups.sort_unstable();
    groups.dedup();
    for target in groups.into_iter().filter(|g| *g != own && *g > 1) {
        unsafe { libc::killpg(target, libc::SIGKILL) };
    }
    for (pid, _) in tree {
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// The processes `root` started, and theirs: (pid, process group), from /proc.
fn descendants(root: i32) -> Vec<(i32, i32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    // (pid, parent, group) of every process.
    let all: Vec<(i32, i32, i32)> = entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid pgrp ...`: comm may hold anything, so after the last ')'.
            let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace().skip(1);
            let parent = fields.next()?.parse().ok()?;
            let group = fields.next()?.parse().ok()?;
            Some((pid, parent, group))
        })
        .collect();
    let mut found: Vec<(i32, i32)> = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for &(pid, ppid, group) in &all {
            if ppid == parent && !found.iter().any(|(p, _)| *p == pid) {
                parents.push(pid);
                found.push((pid, group));
            }
        }
    }
    found
}

/// The thread that waits for SIGINT and SIGTERM and then [`stop`]s the work.
/// It has a runtime of its own, so it reacts while the caller's thread is
/// blocked in a synchronous step, whatever runtime the caller uses.
struct Watcher {
    done: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    /// None when the handlers cannot be installed (the work then runs unwatched).
    fn start() -> Option<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        let (ready, installed) = std::sync::mpsc::channel();
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("argos-signals".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .build()
                else {
                    let _ = ready.send(false);
                    return;
                };
                runtime.block_on(async move {
                    let (Ok(mut interrupt), Ok(mut terminate)) = (
                        signal(SignalKind::interrupt()),
                        signal(SignalKind::terminate()),
                    ) else {
                        let _ = ready.send(false);
                        return;
                    };
                    let _ = ready.send(true);
                    let signal = tokio::select! {
                        _ = interrupt.recv() => "SIGINT",
                        _ = terminate.recv() => "SIGTERM",
                        _ = finished => return,
                    };
                    stop(signal);
                });
            })
            .ok()?;
        let watcher = Self {
            done: Some(done),
            thread: Some(thread),
        };
        installed.recv().unwrap_or(false).then_some(watcher)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
