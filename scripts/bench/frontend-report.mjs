// Writes the front-end figures of `make bench` (scripts/bench/frontend.sh) into
// docs/performance.md, between `<!-- frontend:begin -->` and `<!-- frontend:end -->`:
// replaced in place when the markers are there, appended otherwise. Other
// sections of the file (another script's) are left as they are.
//
//   node scripts/bench/frontend-report.mjs --dir OUT --seconds S --file docs/performance.md \
//     --pkg SITE/pkg --wasm-toolchain "…"
import { execSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";

const args = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, "")] = argv[i + 1];

const read = (f) => {
  const p = `${args.dir}/${f}`;
  return existsSync(p) ? JSON.parse(readFileSync(p, "utf8").trim() || "null") : null;
};
const sh = (c) => {
  try {
    return execSync(c, { encoding: "utf8" }).trim();
  } catch {
    return "?";
  }
};
const kb = (n) => (n === undefined ? "–" : (n / 1024).toFixed(1));
const ms = (n) => (n === undefined || n === null ? "–" : Number(n).toFixed(n < 10 ? 2 : 0));

// 1. bytes: the wasm, JS and CSS of a cold load (the budget's sum), and everything it fetched.
function bytesRows(name, b) {
  if (!b) return [];
  const isCode = (f) => /\.(wasm|js|css)$/.test(f.path);
  const sum = (fs, k) => fs.reduce((n, f) => n + f[k], 0);
  const code = b.files.filter(isCode);
  const rows = b.files.map((f) => [`${name}: \`${f.path}\``, kb(f.raw), kb(f.gzip), kb(f.br), f.cache_control || "–"]);
  rows.push([`**${name}: wasm + JS + CSS**`, kb(sum(code, "raw")), kb(sum(code, "gzip")), `**${kb(sum(code, "br"))}**`, ""]);
  return rows;
}
const bytesApp = read("bytes_app.json");
const bytesMin = read("bytes_minimal.json");
const codeBr = (b) => b?.files.filter((f) => /\.(wasm|js|css)$/.test(f.path)).reduce((n, f) => n + f.br, 0);

// The pages loaded on demand: each lazy route's wasm chunk and the shared
// chunks it needs (cargo-leptos's split manifest), brotli, as the server sends them.
function lazyRows() {
  const pkg = args.pkg;
  if (!pkg || !existsSync(pkg)) return [];
  const files = readdirSync(pkg);
  const manifest = files.find((f) => /^__wasm_split_manifest.*\.json$/.test(f));
  if (!manifest) return [];
  const routes = JSON.parse(readFileSync(`${pkg}/${manifest}`, "utf8"));
  const br = (m) => {
    const f = `${pkg}/${m}.wasm.br`;
    return existsSync(f) ? statSync(f).size : statSync(`${pkg}/${m}.wasm`).size;
  };
  return Object.entries(routes)
    .map(([key, modules]) => {
      // `__account_route_view_<hash>` (a lazy route), `run_link_<hash>` (a #[lazy] fn).
      const name = key.replace(/^__/, "").replace(/(_route)?(_view)?_\d+$/, "");
      const own = modules.filter((m) => m.startsWith("split_"));
      return [name, own.reduce((n, m) => n + br(m), 0), modules.reduce((n, m) => n + br(m), 0), modules.length];
    })
    .sort((a, b) => a[0].localeCompare(b[0]));
}
const lazy = lazyRows();

const hApp = read("hydrate_app.json"), hMin = read("hydrate_minimal.json");
const mApp = read("mobile_app.json"), mMin = read("mobile_minimal.json");
const ratio = hApp && hMin ? (hApp.median_ms / hMin.median_ms).toFixed(2) : "–";

const lat = (r) => (r ? `${ms(r.latency_ms.p50)} / ${ms(r.latency_ms.p99)}` : "–");
const nonOk = (r) => Object.entries(r?.statuses ?? {}).filter(([s]) => !s.startsWith("2")).reduce((n, [, c]) => n + c, 0);
const errors = (r) => (r ? r.errors + nonOk(r) : "–");
const rps = (r) => (r ? Math.round(r.rps).toLocaleString("en-US") : "–");

const ka = [
  ["`GET /` (SSR)", read("ka_page.json")],
  ["`GET` the CSS (a static asset, brotli)", read("ka_asset.json")],
  ["`POST /api/client_config` (a server function)", read("ka_api.json")],
  ["minimal Leptos page `GET /`", read("ka_minimal.json")],
];
const load = [
  ["SSR `/`", read("rps_page.json")],
  ["SSR `/accounts`, 10 linked accounts", read("rps_accounts.json")],
  ["the CSS (static, brotli)", read("rps_asset.json")],
  ["minimal Leptos page `/`", read("rps_minimal.json")],
];
const txn = [1000, 10000].map((n) => [n, read(`seed_${n}.json`), read(`txn_api_${n}.json`), read(`txn_render_${n}.json`)]);

