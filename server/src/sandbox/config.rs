//! How the sandbox is set up: refresh timing, webhook retries, what it
//! holds at most ([`Limits`]) and the standalone server's options, each with
//! defaults for a public deployment and overridable by environment variables
//! or (in tests) directly.

use crate::sandbox::urls::allowed_host;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the sandbox keeps its state: `SANDBOX_DATABASE_URL`, either
/// `sqlite://PATH` (its own SQLite file, created when missing) or `memory`
/// (nothing survives a restart; SQLite's `sqlite::memory:` means the same).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateFile {
    Memory,
    Sqlite(PathBuf),
}

impl StateFile {
    /// `SANDBOX_DATABASE_URL`'s value, or `default` when it is unset or empty.
    pub fn parse(value: Option<&str>, default: StateFile) -> Result<Self, String> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some("memory") => Ok(StateFile::Memory),
            Some(v) => Self::from_sqlite_url(v)
                .ok_or_else(|| format!("SANDBOX_DATABASE_URL={v:?}: must be sqlite://PATH (the sandbox's own file) or memory")),
        }
    }

    /// [`Self::parse`] on the process environment.
    pub fn from_env(default: StateFile) -> Result<Self, String> {
        Self::parse(std::env::var("SANDBOX_DATABASE_URL").ok().as_deref(), default)
    }

    /// The file a `sqlite:` URL names (`sqlite://a/b.db`, `sqlite:b.db?mode=rwc`),
    /// or memory for SQLite's in-memory URLs; `None` for anything else.
    pub fn from_sqlite_url(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() || path == ":memory:" || query.split('&').any(|kv| kv == "mode=memory") {
            return Some(StateFile::Memory);
        }
        Some(StateFile::Sqlite(PathBuf::from(path)))
    }

    /// A state file beside `file`: `data/fc_app.db` → `data/fc_app.sandbox.db`.
    pub fn beside(file: &Path) -> Self {
        let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        StateFile::Sqlite(file.with_file_name(format!("{stem}.sandbox.db")))
    }
}

/// How long refreshes take and how soon another may start.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub refresh_delay: Duration,
    pub refresh_cooldown_secs: i64,
    /// How often a `subscribe`d account refreshes its transactions (Stripe: daily).
    pub subscription_interval: Duration,
    /// How long a confirmed bank payment stays `processing` before it
    /// succeeds or fails (Stripe live: up to 4 business days).
    pub payment_delay: Duration,
}

impl Timing {
    /// `SANDBOX_REFRESH_DELAY_MS` (default 1000),
    /// `SANDBOX_REFRESH_COOLDOWN_SECS` (default 10) and
    /// `SANDBOX_PAYMENT_DELAY_MS` (default 2000); unparsable values keep the default.
    pub fn from_env() -> Self {
        let d = Self::default();
        Timing {
            refresh_delay: env_u64("SANDBOX_REFRESH_DELAY_MS")
                .map(Duration::from_millis)
                .unwrap_or(d.refresh_delay),
            refresh_cooldown_secs: env_u64("SANDBOX_REFRESH_COOLDOWN_SECS")
                .map(|s| s as i64)
                .unwrap_or(d.refresh_cooldown_secs),
            subscription_interval: d.subscription_interval,
            payment_delay: env_u64("SANDBOX_PAYMENT_DELAY_MS")
                .map(Duration::from_millis)
                .unwrap_or(d.payment_delay),
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            refresh_delay: Duration::from_secs(1),
            refresh_cooldown_secs: 10,
            subscription_interval: Duration::from_secs(24 * 60 * 60),
            payment_delay: Duration::from_secs(2),
        }
    }
}

