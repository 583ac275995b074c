'use strict';
// Which peer addresses count as "this machine" for the admin routes.
const net = require('node:net');

/** The 8 16-bit groups of an IPv6 address (already checked with net.isIPv6), or null. */
function ipv6Groups(addr) {
  let s = addr.toLowerCase();
  // An embedded dotted IPv4 (::ffff:127.0.0.1) becomes two hex groups.
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (m) {
    if (!net.isIPv4(m[2])) return null;
    const o = m[2].split('.').map(Number);
    s = `${m[1]}${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (part) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]);
  const tail = halves.length === 2 ? parse(halves[1]) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!groups.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return groups.map((g) => parseInt(g, 16));
}

/**
 * Whether a peer address is loopback: IPv4 127.0.0.0/8, IPv6 ::1, and IPv4-mapped
 * IPv6 (::ffff:127.x.y.z, also in hex form). Brackets and zone ids are ignored.
 * Anything else, including a malformed or empty address, is not loopback.
 */
function isLoopbackAddress(address) {
  if (typeof address !== 'string' || address.length === 0 || address.length > 100) return false;
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone !== -1) a = a.slice(0, zone);
  if (net.isIPv4(a)) return a.startsWith('127.');
  if (!net.isIPv6(a)) return false;
  const g = ipv6Groups(a);
  if (g === null) return false;
  const zeros = (from, to) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 7) && g[7] === 1) return true; // ::1
  if (zeros(0, 5) && g[5] === 0xffff) return g[6] >> 8 === 127; // ::ffff:127.x.y.z
  return false;
}

module.exports = { isLoopbackAddress, ipv6Groups };