const section = `<!-- frontend:begin -->
## Front end: first load, hydration, latency, throughput

Written by \`make bench\` (\`scripts/bench/frontend.sh\`); rerun it to refresh this section.
Release build (\`scripts/release.sh\`, what \`make release\` runs: pages split into wasm chunks,
wasm-opt, content-hashed names, brotli and gzip precompressed), sandbox mode, SQLite,
loopback only, Chromium from Playwright.
The yardstick is \`scripts/bench/minimal-leptos\`: a Leptos 0.8 hello page with one server
action, built and served the same way.

- date: ${new Date().toISOString()}
- machine: \`${sh("uname -srm")}\`, ${sh("nproc")} cores, ${sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")}
- toolchain: \`${sh("rustc --version")}\`, node ${process.version}, ${sh("cargo leptos --version")}
- the wasm (app and minimal page): ${args["wasm-toolchain"] || "?"}
- load runs: ${args.seconds} s each (\`server/examples/load.rs\`), rate limits raised so they measure the server

### First load of \`/\` (KB; what a cold load fetched before hydrating)

| file | raw | gzip | brotli | Cache-Control |
|---|---:|---:|---:|---|
${[...bytesRows("app", bytesApp), ...bytesRows("minimal", bytesMin)].map((r) => `| ${r.join(" | ")} |`).join("\n")}

Budget for the app's wasm + JS + CSS, brotli: 120 KB; now ${kb(codeBr(bytesApp))} KB
(${codeBr(bytesApp) !== undefined && codeBr(bytesApp) <= 120 * 1024 ? "within" : "over"} it).

### Pages loaded on demand (KB, brotli)

Not part of the first load of \`/\`: a page's chunks are fetched when it is first shown (the
server adds a preload of them when it renders that page itself); \`hydrate_routed\` (the
router) with any page but \`/\`; the link page's \`run_link\`, \`run_token\`, \`redraw_accounts\`
and \`saved_details\` on their first use. Shared chunks are fetched once.

| page (lazy route) or \`#[lazy]\` function | its own chunk | with the shared chunks it needs | files |
|---|---:|---:|---:|
${lazy.length ? lazy.map(([n, own, all, c]) => `| ${n} | ${kb(own)} | ${kb(all)} | ${c} |`).join("\n") : "| (no split manifest: an unsplit build) | – | – | – |"}

### Hydration and a working button

| | app | minimal page | app / minimal |
|---|---:|---:|---:|
| navigation start → \`window.__hydrated\`, loopback, median of ${hApp?.runs ?? 9} cold loads (ms) | ${ms(hApp?.median_ms)} | ${ms(hMin?.median_ms)} | ${ratio} |
| the same over an emulated mobile link (1.6 Mbps down, 150 ms RTT), median of ${mApp?.runs ?? 5} (ms); target ≤ 2,000 | ${ms(mApp?.median_ms)} | ${ms(mMin?.median_ms)} | ${mApp && mMin ? (mApp.median_ms / mMin.median_ms).toFixed(2) : "–"} |

Chromium's \`Accept-Encoding\` on these loads: \`${mApp?.accept_encoding || hApp?.accept_encoding || "?"}\`
(loopback counts as a secure origin, so the brotli column is what crossed the emulated link).

### Keep-alive latency (one connection, requests in a row)

| request | p50 / p99 (ms) |
|---|---:|
${ka.map(([k, r]) => `| ${k} | ${lat(r)} |`).join("\n")}

### Throughput at 64 connections

| request | requests/s | p50 / p99 (ms) | errors |
|---|---:|---:|---:|
${load.map(([k, r]) => `| ${k} | ${rps(r)} | ${lat(r)} | ${errors(r)} |`).join("\n")}

### An account with many transactions

| stored transactions | \`load_transactions\` p50 / p99 (ms), one connection | account page: navigation start → hydrated with its list, median of ${txn[0][3]?.runs ?? 5} (ms) |
|---:|---:|---:|
${txn.map(([n, seed, api, render]) => `| ${(seed?.stored ?? n).toLocaleString("en-US")} | ${lat(api)} | ${ms(render?.median_ms)} |`).join("\n")}

The list is paged in SQL (20 rows, \`LIMIT\`/\`OFFSET\`) and the chart's 90 daily sums are
a \`GROUP BY\` over the stored rows on each call (not kept as running sums): the
difference between the two rows is what the growth costs.
<!-- frontend:end -->`;

const file = args.file;
const old = existsSync(file) ? readFileSync(file, "utf8") : "# Performance\n\nFigures written by `make bench`; each section by its own script.\n";
const re = /<!-- frontend:begin -->[\s\S]*?<!-- frontend:end -->/;
const next = re.test(old) ? old.replace(re, () => section) : `${old.trimEnd()}\n\n${section}\n`;
writeFileSync(file, next);
