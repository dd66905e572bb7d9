//! Why a probe failed, as a type: each kind's file returns these, the
//! report prints them, and a test can match on them rather than on words.

/// One attempt's (or, with [`ProbeFailure::StillFailing`], the whole
/// probe's) reason for failing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeFailure {
    #[error("the environment has no host or group {name}")]
    NoSuchHost { name: String },
    /// A destination the run does not own (see `converge::inventory`).
    #[error("{reason}")]
    NotOurs { reason: String },
    #[error("known_hosts file for {address}: {reason}")]
    KnownHosts { address: String, reason: String },
    #[error("cannot run ssh: {reason}")]
    CannotRunSsh { reason: String },
    #[error("ssh to {address} failed: {said}")]
    Ssh { address: String, said: String },
    #[error("no answer within {seconds} s")]
    NoAnswer { seconds: u64 },
    /// ssh's own words for a tunnel that closed ("connect failed:
    /// Connection refused"), or that it closed without a word.
    #[error("{said}")]
    Closed { said: String },
    #[error("cannot connect: {reason}")]
    CannotConnect { reason: String },
    #[error("{unit} is {state}; `journalctl -u {unit}` on the host says why")]
    UnitInactive { unit: String, state: String },
    #[error("answered {got} (expected {want}): {body}")]
    Status { got: u16, want: u16, body: String },
    #[error("the body lacks {text:?}: {body}")]
    BodyLacks { text: String, body: String },
    #[error("exited {code} (expected {want}): {said}")]
    ExitCode { code: i32, want: i32, said: String },
    #[error("its output lacks {text:?}: {output}")]
    OutputLacks { text: String, output: String },
    #[error("its output does not match /{pattern}/: {output}")]
    OutputDoesNotMatch { pattern: String, output: String },
    /// A string the remote shell cannot be given (it holds a NUL byte).
    #[error("{what} cannot be passed to a shell: {reason}")]
    Unquotable { what: &'static str, reason: String },
    #[error("does not exist: {said}")]
    FileMissing { said: String },
    #[error("exists ({stat}) and must not")]
    FileExists { stat: String },
    #[error("{field} is {got}, expected {want}")]
    FileAttribute {
        field: &'static str,
        got: String,
        want: String,
    },
    #[error("does not contain {text:?}")]
    FileLacks { text: String },
    #[error("POST {path} answered {status}: {body}")]
    SparqlStatus {
        path: String,
        status: u16,
        body: String,
    },
    #[error("not SPARQL JSON results ({reason}): {body}")]
    NotSparqlResults { reason: String, body: String },
    #[error("ASK {{}} answered {answer} instead of true")]
    AskNotTrue { answer: String },
    #[error("no {} tag in {answer:?}", missing.join(" or "))]
    NerTagsMissing {
        missing: Vec<&'static str>,
        answer: String,
    },
    /// The server's own words ("password authentication failed for user
    /// ..."), the password taken out; with why the tunnel closed, if it did.
    #[error("{reason}")]
    Postgres { reason: String },
    #[error("SELECT 1 answered {got}")]
    SelectOne { got: i32 },
    #[error("{last} (still failing after {seconds} s)")]
    StillFailing {
        last: Box<ProbeFailure>,
        seconds: u64,
    },
}
