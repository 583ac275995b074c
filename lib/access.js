'use strict';
// Who may use the /api/memory routes (README "Security").
//
// - GET /health is public (platform health checks need it).
// - Admin routes (POST /gc, /emergency-cleanup) and the detailed reads (/metrics,
//   /leak-detection and every other read added through the router's reader()) follow
//   the admin rule; reads are public only when the operator opts in (publicReads /
//   MEMORY_PUBLIC_READS), as Spring Boot Actuator exposes only health by default.
// - The admin rule with a token (adminToken / MEMORY_ADMIN_TOKEN): Authorization:
//   Bearer <token>, from anywhere. A browser cannot send that header cross-site without
//   a CORS preflight the router never answers, so no origin checks are needed.
// - Without a token ("loopback mode"): only in local development (the addon's
//   detection, config.localDevelopment), only from a loopback peer, only when no proxy
//   left evidence (or trustProxy is on and every hop it names is loopback), only with a
//   Host that names this machine (DNS rebinding), and never from another site in a
//   browser (Sec-Fetch-Site, Origin). Anywhere else a same-host proxy, tunnel or
//   sidecar would make every remote client look like loopback.
const proxyaddr = require('proxy-addr');
const parseForwarded = require('forwarded-parse');
const { isLoopbackAddress, stripAddress } = require('./address');

const TOKEN_ENV = 'MEMORY_ADMIN_TOKEN';
const PUBLIC_READS_ENV = 'MEMORY_PUBLIC_READS';

/**
 * Headers in which proxies, CDNs and load balancers pass the client's address
 * (besides X-Forwarded-For and Forwarded). Any of them is evidence of a proxy.
 */
const CLIENT_ADDRESS_HEADERS = Object.freeze([
  'x-real-ip',
  'cf-connecting-ip',
  'true-client-ip',
  'x-client-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
  'x-envoy-external-address',
  'x-appengine-user-ip',
  'x-azure-clientip',
  'client-ip',
  'forwarded-for',
  'x-forwarded',
]);

/** Headers only a proxy adds, without an address: also evidence of a proxy. */
const PROXY_HEADERS = Object.freeze([
  'via',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-prefix',
  'x-forwarded-ssl',
  'x-forwarded-scheme',
  'x-original-host',
  'x-original-url',
]);

/**
 * Evidence that a proxy handled the request: `null` when there is none, else
 * `{ headers, addresses }`: the header names present and every client address they
 * claim, in header order ('unknown' for a Forwarded element without `for`, or a
 * header that cannot be parsed: not loopback).
 */
function proxyEvidence(req) {
  const h = req.headers;
  const headers = [];
  const addresses = [];
  if (h['x-forwarded-for'] !== undefined) {
    headers.push('x-forwarded-for');
    // proxy-addr (Express's parser): [peer, nearest hop, ..., client]; header order is the reverse.
    addresses.push(...proxyaddr.all(req).slice(1).reverse().map(stripAddress));
  }
  if (h.forwarded !== undefined) {
    headers.push('forwarded');
    try {
      for (const element of parseForwarded(String(h.forwarded))) addresses.push(element.for === undefined ? 'unknown' : stripAddress(element.for));
    } catch {
      addresses.push('unknown'); // malformed: treated as a non-loopback client
    }
  }
  for (const name of CLIENT_ADDRESS_HEADERS) {
    if (h[name] === undefined) continue;
    headers.push(name);
    for (const part of String(h[name]).split(',')) addresses.push(stripAddress(part));
  }
  for (const name of PROXY_HEADERS) if (h[name] !== undefined) headers.push(name);
  return headers.length === 0 ? null : { headers, addresses };
}

/** Addresses a proxy said it forwarded for (every client-address header), or null when none. */
function forwardedAddresses(req) {
  const e = proxyEvidence(req);
  return e === null ? null : e.addresses;
}

/**
 * The host name of a Host header value ('localhost:3000' -> 'localhost', '[::1]:80' ->
 * '::1'), or null. Hand-written: the Host grammar is only host[:port], and the URL
 * parser would also accept what a Host header must not carry ('user@localhost' has
 * the host name localhost).
 */
function hostName(value) {
  if (typeof value !== 'string') return null;
  const m = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.~-]+)?)\]|([^\s:@/\\[\]?#]+))(?::\d{1,5})?$/.exec(value.trim());
  if (m === null) return null;
  return (m[1] || m[2]).toLowerCase();
}

/**
 * Whether a Host header names this machine: localhost or a name under .localhost
 * (RFC 6761: browsers resolve them to loopback themselves, never through DNS), or a
 * loopback address, with an optional port.
 */
function isLoopbackHost(value) {
  const name = hostName(value);
  if (name === null) return false;
  return name === 'localhost' || name.endsWith('.localhost') || isLoopbackAddress(name);
}

/**
 * Why a browser request comes from another site, or null (curl-like clients send
 * neither header). Two header comparisons: no library does this without also
 * bringing CSRF tokens or CORS handling the router does not want.
 */
function crossSiteProblem(req) {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return `the browser says this request comes from another site (Sec-Fetch-Site: ${String(site).slice(0, 40)})`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host = null;
    try {
      const u = new URL(String(origin));
      if (u.protocol === 'http:' || u.protocol === 'https:') host = u.host;
    } catch {
      // 'null' and other opaque origins match no host
    }
    if (host === null || host.toLowerCase() !== String(req.headers.host || '').toLowerCase()) {
      return `its Origin (${String(origin).slice(0, 100)}) is not this host`;
    }
  }
  return null;
}

