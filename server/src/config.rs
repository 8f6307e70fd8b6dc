//! Configuration from the environment (and `.env`): which Stripe to talk to
//! and with which keys. Parsed once at start; an invalid combination stops
//! the server with a message that says what to fix.

use crate::limits::{IpNet, Rate};
use crate::serve::ServeOptions;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::time::Duration;

pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";
pub const DEFAULT_STRIPE_JS_URL: &str = "https://js.stripe.com/v3/";
/// The embedded default database, next to where the server runs.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://fc_app.db";
/// Connections each instance keeps to the database at most.
pub const DEFAULT_DATABASE_MAX_CONNECTIONS: u32 = 10;
/// How long one statement may run (PostgreSQL) or wait for a lock (SQLite).
pub const DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS: u64 = 10_000;
/// How long a request waits for a database connection (a new one included)
/// before it answers 503: short, so a database that is down fails requests
/// quickly instead of holding them.
pub const DEFAULT_DATABASE_ACQUIRE_TIMEOUT_MS: u64 = 3_000;

/// Which Stripe the server talks to.
#[derive(Clone, Debug)]
pub enum StripeMode {
    /// No keys: the built-in sandbox on this server, with keys made up at start.
    Sandbox,
    /// Real Stripe with the given keys.
    Stripe(StripeKeys),
}

#[derive(Clone)]
pub struct StripeKeys {
    pub secret_key: SecretString,
    pub publishable_key: String,
    pub live: bool,
}

impl fmt::Debug for StripeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeKeys")
            .field("secret_key", &"[redacted]")
            .field("publishable_key", &self.publishable_key)
            .field("live", &self.live)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub mode: StripeMode,
    /// Secrets for `Stripe-Signature` on webhooks; several during rotation.
    pub webhook_secrets: Vec<SecretString>,
    /// `None` means: Stripe's in Stripe mode, this server's `/sandbox` in sandbox mode.
    pub api_base: Option<String>,
    pub stripe_js_url: Option<String>,
    pub database: DatabaseConfig,
    /// `SANDBOX_DATABASE_URL`: where the embedded sandbox keeps its state
    /// (`sqlite://PATH` or `memory`); unset, beside the app's SQLite file.
    pub sandbox_database_url: Option<String>,
    /// How the HTTP edge protects itself.
    pub edge: EdgeConfig,
    pub sessions: SessionConfig,
    pub retention: RetentionConfig,
    /// `DEVELOPER_LOG_QUEUE`: developer log entries waiting to be stored, at
    /// most; past it new ones are dropped (and counted), never waited for.
    pub developer_log_queue: usize,
    /// `BUSINESS_NAME`: who the ACH mandate authorises to debit (default the app's name).
    pub business_name: String,
}

/// How long a browser session lasts: ended by `SESSION_IDLE_SECS` without a
/// request, or `SESSION_MAX_SECS` after it began, whichever comes first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    pub idle: Duration,
    pub max_age: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            idle: Duration::from_secs(30 * DAY_SECS),
            max_age: Duration::from_secs(365 * DAY_SECS),
        }
    }
}

/// What is forgotten, and when (see `storage::retention`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionConfig {
    /// `PRUNE_USERS_AFTER_SECS`: a user with no linked account and no
    /// Customer, or no live session, is removed once this old.
    pub users_after: Duration,
    /// `PRUNE_PENDING_SESSIONS_AFTER_SECS`: unconfirmed link sessions.
    pub pending_sessions_after: Duration,
    /// `PRUNE_WEBHOOK_EVENTS_AFTER_SECS`: handled event ids (dedupe).
    pub webhook_events_after: Duration,
    /// `DEVELOPER_LOG_MAX_AGE_SECS`: developer log entries older than this.
    pub developer_log_after: Duration,
    /// `DEVELOPER_LOG_MAX_PER_USER`: each user keeps their newest this many.
    pub developer_log_per_user: u32,
    /// `PRUNE_INTERVAL_SECS`: how often each instance prunes.
    pub interval: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            users_after: Duration::from_secs(DAY_SECS),
            pending_sessions_after: Duration::from_secs(DAY_SECS),
            webhook_events_after: Duration::from_secs(30 * DAY_SECS),
            developer_log_after: Duration::from_secs(7 * DAY_SECS),
            developer_log_per_user: 500,
            interval: Duration::from_secs(3600),
        }
    }
}

