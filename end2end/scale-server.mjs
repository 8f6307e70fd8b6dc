// Starts one of the two app instances of tests/scale.spec.ts (playwright.config.ts
// runs it from the repository root with SCALE_* in the environment):
//
// - both use one PostgreSQL schema of their own for this run (SCALE_SCHEMA in
//   the database SCALE_SERVER_URL names), created with psql if missing;
// - instance B resets the test key's data at the standalone sandbox, registers
//   its own /webhooks/stripe there (as one would in Stripe's Dashboard) and
//   starts with the secret the sandbox returned, so webhooks reach B only.
//
// Then it runs ./target/debug/server in the foreground. Loopback only.
import { execFileSync, spawn } from "node:child_process";

const env = { ...process.env };
const { SCALE_ROLE: role, SCALE_SCHEMA: schema, SCALE_SERVER_URL: server, SCALE_WEBHOOK_URL: hook } = env;
const sandbox = env.STRIPE_API_BASE;
const key = env.STRIPE_SECRET_KEY;
if (!role || !schema || !server || !sandbox || !key) {
  console.error("scale-server: SCALE_ROLE, SCALE_SCHEMA, SCALE_SERVER_URL, STRIPE_API_BASE and STRIPE_SECRET_KEY are required");
  process.exit(2);
}
if (!/^[a-z0-9_]+$/.test(schema)) {
  console.error(`scale-server: unusable schema name ${schema}`);
  process.exit(2);
}
for (const url of [sandbox, hook ?? ""]) {
  if (url && !/^http:\/\/127\.0\.0\.1:\d+(\/|$)/.test(url)) {
    console.error(`scale-server: loopback URLs only, not ${url}`);
    process.exit(2);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** POSTs a form to the sandbox with the test key, retrying while it starts (at most 60 s). */
async function sandboxPost(path, form) {
  for (let attempt = 0; attempt < 120; attempt++) {
    try {
      const r = await fetch(`${sandbox}${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form).toString(),
        signal: AbortSignal.timeout(5_000),
      });
      if (r.ok) return r.json();
      throw new Error(`${path}: ${r.status} ${await r.text()}`);
    } catch (e) {
      if (attempt === 119) throw e;
      await sleep(500);
    }
  }
}

// Playwright starts its web servers one after the other: A makes the schema,
// B finds it (and would make it, were it first).
execFileSync("psql", ["-q", "-v", "ON_ERROR_STOP=1", server, "-c", `CREATE SCHEMA IF NOT EXISTS ${schema}`], {
  stdio: "inherit",
  env: { ...process.env, PGOPTIONS: "--client-min-messages=warning" },
});
if (role === "b") {
  await sandboxPost("/_sandbox/reset", []);
  const endpoint = await sandboxPost("/v1/webhook_endpoints", [
    ["url", hook],
    ["enabled_events[]", "*"],
  ]);
  env.STRIPE_WEBHOOK_SECRET = endpoint.secret;
}
const separator = server.includes("?") ? "&" : "?";
env.DATABASE_URL = `${server}${separator}options=-c%20search_path%3D${schema}`;

const child = spawn("./target/debug/server", [], { env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
