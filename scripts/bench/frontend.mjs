// Browser and byte measurements for `make bench` (scripts/bench/frontend.sh).
// Loopback only: every URL it is given must be http://127.0.0.1:<port>.
//
//   node scripts/bench/frontend.mjs link     --app URL --n 10                  → {cookie, accounts}
//   node scripts/bench/frontend.mjs bytes    --url URL                         → what a cold load of URL fetches, raw/gzip/br
//   node scripts/bench/frontend.mjs hydrate  --url URL --runs 9 [--mobile]     → navigation start → window.__hydrated (ms)
//   node scripts/bench/frontend.mjs render   --url URL --cookie C --selector S --runs 5 → navigation start → S visible (ms)
//
// Each prints one JSON line.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(ROOT, "end2end/package.json"));
const { chromium } = require("@playwright/test");

const [cmd, ...rest] = process.argv.slice(2);
const args = {};
for (let i = 0; i < rest.length; i++) {
  const k = rest[i].replace(/^--/, "");
  const v = rest[i + 1] && !rest[i + 1].startsWith("--") ? rest[++i] : "true";
  args[k] = v;
}

function loopback(u) {
  const url = new URL(u);
  if (url.protocol !== "http:" || !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) {
    throw new Error(`loopback only: ${u}`);
  }
  return url;
}
for (const k of ["app", "url"]) if (args[k]) loopback(args[k]);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (x) => Math.round(x * 10) / 10;

const executablePath =
  process.env.CHROMIUM_PATH ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const launch = () =>
  chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });

// Records when the wasm sets window.__hydrated (the app and the minimal page both do), relative
// to navigation start.
const HYDRATED_AT = () => {
  let v;
  Object.defineProperty(window, "__hydrated", {
    configurable: true,
    get: () => v,
    set: (x) => {
      v = x;
      window.__hydratedAt = performance.now();
    },
  });
};

// Chromium's network emulation for a slow mobile link: 1.6 Mbps down, 750 kbps up, 150 ms RTT.
const MOBILE = { offline: false, latency: 150, downloadThroughput: (1.6e6 / 8), uploadThroughput: (750e3 / 8) };

/** One request, raw bytes as sent (no decoding): status, headers, length. */
function fetchRaw(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(loopback(url), { headers, agent: false }, (res) => {
      let n = 0;
      res.on("data", (c) => (n += c.length));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, bytes: n }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
  });
}

function request(url, { method = "GET", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(loopback(url), { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}

/** A browser session on the app with `n` linked accounts (each through the sandbox's modal). */
async function link() {
  const app = args.app;
  const n = Number(args.n ?? 10);
  const page = await request(`${app}/`);
  const cookie = String(page.headers["set-cookie"]).split(";")[0];
  const call = async (fn, form) => {
    const r = await request(`${app}/api/${fn}`, {
      method: "POST",
      headers: { Cookie: cookie, "Sec-Fetch-Site": "same-origin", "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(form).toString(),
    });
    if (r.status !== 200) throw new Error(`${fn}: ${r.status} ${r.text}`);
    return JSON.parse(r.text);
  };
  const accounts = [];
  for (let i = 0; i < n; i++) {
    const session = await call("start_link", {
      name: "Jenny Rosen", email: "jenny@example.com", permissions: "balances,ownership,payment_method,transactions",
    });
    const done = await request(`${app}/sandbox/connect/api/complete`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        client_secret: session.client_secret, publishable_key: "pk_test_sandbox",
        institution: "test_institution", accounts: ["success"],
      }),
    });
    if (done.status !== 200) throw new Error(`modal: ${done.status} ${done.text}`);
    for (const a of await call("confirm_link", { session_id: session.session_id })) accounts.push(a.id);
  }
  return { cookie, accounts };
}

/** What a cold load of `url` fetches from its own origin until hydrated, and each file's size raw, gzip and brotli. */
async function bytes() {
  const url = args.url;
  const origin = new URL(url).origin;
  const browser = await launch();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.addInitScript(HYDRATED_AT);
  const seen = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.origin === origin && r.method() === "GET" && u.pathname !== "/events" && !seen.includes(u.href)) seen.push(u.href);
  });
  await page.goto(url);
  await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 60_000 });
  await page.waitForTimeout(300);
  await browser.close();
  const files = [];
  for (const u of seen) {
    const raw = await fetchRaw(u);
    const gzip = await fetchRaw(u, { "Accept-Encoding": "gzip" });
    const br = await fetchRaw(u, { "Accept-Encoding": "br" });
    files.push({
      path: new URL(u).pathname,
      type: String(raw.headers["content-type"] ?? "").split(";")[0],
      raw: raw.bytes,
      gzip: gzip.bytes,
      br: br.bytes,
      br_encoded: br.headers["content-encoding"] === "br",
      cache_control: raw.headers["cache-control"] ?? "",
    });
  }
  return { url, files };
}

/** Navigation start → window.__hydrated, `runs` cold loads (a fresh browser context each). */
async function hydrate() {
  const url = args.url;
  const runs = Number(args.runs ?? 9);
  const mobile = args.mobile === "true";
  const browser = await launch();
  const times = [];
  let acceptEncoding = "";
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.addInitScript(HYDRATED_AT);
    if (mobile) {
      const cdp = await ctx.newCDPSession(page);
      await cdp.send("Network.enable");
      await cdp.send("Network.emulateNetworkConditions", MOBILE);
    }
    page.on("request", async (r) => {
      if (!acceptEncoding && r.url() === url) acceptEncoding = (await r.allHeaders())["accept-encoding"] ?? "";
    });
    await page.goto(url, { timeout: 60_000 });
    // From here a click on the page's button is handled.
    await page.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 60_000 });
    times.push(await page.evaluate(() => window.__hydratedAt));
    await ctx.close();
  }
  await browser.close();
  return { url, mobile, runs, median_ms: round(median(times)), runs_ms: times.map(round), accept_encoding: acceptEncoding };
}

/** Navigation start → the page hydrated with `selector` in it (an account page's transaction list), with the user's cookie. */
async function render() {
  const url = args.url;
  const runs = Number(args.runs ?? 5);
  const [name, value] = args.cookie.split("=");
  const browser = await launch();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext();
    await ctx.addCookies([{ name, value, url: new URL(url).origin }]);
    const page = await ctx.newPage();
    await page.addInitScript(HYDRATED_AT);
    await page.goto(url, { timeout: 60_000 });
    const done = await page.waitForFunction(
      (sel) => (document.querySelector(sel) && window.__hydratedAt !== undefined ? performance.now() : false),
      args.selector,
      { timeout: 60_000, polling: "raf" },
    );
    times.push(await done.jsonValue());
    await ctx.close();
  }
  await browser.close();
  return { url, runs, median_ms: round(median(times)), runs_ms: times.map(round) };
}

const commands = { link, bytes, hydrate, render };
if (!commands[cmd]) {
  console.error(`usage: frontend.mjs ${Object.keys(commands).join("|")} …`);
  process.exit(2);
}
console.log(JSON.stringify(await commands[cmd]()));
