//! A bounded HTTP load generator for `make soak` and `make bench`, loopback
//! only: N keep-alive connections, each sending one request after another to
//! one URL until the time or request bound, then one JSON line on stdout:
//!
//! ```json
//! {"url":"…","connections":64,"seconds":10.0,"requests":123,"rps":12.3,"errors":0,
//!  "statuses":{"200":123},"latency_ms":{"p50":1.2,"p90":2.0,"p99":4.1,"max":9.0,"mean":1.4}}
//! ```
//!
//! ```sh
//! cargo run --release -p server --example load -- --url http://127.0.0.1:3000/ \
//!     --connections 64 --seconds 10 [--max-requests 1000000] [--method POST] \
//!     [--header "Cookie: fc_session=…"]… [--body 'a=1']
//! ```
//!
//! `errors` counts requests with no HTTP answer (refused, reset, timed out);
//! every answer, 4xx and 5xx included, is counted under its status. It refuses
//! any URL that is not loopback, before sending anything.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: load --url http://127.0.0.1:PORT/PATH [--connections N] [--seconds S] \
                     [--max-requests N] [--method GET|POST|…] [--header 'K: V']… [--body B]";

#[derive(Debug)]
struct Options {
    url: reqwest::Url,
    connections: usize,
    seconds: f64,
    max_requests: u64,
    method: reqwest::Method,
    headers: Vec<(reqwest::header::HeaderName, reqwest::header::HeaderValue)>,
    body: Option<String>,
}

#[path = "support/loopback.rs"]
mod support;
use support::loopback;

fn parse(args: &[String]) -> Result<Options, String> {
    let mut url = None;
    let (mut connections, mut seconds, mut max_requests) = (64usize, 10.0f64, 10_000_000u64);
    let mut method = reqwest::Method::GET;
    let mut headers = Vec::new();
    let mut body = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--url" => {
                let parsed = reqwest::Url::parse(value).map_err(|e| format!("--url: {e}"))?;
                if !matches!(parsed.scheme(), "http" | "https") || !loopback(&parsed) {
                    return Err(format!("refusing {value}: only http(s) URLs on loopback"));
                }
                url = Some(parsed);
            }
            "--connections" => {
                connections = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1024).contains(n))
                    .ok_or("--connections must be 1 to 1024")?
            }
            "--seconds" => {
                seconds = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0 && *s <= 600.0)
                    .ok_or("--seconds must be above 0 and at most 600")?
            }
            "--max-requests" => {
                max_requests = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=100_000_000).contains(n))
                    .ok_or("--max-requests must be 1 to 100000000")?
            }
            "--method" => method = reqwest::Method::from_bytes(value.as_bytes()).map_err(|_| format!("bad method {value}"))?,
            "--header" => {
                let (name, val) = value.split_once(':').ok_or("--header wants 'Name: value'")?;
                let name = reqwest::header::HeaderName::from_bytes(name.trim().as_bytes())
                    .map_err(|_| format!("bad header name in {value}"))?;
                let val =
                    reqwest::header::HeaderValue::from_str(val.trim()).map_err(|_| format!("bad header value in {value}"))?;
                headers.push((name, val));
            }
            "--body" => body = Some(value.clone()),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    let url = url.ok_or_else(|| format!("--url is required\n{USAGE}"))?;
    Ok(Options {
        url,
        connections,
        seconds,
        max_requests,
        method,
        headers,
        body,
    })
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
}

