//! The simulator's shared state: accounts, the token tables that map issued secrets to them,
//! OIDC registrations and device sessions, the behaviour queue, settings, clock and request
//! log. Locks are `std` mutexes held for short, non-async critical sections only.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::accounts::{
    Account, AccountKind, AccountSecrets, AccountStatus, CreateAccount, PatchAccount, Rotation,
};
use crate::behaviour::{BehaviourQueue, QueueRequest};
use crate::clock::{Clock, first_of_next_month};
use crate::device::{DeviceSession, REGISTRATION_LIFETIME_SECS, Registration};
use crate::log::{RecordedRequest, RequestLog};
use crate::models::Tier;
use crate::secrets::{Issuer, SHARED_SOCIAL_PROFILE_ARN};
use crate::settings::Settings;

/// Builder ID's start URL; logins through it get no profile ARN (spec §2.3).
pub const BUILDER_ID_START_URL: &str = "https://view.awsapps.com/start";
/// Scopes a registration gets when the request names none.
pub const DEFAULT_SCOPES: [&str; 3] = [
    "codewhisperer:completions",
    "codewhisperer:analysis",
    "codewhisperer:conversations",
];

/// An issued access token.
#[derive(Debug, Clone)]
pub struct AccessGrant {
    pub account: String,
    pub expires_at_ms: i64,
}

/// An issued refresh token.
#[derive(Debug, Clone)]
pub struct RefreshGrant {
    pub account: String,
    pub revoked: bool,
    pub expires_at_ms: Option<i64>,
}

/// Everything behind the state lock.
#[derive(Debug)]
pub struct Inner {
    pub settings: Settings,
    pub issuer: Issuer,
    pub accounts: BTreeMap<String, Account>,
    next_account: u64,
    pub access_tokens: HashMap<String, AccessGrant>,
    pub refresh_tokens: HashMap<String, RefreshGrant>,
    pub api_keys: HashMap<String, String>,
    pub clients: HashMap<String, Registration>,
    /// By device code.
    pub devices: HashMap<String, DeviceSession>,
    /// User code → device code.
    pub user_codes: HashMap<String, String>,
    pub behaviours: BehaviourQueue,
}

impl Inner {
    fn new(settings: Settings, seed: Option<u64>) -> Self {
        Inner {
            settings,
            issuer: Issuer::new(seed),
            accounts: BTreeMap::new(),
            next_account: 0,
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            api_keys: HashMap::new(),
            clients: HashMap::new(),
            devices: HashMap::new(),
            user_codes: HashMap::new(),
            behaviours: BehaviourQueue::default(),
        }
    }

    /// Issues an access token for `account`; returns it with its expiry (epoch seconds).
    pub fn issue_access_token(&mut self, account: &str, now_ms: i64) -> (String, i64) {
        let expires_in = self.accounts.get(account).map_or(3600, |a| a.expires_in);
        let token = self.issuer.access_token();
        let expires_at_ms = now_ms.saturating_add((expires_in as i64).saturating_mul(1000));
        self.access_tokens.insert(
            token.clone(),
            AccessGrant {
                account: account.to_owned(),
                expires_at_ms,
            },
        );
        (token, expires_at_ms.div_euclid(1000))
    }

    /// Issues a refresh token for `account`.
    pub fn issue_refresh_token(&mut self, account: &str, now_ms: i64) -> String {
        let lifetime = self
            .accounts
            .get(account)
            .and_then(|a| a.refresh_token_lifetime_secs);
        let token = self.issuer.refresh_token();
        self.refresh_tokens.insert(
            token.clone(),
            RefreshGrant {
                account: account.to_owned(),
                revoked: false,
                expires_at_ms: lifetime
                    .map(|s| now_ms.saturating_add((s as i64).saturating_mul(1000))),
            },
        );
        token
    }

    /// Registers an OIDC client.
    pub fn register_client(
        &mut self,
        client_name: String,
        scopes: Vec<String>,
        now_secs: i64,
    ) -> Registration {
        let reg = Registration {
            client_id: self.issuer.client_id(),
            client_secret: self.issuer.client_secret(),
            client_name,
            scopes,
            issued_at: now_secs,
            expires_at: now_secs + REGISTRATION_LIFETIME_SECS,
        };
        self.clients.insert(reg.client_id.clone(), reg.clone());
        reg
    }

