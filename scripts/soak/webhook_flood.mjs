// The signature flood: POST /webhooks/stripe with a 64 KiB body and a
// Stripe-Signature of 90,000 `v1=` entries. Prints the median time of --n
// sequential requests, or with --parallel P --seconds S keeps P of them in
// flight until S seconds have passed. Loopback only.
import { args, loopback, median } from "./common.mjs";

const a = args({ n: "20", parallel: "0", seconds: "10" });
const url = `${loopback(a.app)}/webhooks/stripe`;
const body = "x".repeat(64 * 1024);
const header = `t=${Math.floor(Date.now() / 1000)},` + Array(90000).fill("v1=").join(",");

async function once() {
  const t0 = performance.now();
  const r = await fetch(url, { method: "POST", body, headers: { "stripe-signature": header, "content-type": "application/json" } });
  await r.arrayBuffer();
  return { ms: performance.now() - t0, status: r.status };
}

if (Number(a.parallel) > 0) {
  const until = Date.now() + Math.min(Number(a.seconds), 120) * 1000;
  let sent = 0;
  await Promise.all(Array.from({ length: Math.min(Number(a.parallel), 16) }, async () => {
    while (Date.now() < until) { await once(); sent++; }
  }));
  console.log(JSON.stringify({ parallel: Number(a.parallel), sent }));
} else {
  const runs = [];
  for (let i = 0; i < Math.min(Number(a.n), 1000); i++) runs.push(await once());
  console.log(JSON.stringify({ requests: runs.length, statuses: [...new Set(runs.map((r) => r.status))], median_ms: median(runs.map((r) => r.ms)) }));
}
