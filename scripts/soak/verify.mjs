// After a crash and restart: is every account the app confirmed before the
// crash still listed for its browser? Reads links.mjs's output.
//   node scripts/soak/verify.mjs --app http://127.0.0.1:3600 --in links.tsv
import { readFileSync } from "node:fs";
import { args, loopback } from "./common.mjs";

const a = args();
const app = loopback(a.app);
const byCookie = new Map();
for (const line of readFileSync(a.in, "utf8").split("\n").filter(Boolean)) {
  const [cookie, id] = line.split("\t");
  if (!byCookie.has(cookie)) byCookie.set(cookie, new Set());
  byCookie.get(cookie).add(id);
}
let confirmed = 0, found = 0;
for (const [cookie, ids] of byCookie) {
  const r = await fetch(`${app}/api/linked_accounts`, {
    method: "POST",
    headers: { cookie, "sec-fetch-site": "same-origin" },
  });
  const listed = new Set((await r.json()).map((x) => x.id));
  confirmed += ids.size;
  for (const id of ids) if (listed.has(id)) found++;
}
console.log(JSON.stringify({ browsers: byCookie.size, confirmed_before: confirmed, found_after: found, missing: confirmed - found }));
