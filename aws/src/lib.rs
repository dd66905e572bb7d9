//! argos-cloud's one seam to the AWS SDK. Every client is built from one
//! config (region, the SDK's credential chain including profiles and SSO, an
//! optional endpoint such as an emulator) with connect, attempt and operation
//! timeouts, so a half-open endpoint fails instead of hanging. Answers come
//! back as plain types; no SDK type crosses this crate's border, so editing
//! the engine never recompiles the SDK glue.

mod cloudformation;
mod ec2;
mod error;
mod rds;

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

pub use cloudformation::{CreateStack, Stack, StackEvent, StackResource, UpdateOutcome};
pub use ec2::{Image, IngressRule, Instance, SecurityGroup, Snapshot};
pub use error::AwsError;
pub use rds::{DbInstance, DbSnapshot};

/// A tag as AWS stores it.
pub type Tags = Vec<(String, String)>;

/// A DescribeX filter: `("tag:Env", ["staging"])`.
pub type Filter = (String, Vec<String>);

/// The value of tag `key`, if the resource carries it.
pub fn tag<'a>(tags: &'a [(String, String)], key: &str) -> Option<&'a str> {
    tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

pub fn filter(name: impl Into<String>, values: &[&str]) -> Filter {
    (
        name.into(),
        values.iter().map(|v| (*v).to_owned()).collect(),
    )
}

#[derive(Debug, Clone)]
pub struct AwsOptions {
    pub region: String,
    /// Another endpoint for every service (an emulator), as `AWS_ENDPOINT_URL` does.
    pub endpoint: Option<String>,
    /// Static credentials for an emulator, which accepts any.
    pub emulator_credentials: bool,
    pub timeouts: ApiTimeouts,
}

/// Limits on every call, so a half-open endpoint fails instead of hanging.
#[derive(Debug, Clone, Copy)]
pub struct ApiTimeouts {
    /// A reachable endpoint accepts a connection at once.
    pub connect: Duration,
    /// One attempt of one call.
    pub attempt: Duration,
    /// One call, retries included.
    pub operation: Duration,
}

impl Default for ApiTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(30),
            operation: Duration::from_secs(90),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Aws {
    cloudformation: aws_sdk_cloudformation::Client,
    ec2: aws_sdk_ec2::Client,
    rds: aws_sdk_rds::Client,
    options: AwsOptions,
}

impl Aws {
    pub async fn connect(options: &AwsOptions) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new(options.region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(4))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(options.timeouts.connect)
                    .operation_attempt_timeout(options.timeouts.attempt)
                    .operation_timeout(options.timeouts.operation)
                    .build(),
            );
        if let Some(endpoint) = &options.endpoint {
            loader = loader.endpoint_url(endpoint);
        }
        if options.emulator_credentials {
            loader = loader.credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "argos-emulator",
            ));
        }
        let config = loader.load().await;
        Self {
            cloudformation: aws_sdk_cloudformation::Client::new(&config),
            ec2: aws_sdk_ec2::Client::new(&config),
            rds: aws_sdk_rds::Client::new(&config),
            options: options.clone(),
        }
    }

    /// A client sharing no connections with this one, for a call made on
    /// another runtime (a cleanup from `Drop`, while the runtime that owns
    /// this client's pooled connections is not driving them).
    pub async fn reconnect(&self) -> Self {
        Self::connect(&self.options).await
    }

    pub fn region(&self) -> &str {
        &self.options.region
    }

    /// The endpoint in use, when it is not AWS itself.
    pub fn endpoint(&self) -> Option<&str> {
        self.options.endpoint.as_deref()
    }
}
