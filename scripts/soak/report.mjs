// Turns the soak's JSON results into docs/reliability.md (stdout): date,
// machine, and one table of figures.
import { execSync } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { loadavg } from "node:os";
import { args } from "./common.mjs";

const a = args();
const read = (f) => (existsSync(`${a.dir}/${f}`) ? JSON.parse(readFileSync(`${a.dir}/${f}`, "utf8").trim() || "null") : null);
const sh = (c) => { try { return execSync(c, { encoding: "utf8" }).trim(); } catch { return "?"; } };

const page = read("page.json"), api = read("api.json"), quiet = read("page_quiet.json"), flooded = read("page_flooded.json");
const flood = read("flood.json"), parallel = read("flood_parallel.json"), verify = read("verify.json"), links = read("links.json");
const sb = read("sandbox_flood.json");
const nonOk = (r) => Object.entries(r?.statuses ?? {}).filter(([s]) => !s.startsWith("2")).reduce((n, [, c]) => n + c, 0);
const errRate = (r) => r ? `${(((r.errors + nonOk(r)) / Math.max(1, r.requests + r.errors)) * 100).toFixed(2)} %` : "–";
const lat = (r) => r ? `${r.latency_ms.p50} / ${r.latency_ms.p99}` : "–";
const mb = (kb) => (kb / 1024).toFixed(1);

const rows = [
  ["`GET /` at 64 connections: requests/s", page?.rps, ""],
  ["… p50 / p99 (ms)", lat(page), ""],
  ["… errors (transport + non-2xx)", errRate(page), ""],
  ["`POST /api/linked_accounts` at 64 connections: requests/s", api?.rps, ""],
  ["… p50 / p99 (ms)", lat(api), ""],
  ["… errors", errRate(api), ""],
  ["Webhook flood (64 KiB body, 90,000 `v1=`): median answer (ms)", flood?.median_ms?.toFixed(2), "< 10 ms"],
  ["… its status", flood?.statuses?.join(", "), "400"],
  ["`GET /` p50 / p99 at 8 connections, quiet (ms)", lat(quiet), ""],
  [`\`GET /\` p50 / p99 with 4 floods in parallel (${parallel?.sent ?? "?"} sent) (ms)`, lat(flooded), "not slowed"],
  ["kill -9 under load: accounts confirmed before the kill", a["killed-with"], ""],
  ["… confirmed in all (before + after the kill) / found after restart", verify ? `${verify.confirmed_before} / ${verify.found_after}` : "–", "all found"],
  ["SIGTERM with 50 open `/events` streams: exit (ms)", a["sigterm-ms"], "< 2,000 ms"],
  ["Sandbox RSS before → after 4,000 keys × 10 customers × 5 KB (MB)", sb ? `${mb(sb.rss_before_kib)} → ${mb(sb.rss_after_kib)}` : "–", "< 150 MB"],
];

const machine = [
  `- date: ${new Date().toISOString()}`,
  `- machine: \`${sh("uname -srm")}\`, ${sh("nproc")} cores, ${sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")}`,
  `- load average at the end (1/5/15 min): ${loadavg().map((x) => x.toFixed(1)).join(" / ")} (anything above the core count means other work shared the machine)`,
  `- toolchain: \`${sh("rustc --version")}\`, node ${process.version}`,
  `- build: release (\`cargo leptos build --release\`), SQLite, app in Stripe mode against a standalone sandbox on loopback; ${a.seconds} s per load run; rate limits raised so the figures measure the server`,
];

console.log(`# Reliability figures

Written by \`make soak\` (\`scripts/soak.sh\`); rerun it to refresh this file. Loopback only,
bounded in requests and seconds. What each row exercises is described in the script's header.

${machine.join("\n")}

| figure | value | target |
|---|---|---|
${rows.map(([k, v, t]) => `| ${k} | ${v ?? "–"} | ${t} |`).join("\n")}

Links made during the kill run: ${links ? `${links.confirmed} confirmed, ${links.failed} attempts failed while the server was down` : "–"}.
`);
