use std::fmt;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// A failed AWS call, with the service's error code and the full chain of
/// causes (a timeout, a refused connection, the service's message).
#[derive(Debug, Clone, thiserror::Error)]
pub struct AwsError {
    pub operation: &'static str,
    pub code: Option<String>,
    /// The service's own message, when it sent one.
    pub service_message: Option<String>,
    pub detail: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.code, &self.service_message) {
            (Some(code), Some(message)) => write!(f, "{}: {code}: {message}", self.operation),
            _ => write!(f, "{}: {}", self.operation, self.detail),
        }
    }
}

impl AwsError {
    pub(crate) fn new<E>(operation: &'static str, error: SdkError<E, Response>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        // The full context ends in the Debug dump of the raw response; the
        // causes before it are what a user can act on.
        let context = DisplayErrorContext(&error).to_string();
        let causes = context.split(" (").next().unwrap_or(&context).to_owned();
        let detail = match error.raw_response().map(|r| r.status().as_u16()) {
            Some(status) => format!("HTTP {status}: {causes}"),
            None => causes,
        };
        Self {
            operation,
            code: error.code().map(str::to_owned),
            service_message: error.message().map(str::to_owned),
            detail,
        }
    }

    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn message_contains(&self, text: &str) -> bool {
        self.service_message
            .as_deref()
            .is_some_and(|m| m.contains(text))
    }
}
