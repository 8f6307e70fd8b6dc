// Opens N `/events` streams (one browser each) and keeps them open until the
// server ends them; prints when the last one ended. Loopback only.
//   node scripts/soak/streams.mjs --app http://127.0.0.1:3600 --n 50 --ready ready.flag
import { writeFileSync } from "node:fs";
import { args, loopback } from "./common.mjs";

const a = args({ n: "50" });
const app = loopback(a.app);
const n = Math.min(Number(a.n), 500);
const streams = [];
for (let i = 0; i < n; i++) {
  const page = await fetch(`${app}/`);
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0];
  const r = await fetch(`${app}/events`, { headers: { cookie } });
  if (r.status !== 200) throw new Error(`stream ${i}: ${r.status}`);
  streams.push(r.body.getReader());
}
writeFileSync(a.ready, String(n));
await Promise.all(streams.map(async (reader) => { try { while (!(await reader.read()).done); } catch {} }));
console.log(JSON.stringify({ streams: n, ended_at_ms: Date.now() }));
