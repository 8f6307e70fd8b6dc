// Links accounts through the app as browsers do (page → start_link → the
// sandbox's modal → confirm_link), from several workers at once, until the
// time or count bound. Appends "cookie<TAB>account" for every account the app
// confirmed to --out as soon as it is confirmed. Loopback only.
//
//   node scripts/soak/links.mjs --app http://127.0.0.1:3600 --sandbox http://127.0.0.1:3601 \
//        --pk pk_test_soak --workers 8 --seconds 10 --max 2000 --out links.tsv
import { appendFileSync } from "node:fs";
import { args, loopback } from "./common.mjs";

const a = args({ workers: "8", seconds: "10", max: "2000" });
const app = loopback(a.app), sandbox = loopback(a.sandbox);
const until = Date.now() + Math.min(Number(a.seconds), 600) * 1000;
let budget = Math.min(Number(a.max), 100000);
let confirmed = 0, failed = 0;

async function call(cookie, fn, form) {
  const r = await fetch(`${app}/api/${fn}`, {
    method: "POST",
    headers: { cookie, "sec-fetch-site": "same-origin", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  if (!r.ok) throw new Error(`${fn}: ${r.status}`);
  return r.json();
}

async function worker() {
  const page = await fetch(`${app}/`);
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0];
  if (!cookie) throw new Error("no session cookie from the page");
  while (Date.now() < until && budget-- > 0) {
    try {
      const s = await call(cookie, "start_link", { name: "", email: "", permissions: "balances" });
      const done = await fetch(`${sandbox}/connect/api/complete`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ client_secret: s.client_secret, publishable_key: a.pk, institution: "test_institution", accounts: ["success"] }),
      });
      if (!done.ok) throw new Error(`modal: ${done.status}`);
      const accounts = await call(cookie, "confirm_link", { session_id: s.session_id });
      for (const acct of accounts) {
        appendFileSync(a.out, `${cookie}\t${acct.id}\n`);
        confirmed++;
      }
    } catch {
      failed++; // the server may be gone (the soak kills it): keep trying until the bound
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

await Promise.all(Array.from({ length: Math.min(Number(a.workers), 64) }, () => worker().catch(() => failed++)));
console.log(JSON.stringify({ confirmed, failed }));
