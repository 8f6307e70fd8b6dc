//! Where the sandbox may deliver webhooks: loopback only (127.0.0.0/8, ::1,
//! `localhost`), plus hosts an operator allow-lists for the standalone
//! sandbox. URLs are read with the same WHATWG parser the HTTP client uses,
//! so decimal, octal and hex IPv4 forms, IPv4-mapped IPv6 and userinfo
//! tricks are judged by the host a delivery would really reach. Checked at
//! registration; nothing is ever sent to test a URL.

use crate::sandbox::error::ApiError;
use reqwest::Url;
use std::net::IpAddr;

/// Longest webhook URL accepted.
pub const MAX_URL: usize = 2048;

/// Whether `host` (as the URL parser prints it) is a loopback address or `localhost`.
pub fn is_loopback(host: &str) -> bool {
    match host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => ip.is_loopback(),
        Ok(IpAddr::V6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        Err(_) => host == "localhost",
    }
}

/// An allow-list entry (`hooks.example.com`, `10.0.0.5`, `[fd00::1]`) as the
/// URL parser prints hosts, or why it is not a host.
pub fn allowed_host(entry: &str) -> Result<String, String> {
    let entry = entry.trim();
    let parsed = Url::parse(&format!("http://{entry}/")).map_err(|e| format!("{entry:?}: {e}"))?;
    // A port the scheme's default would hide (`host:80`) shows under the other scheme.
    let port = Url::parse(&format!("https://{entry}/")).is_ok_and(|u| u.port().is_some()) || parsed.port().is_some();
    match parsed.host_str() {
        Some(h) if !entry.is_empty() && !port && parsed.username().is_empty() && parsed.path() == "/" => Ok(h.to_owned()),
        _ => Err(format!(
            "{entry:?} is not a host name or address (no scheme, port, user or path)"
        )),
    }
}

/// Checks a webhook endpoint's `url`: http(s), no credentials, and a host
/// that is loopback or in `allowed`. Returns the URL as it will be used.
pub fn webhook_url(raw: &str, allowed: &[String]) -> Result<String, ApiError> {
    let invalid = |why: &str| ApiError::invalid("url", format!("Invalid URL: {why}"));
    if raw.len() > MAX_URL {
        return Err(invalid(&format!("must be at most {MAX_URL} characters.")));
    }
    let url = Url::parse(raw).map_err(|_| invalid("must be an absolute http(s) URL."))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must be an http(s) URL."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain a user name or password."));
    }
    let host = url.host_str().unwrap_or_default();
    if !(is_loopback(host) || allowed.iter().any(|a| a == host)) {
        return Err(ApiError::invalid(
            "url",
            format!(
                "Invalid URL: this sandbox delivers webhooks only to loopback addresses \
                 (127.0.0.0/8, ::1, localhost){}; `{host}` is not one.",
                if allowed.is_empty() { "" } else { " and its allow-list" }
            ),
        ));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_accepted_in_every_spelling() {
        for ok in [
            "http://127.0.0.1:3000/webhooks/stripe",
            "https://127.9.8.7/x",
            "http://localhost:8080/hook",
            "http://LOCALHOST/hook",
            "http://[::1]:9/x",
            "http://[::ffff:127.0.0.1]/x",
            "http://2130706433/x",
            "http://0177.0.0.1/x",
            "http://0x7f.1/x",
            "http://127.1/x",
        ] {
            assert!(webhook_url(ok, &[]).is_ok(), "{ok}");
        }
        assert_eq!(webhook_url("http://2130706433:5/x", &[]).unwrap(), "http://127.0.0.1:5/x");
    }

    #[test]
    fn everything_else_is_refused_without_a_connection() {
        for bad in [
            "http://10.0.0.1/x",
            "http://example.com/",
            "http://[::ffff:10.0.0.1]/",
            "http://[::ffff:a00:1]/",
            "http://127.0.0.1@evil.com/",
            "http://127.0.0.1:80@evil.com/",
            "http://user:pw@127.0.0.1/",
            "http://167772161/",
            "http://012.0.0.1/",
            "http://0x0a.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/",
            "http://[::]/",
            "http://localhost.evil.com/",
            "http://localhost./",
            "http://127.0.0.1.nip.io/",
            "ftp://127.0.0.1/",
            "file:///etc/passwd",
            "//127.0.0.1/x",
            "127.0.0.1/x",
            "",
        ] {
            let e = webhook_url(bad, &[]).expect_err(bad);
            assert_eq!((e.status.as_u16(), e.param.as_deref()), (400, Some("url")), "{bad}");
        }
        let long = format!("http://127.0.0.1/{}", "a".repeat(MAX_URL));
        assert!(webhook_url(&long, &[]).is_err());
    }

    #[test]
    fn an_allow_list_adds_exactly_its_hosts() {
        let allowed: Vec<String> = ["hooks.example.test", "10.0.0.5", "[fd00::1]"]
            .iter()
            .map(|h| allowed_host(h).unwrap())
            .collect();
        for ok in [
            "https://hooks.example.test/x",
            "http://HOOKS.example.test:8443/y",
            "http://10.0.0.5/",
            "http://[fd00::1]/",
        ] {
            assert!(webhook_url(ok, &allowed).is_ok(), "{ok}");
        }
        for bad in [
            "https://evil.hooks.example.test/",
            "http://10.0.0.6/",
            "http://hooks.example.test@evil.com/",
        ] {
            assert!(webhook_url(bad, &allowed).is_err(), "{bad}");
        }
        for bad in [
            "",
            "a b",
            "host/path",
            "host:80",
            "host:443",
            "host:8080",
            "user@host",
            "http://x",
        ] {
            assert!(allowed_host(bad).is_err(), "{bad}");
        }
    }
}
