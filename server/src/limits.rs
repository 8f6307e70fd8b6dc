//! Request rate limits: who the client is (its IP, read through a trusted
//! proxy only) and how fast it may go — per IP for every page, asset and
//! server-function call, and per user for server functions. Over a limit the
//! answer is 429 with `Retry-After`; server functions get the
//! `AppError::RateLimited` body the page shows as a sentence.
//!
//! These token buckets live in this instance's memory: behind a load balancer
//! with N instances a client gets at most N times the rate. That still bounds
//! what one instance spends per client, and the quotas that matter across
//! instances (users, Customers and Sessions created) are kept in the database.

use app::error::AppError;
use app::service::UserId;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Requests per second and burst for one kind of client key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

impl Rate {
    fn quota(self) -> Quota {
        let nz = |n: u32| NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN);
        Quota::per_second(nz(self.per_second)).allow_burst(nz(self.burst))
    }
}

/// An IP network in CIDR form (`10.0.0.0/8`, `::1/128`, or a bare address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn parse(raw: &str) -> Option<Self> {
        let (addr, prefix) = match raw.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (raw.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 (`::ffff:1.2.3.4`) as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy, in
/// which case the rightmost `X-Forwarded-For` entry that is not itself a
/// trusted proxy (clients control everything left of what our proxies
/// appended). Malformed entries end the walk at the last good address.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    let entries = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect::<Vec<_>>();
    for entry in entries.iter().rev().take(32) {
        match entry.trim().parse::<IpAddr>() {
            Ok(ip) => {
                client = canonical(ip);
                if !is_trusted(client) {
                    return client;
                }
            }
            Err(_) => return client,
        }
    }
    client
}

/// The key an IP is limited under: IPv6 clients by their /64 (one
/// subscriber's whole prefix), IPv4 by address.
fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The client IP a request came from, as the limits resolved it; handlers
/// read it as an extension (quotas, mandate acceptance, logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Server functions that create objects at Stripe (a Session, a
/// PaymentIntent, and the user's Customer the first time): each counts against the address's
/// hourly quota of Stripe writes.
pub const CREATES_STRIPE_OBJECTS: &[&str] = &[
    "/api/start_link",
    "/api/start_bank_token",
    "/api/pay_from_account",
    "/api/start_bank_payment",
];

pub struct Limits {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_user: DefaultKeyedRateLimiter<UserId>,
    new_sessions: DefaultKeyedRateLimiter<IpAddr>,
    stripe_writes: DefaultKeyedRateLimiter<IpAddr>,
    trusted_proxies: Vec<IpNet>,
}

impl Limits {
    pub fn new(edge: &crate::config::EdgeConfig) -> Arc<Self> {
        let hourly = |n: u32| Quota::per_hour(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN));
        Arc::new(Limits {
            per_ip: DefaultKeyedRateLimiter::keyed(edge.per_ip.quota()),
            per_user: DefaultKeyedRateLimiter::keyed(edge.per_user.quota()),
            new_sessions: DefaultKeyedRateLimiter::keyed(hourly(edge.new_sessions_per_hour)),
            stripe_writes: DefaultKeyedRateLimiter::keyed(hourly(edge.links_per_hour)),
            trusted_proxies: edge.trusted_proxies.clone(),
        })
    }

    /// Takes one of the address's new sessions for this hour; `Some(wait)` when none is left.
    pub fn new_session(&self, ip: IpAddr) -> Option<Duration> {
        Self::wait(self.new_sessions.check_key(&ip_key(ip)))
    }

    /// Forgets buckets that are full again, every minute, while `limits` lives.
    pub fn spawn_cleanup(limits: &Arc<Self>) {
        let weak = Arc::downgrade(limits);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(l) = weak.upgrade() else { return };
                l.per_ip.retain_recent();
                l.per_ip.shrink_to_fit();
                l.per_user.retain_recent();
                l.per_user.shrink_to_fit();
                l.new_sessions.retain_recent();
                l.stripe_writes.retain_recent();
            }
        });
    }

    fn wait(outcome: Result<(), governor::NotUntil<governor::clock::QuantaInstant>>) -> Option<Duration> {
        outcome.err().map(|n| n.wait_time_from(DefaultClock::default().now()))
    }
}

/// Paths a per-IP limit does not apply to: Stripe's webhook deliveries
/// (signed, and Stripe sends them in bursts), health checks, and the
/// embedded sandbox's API (authenticated by secret key and bounded per key;
/// the app itself calls it).
fn exempt(path: &str) -> bool {
    path == "/webhooks/stripe"
        || path == "/healthz"
        || path == "/readyz"
        || path.starts_with("/sandbox/v1/")
        || path.starts_with("/sandbox/_sandbox/")
}

