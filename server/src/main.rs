//! `server`: runs the app (sandbox mode unless Stripe keys are set).
//! `server sandbox [--addr 127.0.0.1:12111] [--webhook-allow HOST,…]`: runs only the sandbox.
//! `server sessions revoke (--user USER_ID | --all)`: ends browser sessions.
//! `server prune`: one pruning pass now (the app also prunes on a timer).

use server::config::Config;
use server::logging::LogFormat;
use tokio::net::TcpListener;

const DEFAULT_SANDBOX_ADDR: &str = "127.0.0.1:12111";

fn main() -> std::process::ExitCode {
    match LogFormat::from_env() {
        Ok(format) => server::logging::init(format),
        Err(e) => {
            eprintln!("error: configuration: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("sandbox") => runtime.block_on(run_sandbox(&args[1..])),
        Some("sessions") => runtime.block_on(run_sessions(&args[1..])),
        Some("prune") => runtime.block_on(run_prune()),
        None => runtime.block_on(run_app()),
        Some("--help" | "-h") => {
            println!("usage: server                      run the app (see README for the environment)");
            println!("       server sandbox [--addr A]    run only the Stripe sandbox (default {DEFAULT_SANDBOX_ADDR})");
            println!("              [--webhook-allow HOST[,HOST…]]  hosts besides loopback its webhooks may go to");
            println!("       server sessions revoke --user USER_ID   end that user's browser sessions");
            println!("       server sessions revoke --all            end every browser session");
            println!("       server prune                 forget ended sessions, unreachable users, old events now");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}` (try --help)")),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run_app() -> Result<(), String> {
    let config = config()?;
    // cargo-leptos sets LEPTOS_*; these defaults let the binary run on its own too.
    let options = server::leptos_options()?;
    let listener = TcpListener::bind(options.site_addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.site_addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!("{}", config.describe());
    let built = server::build(&config, options, addr).await?;
    if built.sandbox.is_some() {
        tracing::info!("sandbox API and Stripe.js stand-in at http://{addr}{}", server::SANDBOX_PATH);
    }
    tracing::info!("listening on http://{addr}");
    let shutdown = built.shutdown.clone();
    tokio::spawn(async move {
        server::serve::signal().await;
        shutdown.cancel();
    });
    server::serve::serve(listener, built.router, config.edge.serve, built.shutdown).await;
    Ok(())
}

async fn run_sandbox(args: &[String]) -> Result<(), String> {
    let allow = std::env::var("SANDBOX_WEBHOOK_ALLOW").ok();
    let options = server::sandbox::Standalone::parse(args, allow.as_deref(), DEFAULT_SANDBOX_ADDR)?;
    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.addr))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // Its state survives restarts in ./sandbox.db unless SANDBOX_DATABASE_URL says otherwise.
    let file = server::sandbox::StateFile::from_env(server::sandbox::StateFile::Sqlite("sandbox.db".into()))?;
    let sandbox = server::sandbox::Sandbox::from_env()?
        .with_webhook_hosts(options.webhook_hosts)
        .with_state_file(&file)
        .await?;
    if let Some(path) = sandbox.state_file() {
        tracing::info!(file = %path.display(), "sandbox state file (delete it to start empty)");
    }
    let router = server::web::harden(server::sandbox::router(std::sync::Arc::new(sandbox)), false);
    tracing::info!("Stripe sandbox on http://{addr} (API under /v1, Stripe.js at /js/stripe.js)");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let cancel = shutdown.clone();
    tokio::spawn(async move {
        server::serve::signal().await;
        cancel.cancel();
    });
    server::serve::serve(listener, router, server::serve::ServeOptions::default(), shutdown).await;
    Ok(())
}

/// The app's configuration, from the environment.
fn config() -> Result<Config, String> {
    Config::from_env().map_err(|e| format!("configuration: {e}"))
}

/// The database `config` names.
async fn open_storage(config: &Config) -> Result<server::storage::Storage, String> {
    server::storage::Storage::open(&config.database)
        .await
        .map_err(|e| format!("database {}: {e}", config.database.redacted_url()))
}

async fn run_sessions(args: &[String]) -> Result<(), String> {
    let usage = "usage: server sessions revoke (--user USER_ID | --all)";
    let now = server::clock::unix_now();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let revoked = match words.as_slice() {
        ["revoke", "--all"] => open_storage(&config()?).await?.revoke_all_sessions(now).await,
        ["revoke", "--user", id] => {
            let valid = (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !valid {
                return Err(format!("not a user id: {id:?} (letters, digits, _ and -; at most 128)"));
            }
            open_storage(&config()?)
                .await?
                .revoke_sessions(&app::service::UserId::new(*id), now)
                .await
        }
        _ => return Err(usage.to_owned()),
    }
    .map_err(|e| e.to_string())?;
    println!("revoked {revoked} session(s)");
    Ok(())
}

async fn run_prune() -> Result<(), String> {
    let config = config()?;
    let storage = open_storage(&config).await?;
    let pruned = storage
        .prune(&config.sessions, &config.retention, server::clock::unix_now())
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "pruned {} session(s), {} user(s), {} pending link session(s), {} webhook event id(s), {} developer log entries",
        pruned.sessions, pruned.users, pruned.pending_sessions, pruned.webhook_events, pruned.developer_log
    );
    Ok(())
}
