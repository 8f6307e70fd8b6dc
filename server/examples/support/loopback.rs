//! The rule every load and flood example keeps: it sends only to loopback.
//! (Shared by `load.rs` and `sandbox_flood.rs` through `#[path]`; not an
//! example of its own.)

use std::net::IpAddr;

/// Only loopback: 127.0.0.0/8, ::1 (or an IPv4-mapped loopback) and `localhost`.
/// (The URL parser has already turned decimal, octal and hex IPv4 forms into
/// dotted quads.)
pub fn loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Err(_) => host == "localhost",
    }
}
