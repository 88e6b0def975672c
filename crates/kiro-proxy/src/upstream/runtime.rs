//! The CodeWhisperer runtime calls an account makes besides chat: usage and quota (spec §3.6),
//! the model catalogue (§3.7), profiles (§3.8), with the §9.2 headers; and MCP (§3.9), which
//! uses the chat headers.

use kiro_wire::types::{
    ListAvailableModelsResponse, ListAvailableProfilesRequest, ListAvailableProfilesResponse,
    McpRequest, McpResponse, UsageLimitsResponse,
};
use serde::de::DeserializeOwned;

use super::client::{UpstreamClient, json_body};
use super::credential::AccountAuth;
use super::error::UpstreamError;

/// Pages followed at most when listing, in case the upstream keeps handing out tokens.
const MAX_PAGES: usize = 20;
/// `maxResults` of a models page.
const MODELS_PAGE: &str = "50";
/// `maxResults` of a profiles page.
const PROFILES_PAGE: u32 = 10;

impl UpstreamClient {
    /// `GET {q}/getUsageLimits` (costs no credits). `profile_arn` is required upstream for
    /// social and IdC accounts and is never sent for API keys.
    pub async fn get_usage_limits(
        &self,
        account: &AccountAuth,
        profile_arn: Option<&str>,
    ) -> Result<UsageLimitsResponse, UpstreamError> {
        let mut query = vec![
            ("origin", "AI_EDITOR"),
            ("resourceType", "AGENTIC_REQUEST"),
            ("isEmailRequired", "true"),
        ];
        if let Some(arn) = own_arn(account, profile_arn) {
            query.push(("profileArn", arn));
        }
        let request = self
            .http_for(account)?
            .get(self.urls.usage_limits(account.api_region()))
            .headers(runtime_headers(account, false))
            .query(&query);
        self.call_json(request, "usage limits").await
    }

    /// `GET {q}/ListAvailableModels`, following `nextToken`; the pages' models are concatenated
    /// and the first page's `defaultModel` kept. `profile_arn` (optional) scopes the catalogue.
    pub async fn list_models(
        &self,
        account: &AccountAuth,
        profile_arn: Option<&str>,
    ) -> Result<ListAvailableModelsResponse, UpstreamError> {
        let arn = own_arn(account, profile_arn);
        let mut all = ListAvailableModelsResponse::default();
        let mut next: Option<String> = None;
        for page in 0..MAX_PAGES {
            let mut query = vec![("origin", "AI_EDITOR")];
            if let Some(arn) = arn {
                query.push(("profileArn", arn));
            }
            query.push(("maxResults", MODELS_PAGE));
            if let Some(token) = next.as_deref() {
                query.push(("nextToken", token));
            }
            let request = self
                .http_for(account)?
                .get(self.urls.list_models(account.api_region()))
                .headers(runtime_headers(account, false))
                .query(&query);
            let resp: ListAvailableModelsResponse = self.call_json(request, "model list").await?;
            if page == 0 {
                all.default_model = resp.default_model;
            }
            all.models.extend(resp.models);
            match next_token(resp.next_token, next.as_deref()) {
                Some(token) => next = Some(token),
                None => break,
            }
        }
        Ok(all)
    }

    /// `POST …/ListAvailableProfiles` (the `codewhisperer` host in `us-east-1`, `q` elsewhere),
    /// following `nextToken`. An empty list is normal for Builder ID.
    pub async fn list_profiles(
        &self,
        account: &AccountAuth,
    ) -> Result<ListAvailableProfilesResponse, UpstreamError> {
        let mut all = ListAvailableProfilesResponse::default();
        let mut next: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let body = ListAvailableProfilesRequest {
                max_results: Some(PROFILES_PAGE),
                next_token: next.clone(),
            };
            let request = self
                .http_for(account)?
                .post(self.urls.list_profiles(account.api_region()))
                .headers(runtime_headers(account, true))
                .body(json_body(&body)?);
            let resp: ListAvailableProfilesResponse =
                self.call_json(request, "profile list").await?;
            all.profiles.extend(resp.profiles);
            match next_token(resp.next_token, next.as_deref()) {
                Some(token) => next = Some(token),
                None => break,
            }
        }
        Ok(all)
    }

    /// One JSON-RPC call to `POST {q}/mcp` (e.g. [`McpRequest::web_search`]). JSON-RPC errors
    /// are in the returned response; HTTP errors are [`UpstreamError::Http`].
    pub async fn mcp<R: DeserializeOwned + Default>(
        &self,
        account: &AccountAuth,
        request: &McpRequest,
        attempt: u32,
    ) -> Result<McpResponse<R>, UpstreamError> {
        let headers = account.headers().mcp(
            account.bearer(),
            account.is_api_key(),
            account.profile_arn(),
            attempt,
        );
        let http = self
            .http_for(account)?
            .post(self.urls.mcp(account.api_region()))
            .headers(headers)
            .body(json_body(request)?);
        self.call_json(http, "mcp response").await
    }
}

fn runtime_headers(account: &AccountAuth, post: bool) -> http::HeaderMap {
    account
        .headers()
        .runtime(account.bearer(), account.is_api_key(), post)
}

/// The ARN to send: never for API keys (spec §2.1), never blank.
fn own_arn<'a>(account: &AccountAuth, profile_arn: Option<&'a str>) -> Option<&'a str> {
    if account.is_api_key() {
        return None;
    }
    profile_arn.filter(|a| !a.trim().is_empty())
}

/// The next page token, or `None` when paging is over (absent, blank, or the same token again).
fn next_token(token: Option<String>, previous: Option<&str>) -> Option<String> {
    token.filter(|t| !t.trim().is_empty() && Some(t.as_str()) != previous)
}
