//! The four configurable upstream base URLs (spec §1.2) and the paths appended to them.
//!
//! Each base is a template: `{region}` becomes the account's API region (`q`, `codewhisperer`)
//! or auth region (`social_auth`, `oidc`). A template without `{region}` is used verbatim, which
//! is how a simulator on one local URL serves all four.

/// The region token in a base URL template.
const REGION: &str = "{region}";

/// Production defaults (spec §1.2).
pub const DEFAULT_Q: &str = "https://q.{region}.amazonaws.com";
pub const DEFAULT_CODEWHISPERER: &str = "https://codewhisperer.{region}.amazonaws.com";
pub const DEFAULT_SOCIAL_AUTH: &str = "https://prod.{region}.auth.desktop.kiro.dev";
pub const DEFAULT_OIDC: &str = "https://oidc.{region}.amazonaws.com";

/// Base URL templates of the four upstream services, trailing `/` trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamUrls {
    q: String,
    codewhisperer: String,
    social_auth: String,
    oidc: String,
}

impl Default for UpstreamUrls {
    fn default() -> Self {
        Self::new(
            DEFAULT_Q,
            DEFAULT_CODEWHISPERER,
            DEFAULT_SOCIAL_AUTH,
            DEFAULT_OIDC,
        )
    }
}

impl UpstreamUrls {
    /// Takes the four templates as configured (the config layer validates them as URLs).
    pub fn new(
        q: impl Into<String>,
        codewhisperer: impl Into<String>,
        social_auth: impl Into<String>,
        oidc: impl Into<String>,
    ) -> Self {
        Self {
            q: trim(q.into()),
            codewhisperer: trim(codewhisperer.into()),
            social_auth: trim(social_auth.into()),
            oidc: trim(oidc.into()),
        }
    }

    /// One base for all four services (a simulator).
    pub fn single(base: impl Into<String>) -> Self {
        let base = base.into();
        Self::new(base.clone(), base.clone(), base.clone(), base)
    }

    /// `q` base for an API region.
    pub fn q(&self, api_region: &str) -> String {
        fill(&self.q, api_region)
    }

    /// `codewhisperer` base for an API region.
    pub fn codewhisperer(&self, api_region: &str) -> String {
        fill(&self.codewhisperer, api_region)
    }

    /// Kiro desktop auth base for an auth region.
    pub fn social_auth(&self, auth_region: &str) -> String {
        fill(&self.social_auth, auth_region)
    }

    /// AWS SSO-OIDC base for an auth region.
    pub fn oidc(&self, auth_region: &str) -> String {
        fill(&self.oidc, auth_region)
    }

    /// `POST {q}/generateAssistantResponse` (§3.5).
    pub fn chat(&self, api_region: &str) -> String {
        self.q(api_region) + "/generateAssistantResponse"
    }

    /// `POST {q}/mcp` (§3.9).
    pub fn mcp(&self, api_region: &str) -> String {
        self.q(api_region) + "/mcp"
    }

    /// `GET {q}/getUsageLimits` (§3.6).
    pub fn usage_limits(&self, api_region: &str) -> String {
        self.q(api_region) + "/getUsageLimits"
    }

    /// `GET {q}/ListAvailableModels` (§3.7).
    pub fn list_models(&self, api_region: &str) -> String {
        self.q(api_region) + "/ListAvailableModels"
    }

    /// `POST …/ListAvailableProfiles` (§3.8): the `codewhisperer` host is only reported to resolve
    /// in `us-east-1`, so other regions use `q`, where the path also works.
    pub fn list_profiles(&self, api_region: &str) -> String {
        let base = if api_region == "us-east-1" {
            self.codewhisperer(api_region)
        } else {
            self.q(api_region)
        };
        base + "/ListAvailableProfiles"
    }

    /// `POST {social_auth}/refreshToken` (§3.1).
    pub fn social_refresh(&self, auth_region: &str) -> String {
        self.social_auth(auth_region) + "/refreshToken"
    }

    /// `POST {oidc}/client/register` (§3.2).
    pub fn oidc_register(&self, auth_region: &str) -> String {
        self.oidc(auth_region) + "/client/register"
    }

    /// `POST {oidc}/device_authorization` (§3.3).
    pub fn oidc_device_authorization(&self, auth_region: &str) -> String {
        self.oidc(auth_region) + "/device_authorization"
    }

    /// `POST {oidc}/token` (§3.4).
    pub fn oidc_token(&self, auth_region: &str) -> String {
        self.oidc(auth_region) + "/token"
    }
}

fn trim(mut s: String) -> String {
    let kept = s.trim_end_matches('/').len();
    s.truncate(kept);
    s
}

fn fill(template: &str, region: &str) -> String {
    if template.contains(REGION) {
        template.replace(REGION, region)
    } else {
        template.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_the_region_and_trim_slashes() {
        let u = UpstreamUrls::new(
            "https://q.{region}.amazonaws.com/",
            DEFAULT_CODEWHISPERER,
            DEFAULT_SOCIAL_AUTH,
            "https://oidc.{region}.amazonaws.com//",
        );
        assert_eq!(u.q("eu-central-1"), "https://q.eu-central-1.amazonaws.com");
        assert_eq!(
            u.chat("us-east-1"),
            "https://q.us-east-1.amazonaws.com/generateAssistantResponse"
        );
        assert_eq!(
            u.oidc_token("eu-west-1"),
            "https://oidc.eu-west-1.amazonaws.com/token"
        );
        assert_eq!(
            u.social_refresh("us-east-1"),
            "https://prod.us-east-1.auth.desktop.kiro.dev/refreshToken"
        );
    }

    #[test]
    fn profiles_use_codewhisperer_only_in_us_east_1() {
        let u = UpstreamUrls::default();
        assert_eq!(
            u.list_profiles("us-east-1"),
            "https://codewhisperer.us-east-1.amazonaws.com/ListAvailableProfiles"
        );
        assert_eq!(
            u.list_profiles("eu-central-1"),
            "https://q.eu-central-1.amazonaws.com/ListAvailableProfiles"
        );
    }

    #[test]
    fn a_base_without_region_is_verbatim() {
        let u = UpstreamUrls::single("http://127.0.0.1:9000/");
        assert_eq!(u.q("eu-central-1"), "http://127.0.0.1:9000");
        assert_eq!(
            u.oidc_register("eu-west-1"),
            "http://127.0.0.1:9000/client/register"
        );
    }
}