const DAY_SECS: u64 = 86_400;
/// `DEVELOPER_LOG_QUEUE`'s default.
pub const DEFAULT_DEVELOPER_LOG_QUEUE: u64 = 1024;

/// Which database holds the app's data, and how it is reached.
#[derive(Clone)]
pub struct DatabaseConfig {
    /// `DATABASE_URL`: `sqlite://…` or `postgres://…` (`postgresql://…`). It
    /// may carry a password, so it is only ever shown [`redacted`](Self::redacted_url).
    pub url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS`: the pool's size on this instance.
    pub max_connections: u32,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: PostgreSQL's `statement_timeout`
    /// (a wait for another instance's lock counts as a statement); SQLite's
    /// busy timeout, the only way a statement waits there.
    pub statement_timeout: Duration,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`: how long a request waits for a pooled
    /// connection (opening one included) before the database counts as
    /// unavailable for it (503).
    pub acquire_timeout: Duration,
}

impl DatabaseConfig {
    /// The database at `url` with the default pool size and timeout.
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseConfig {
            url: SecretString::from(url.into()),
            max_connections: DEFAULT_DATABASE_MAX_CONNECTIONS,
            statement_timeout: Duration::from_millis(DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS),
            acquire_timeout: Duration::from_millis(DEFAULT_DATABASE_ACQUIRE_TIMEOUT_MS),
        }
    }

    /// The URL with any password replaced by `***`, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_password(self.url.expose_secret())
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.redacted_url())
            .field("max_connections", &self.max_connections)
            .field("statement_timeout", &self.statement_timeout)
            .field("acquire_timeout", &self.acquire_timeout)
            .finish()
    }
}

/// `scheme://user:secret@host/…?password=secret` → `scheme://user:***@host/…?password=***`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

/// The HTTP edge's settings: where the public reaches the app, whom to
/// believe about client addresses, rate limits, timeouts and caps. Every
/// field has a default safe for a public deployment.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeConfig {
    /// `PUBLIC_URL`'s origin (`https://bank.example.com`): the only origin
    /// whose requests may change state when a browser sends no
    /// `Sec-Fetch-Site`; `None` accepts the request's own `Host`.
    pub public_origin: Option<String>,
    /// From `PUBLIC_URL`'s scheme, never from a client's header: https means
    /// `__Host-` cookies only, `Secure`, and HSTS.
    pub https: bool,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// `RATE_LIMIT_IP_PER_SECOND` / `RATE_LIMIT_IP_BURST`: every request but webhooks and health checks.
    pub per_ip: Rate,
    /// `RATE_LIMIT_USER_PER_SECOND` / `RATE_LIMIT_USER_BURST`: server-function calls per browser user.
    pub per_user: Rate,
    /// `RATE_LIMIT_NEW_SESSIONS_PER_HOUR`: new browser sessions (anonymous users) one address may start an hour.
    pub new_sessions_per_hour: u32,
    /// `RATE_LIMIT_LINKS_PER_HOUR`: calls that create Stripe objects (a Session, a Customer) per address an hour.
    pub links_per_hour: u32,
    /// `HTTP_HEADER_TIMEOUT_SECS`, `HTTP_MAX_CONNECTIONS`, `HTTP_SHUTDOWN_GRACE_SECS`.
    pub serve: ServeOptions,
    /// `HTTP_REQUEST_TIMEOUT_SECS`: a response must start within this (not `/events`).
    pub request_timeout: Duration,
    /// `HTTP_BODY_TIMEOUT_SECS`: longest gap while reading a request body.
    pub body_timeout: Duration,
    /// `EVENTS_MAX_PER_USER`: open `/events` streams one user may hold.
    pub events_per_user: usize,
    /// `EVENTS_MAX_TOTAL`: open `/events` streams on this instance.
    pub events_total: usize,
}