async fn connection(options: Arc<Options>, until: Instant, budget: Arc<AtomicU64>) -> Tally {
    let mut tally = Tally::default();
    // One client per connection with one idle slot: requests reuse one keep-alive connection.
    let client = match reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .http1_only()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(_) => {
            tally.errors += 1;
            return tally;
        }
    };
    while Instant::now() < until {
        // Take one request from the shared budget; stop when it is spent.
        if budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_err()
        {
            break;
        }
        let mut request = client.request(options.method.clone(), options.url.clone());
        for (name, value) in &options.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &options.body {
            request = request.body(body.clone());
        }
        let start = Instant::now();
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                // The whole body, as a browser would read it.
                response.bytes().await.map(|_| status)
            }
            Err(e) => Err(e),
        };
        match outcome {
            Ok(status) => {
                tally.latencies_us.push(start.elapsed().as_micros() as u64);
                *tally.statuses.entry(status).or_default() += 1;
            }
            Err(_) => {
                tally.errors += 1;
                // Do not spin on a refused connection.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    tally
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => Arc::new(options),
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(options.seconds);
    let budget = Arc::new(AtomicU64::new(options.max_requests));
    let workers: Vec<_> = (0..options.connections)
        .map(|_| tokio::spawn(connection(options.clone(), until, budget.clone())))
        .collect();
    let mut all = Tally::default();
    for worker in workers {
        if let Ok(tally) = worker.await {
            all.latencies_us.extend(tally.latencies_us);
            all.errors += tally.errors;
            for (status, n) in tally.statuses {
                *all.statuses.entry(status).or_default() += n;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    let answered = all.latencies_us.len() as u64;
    let mean = if answered == 0 {
        0.0
    } else {
        all.latencies_us.iter().sum::<u64>() as f64 / answered as f64 / 1000.0
    };
    let statuses: serde_json::Map<String, serde_json::Value> =
        all.statuses.iter().map(|(s, n)| (s.to_string(), (*n).into())).collect();
    let report = serde_json::json!({
        "url": options.url.as_str(),
        "method": options.method.as_str(),
        "connections": options.connections,
        "seconds": round(elapsed),
        "requests": answered + all.errors,
        "rps": round(answered as f64 / elapsed.max(1e-9)),
        "errors": all.errors,
        "statuses": statuses,
        "latency_ms": {
            "p50": round(percentile(&all.latencies_us, 50.0)),
            "p90": round(percentile(&all.latencies_us, 90.0)),
            "p99": round(percentile(&all.latencies_us, 99.0)),
            "max": round(percentile(&all.latencies_us, 100.0)),
            "mean": round(mean),
        },
    });
    println!("{report}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_loopback_urls_are_accepted() {
        for ok in [
            "http://127.0.0.1:3000/",
            "http://127.9.9.9/",
            "http://[::1]:80/x",
            "http://localhost:1/",
        ] {
            assert!(parse(&args(&["--url", ok])).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://example.com/",
            "http://[::ffff:10.0.0.1]/",
            "http://0x7f000001.example/",
            "ftp://127.0.0.1/",
        ] {
            assert!(parse(&args(&["--url", bad])).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_are_bounded_and_headers_parsed() {
        assert!(parse(&args(&["--url", "http://127.0.0.1/", "--connections", "0"])).is_err());
        assert!(parse(&args(&["--url", "http://127.0.0.1/", "--seconds", "601"])).is_err());
        assert!(parse(&args(&["--url", "http://127.0.0.1/", "--header", "no-colon"])).is_err());
        assert!(parse(&args(&["--url", "http://127.0.0.1/", "--bogus", "1"])).is_err());
        assert!(parse(&args(&["--connections", "4"])).is_err(), "url is required");
        let o = parse(&args(&[
            "--url",
            "http://127.0.0.1/api/x",
            "--method",
            "POST",
            "--header",
            "Cookie: a=b",
            "--body",
            "x=1",
        ]))
        .unwrap();
        assert_eq!(o.method, reqwest::Method::POST);
        assert_eq!(o.headers[0].0.as_str(), "cookie");
        assert_eq!(o.headers[0].1.to_str().unwrap(), "a=b");
        assert_eq!(o.body.as_deref(), Some("x=1"));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<u64> = (1..=100).map(|n| n * 1000).collect();
        assert_eq!(percentile(&sorted, 50.0), 50.0);
        assert_eq!(percentile(&sorted, 99.0), 99.0);
        assert_eq!(percentile(&sorted, 100.0), 100.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
