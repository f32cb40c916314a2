import { Injectable } from '@nestjs/common';
import ipaddr from 'ipaddr.js';
import { lookup } from 'node:dns/promises';
import { AppConfig } from '../config/app-config.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** The address itself, or the IPv4 inside an IPv4-mapped IPv6 address (::ffff:127.0.0.1 is 127.0.0.1). */
function normalize(address: Address): Address {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}

const v4 = (high: number, low: number) => ipaddr.fromByteArray([high >> 8, high & 0xff, low >> 8, low & 0xff]) as ipaddr.IPv4;

/**
 * The IPv4 addresses an IPv6 address carries, by the forms that route to
 * them: IPv4-compatible ::/96 and IPv4-translated ::ffff:0:0:0/96 (last 32
 * bits), NAT64 64:ff9b::/96 (last 32 bits), 6to4 2002::/16 (bits 16-47) and
 * Teredo 2001::/32 (its server, bits 32-63, and its client, the last 32 bits
 * inverted). IPv4-mapped addresses are normalised to IPv4 before this.
 */
export function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = address.parts;
  const zeros = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  if (zeros(0, 6) && !(p[6] === 0 && p[7] <= 1)) return [v4(p[6], p[7])]; // ::/96, but not :: and ::1 (ranges of their own)
  if (zeros(0, 4) && p[4] === 0xffff && p[5] === 0) return [v4(p[6], p[7])];
  if (p[0] === 0x64 && p[1] === 0xff9b && zeros(2, 6)) return [v4(p[6], p[7])];
  if (p[0] === 0x2002) return [v4(p[1], p[2])];
  if (p[0] === 0x2001 && p[1] === 0) return [v4(p[2], p[3]), v4(~p[6] & 0xffff, ~p[7] & 0xffff)];
  return [];
}

/**
 * Where the server may send participant calls (SSRF guard). A URL must use an
 * allowed scheme and, when PARTICIPANT_ALLOWED_HOSTS is set, name an allowed
 * host; every address it reaches must be public unless it lies in
 * PARTICIPANT_ALLOWED_NETWORKS. URLs are checked when a definition is
 * registered (with a best-effort DNS lookup) and again on every call, against
 * the address actually connected to (see guarded-dispatcher.ts). Any IPv4
 * spelling (decimal, hex, octal, short) is normalised by the URL parser
 * before it is checked; IPv4-mapped IPv6 is checked as IPv4.
 */
@Injectable()
export class OutboundPolicy {
  private readonly schemes: Set<string>;
  private readonly hostPatterns: string[];
  private readonly hostRanges: Array<[Address, number]>;
  private readonly networks: Array<[Address, number]>;
  /** Resolves a host name to its addresses (tests substitute their own). */
  resolve: (host: string) => Promise<Array<{ address: string }>> = (host) => lookup(host, { all: true });

  constructor(config: AppConfig) {
    this.schemes = new Set(config.participantSchemes.map((s) => `${s}:`));
    this.hostPatterns = config.participantAllowedHosts.filter((h) => !h.includes('/') && !ipaddr.isValid(h.replace(/^\[|\]$/g, ''))).map((h) => h.toLowerCase());
    this.hostRanges = config.participantAllowedHosts
      .filter((h) => h.includes('/') || ipaddr.isValid(h.replace(/^\[|\]$/g, '')))
      .map((h) => (h.includes('/') ? ipaddr.parseCIDR(h) : toRange(h.replace(/^\[|\]$/g, ''))));
    this.networks = config.participantAllowedNetworks.map((n) => ipaddr.parseCIDR(n));
  }

  /** Why `url` may not be called, judged from the URL alone; null when it may (its host may still resolve somewhere refused). */
  checkUrl(url: string): string | null {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'is not a valid URL';
    }
    if (!this.schemes.has(parsed.protocol)) return `uses ${parsed.protocol.replace(':', '')}, but only ${[...this.schemes].map((s) => s.replace(':', '')).join(' and ')} are allowed (PARTICIPANT_SCHEMES)`;
    if (parsed.username || parsed.password) return 'must not carry credentials (use the step headers)';
    const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
    const literal = ipaddr.isValid(host) ? normalize(ipaddr.parse(host)) : null;
    if (!this.hostAllowed(host, literal)) return `names host ${host}, which PARTICIPANT_ALLOWED_HOSTS does not allow`;
    if (literal) return this.checkAddress(literal.toString());
    // localhost names are loopback whatever DNS says (RFC 6761).
    if ((host === 'localhost' || host.endsWith('.localhost')) && this.checkAddress('127.0.0.1')) {
      return `names ${host}, a loopback name, which PARTICIPANT_ALLOWED_NETWORKS does not allow`;
    }
    return null;
  }

  /** Why a resolved address may not be connected to; null when it may. */
  checkAddress(address: string): string | null {
    if (!ipaddr.isValid(address)) return `resolved to ${address}, which is not an IP address`;
    const ip = normalize(ipaddr.parse(address));
    if (this.inAllowedNetwork(ip)) return null;
    // An IPv6 address that embeds IPv4 addresses (and routes to them) is as allowed as they are.
    const embedded = ip.kind() === 'ipv6' ? embeddedIPv4(ip as ipaddr.IPv6) : [];
    if (embedded.length > 0) {
      const refused = embedded.find((inner) => inner.range() !== 'unicast' && !this.inAllowedNetwork(inner));
      if (!refused) return null;
      return `reaches ${ip.toString()}, which embeds ${refused.toString()}, a ${describe(refused.range())} address, which PARTICIPANT_ALLOWED_NETWORKS does not allow`;
    }
    const range = ip.range();
    if (range === 'unicast') return null;
    return `reaches ${ip.toString()}, a ${describe(range)} address, which PARTICIPANT_ALLOWED_NETWORKS does not allow`;
  }

  private inAllowedNetwork(ip: Address): boolean {
    return this.networks.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
  }

  /** checkUrl, then (best effort: an unresolvable name passes, the call is checked again) every address its host resolves to. */
  async checkUrlResolving(url: string): Promise<string | null> {
    const reason = this.checkUrl(url);
    if (reason) return reason;
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (ipaddr.isValid(host)) return null;
    let addresses: Array<{ address: string }>;
    try {
      addresses = await this.resolve(host);
    } catch {
      return null;
    }
    for (const { address } of addresses) {
      const refused = this.checkAddress(address);
      if (refused) return `names ${host}, which ${refused.replace(/^reaches/, 'resolves to')}`;
    }
    return null;
  }

  private hostAllowed(host: string, literal: Address | null): boolean {
    if (this.hostPatterns.length === 0 && this.hostRanges.length === 0) return true;
    if (literal) return this.hostRanges.some(([net, bits]) => net.kind() === literal.kind() && literal.match(net, bits));
    return this.hostPatterns.some((p) => (p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p));
  }
}

function toRange(ip: string): [Address, number] {
  const parsed = normalize(ipaddr.parse(ip));
  return [parsed, parsed.kind() === 'ipv4' ? 32 : 128];
}

function describe(range: string): string {
  const names: Record<string, string> = {
    loopback: 'loopback',
    private: 'private',
    linkLocal: 'link-local',
    uniqueLocal: 'unique-local (private)',
    unspecified: 'unspecified',
    carrierGradeNat: 'carrier-grade NAT',
    broadcast: 'broadcast',
    multicast: 'multicast',
    reserved: 'reserved',
  };
  return names[range] ?? `non-public (${range})`;
}