/** Parses MEMORY_PUBLIC_READS: true/false (also 1/0, yes/no, on/off, as the addon's MEMORY_* booleans), else null. */
function parseBooleanEnv(value) {
  const s = String(value).trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  return null;
}

const BOOLEAN_ENV_ACCEPTED = 'true or false (also 1/0, yes/no, on/off)';

/**
 * The access rules of one router. `manager` gives the resolved configuration (its
 * `localDevelopment`) at request time; `tokenDigest` is the SHA-256 of the token, or
 * null for loopback mode. Each check returns null when allowed, else
 * [statusCode, code, message, headers].
 */
function createAccess({ manager, tokenDigest, tokenSource, trustProxy, publicReads, sha256 }) {
  const hint = `set ${TOKEN_ENV} and send Authorization: Bearer <token>`;

  function tokenRefusal(req, what) {
    const header = req.headers.authorization;
    if (header === undefined) {
      return [401, 'ERR_UNAUTHORIZED', `${what} needs Authorization: Bearer <token> (the ${tokenSource === 'adminToken' ? 'adminToken option' : TOKEN_ENV})`, { 'WWW-Authenticate': 'Bearer realm="memwarden"' }];
    }
    const m = /^Bearer +(\S+) *$/i.exec(String(header));
    if (m === null || !require('node:crypto').timingSafeEqual(sha256(m[1]), tokenDigest)) {
      return [401, 'ERR_INVALID_TOKEN', 'the bearer token is not valid', { 'WWW-Authenticate': 'Bearer realm="memwarden", error="invalid_token"' }];
    }
    return null;
  }

  function loopbackRefusal(req, what, more) {
    const forbid = (why) => [403, 'ERR_FORBIDDEN', `${what} is refused: ${why}; ${hint}${more}`];
    const config = manager.config;
    if (!config || config.localDevelopment !== true) {
      const where = config ? `platform ${config.platform}: ${config.platformReason}` : 'the platform is unknown';
      return forbid(`without ${TOKEN_ENV}, it is open to loopback only in local development, and this is not local development (${where})`);
    }
    const peer = req.socket ? req.socket.remoteAddress : undefined;
    if (!isLoopbackAddress(peer)) return forbid(`without ${TOKEN_ENV}, it is allowed only from this machine (loopback)`);
    const evidence = proxyEvidence(req);
    if (evidence !== null) {
      if (!trustProxy) return forbid(`this request came through a proxy (${evidence.headers.join(', ')}) and trustProxy is off`);
      // A trusted proxy must say whom it forwarded for, and every hop it names must be local.
      if (evidence.addresses.length === 0) return forbid(`this request came through a proxy (${evidence.headers.join(', ')}) that does not say which client it forwarded for`);
      if (!evidence.addresses.every(isLoopbackAddress)) return forbid('this request was forwarded for a non-loopback address');
    }
    if (!isLoopbackHost(req.headers.host)) {
      return forbid(`its Host (${String(req.headers.host).slice(0, 100)}) does not name this machine (localhost, 127.0.0.1, [::1]): a page on another site may be reaching it through DNS rebinding`);
    }
    const crossSite = crossSiteProblem(req);
    if (crossSite !== null) return forbid(crossSite);
    return null;
  }

  const check = (req, what, more) => (tokenDigest !== null ? tokenRefusal(req, what) : loopbackRefusal(req, what, more));
  const readHint = ` (or, to make the detailed reads public, publicReads: true / ${PUBLIC_READS_ENV}=true)`;
  return {
    /** POST /gc, /emergency-cleanup. */
    admin: (req) => check(req, 'this admin action', ''),
    /** Detailed reads: public with publicReads, else the admin rule. */
    read: (req) => (publicReads ? null : check(req, 'this detailed read', readHint)),
  };
}

module.exports = {
  createAccess,
  proxyEvidence,
  forwardedAddresses,
  isLoopbackHost,
  crossSiteProblem,
  parseBooleanEnv,
  BOOLEAN_ENV_ACCEPTED,
  CLIENT_ADDRESS_HEADERS,
  PROXY_HEADERS,
  TOKEN_ENV,
  PUBLIC_READS_ENV,
};
