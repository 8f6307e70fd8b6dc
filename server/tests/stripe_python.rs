//! A second official library, stripe-python (pinned in `scripts/bootstrap.sh`,
//! installed by `scripts/bootstrap.sh e2e` into `target/tools/py`), runs
//! `stripe_python.py` unchanged against the standalone sandbox on a port of
//! its own. Without that Python the test says it is skipped, except under
//! `CI=true`, where that is an error.

mod common;

use common::app::serve_sandbox;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

/// `STRIPE_PYTHON`, else the project's venv.
fn python() -> PathBuf {
    std::env::var_os("STRIPE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/tools/py/bin/python"))
}

fn has_stripe(python: &PathBuf) -> bool {
    Command::new(python)
        .args(["-c", "import stripe"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_python_works_against_the_sandbox() {
    let python = python();
    if !has_stripe(&python) {
        let why = format!(
            "no stripe-python at {} (scripts/bootstrap.sh e2e installs it)",
            python.display()
        );
        assert_ne!(std::env::var("CI").as_deref(), Ok("true"), "CI=true and {why}");
        eprintln!("skipped: {why}");
        return;
    }
    let sandbox = server::sandbox::Sandbox::with_timing(common::fast_timing());
    let base = serve_sandbox(server::sandbox::router(Arc::new(sandbox))).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/stripe_python.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .arg(&script)
            .env("SANDBOX_URL", &base)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env_remove("HTTP_PROXY")
            .env_remove("HTTPS_PROXY")
            .env_remove("http_proxy")
            .env_remove("https_proxy")
            .output()
    })
    .await
    .unwrap()
    .expect("python runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "stripe_python.py failed\n{stdout}\n{stderr}");
    assert!(stdout.contains("all passed"), "{stdout}");
    println!("{stdout}");
}
