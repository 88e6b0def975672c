//! Where refreshed credentials go to be durable before they are used (the store implements
//! [`CredentialSink`]).

use std::future::Future;

use futures::future::BoxFuture;

use super::model::Credentials;

/// Why a save failed, from the sink's own error type.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Durable storage of refreshed credentials (the store implements it).
pub trait CredentialSink: Send + Sync + 'static {
    /// Saves an account's whole credential set durably; returns only once it is durable.
    fn save_credentials(
        &self,
        account_id: &str,
        creds: &Credentials,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Saves a changed profile ARN (a social refresh returns one, spec §2.3).
    fn save_profile_arn(
        &self,
        account_id: &str,
        profile_arn: &str,
    ) -> impl Future<Output = Result<(), SinkError>> + Send;
}

/// Object-safe form of [`CredentialSink`], so that the manager is not generic over its store.
pub(super) trait DynSink: Send + Sync {
    fn save_credentials<'a>(
        &'a self,
        account_id: &'a str,
        creds: &'a Credentials,
    ) -> BoxFuture<'a, Result<(), SinkError>>;

    fn save_profile_arn<'a>(
        &'a self,
        account_id: &'a str,
        profile_arn: &'a str,
    ) -> BoxFuture<'a, Result<(), SinkError>>;
}

impl<S: CredentialSink> DynSink for S {
    fn save_credentials<'a>(
        &'a self,
        account_id: &'a str,
        creds: &'a Credentials,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(CredentialSink::save_credentials(self, account_id, creds))
    }

    fn save_profile_arn<'a>(
        &'a self,
        account_id: &'a str,
        profile_arn: &'a str,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(CredentialSink::save_profile_arn(
            self,
            account_id,
            profile_arn,
        ))
    }
}
