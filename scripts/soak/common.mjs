// Shared by the soak scripts: `--name value` arguments and the loopback rule.
export function args(defaults = {}) {
  const out = { ...defaults };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) throw new Error(`bad argument: ${argv[i]}`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  return out;
}

/** The URL without a trailing slash, if it points at a loopback address; throws otherwise. */
export function loopback(url) {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const ok = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "::1" || host === "localhost";
  if (!ok || !/^https?:$/.test(u.protocol)) throw new Error(`refusing non-loopback target ${url}`);
  return url.replace(/\/$/, "");
}

export const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)] : 0;
};
