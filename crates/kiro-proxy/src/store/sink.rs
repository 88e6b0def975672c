//! The store as the pool's durable credential sink.

use crate::accounts::{CredentialSink, Credentials, SinkError};

use super::Store;

impl CredentialSink for Store {
    async fn save_credentials(
        &self,
        account_id: &str,
        creds: &Credentials,
    ) -> Result<(), SinkError> {
        // The inherent method: one transaction, fsynced before it returns.
        Ok(Store::save_credentials(self, account_id, creds).await?)
    }

    async fn save_profile_arn(&self, account_id: &str, profile_arn: &str) -> Result<(), SinkError> {
        Ok(Store::save_profile_arn(self, account_id, profile_arn).await?)
    }
}
