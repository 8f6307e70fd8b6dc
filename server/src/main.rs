//! `server`: runs the app (sandbox mode unless Stripe keys are set).
//! `server sandbox [--addr 127.0.0.1:12111] [--webhook-allow HOST,…]`: runs only the sandbox.

use server::config::Config;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

const DEFAULT_SANDBOX_ADDR: &str = "127.0.0.1:12111";

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,server=info")))
        .init();
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
        None => runtime.block_on(run_app()),
        Some("--help" | "-h") => {
            println!("usage: server                      run the app (see README for the environment)");
            println!("       server sandbox [--addr A]    run only the Stripe sandbox (default {DEFAULT_SANDBOX_ADDR})");
            println!("              [--webhook-allow HOST[,HOST…]]  hosts besides loopback its webhooks may go to");
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
    let config = Config::from_env().map_err(|e| format!("configuration: {e}"))?;
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
    let sandbox = server::sandbox::Sandbox::from_env()?.with_webhook_hosts(options.webhook_hosts);
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
