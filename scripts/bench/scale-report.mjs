// Writes the scale section of docs/performance.md from the load generator's
// JSON results in --dir (<backend>-<instances>-<page|api>-<i>.json), replacing
// what is between <!-- scale:begin --> and <!-- scale:end --> (appended when
// absent; the file is created when missing). Used by scripts/bench/scale.sh.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { execFileSync } from "node:child_process";

const argv = process.argv.slice(2);
const a = {};
for (let i = 0; i < argv.length; i += 2) a[argv[i].replace(/^--/, "")] = argv[i + 1];
const BEGIN = "<!-- scale:begin -->", END = "<!-- scale:end -->";

const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
};
const read = (name) => {
  const path = `${a.dir}/${name}`;
  return existsSync(path) ? JSON.parse(readFileSync(path, "utf8")) : null;
};
const fmt = (n, digits = 1) => (n === undefined || n === null ? "–" : Number(n).toFixed(digits));

/** One row: the runs of every instance for a route, added up (rps) or the worst (latency). */
function row(backend, instances, what) {
  const runs = [];
  for (let i = 0; i < instances; i++) {
    const r = read(`${backend}-${instances}-${what}-${i}.json`);
    if (r) runs.push(r);
  }
  const route = what === "page" ? "`GET /accounts`" : "`POST /api/linked_accounts`";
  const label = backend === "sqlite" ? "SQLite" : "PostgreSQL";
  if (runs.length < instances) {
    const why = backend === "postgres" ? "no PostgreSQL here" : "SQLite is one process per file";
    return `| ${label} | ${instances} | ${route} | – | – | – | – | ${why} |`;
  }
  const sum = (f) => runs.reduce((s, r) => s + (f(r) ?? 0), 0);
  const worst = (f) => Math.max(...runs.map(f));
  const ok = sum((r) => r.statuses?.["200"]);
  const requests = sum((r) => r.requests);
  const other = requests - ok + sum((r) => r.errors);
  return `| ${label} | ${instances} | ${route} | ${fmt(sum((r) => r.rps), 0)} | ${fmt(worst((r) => r.latency_ms.p50))} | ${fmt(worst((r) => r.latency_ms.p99))} | ${requests} | ${other === 0 ? "all 200" : `${other} not 200`} |`;
}

const rows = [];
for (const [backend, instances] of [["sqlite", 1], ["sqlite", 2], ["postgres", 1], ["postgres", 2]]) {
  for (const what of ["page", "api"]) rows.push(row(backend, instances, what));
}
const seeds = ["sqlite", "postgres"]
  .map((b) => [b, read(`${b}-seed.json`)])
  .filter(([, s]) => s)
  .map(([b, s]) => `${b === "sqlite" ? "SQLite" : "PostgreSQL"}: ${s.users} users, ${s.accounts} accounts in ${fmt(s.seconds)} s`)
  .join("; ");

const section = `${BEGIN}
## Scale: SQLite and PostgreSQL, one instance and two

Written by \`scripts/bench/scale.sh\` (\`make bench\`) on ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC.
Machine: \`${sh("uname", ["-a"])}\`, ${sh("nproc", [])} cores, \`${sh("rustc", ["-V"])}\`.

${a.profile === "release" ? "Release build" : "**Debug build (BENCH_PROFILE=debug): a check of the script, not figures to compare**"}, loopback only. The app in Stripe mode against a standalone sandbox, rate limits
raised. Seeded through the app as browsers link (${seeds || "no seed"}): ${a.users} users with
${a.accounts} accounts each. The load is one of those browsers (its cookie) at 64 connections for
${a.seconds} s per route (\`server/examples/load.rs\`); with two instances on one PostgreSQL, two
load generators at once, 32 connections each, one per instance. Requests/s adds the
instances up; p50 and p99 are the worse of the two. The load generator, the instances, the
sandbox and PostgreSQL all share this machine's cores, so a second instance adds no CPU here:
the two-instance rows show that the shared database holds under the same total load, not a
speed-up.

| database | instances | route | req/s | p50 ms | p99 ms | requests | answers |
|---|---|---|---|---|---|---|---|
${rows.join("\n")}
${END}`;

let doc = existsSync(a.doc)
  ? readFileSync(a.doc, "utf8")
  : "# Performance\n\nFigures measured by `make bench`; each section is rewritten by the script named in it.\n";
const start = doc.indexOf(BEGIN), end = doc.indexOf(END);
doc = start >= 0 && end > start
  ? doc.slice(0, start) + section + doc.slice(end + END.length)
  : `${doc.trimEnd()}\n\n${section}\n`;
mkdirSync(dirname(a.doc), { recursive: true });
writeFileSync(a.doc, doc);