    /// Rotates `old` per the account's mode after a successful refresh; returns the refresh
    /// token to put in the response (`None` = omit the key).
    pub fn rotate_refresh_token(
        &mut self,
        old: &str,
        account: &str,
        now_ms: i64,
    ) -> Option<String> {
        let rotation = self
            .accounts
            .get(account)
            .map_or(Rotation::Same, |a| a.rotation);
        match rotation {
            Rotation::Same => Some(old.to_owned()),
            Rotation::Absent => None,
            Rotation::New => Some(self.issue_refresh_token(account, now_ms)),
            Rotation::NewAndRevokeOld => {
                if let Some(g) = self.refresh_tokens.get_mut(old) {
                    g.revoked = true;
                }
                Some(self.issue_refresh_token(account, now_ms))
            }
        }
    }

    /// Adds an account record without issuing credentials.
    pub fn insert_account(&mut self, req: &CreateAccount, now_ms: i64) -> Result<Account, String> {
        let kind = req.kind.unwrap_or(AccountKind::Social);
        self.next_account += 1;
        let id = match &req.id {
            Some(id) if self.accounts.contains_key(id) => {
                return Err(format!("account {id} already exists"));
            }
            Some(id) => id.clone(),
            None => format!("acct-{:04}", self.next_account),
        };
        let now_secs = now_ms.div_euclid(1000);
        let tier = req.tier.unwrap_or(Tier::Pro);
        let start_url = match kind {
            AccountKind::Idc => Some(
                req.start_url
                    .clone()
                    .unwrap_or_else(|| BUILDER_ID_START_URL.to_owned()),
            ),
            _ => None,
        };
        let api_region_hint = req
            .api_region
            .clone()
            .unwrap_or_else(|| "us-east-1".to_owned());
        let default_arn = match kind {
            AccountKind::Social => Some(SHARED_SOCIAL_PROFILE_ARN.to_owned()),
            AccountKind::Idc if start_url.as_deref() != Some(BUILDER_ID_START_URL) => {
                Some(self.issuer.profile_arn(&api_region_hint))
            }
            _ => None,
        };
        let profile_arn = match &req.profile_arn {
            Some(explicit) => explicit.clone(),
            None => default_arn,
        };
        let api_region = req.api_region.clone().unwrap_or_else(|| {
            profile_arn
                .as_deref()
                .and_then(|a| a.split(':').nth(3))
                .unwrap_or("us-east-1")
                .to_owned()
        });
        let user_id = req
            .user_id
            .clone()
            .unwrap_or_else(|| self.issuer.user_id(kind == AccountKind::Idc));
        let mut account = Account {
            id: id.clone(),
            kind,
            tier,
            credit_limit: tier.monthly_credits(),
            credits_used: 0.0,
            free_trial: None,
            bonuses: Vec::new(),
            overage_enabled: false,
            overage_cap: 10_000.0,
            next_date_reset: first_of_next_month(now_secs),
            profile_arn,
            api_region,
            auth_region: "us-east-1".to_owned(),
            email: format!("user{}@example.com", self.next_account),
            user_id,
            status: AccountStatus::Active,
            rotation: Rotation::Same,
            expires_in: self.settings.expires_in,
            refresh_token_lifetime_secs: None,
            client_id: None,
            start_url,
            chat_requires_profile_arn: false,
            chats: 0,
        };
        // `profile_arn`, `start_url` and `api_region` are settled above.
        let rest = PatchAccount {
            profile_arn: None,
            start_url: None,
            api_region: None,
            ..req.clone()
        };
        account.apply(&rest);
        self.accounts.insert(id, account.clone());
        Ok(account)
    }

    /// Creates an account of the requested kind with its credentials.
    pub fn create_account(
        &mut self,
        req: &CreateAccount,
        now_ms: i64,
    ) -> Result<AccountSecrets, String> {
        let account = self.insert_account(req, now_ms)?;
        let id = account.id.clone();
        let kind = account.kind;
        let now_secs = now_ms.div_euclid(1000);
        let mut secrets = AccountSecrets {
            account,
            access_token: None,
            expires_at: None,
            refresh_token: None,
            api_key: None,
            client_id: None,
            client_secret: None,
            client_secret_expires_at: None,
        };
        match kind {
            AccountKind::ApiKey => {
                let key = self.issuer.api_key();
                self.api_keys.insert(key.clone(), id.clone());
                secrets.api_key = Some(key);
            }
            AccountKind::Social | AccountKind::Idc => {
                if kind == AccountKind::Idc {
                    let reg = self.register_client(
                        "Kiro IDE".to_owned(),
                        DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
                        now_secs,
                    );
                    if let Some(a) = self.accounts.get_mut(&id) {
                        a.client_id = Some(reg.client_id.clone());
                    }
                    secrets.client_id = Some(reg.client_id);
                    secrets.client_secret = Some(reg.client_secret);
                    secrets.client_secret_expires_at = Some(reg.expires_at);
                }
                let (access, expires_at) = self.issue_access_token(&id, now_ms);
                secrets.access_token = Some(access);
                secrets.expires_at = Some(expires_at);
                secrets.refresh_token = Some(self.issue_refresh_token(&id, now_ms));
            }
        }
        if let Some(a) = self.accounts.get(&id) {
            secrets.account = a.clone();
        }
        Ok(secrets)
    }

