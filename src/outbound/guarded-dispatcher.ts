import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { Agent } from 'undici';
import type { OutboundPolicy } from './outbound-policy.js';

export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
  readonly code = 'E_OUTBOUND_REFUSED';
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A keep-alive connection pool whose DNS lookup refuses addresses the policy
 * does not allow. The check runs on the very address the socket connects to,
 * so a name that resolves to a public address when the definition is
 * registered and to a private one later (DNS rebinding) is still refused.
 */
export function guardedDispatcher(policy: OutboundPolicy): Agent {
  const lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      for (const { address } of list) {
        const refused = policy.checkAddress(address);
        if (refused) return callback(new OutboundRefused(`${hostname} ${refused}`), []);
      }
      if (options.all) return callback(null, list);
      callback(null, list[0].address, list[0].family);
    });
  };
  return new Agent({ connect: { lookup: lookup as never }, keepAliveTimeout: 30_000, connections: 256 });
}