impl Default for EdgeConfig {
    fn default() -> Self {
        EdgeConfig {
            public_origin: None,
            https: false,
            trusted_proxies: Vec::new(),
            per_ip: Rate {
                per_second: 20,
                burst: 120,
            },
            per_user: Rate {
                per_second: 5,
                burst: 40,
            },
            new_sessions_per_hour: 60,
            links_per_hour: 60,
            serve: ServeOptions::default(),
            request_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(10),
            // An account page follows two kinds of event (its account, its payments): four such tabs.
            events_per_user: 8,
            events_total: 1000,
        }
    }
}

impl EdgeConfig {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = EdgeConfig::default();
        let number = |name: &'static str, default: u64, max: u64| -> Result<u64, ConfigError> {
            match nonempty(get(name)) {
                None => Ok(default),
                Some(v) => v
                    .parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or(ConfigError::BadNumber(name, max)),
            }
        };
        let (public_origin, https) = match nonempty(get("PUBLIC_URL")) {
            None => (None, false),
            Some(url) => {
                let origin = origin_of(&url).ok_or(ConfigError::BadPublicUrl)?;
                let https = origin.starts_with("https://");
                (Some(origin), https)
            }
        };
        let trusted_proxies = match nonempty(get("TRUSTED_PROXIES")) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|n| IpNet::parse(n).ok_or(ConfigError::BadTrustedProxies))
                .collect::<Result<_, _>>()?,
        };
        let secs = |n: u64| Duration::from_secs(n);
        Ok(EdgeConfig {
            public_origin,
            https,
            trusted_proxies,
            per_ip: Rate {
                per_second: number("RATE_LIMIT_IP_PER_SECOND", d.per_ip.per_second.into(), 1_000_000)? as u32,
                burst: number("RATE_LIMIT_IP_BURST", d.per_ip.burst.into(), 1_000_000)? as u32,
            },
            per_user: Rate {
                per_second: number("RATE_LIMIT_USER_PER_SECOND", d.per_user.per_second.into(), 1_000_000)? as u32,
                burst: number("RATE_LIMIT_USER_BURST", d.per_user.burst.into(), 1_000_000)? as u32,
            },
            new_sessions_per_hour: number("RATE_LIMIT_NEW_SESSIONS_PER_HOUR", d.new_sessions_per_hour.into(), 1_000_000)? as u32,
            links_per_hour: number("RATE_LIMIT_LINKS_PER_HOUR", d.links_per_hour.into(), 1_000_000)? as u32,
            serve: ServeOptions {
                header_read_timeout: secs(number("HTTP_HEADER_TIMEOUT_SECS", 10, 3600)?),
                max_connections: number("HTTP_MAX_CONNECTIONS", d.serve.max_connections as u64, 1_000_000)? as usize,
                shutdown_grace: secs(number("HTTP_SHUTDOWN_GRACE_SECS", 10, 3600)?),
            },
            request_timeout: secs(number("HTTP_REQUEST_TIMEOUT_SECS", 30, 3600)?),
            body_timeout: secs(number("HTTP_BODY_TIMEOUT_SECS", 10, 3600)?),
            events_per_user: number("EVENTS_MAX_PER_USER", d.events_per_user as u64, 1000)? as usize,
            events_total: number("EVENTS_MAX_TOTAL", d.events_total as u64, 1_000_000)? as usize,
        })
    }
}

