//! Fills one linked account's stored transactions up to `--total` through the
//! storage layer, fast (one database transaction), for `make bench`
//! (`scripts/bench/frontend.sh`): the account page and `load_transactions`
//! are then measured with 1,000 and 10,000 transactions.
//!
//! ```sh
//! cargo run --release -p server --example bench_seed -- --database-url sqlite://bench.db --account fca_… --total 10000
//! ```
//!
//! The account must have been opened once (so its view is stored). The
//! transactions spread over the last 180 days, a third of them money in;
//! the sync cursor is left as it is (`refreshed_at` 0 never moves it), so
//! the app does not resync the account from Stripe because of them. Prints
//! one JSON line: `{"account","stored_before","added","stored"}`.

use app::model::transactions::{Day, Transaction, TransactionFilter, TransactionStatus};
use app::model::{AccountId, Money};
use server::config::DatabaseConfig;
use server::storage::{Storage, TransactionSync};

const USAGE: &str = "usage: bench_seed --database-url URL --account fca_… --total N (N up to 1000000)";

struct Options {
    database_url: String,
    account: AccountId,
    total: u64,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let (mut database_url, mut account, mut total) = (None, None, None);
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--database-url" => database_url = Some(value.clone()),
            "--account" => account = Some(AccountId::parse(value).map_err(|e| format!("--account: {e}"))?),
            "--total" => {
                total = Some(
                    value
                        .parse::<u64>()
                        .ok()
                        .filter(|n| (1..=1_000_000).contains(n))
                        .ok_or("--total must be a number from 1 to 1000000")?,
                )
            }
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok(Options {
        database_url: database_url.ok_or(USAGE)?,
        account: account.ok_or(USAGE)?,
        total: total.ok_or(USAGE)?,
    })
}

/// `n` transactions numbered from `first`, deterministic, over the 180 days before `now`.
fn transactions(first: u64, n: u64, now: i64) -> Vec<Transaction> {
    (first..first + n)
        .map(|i| {
            let at = now - 60 - (i as i64 * 7_919) % (180 * Day::SECONDS);
            let minor = 100 + (i as i64 * 7_907) % 50_000;
            Transaction {
                id: format!("fctxn_bench{i:08}"),
                amount: Money {
                    minor: if i % 3 == 0 { minor } else { -minor },
                    currency: "usd".into(),
                },
                description: format!("Bench purchase {i}"),
                status: if i % 17 == 0 {
                    TransactionStatus::Pending
                } else {
                    TransactionStatus::Posted
                },
                transacted_at: at,
                updated: at,
            }
        })
        .collect()
}

/// How many transactions the account has stored.
async fn stored(storage: &Storage, id: &AccountId, now: i64) -> Result<u64, String> {
    let filter = TransactionFilter {
        page: 1,
        ..TransactionFilter::default()
    };
    storage
        .transactions(id, &filter, Day::of(now))
        .await
        .map(|v| v.stored)
        .map_err(|e| e.to_string())
}

async fn run(o: Options) -> Result<String, String> {
    let storage = Storage::open(&DatabaseConfig::new(o.database_url))
        .await
        .map_err(|e| format!("database: {e}"))?;
    let detail = storage
        .snapshot(&o.account)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{} has no stored view: open its page once first", o.account))?;
    let now = server::clock::unix_now();
    let before = stored(&storage, &o.account, now).await?;
    let add = o.total.saturating_sub(before);
    let cursor = storage.transactions_cursor(&o.account).await.map_err(|e| e.to_string())?;
    let sync = TransactionSync {
        // No cursor yet (no refresh settled): a made-up one, which a real sync
        // would find unknown to Stripe and start over from (the service's rule).
        refresh_id: cursor.unwrap_or_else(|| "fctxnref_bench".to_owned()),
        refreshed_at: 0,
        transactions: transactions(before, add, now),
    };
    storage.reconcile(&detail, Some(&sync)).await.map_err(|e| e.to_string())?;
    let after = stored(&storage, &o.account, now).await?;
    Ok(serde_json::json!({"account": o.account.as_str(), "stored_before": before, "added": add, "stored": after}).to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse(&args) {
        Ok(o) => run(o).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(line) => println!("{line}"),
        Err(e) => {
            eprintln!("bench_seed: {e}");
            std::process::exit(2);
        }
    }
}