    /// Rolls the account into a new period when the clock has passed its `nextDateReset`.
    pub fn roll_period(&mut self, account: &str, now_secs: i64) {
        if let Some(a) = self.accounts.get_mut(account) {
            if now_secs >= a.next_date_reset {
                a.reset_usage(now_secs);
            }
        }
    }

    /// Expires every access token of `account` now.
    pub fn expire_access_tokens(&mut self, account: &str, now_ms: i64) -> usize {
        let mut n = 0;
        for g in self.access_tokens.values_mut() {
            if g.account == account && g.expires_at_ms > now_ms {
                g.expires_at_ms = now_ms;
                n += 1;
            }
        }
        n
    }

    /// Revokes every refresh token of `account`.
    pub fn revoke_refresh_tokens(&mut self, account: &str) -> usize {
        let mut n = 0;
        for g in self.refresh_tokens.values_mut() {
            if g.account == account && !g.revoked {
                g.revoked = true;
                n += 1;
            }
        }
        n
    }
}

/// The state every handler shares.
#[derive(Debug)]
pub struct SimState {
    inner: Mutex<Inner>,
    log: Mutex<RequestLog>,
    clock: Clock,
    seed: Option<u64>,
    initial_settings: Settings,
}

impl SimState {
    pub fn new(settings: Settings, seed: Option<u64>) -> Arc<Self> {
        Arc::new(SimState {
            inner: Mutex::new(Inner::new(settings, seed)),
            log: Mutex::new(RequestLog::new(settings.request_log_capacity)),
            clock: Clock::default(),
            seed,
            initial_settings: settings,
        })
    }

    /// The state lock. Never hold it across an `.await`.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic under the lock leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request log lock. Never hold it across an `.await`.
    pub fn log(&self) -> MutexGuard<'_, RequestLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The seed given at start (tool-use ids and issued secrets derive from it).
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(0)
    }

    pub fn settings(&self) -> Settings {
        self.lock().settings
    }

    /// Replaces the settings.
    pub fn set_settings(&self, settings: Settings) {
        self.lock().settings = settings;
        self.log().set_capacity(settings.request_log_capacity);
    }

    /// Back to the state at start: no accounts, tokens, behaviours or log; settings and clock
    /// as at start.
    pub fn reset(&self) {
        *self.lock() = Inner::new(self.initial_settings, self.seed);
        let mut log = self.log();
        log.clear();
        log.set_capacity(self.initial_settings.request_log_capacity);
        drop(log);
        self.clock.reset();
    }

    /// Creates an account (see [`CreateAccount`]).
    pub fn create_account(&self, req: &CreateAccount) -> Result<AccountSecrets, String> {
        let now = self.clock.now_ms();
        self.lock().create_account(req, now)
    }

    /// A copy of one account.
    pub fn account(&self, id: &str) -> Option<Account> {
        self.lock().accounts.get(id).cloned()
    }

    /// Changes an account; returns the new value.
    pub fn patch_account(&self, id: &str, patch: &PatchAccount) -> Option<Account> {
        let mut inner = self.lock();
        let a = inner.accounts.get_mut(id)?;
        a.apply(patch);
        Some(a.clone())
    }

    /// Queues a behaviour; returns its id.
    pub fn queue(&self, req: QueueRequest) -> u64 {
        self.lock().behaviours.push(req)
    }

    /// Moves the clock forward by `secs` seconds.
    pub fn advance_clock(&self, secs: i64) {
        self.clock.advance_ms(secs.saturating_mul(1000));
    }

    /// A copy of the logged requests, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log().iter().cloned().collect()
    }

    /// A copy of one logged request.
    pub fn request(&self, id: u64) -> Option<RecordedRequest> {
        self.log().get(id).cloned()
    }
}