/// `scheme://host[:port]` of an http(s) URL, lowercased; `None` if it is not one.
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    let ok = !authority.is_empty()
        && !authority.contains('@')
        && authority.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    ok.then(|| format!("{scheme}://{authority}"))
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("STRIPE_SECRET_KEY holds a publishable key (pk_…). Put the secret key (sk_… or rk_…) there and the pk_… key in STRIPE_PUBLISHABLE_KEY.")]
    PublishableInSecretSlot,
    #[error("STRIPE_PUBLISHABLE_KEY holds a secret key. Never give a secret key to the browser: use the pk_… key.")]
    SecretInPublishableSlot,
    #[error("STRIPE_SECRET_KEY is not a Stripe secret key (expected sk_test_…, sk_live_…, rk_test_… or rk_live_…).")]
    MalformedSecretKey,
    #[error("STRIPE_PUBLISHABLE_KEY is not a Stripe publishable key (expected pk_test_… or pk_live_…).")]
    MalformedPublishableKey,
    #[error(
        "Only one of STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY is set. Set both for real Stripe, or neither for the sandbox."
    )]
    HalfConfigured,
    #[error("STRIPE_SECRET_KEY and STRIPE_PUBLISHABLE_KEY mix test and live mode. Use keys from the same mode.")]
    MixedModes,
    #[error("Live keys are set but STRIPE_ALLOW_LIVE is not \"1\". Live mode links real bank accounts; opt in explicitly.")]
    LiveNotAllowed,
    #[error("STRIPE_WEBHOOK_SECRET must be one or more comma-separated whsec_… secrets.")]
    MalformedWebhookSecret,
    #[error("{0} must be an http(s) URL.")]
    BadUrl(&'static str),
    #[error("{0} must be an https:// URL with live keys: live secrets never travel over plain http.")]
    PlainHttpWithLiveKeys(&'static str),
    #[error("{0} must be a whole number from 1 to {1}.")]
    BadNumber(&'static str, u64),
    #[error("PUBLIC_URL must be the http(s) URL people open, like https://bank.example.com.")]
    BadPublicUrl,
    #[error("TRUSTED_PROXIES must be comma-separated IP addresses or CIDR ranges, like 10.0.0.0/8,::1.")]
    BadTrustedProxies,
    #[error("DATABASE_URL must be a SQLite URL like sqlite://fc_app.db or a PostgreSQL URL like postgres://user@host/db.")]
    UnsupportedDatabase,
    #[error("{name} must be a whole number from {min} to {max}.")]
    OutOfRange { name: &'static str, min: u64, max: u64 },
    #[error("BUSINESS_NAME must be printable text of at most 100 characters (the name ACH mandates authorise).")]
    BadBusinessName,
}

fn is_live(key: &str) -> bool {
    key.contains("_live_")
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl Config {
    /// Reads the process environment (after loading `.env` if present).
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Parses configuration from any key lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = nonempty(get("STRIPE_SECRET_KEY"));
        let publishable = nonempty(get("STRIPE_PUBLISHABLE_KEY"));

        let mode = match (secret, publishable) {
            (None, None) => StripeMode::Sandbox,
            (Some(s), _) if s.starts_with("pk_") => return Err(ConfigError::PublishableInSecretSlot),
            (_, Some(p)) if p.starts_with("sk_") || p.starts_with("rk_") => return Err(ConfigError::SecretInPublishableSlot),
            (Some(_), None) | (None, Some(_)) => return Err(ConfigError::HalfConfigured),
            (Some(s), Some(p)) => {
                let secret_ok = ["sk_test_", "sk_live_", "rk_test_", "rk_live_"]
                    .iter()
                    .any(|pre| s.starts_with(pre) && s.len() > pre.len());
                if !secret_ok {
                    return Err(ConfigError::MalformedSecretKey);
                }
                let pk_ok = ["pk_test_", "pk_live_"]
                    .iter()
                    .any(|pre| p.starts_with(pre) && p.len() > pre.len());
                if !pk_ok {
                    return Err(ConfigError::MalformedPublishableKey);
                }
                if is_live(&s) != is_live(&p) {
                    return Err(ConfigError::MixedModes);
                }
                let live = is_live(&s);
                if live && nonempty(get("STRIPE_ALLOW_LIVE")).as_deref() != Some("1") {
                    return Err(ConfigError::LiveNotAllowed);
                }
                StripeMode::Stripe(StripeKeys {
                    secret_key: SecretString::from(s),
                    publishable_key: p,
                    live,
                })
            }
        };

        let webhook_secrets = match nonempty(get("STRIPE_WEBHOOK_SECRET")) {
            None => Vec::new(),
            Some(raw) => raw
                .split(',')
                .map(str::trim)
                .map(|s| {
                    if s.starts_with("whsec_") && s.len() > 6 {
                        Ok(SecretString::from(s.to_owned()))
                    } else {
                        Err(ConfigError::MalformedWebhookSecret)
                    }
                })
                .collect::<Result<_, _>>()?,
        };

        let url = |name: &'static str| match nonempty(get(name)) {
            None => Ok(None),
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => Ok(Some(u)),
            Some(_) => Err(ConfigError::BadUrl(name)),
        };
        let api_base = url("STRIPE_API_BASE")?.map(|u| u.trim_end_matches('/').to_owned());
        let stripe_js_url = url("STRIPE_JS_URL")?;
        if matches!(&mode, StripeMode::Stripe(k) if k.live) {
            for (name, value) in [("STRIPE_API_BASE", &api_base), ("STRIPE_JS_URL", &stripe_js_url)] {
                if value.as_deref().is_some_and(|u| !u.starts_with("https://")) {
                    return Err(ConfigError::PlainHttpWithLiveKeys(name));
                }
            }
        }
        let database_url = nonempty(get("DATABASE_URL")).unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !["sqlite:", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| database_url.starts_with(scheme))
        {
            return Err(ConfigError::UnsupportedDatabase);
        }
        let number = |name: &'static str, default: u64, min: u64, max: u64| match nonempty(get(name)) {
            None => Ok(default),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or(ConfigError::OutOfRange { name, min, max }),
        };
        let business_name = match nonempty(get("BUSINESS_NAME")) {
            None => crate::service::DEFAULT_BUSINESS_NAME.to_owned(),
            Some(n) if n.chars().count() <= 100 && !n.chars().any(char::is_control) => n,
            Some(_) => return Err(ConfigError::BadBusinessName),
        };
        let (ds, dr, secs) = (SessionConfig::default(), RetentionConfig::default(), Duration::from_secs);
        let max_connections = number("DATABASE_MAX_CONNECTIONS", DEFAULT_DATABASE_MAX_CONNECTIONS.into(), 2, 1000)?;
        let statement_timeout_ms = number(
            "DATABASE_STATEMENT_TIMEOUT_MS",
            DEFAULT_DATABASE_STATEMENT_TIMEOUT_MS,
            100,
            3_600_000,
        )?;
        let acquire_timeout_ms = number(
            "DATABASE_ACQUIRE_TIMEOUT_MS",
            DEFAULT_DATABASE_ACQUIRE_TIMEOUT_MS,
            100,
            60_000,
        )?;
        Ok(Config {
            mode,
            webhook_secrets,
            api_base,
            stripe_js_url,
            database: DatabaseConfig {
                url: SecretString::from(database_url),
                max_connections: u32::try_from(max_connections).unwrap_or(DEFAULT_DATABASE_MAX_CONNECTIONS),
                statement_timeout: Duration::from_millis(statement_timeout_ms),
                acquire_timeout: Duration::from_millis(acquire_timeout_ms),
            },
            sandbox_database_url: nonempty(get("SANDBOX_DATABASE_URL")),
            edge: EdgeConfig::from_lookup(&get)?,
            sessions: SessionConfig {
                idle: secs(number("SESSION_IDLE_SECS", ds.idle.as_secs(), 60, 10 * 365 * DAY_SECS)?),
                max_age: secs(number("SESSION_MAX_SECS", ds.max_age.as_secs(), 60, 10 * 365 * DAY_SECS)?),
            },
            retention: RetentionConfig {
                users_after: secs(number(
                    "PRUNE_USERS_AFTER_SECS",
                    dr.users_after.as_secs(),
                    60,
                    3650 * DAY_SECS,
                )?),
                pending_sessions_after: secs(number(
                    "PRUNE_PENDING_SESSIONS_AFTER_SECS",
                    dr.pending_sessions_after.as_secs(),
                    60,
                    3650 * DAY_SECS,
                )?),
                // Stripe retries an event for up to three days: its id must outlive that.
                webhook_events_after: secs(number(
                    "PRUNE_WEBHOOK_EVENTS_AFTER_SECS",
                    dr.webhook_events_after.as_secs(),
                    4 * DAY_SECS,
                    3650 * DAY_SECS,
                )?),
                developer_log_after: secs(number(
                    "DEVELOPER_LOG_MAX_AGE_SECS",
                    dr.developer_log_after.as_secs(),
                    60,
                    3650 * DAY_SECS,
                )?),
                developer_log_per_user: number("DEVELOPER_LOG_MAX_PER_USER", dr.developer_log_per_user.into(), 1, 100_000)?
                    as u32,
                interval: secs(number("PRUNE_INTERVAL_SECS", dr.interval.as_secs(), 1, 7 * DAY_SECS)?),
            },
            developer_log_queue: number("DEVELOPER_LOG_QUEUE", DEFAULT_DEVELOPER_LOG_QUEUE, 1, 1_000_000)? as usize,
            business_name,
        })
    }

    pub fn is_sandbox(&self) -> bool {
        matches!(self.mode, StripeMode::Sandbox)
    }

    /// A one-line description for the start-up log; never prints a secret.
    pub fn describe(&self) -> String {
        match &self.mode {
            StripeMode::Sandbox => "SANDBOX mode: no Stripe keys set, using the built-in offline sandbox".to_owned(),
            StripeMode::Stripe(k) => format!(
                "Stripe {} mode (secret key {}…)",
                if k.live { "LIVE" } else { "test" },
                k.secret_key.expose_secret().get(..8).unwrap_or_default()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn no_keys_is_sandbox() {
        let c = parse(&[]).unwrap();
        assert!(c.is_sandbox());
        assert!(parse(&[("STRIPE_SECRET_KEY", "  ")]).unwrap().is_sandbox());
    }

    #[test]
    fn the_business_name_defaults_to_the_app_and_is_bounded() {
        assert_eq!(parse(&[]).unwrap().business_name, "Bank Link");
        assert_eq!(
            parse(&[("BUSINESS_NAME", " Rocket Rides ")]).unwrap().business_name,
            "Rocket Rides"
        );
        for bad in ["x".repeat(101), "Evil\nCorp".to_owned()] {
            assert!(matches!(parse(&[("BUSINESS_NAME", &bad)]), Err(ConfigError::BadBusinessName)));
        }
    }

    #[test]
    fn test_keys_are_accepted() {
        let c = parse(&[
            ("STRIPE_SECRET_KEY", "sk_test_abc"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_abc"),
        ])
        .unwrap();
        assert!(matches!(c.mode, StripeMode::Stripe(ref k) if !k.live));
        let r = parse(&[
            ("STRIPE_SECRET_KEY", "rk_test_abc"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_abc"),
        ]);
        assert!(r.is_ok());
    }

    #[test]
    fn each_bad_combination_has_its_own_error() {
        use ConfigError::*;
        let cases: &[(&[(&str, &str)], ConfigError)] = &[
            (
                &[("STRIPE_SECRET_KEY", "pk_test_1"), ("STRIPE_PUBLISHABLE_KEY", "pk_test_1")],
                PublishableInSecretSlot,
            ),
            (
                &[("STRIPE_SECRET_KEY", "sk_test_1"), ("STRIPE_PUBLISHABLE_KEY", "sk_test_1")],
                SecretInPublishableSlot,
            ),
            (&[("STRIPE_SECRET_KEY", "sk_test_1")], HalfConfigured),
            (&[("STRIPE_PUBLISHABLE_KEY", "pk_test_1")], HalfConfigured),
            (
                &[("STRIPE_SECRET_KEY", "hello"), ("STRIPE_PUBLISHABLE_KEY", "pk_test_1")],
                MalformedSecretKey,
            ),
            (
                &[("STRIPE_SECRET_KEY", "sk_test_1"), ("STRIPE_PUBLISHABLE_KEY", "pk_nope")],
                MalformedPublishableKey,
            ),
            (
                &[("STRIPE_SECRET_KEY", "sk_test_1"), ("STRIPE_PUBLISHABLE_KEY", "pk_live_1")],
                MixedModes,
            ),
            (
                &[("STRIPE_SECRET_KEY", "sk_live_1"), ("STRIPE_PUBLISHABLE_KEY", "pk_test_1")],
                MixedModes,
            ),
            (
                &[("STRIPE_SECRET_KEY", "sk_live_1"), ("STRIPE_PUBLISHABLE_KEY", "pk_live_1")],
                LiveNotAllowed,
            ),
            (&[("STRIPE_WEBHOOK_SECRET", "secret")], MalformedWebhookSecret),
            (&[("STRIPE_API_BASE", "ftp://x")], BadUrl("STRIPE_API_BASE")),
            (&[("DATABASE_URL", "mysql://db/app")], UnsupportedDatabase),
            (&[("DATABASE_URL", "fc_app.db")], UnsupportedDatabase),
            (
                &[("DATABASE_MAX_CONNECTIONS", "0")],
                OutOfRange {
                    name: "DATABASE_MAX_CONNECTIONS",
                    min: 2,
                    max: 1000,
                },
            ),
            (
                &[("DATABASE_STATEMENT_TIMEOUT_MS", "soon")],
                OutOfRange {
                    name: "DATABASE_STATEMENT_TIMEOUT_MS",
                    min: 100,
                    max: 3_600_000,
                },
            ),
        ];
        for (env, want) in cases {
            assert_eq!(parse(env).unwrap_err(), *want, "{env:?}");
        }
    }

    #[test]
    fn either_database_with_its_pool_settings() {
        let c = parse(&[]).unwrap();
        assert_eq!(c.database.url.expose_secret(), DEFAULT_DATABASE_URL);
        assert_eq!(c.database.max_connections, DEFAULT_DATABASE_MAX_CONNECTIONS);
        let c = parse(&[
            ("DATABASE_URL", "postgresql://app:hunter2@db.internal:5432/bank"),
            ("DATABASE_MAX_CONNECTIONS", "25"),
            ("DATABASE_STATEMENT_TIMEOUT_MS", "2500"),
            ("DATABASE_ACQUIRE_TIMEOUT_MS", "750"),
        ])
        .unwrap();
        assert_eq!(
            (
                c.database.max_connections,
                c.database.statement_timeout,
                c.database.acquire_timeout
            ),
            (25, Duration::from_millis(2500), Duration::from_millis(750))
        );
        assert_eq!(
            parse(&[]).unwrap().database.acquire_timeout,
            Duration::from_millis(DEFAULT_DATABASE_ACQUIRE_TIMEOUT_MS)
        );
        assert!(parse(&[("DATABASE_ACQUIRE_TIMEOUT_MS", "0")]).is_err());
        assert!(parse(&[("DATABASE_URL", "postgres://root@127.0.0.1/test")]).is_ok());
    }

    #[test]
    fn database_passwords_are_never_shown() {
        let c = parse(&[("DATABASE_URL", "postgres://app:hunter2@db:5432/bank?sslmode=require")]).unwrap();
        assert_eq!(c.database.redacted_url(), "postgres://app:***@db:5432/bank?sslmode=require");
        assert!(!format!("{c:?}").contains("hunter2"));
        for (url, shown) in [
            ("sqlite://fc_app.db", "sqlite://fc_app.db"),
            ("postgres://root@127.0.0.1/test", "postgres://root@127.0.0.1/test"),
            ("postgres://u:p@ss@host/db", "postgres://u:***@host/db"),
            (
                "postgres://host/db?user=u&password=x@y",
                "postgres://host/db?user=u&password=***",
            ),
        ] {
            assert_eq!(redact_password(url), shown, "{url}");
        }
    }

    #[test]
    fn live_needs_opt_in() {
        let c = parse(&[
            ("STRIPE_SECRET_KEY", "sk_live_1"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_1"),
            ("STRIPE_ALLOW_LIVE", "1"),
        ])
        .unwrap();
        assert!(matches!(c.mode, StripeMode::Stripe(ref k) if k.live));
    }

    #[test]
    fn the_edge_has_safe_defaults_and_reads_its_settings() {
        let d = parse(&[]).unwrap().edge;
        assert_eq!(d, EdgeConfig::default());
        assert!(!d.https && d.public_origin.is_none() && d.trusted_proxies.is_empty());
        let c = parse(&[
            ("PUBLIC_URL", "HTTPS://Bank.Example.com/app?x=1"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, ::1"),
            ("RATE_LIMIT_IP_BURST", "500"),
            ("HTTP_HEADER_TIMEOUT_SECS", "3"),
        ])
        .unwrap()
        .edge;
        assert_eq!(c.public_origin.as_deref(), Some("https://bank.example.com"));
        assert!(c.https);
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.per_ip.burst, 500);
        assert_eq!(c.serve.header_read_timeout, Duration::from_secs(3));
        for (k, v, e) in [
            ("PUBLIC_URL", "bank.example.com", ConfigError::BadPublicUrl),
            ("PUBLIC_URL", "https://user@evil.example", ConfigError::BadPublicUrl),
            ("TRUSTED_PROXIES", "10.0.0.0/99", ConfigError::BadTrustedProxies),
            (
                "RATE_LIMIT_IP_BURST",
                "0",
                ConfigError::BadNumber("RATE_LIMIT_IP_BURST", 1_000_000),
            ),
            (
                "HTTP_MAX_CONNECTIONS",
                "lots",
                ConfigError::BadNumber("HTTP_MAX_CONNECTIONS", 1_000_000),
            ),
        ] {
            assert_eq!(parse(&[(k, v)]).unwrap_err(), e, "{k}={v}");
        }
    }

    #[test]
    fn live_keys_never_go_over_plain_http() {
        let live = [
            ("STRIPE_SECRET_KEY", "sk_live_1"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_live_1"),
            ("STRIPE_ALLOW_LIVE", "1"),
        ];
        let with = |k: &'static str, v: &'static str| {
            let mut env = live.to_vec();
            env.push((k, v));
            parse(&env)
        };
        assert_eq!(
            with("STRIPE_API_BASE", "http://stripe.internal").unwrap_err(),
            ConfigError::PlainHttpWithLiveKeys("STRIPE_API_BASE")
        );
        assert_eq!(
            with("STRIPE_JS_URL", "http://js.example/v3/").unwrap_err(),
            ConfigError::PlainHttpWithLiveKeys("STRIPE_JS_URL")
        );
        assert!(with("STRIPE_API_BASE", "https://api.stripe.com").is_ok());
        // Test keys may use a local http sandbox.
        let test = parse(&[
            ("STRIPE_SECRET_KEY", "sk_test_1"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_1"),
            ("STRIPE_API_BASE", "http://127.0.0.1:12111"),
        ]);
        assert!(test.is_ok());
    }

    #[test]
    fn several_webhook_secrets_for_rotation() {
        let c = parse(&[("STRIPE_WEBHOOK_SECRET", "whsec_a, whsec_b")]).unwrap();
        assert_eq!(c.webhook_secrets.len(), 2);
    }

    #[test]
    fn debug_and_describe_never_show_the_secret() {
        let c = parse(&[
            ("STRIPE_SECRET_KEY", "sk_test_supersecretvalue"),
            ("STRIPE_PUBLISHABLE_KEY", "pk_test_1"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("supersecret"));
        assert!(!c.describe().contains("supersecret"));
    }
}