/// Middleware: resolves the client IP (stored as [`ClientIp`]) and applies the per-IP limit.
pub async fn per_ip(State(limits): State<Arc<Limits>>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let ip = client_ip(peer, req.headers(), &limits.trusted_proxies);
    req.extensions_mut().insert(ClientIp(ip));
    // The same address for the app's server functions (mandate acceptance).
    req.extensions_mut().insert(app::service::ClientAddr(ip));
    if !exempt(req.uri().path()) {
        if let Some(wait) = Limits::wait(limits.per_ip.check_key(&ip_key(ip))) {
            tracing::info!(%ip, path = req.uri().path(), "rate limited (per IP)");
            return too_many(req.uri().path(), wait);
        }
    }
    next.run(req).await
}

/// Middleware for server functions (after the session middleware): the
/// per-user limit, and the address's hourly quota of Stripe writes for the
/// calls that create Stripe objects.
pub async fn per_user(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") {
        if let Some(user) = req.extensions().get::<UserId>() {
            if let Some(wait) = Limits::wait(limits.per_user.check_key(user)) {
                tracing::info!(path, "rate limited (per user)");
                return too_many(path, wait);
            }
        }
        if CREATES_STRIPE_OBJECTS.contains(&path) {
            let ip = req.extensions().get::<ClientIp>().map(|c| ip_key(c.0));
            if let Some(wait) = ip.and_then(|ip| Limits::wait(limits.stripe_writes.check_key(&ip))) {
                tracing::info!(path, "refused a Stripe write: too many from this address this hour");
                return too_many(path, wait);
            }
        }
    }
    next.run(req).await
}

/// 429 with `Retry-After` (whole seconds, at least 1); server functions get
/// the error the page shows.
pub fn too_many(path: &str, wait: Duration) -> Response {
    let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    let error = AppError::RateLimited { retry_after_secs: secs };
    let mut resp = if path.starts_with("/api/") {
        crate::web::app_error_response(&error)
    } else {
        (StatusCode::TOO_MANY_REQUESTS, error.to_string()).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks() {
        let net = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.1.2.3")) && !net.contains(ip("11.0.0.1")));
        assert!(IpNet::parse("::1").unwrap().contains(ip("::1")));
        assert!(
            IpNet::parse("10.0.0.0/8").unwrap().contains(ip("::ffff:10.0.0.1")),
            "mapped IPv4"
        );
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["", "10.0.0.0/33", "::/129", "x/8", "10.0.0.0/"] {
            assert_eq!(IpNet::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let proxy = vec![IpNet::parse("10.0.0.0/8").unwrap()];
        let spoofed = headers(&["1.1.1.1"]);
        // An untrusted peer's header is ignored.
        assert_eq!(client_ip(ip("203.0.113.9"), &spoofed, &proxy), ip("203.0.113.9"));
        assert_eq!(client_ip(ip("203.0.113.9"), &spoofed, &[]), ip("203.0.113.9"));
        // Through our proxy: the rightmost address it did not add itself.
        let chain = headers(&["1.1.1.1, 198.51.100.7", "10.0.0.2"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &chain, &proxy), ip("198.51.100.7"));
        // Nothing forwarded: the proxy itself.
        assert_eq!(client_ip(ip("10.0.0.1"), &HeaderMap::new(), &proxy), ip("10.0.0.1"));
        // Garbage stops the walk at the last good address.
        let junk = headers(&["1.1.1.1, not-an-ip, 10.0.0.3"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &junk, &proxy), ip("10.0.0.3"));
    }

    #[test]
    fn ipv6_clients_share_their_prefix() {
        assert_eq!(ip_key(ip("2001:db8:1:2:3:4:5:6")), ip_key(ip("2001:db8:1:2:ffff::1")));
        assert_ne!(ip_key(ip("2001:db8:1:2::1")), ip_key(ip("2001:db8:1:3::1")));
        assert_eq!(ip_key(ip("192.0.2.1")), ip("192.0.2.1"));
    }

    #[test]
    fn a_burst_then_429_with_retry_after() {
        let edge = crate::config::EdgeConfig {
            per_ip: Rate { per_second: 1, burst: 3 },
            ..Default::default()
        };
        let limits = Limits::new(&edge);
        let key = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(Limits::wait(limits.per_ip.check_key(&key)), None);
        }
        let wait = Limits::wait(limits.per_ip.check_key(&key)).expect("over the burst");
        let resp = too_many("/api/start_link", wait);
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        assert!(
            Limits::wait(limits.per_ip.check_key(&ip("192.0.2.2"))).is_none(),
            "other clients are unaffected"
        );
    }
}