/// How webhook deliveries are retried while an endpoint fails.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// What one sandbox holds at most, so a public deployment cannot be made to
/// keep everything forever. Every figure is configurable by environment
/// variable (tests set them low); the defaults keep a flood of keys within a
/// bounded memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Keys with data at once (`SANDBOX_MAX_KEYS`); past it the least
    /// recently used key is forgotten.
    pub max_keys: usize,
    /// Approximate bytes of all keys' data (`SANDBOX_MAX_MEMORY_MB`); past it
    /// the least recently used keys are forgotten, and one key may hold at
    /// most half of it (then creating gets a 400 and refreshes fail).
    pub max_bytes: usize,
    /// Per key, of each kind of object it creates (customers, sessions,
    /// accounts, tokens) and of each record kept for it (events, idempotent
    /// responses, webhook deliveries, transaction refreshes per account)
    /// (`SANDBOX_MAX_OBJECTS`).
    pub max_objects: usize,
    /// Webhook endpoints per key (`SANDBOX_MAX_WEBHOOK_ENDPOINTS`; Stripe: 16).
    pub max_webhook_endpoints: usize,
    /// Fault rules per key (`SANDBOX_MAX_FAULTS`).
    pub max_faults: usize,
    /// Webhook deliveries in flight at once, all keys together
    /// (`SANDBOX_MAX_DELIVERIES_IN_FLIGHT`).
    pub max_deliveries_in_flight: usize,
    /// Webhook deliveries in flight at once for one key
    /// (`SANDBOX_MAX_DELIVERIES_PER_KEY`).
    pub max_deliveries_per_key: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_keys: 1000,
            max_bytes: 64 * MIB,
            max_objects: 1000,
            max_webhook_endpoints: 16,
            max_faults: 32,
            max_deliveries_in_flight: 32,
            max_deliveries_per_key: 4,
        }
    }
}

const MIB: usize = 1024 * 1024;

impl Limits {
    /// The defaults, overridden by `SANDBOX_MAX_*` variables; a value that is
    /// not a whole number from 1 up is refused, naming the variable.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`Self::from_env`] over any source of variables.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let d = Self::default();
        let read = |name: &str, default: usize, max: usize| -> Result<usize, String> {
            match var(name) {
                None => Ok(default),
                Some(v) if v.trim().is_empty() => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or_else(|| format!("{name}={v:?}: must be a whole number from 1 to {max}")),
            }
        };
        Ok(Limits {
            max_keys: read("SANDBOX_MAX_KEYS", d.max_keys, 1_000_000)?,
            max_bytes: read("SANDBOX_MAX_MEMORY_MB", d.max_bytes / MIB, 1 << 20)? * MIB,
            max_objects: read("SANDBOX_MAX_OBJECTS", d.max_objects, 1_000_000)?,
            max_webhook_endpoints: read("SANDBOX_MAX_WEBHOOK_ENDPOINTS", d.max_webhook_endpoints, 1000)?,
            max_faults: read("SANDBOX_MAX_FAULTS", d.max_faults, 10_000)?,
            max_deliveries_in_flight: read("SANDBOX_MAX_DELIVERIES_IN_FLIGHT", d.max_deliveries_in_flight, 10_000)?,
            max_deliveries_per_key: read("SANDBOX_MAX_DELIVERIES_PER_KEY", d.max_deliveries_per_key, 10_000)?,
        })
    }
}

/// `server sandbox [--addr HOST:PORT] [--webhook-allow HOST[,HOST…]]…`, plus
/// `SANDBOX_WEBHOOK_ALLOW` (same list): where the standalone sandbox listens
/// and which hosts besides loopback its webhooks may go to.
#[derive(Debug, PartialEq)]
pub struct Standalone {
    pub addr: SocketAddr,
    /// Normalised as the URL parser prints hosts (lowercase, `[v6]`).
    pub webhook_hosts: Vec<String>,
}

