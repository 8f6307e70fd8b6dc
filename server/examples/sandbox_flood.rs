//! Floods a standalone sandbox (`server sandbox`) on loopback with many keys,
//! each creating customers with large descriptions, and prints one JSON
//! line: the sandbox process's resident memory before and after (from
//! `/proc/PID/status`), the requests made, how many failed, and the time
//! taken. `make soak` runs it against a release build.
//!
//! ```sh
//! cargo run --release -p server --example sandbox_flood -- --base http://127.0.0.1:12111 --pid PID
//! ```
//!
//! Options (defaults: the figure issue #9 asks for): `--keys 4000`,
//! `--customers 10` per key, `--description-bytes 5000`, `--concurrency 32`.
//! It refuses any base that is not loopback, and every request it makes has
//! a timeout, so it always ends.

use futures_util::stream::{self, StreamExt};
use std::time::{Duration, Instant};

struct Options {
    base: reqwest::Url,
    pid: u32,
    keys: usize,
    customers: usize,
    description_bytes: usize,
    concurrency: usize,
}

const USAGE: &str = "usage: sandbox_flood --base http://127.0.0.1:PORT --pid PID \
                     [--keys N] [--customers N] [--description-bytes N] [--concurrency N]";

#[path = "support/loopback.rs"]
mod support;
use support::loopback;

fn parse(args: &[String]) -> Result<Options, String> {
    let mut base = None;
    let mut pid = None;
    let (mut keys, mut customers, mut description_bytes, mut concurrency) = (4000, 10, 5000, 32);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = |max: usize| {
            value
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| format!("{flag} must be a number from 1 to {max}"))
        };
        match flag.as_str() {
            "--base" => base = Some(reqwest::Url::parse(value).map_err(|e| format!("--base {value}: {e}"))?),
            "--pid" => pid = Some(value.parse::<u32>().map_err(|_| format!("--pid {value}: not a process id"))?),
            "--keys" => keys = number(100_000)?,
            "--customers" => customers = number(1_000)?,
            "--description-bytes" => description_bytes = number(5_000)?,
            "--concurrency" => concurrency = number(256)?,
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    let base = base.ok_or_else(|| format!("--base is required\n{USAGE}"))?;
    if !matches!(base.scheme(), "http" | "https") || !loopback(&base) {
        return Err(format!(
            "--base {base}: only a loopback sandbox (127.0.0.0/8, ::1, localhost) may be flooded"
        ));
    }
    let pid = pid.ok_or_else(|| format!("--pid is required\n{USAGE}"))?;
    Ok(Options {
        base,
        pid,
        keys,
        customers,
        description_bytes,
        concurrency,
    })
}

/// `VmRSS` of a process, in KiB.
fn rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmRSS in /proc/{pid}/status"))
}

async fn run(o: Options) -> Result<String, String> {
    let rss_before = rss_kib(o.pid)?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;
    let url = o.base.join("v1/customers").map_err(|e| e.to_string())?;
    // Printable ASCII, so bytes = characters.
    let description: String = "flood ".repeat(o.description_bytes / 6 + 1)[..o.description_bytes].to_owned();
    let body = format!("name=Flood+Customer&description={description}");
    let run_id = std::process::id();
    let started = Instant::now();
    let requests = (0..o.keys).flat_map(|k| (0..o.customers).map(move |_| k));
    let outcomes: Vec<bool> = stream::iter(requests)
        .map(|k| {
            let (http, url, body) = (&http, &url, &body);
            async move {
                http.post(url.clone())
                    .basic_auth(format!("sk_test_flood_{run_id}_{k}"), Some(""))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body.clone())
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .buffer_unordered(o.concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed();
    // Let the allocator settle what the last requests freed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = rss_kib(o.pid)?;
    let errors = outcomes.iter().filter(|ok| !**ok).count();
    Ok(serde_json::json!({
        "keys": o.keys,
        "customers_per_key": o.customers,
        "description_bytes": o.description_bytes,
        "concurrency": o.concurrency,
        "requests": outcomes.len(),
        "errors": errors,
        "rss_before_kib": rss_before,
        "rss_after_kib": rss_after,
        "rss_after_mib": (rss_after as f64 / 1024.0 * 10.0).round() / 10.0,
        "elapsed_ms": elapsed.as_millis() as u64,
    })
    .to_string())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = parse(&args).and_then(|o| tokio::runtime::Runtime::new().map_err(|e| e.to_string())?.block_on(run(o)));
    match result {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sandbox_flood: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(base: &str) -> Vec<String> {
        ["--base", base, "--pid", "1"].iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_loopback_bases_are_flooded() {
        for ok in [
            "http://127.0.0.1:12111",
            "http://127.8.9.10:1",
            "http://[::1]:5",
            "http://localhost:9",
            "http://2130706433:7",
        ] {
            assert!(parse(&args(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:12111",
            "http://example.com/",
            "http://127.0.0.1@evil.com/",
            "http://[::ffff:10.0.0.1]/",
            "http://167772161/",
            "http://0x0a.0.0.1/",
            "ftp://127.0.0.1/",
            "not a url",
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad}");
        }
    }
}
