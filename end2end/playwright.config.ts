import { defineConfig, devices } from "@playwright/test";
import { existsSync } from "node:fs";

// The suite starts the built server itself (`make build` first) in sandbox
// mode on its own port, so it never touches real Stripe or a dev server.
const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://127.0.0.1:${port}`;
// The standalone sandbox (`server sandbox`), for the official-library test.
export const sandboxPort = Number(process.env.E2E_SANDBOX_PORT ?? 12112);
// A second app instance with a low per-user rate limit, for the 429 test.
const limitedPort = port + 2;
export const limitedURL = `http://127.0.0.1:${limitedPort}`;

// The app in sandbox mode on `p`, whatever the developer's shell or .env says.
const appEnv = (p: number, db: string, extra: Record<string, string> = {}) => ({
  LEPTOS_SITE_ADDR: `127.0.0.1:${p}`,
  LEPTOS_OUTPUT_NAME: "fc_app",
  LEPTOS_SITE_ROOT: "target/site",
  LEPTOS_SITE_PKG_DIR: "pkg",
  // Empty keys: sandbox mode.
  STRIPE_SECRET_KEY: "",
  STRIPE_PUBLISHABLE_KEY: "",
  STRIPE_API_BASE: "",
  STRIPE_JS_URL: "",
  DATABASE_URL: `sqlite://target/${db}`,
  // Each run's sandboxes start empty (a kept state file would pile up runs
  // until the app's key hit the sandbox's per-key limits).
  SANDBOX_DATABASE_URL: "memory",
  RUST_LOG: "warn",
  SANDBOX_REFRESH_DELAY_MS: "300",
  // One browser runs the whole suite from 127.0.0.1: far above the public defaults.
  RATE_LIMIT_IP_PER_SECOND: "10000",
  RATE_LIMIT_IP_BURST: "10000",
  RATE_LIMIT_USER_PER_SECOND: "10000",
  RATE_LIMIT_USER_BURST: "10000",
  RATE_LIMIT_NEW_SESSIONS_PER_HOUR: "100000",
  RATE_LIMIT_LINKS_PER_HOUR: "100000",
  ...extra,
});

// Two app instances on one PostgreSQL, in Stripe mode against the standalone
// sandbox, whose webhooks reach B only (tests/scale.spec.ts; started by
// scale-server.mjs). Only when a PostgreSQL is configured (`make test-e2e`
// sets TEST_DATABASE_URL as `make test-rust` does); without one the spec skips.
export const scaleDatabase = process.env.TEST_DATABASE_URL ?? "";
export const scaleA = `http://127.0.0.1:${port + 4}`;
export const scaleB = `http://127.0.0.1:${port + 5}`;
// The test key both instances use at the sandbox (the spec drives the
// sandbox's control surface with it).
export const scaleKey = "sk_test_e2e_scale";
// A fresh schema per run, named so the Rust tests' sweep drops it after an
// hour (fc_test_<unix seconds>_<tag>); computed once, where the servers start.
const scaleSchema = `fc_test_${Math.floor(Date.now() / 1000)}_e2escale${process.pid}`;
const scaleEnv = (p: number, role: "a" | "b") => ({
  ...appEnv(p, "unused.db"),
  STRIPE_SECRET_KEY: scaleKey,
  STRIPE_PUBLISHABLE_KEY: "pk_test_e2e_scale",
  STRIPE_API_BASE: `http://127.0.0.1:${sandboxPort}`,
  STRIPE_JS_URL: `http://127.0.0.1:${sandboxPort}/js/stripe.js`,
  SCALE_ROLE: role,
  SCALE_SCHEMA: scaleSchema,
  SCALE_SERVER_URL: scaleDatabase,
  SCALE_WEBHOOK_URL: `${scaleB}/webhooks/stripe`,
});
const scaleServers = scaleDatabase
  ? (["a", "b"] as const).map((role, i) => ({
      command: "node end2end/scale-server.mjs",
      cwd: "..",
      url: `${i === 0 ? scaleA : scaleB}/readyz`,
      reuseExistingServer: false,
      timeout: 120_000,
      env: scaleEnv(port + 4 + i, role),
    }))
  : [];

// No browser downloads here: use the system Chromium when there is one.
const executablePath =
  process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { ...devices["Desktop Chrome"] } }],
  webServer: [{
    command: "./target/debug/server",
    cwd: "..",
    url: `${baseURL}/healthz`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    stdout: "pipe",
    env: appEnv(port, "e2e.db"),
  }, {
    command: "./target/debug/server",
    cwd: "..",
    url: `${limitedURL}/healthz`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    env: appEnv(limitedPort, "e2e-limited.db", { RATE_LIMIT_USER_PER_SECOND: "1", RATE_LIMIT_USER_BURST: "3" }),
  }, {
    command: `./target/debug/server sandbox --addr 127.0.0.1:${sandboxPort}`,
    cwd: "..",
    url: `http://127.0.0.1:${sandboxPort}/js/stripe.js`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    env: { RUST_LOG: "warn", SANDBOX_REFRESH_DELAY_MS: "300", SANDBOX_DATABASE_URL: "memory" },
  },
  // After the sandbox: B registers its webhook endpoint there as it starts.
  ...scaleServers],
});