impl Standalone {
    pub fn parse(args: &[String], env_allow: Option<&str>, default_addr: &str) -> Result<Self, String> {
        const USAGE: &str = "usage: server sandbox [--addr HOST:PORT] [--webhook-allow HOST[,HOST…]]";
        let mut addr = default_addr.to_owned();
        let mut lists: Vec<String> = env_allow.map(str::to_owned).into_iter().collect();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            match flag.as_str() {
                "--addr" => addr = value.clone(),
                "--webhook-allow" => lists.push(value.clone()),
                other => return Err(format!("unknown option {other}\n{USAGE}")),
            }
        }
        let addr = addr.parse().map_err(|e| format!("--addr {addr}: {e}"))?;
        let mut webhook_hosts = Vec::new();
        for entry in lists
            .iter()
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let host = allowed_host(entry).map_err(|e| format!("--webhook-allow / SANDBOX_WEBHOOK_ALLOW: {e}"))?;
            if !webhook_hosts.contains(&host) {
                webhook_hosts.push(host);
            }
        }
        Ok(Standalone { addr, webhook_hosts })
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn limits_default_and_read_from_the_environment() {
        assert_eq!(Limits::from_vars(vars(&[])), Ok(Limits::default()));
        let l = Limits::from_vars(vars(&[("SANDBOX_MAX_KEYS", "5"), ("SANDBOX_MAX_MEMORY_MB", " 2 ")])).unwrap();
        assert_eq!((l.max_keys, l.max_bytes), (5, 2 * MIB));
        for bad in ["0", "-1", "many", "1.5", "99999999999999999999"] {
            let e = Limits::from_vars(vars(&[("SANDBOX_MAX_OBJECTS", bad)])).unwrap_err();
            assert!(e.contains("SANDBOX_MAX_OBJECTS"), "{e}");
        }
    }

    #[test]
    fn state_file_locations() {
        let file = |p: &str| StateFile::Sqlite(PathBuf::from(p));
        let default = file("sandbox.db");
        assert_eq!(StateFile::parse(None, default.clone()), Ok(default.clone()));
        assert_eq!(StateFile::parse(Some(" "), default.clone()), Ok(default.clone()));
        assert_eq!(StateFile::parse(Some("memory"), default.clone()), Ok(StateFile::Memory));
        assert_eq!(
            StateFile::parse(Some("sqlite::memory:"), default.clone()),
            Ok(StateFile::Memory)
        );
        assert_eq!(
            StateFile::parse(Some("sqlite://x.db?mode=memory"), default.clone()),
            Ok(StateFile::Memory)
        );
        assert_eq!(
            StateFile::parse(Some("sqlite://target/s.db"), default.clone()),
            Ok(file("target/s.db"))
        );
        assert_eq!(
            StateFile::parse(Some("sqlite:///abs/s.db?mode=rwc"), default.clone()),
            Ok(file("/abs/s.db"))
        );
        for bad in ["postgres://db/x", "s.db", "mem"] {
            let e = StateFile::parse(Some(bad), default.clone()).unwrap_err();
            assert!(e.contains("SANDBOX_DATABASE_URL"), "{e}");
        }
        assert_eq!(StateFile::beside(Path::new("data/fc_app.db")), file("data/fc_app.sandbox.db"));
        assert_eq!(StateFile::beside(Path::new("fc_app")), file("fc_app.sandbox.db"));
    }

    #[test]
    fn standalone_options() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let s = Standalone::parse(&[], None, "127.0.0.1:12111").unwrap();
        assert_eq!((s.addr.port(), s.webhook_hosts.len()), (12111, 0));
        let s = Standalone::parse(
            &args(&[
                "--addr",
                "127.0.0.1:1",
                "--webhook-allow",
                "Hooks.Example.test, 10.0.0.5",
                "--webhook-allow",
                "[FD00::1]",
            ]),
            Some("ci.example.test"),
            "127.0.0.1:12111",
        )
        .unwrap();
        assert_eq!(s.addr.port(), 1);
        assert_eq!(
            s.webhook_hosts,
            ["ci.example.test", "hooks.example.test", "10.0.0.5", "[fd00::1]"]
        );
        for bad in [
            &["--addr"][..],
            &["--addr", "nowhere"],
            &["--port", "1"],
            &["--webhook-allow", "a b"],
            &["--webhook-allow", "x:80"],
        ] {
            assert!(Standalone::parse(&args(bad), None, "127.0.0.1:12111").is_err(), "{bad:?}");
        }
    }
}
