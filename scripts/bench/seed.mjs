// Seeds linked accounts through the app as browsers do (page → start_link →
// the sandbox's modal → confirm_link): --users browsers with --accounts each
// (five per link, the Test Institution's ordinary accounts), --workers at a
// time. Prints one JSON line and writes each browser's cookie, one a line, to
// --out. Loopback only; bounded by --seconds.
//
//   node scripts/bench/seed.mjs --app http://127.0.0.1:3700 --sandbox http://127.0.0.1:3710 \
//        --pk pk_test_bench --users 100 --accounts 10 --workers 8 --seconds 300 --out cookies.txt
import { writeFileSync } from "node:fs";
import { args, loopback } from "../soak/common.mjs";

const a = args({ users: "100", accounts: "10", workers: "8", seconds: "300" });
const app = loopback(a.app), sandbox = loopback(a.sandbox);
const users = Math.min(Number(a.users), 1000), perUser = Math.min(Number(a.accounts), 50);
const until = Date.now() + Math.min(Number(a.seconds), 900) * 1000;
const TEMPLATES = ["success", "savings", "insufficient_funds", "high_balance", "credit_card"];

async function call(cookie, fn, form) {
  const r = await fetch(`${app}/api/${fn}`, {
    method: "POST",
    headers: { cookie, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  if (!r.ok) throw new Error(`${fn}: ${r.status} ${await r.text()}`);
  return r.json();
}

async function seedUser() {
  const page = await fetch(`${app}/`);
  await page.text();
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0];
  if (!cookie) throw new Error("no session cookie from the page");
  let linked = 0;
  while (linked < perUser) {
    if (Date.now() > until) throw new Error("out of time");
    const n = Math.min(TEMPLATES.length, perUser - linked);
    const s = await call(cookie, "start_link", { name: "Bench User", email: "", permissions: "balances,ownership" });
    const done = await fetch(`${sandbox}/connect/api/complete`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ client_secret: s.client_secret, publishable_key: a.pk, institution: "test_institution", accounts: TEMPLATES.slice(0, n) }),
    });
    if (!done.ok) throw new Error(`modal: ${done.status} ${await done.text()}`);
    linked += (await call(cookie, "confirm_link", { session_id: s.session_id })).length;
  }
  return { cookie, linked };
}

const cookies = [];
let next = 0, accounts = 0;
async function worker() {
  while (next < users) {
    next++;
    const { cookie, linked } = await seedUser();
    cookies.push(cookie);
    accounts += linked;
  }
}
const started = Date.now();
await Promise.all(Array.from({ length: Math.min(Number(a.workers), 32) }, worker));
writeFileSync(a.out, cookies.join("\n") + "\n");
console.log(JSON.stringify({ users: cookies.length, accounts, seconds: (Date.now() - started) / 1000 }));
