'use strict';
// Which peer addresses count as "this machine" for the admin routes.
const net = require('node:net');

// Node's BlockList does the matching, including IPv4-mapped IPv6 (::ffff:127.0.0.1,
// ::ffff:7f00:1) against the IPv4 subnet.
const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * An address as proxies write it, reduced to the address: brackets, an IPv4 port
 * ('127.0.0.1:8080'), a bracketed IPv6 port ('[::1]:4711') and quotes go away.
 * Hand-written because the parsers stop short of it: forwarded-parse returns the
 * `for=` value as written (port and brackets included), and X-Real-IP and the other
 * client-IP headers have no parser at all.
 */
function stripAddress(raw) {
  let a = String(raw).trim().replace(/^"|"$/g, '');
  if (a.startsWith('[')) {
    const end = a.indexOf(']');
    a = a.slice(1, end === -1 ? undefined : end);
  } else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) {
    a = a.slice(0, a.lastIndexOf(':'));
  }
  return a;
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
  const family = net.isIPv4(a) ? 'ipv4' : net.isIPv6(a) ? 'ipv6' : null;
  return family !== null && LOOPBACK.check(a, family);
}

module.exports = { isLoopbackAddress, stripAddress };
