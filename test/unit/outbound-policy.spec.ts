import { loadConfig } from '../../src/config/app-config.js';
import { OutboundPolicy } from '../../src/outbound/outbound-policy.js';

const policy = (env: Record<string, string> = {}) => new OutboundPolicy(loadConfig(env));

/** Ways to reach the machine itself, its private networks or cloud metadata through a URL. */
const BYPASSES = [
  'http://127.0.0.1/',
  'http://127.0.0.1:8080/admin',
  'http://2130706433/', // decimal
  'http://0x7f000001/', // hex
  'http://0x7f.0x0.0x0.0x1/', // dotted hex
  'http://0177.0.0.1/', // octal
  'http://017700000001/', // octal long
  'http://127.1/', // short form
  'http://127.0.0.1./', // trailing dot
  'http://0.0.0.0/',
  'http://0/',
  'http://[::1]/',
  'http://[::]/',
  'http://[::ffff:127.0.0.1]/', // IPv4-mapped
  'http://[::ffff:7f00:1]/',
  'http://[0:0:0:0:0:ffff:127.0.0.1]/',
  'http://[::ffff:169.254.169.254]/',
  'http://[::127.0.0.1]/', // IPv4-compatible ::/96
  'http://[::10.0.0.1]/',
  'http://[::ffff:0:127.0.0.1]/', // IPv4-translated
  'http://[64:ff9b::127.0.0.1]/', // NAT64
  'http://[64:ff9b::a9fe:a9fe]/', // NAT64 to cloud metadata
  'http://[2002:7f00:1::1]/', // 6to4 of 127.0.0.1
  'http://[2002:c0a8:101::]/', // 6to4 of 192.168.1.1
  'http://[2001:0:7f00:1::1]/', // Teredo, server 127.0.0.1
  'http://[2001:0:5db8:1::80ff:fffe]/', // Teredo, client 127.0.0.1 (inverted)
  'http://169.254.169.254/latest/meta-data/', // cloud metadata
  'http://[fe80::1]/', // link-local
  'http://10.0.0.1/',
  'http://172.16.0.1/',
  'http://192.168.1.1/',
  'http://100.64.0.1/', // carrier-grade NAT
  'http://[fc00::1]/', // unique local
  'http://[fd12:3456::1]/',
  'http://localhost/',
  'http://LOCALHOST:3000/',
  'http://localhost./',
  'http://api.localhost/',
  'http://user:pass@example.com/', // credentials in the URL
  'ftp://example.com/file',
  'file:///etc/passwd',
  'gopher://127.0.0.1:6379/_FLUSHALL',
];

describe(OutboundPolicy.name, () => {
  it.each(BYPASSES)('should refuse %s by default', (url) => {
    expect(policy().checkUrl(url)).toEqual(expect.any(String));
  });

  it('should refuse every bypass form (at least 20 of them)', () => {
    expect(BYPASSES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(['https://payments.example.com/charge', 'http://93.184.216.34/x', 'https://[2606:2800:220:1:248:1893:25c8:1946]/'])('should allow the public URL %s', (url) => {
    expect(policy().checkUrl(url)).toBeNull();
  });

  it.each(['http://[::808:808]/', 'http://[64:ff9b::8.8.8.8]/', 'http://[2002:808:808::1]/'])('should allow %s, an IPv6 form of a public IPv4 address', (url) => {
    expect(policy().checkUrl(url)).toBeNull();
  });

  it('should name the embedded address it refuses', () => {
    expect(policy().checkUrl('http://[::127.0.0.1]/')).toBe('reaches ::7f00:1, which embeds 127.0.0.1, a loopback address, which PARTICIPANT_ALLOWED_NETWORKS does not allow');
    expect(policy().checkUrl('http://[2001:0:5db8:1::80ff:fffe]/')).toContain('embeds 127.0.0.1');
    expect(policy({ PARTICIPANT_ALLOWED_NETWORKS: '127.0.0.0/8' }).checkUrl('http://[64:ff9b::127.0.0.1]/')).toBeNull();
  });

  it('should name the reason', () => {
    expect(policy().checkUrl('http://0x7f000001/')).toBe('reaches 127.0.0.1, a loopback address, which PARTICIPANT_ALLOWED_NETWORKS does not allow');
    expect(policy().checkUrl('http://[::ffff:169.254.169.254]/')).toContain('169.254.169.254, a link-local address');
    expect(policy().checkUrl('ftp://example.com/')).toContain('only https and http are allowed');
  });

  it('should allow non-public addresses only inside PARTICIPANT_ALLOWED_NETWORKS', () => {
    const p = policy({ PARTICIPANT_ALLOWED_NETWORKS: '10.0.0.0/8,127.0.0.0/8' });
    expect(p.checkUrl('http://10.1.2.3/')).toBeNull();
    expect(p.checkUrl('http://2130706433/')).toBeNull();
    expect(p.checkUrl('http://[::ffff:127.0.0.1]/')).toBeNull();
    expect(p.checkUrl('http://192.168.1.1/')).toEqual(expect.any(String));
    expect(p.checkUrl('http://169.254.169.254/')).toEqual(expect.any(String));
  });

  it('should hold URLs to PARTICIPANT_ALLOWED_HOSTS when it is set', () => {
    const p = policy({ PARTICIPANT_ALLOWED_HOSTS: 'payments.internal,*.svc.example.com,93.184.216.0/24' });
    expect(p.checkUrl('https://payments.internal/x')).toBeNull();
    expect(p.checkUrl('https://orders.svc.example.com/x')).toBeNull();
    expect(p.checkUrl('https://svc.example.com/x')).toContain('PARTICIPANT_ALLOWED_HOSTS');
    expect(p.checkUrl('https://evil.com/x')).toContain('PARTICIPANT_ALLOWED_HOSTS');
    expect(p.checkUrl('https://payments.internal.evil.com/x')).toContain('PARTICIPANT_ALLOWED_HOSTS');
    expect(p.checkUrl('http://93.184.216.34/x')).toBeNull();
    expect(p.checkUrl('http://93.184.217.1/x')).toContain('PARTICIPANT_ALLOWED_HOSTS');
  });

  it('should honour PARTICIPANT_SCHEMES', () => {
    expect(policy({ PARTICIPANT_SCHEMES: 'https' }).checkUrl('http://example.com/')).toContain('only https are allowed');
  });

  it('should judge resolved addresses as the connection sees them (DNS rebinding)', () => {
    const p = policy();
    expect(p.checkAddress('93.184.216.34')).toBeNull();
    for (const address of ['127.0.0.1', '::1', '::ffff:10.0.0.1', '169.254.169.254', 'fe80::1', '0.0.0.0']) {
      expect({ address, refused: typeof p.checkAddress(address) }).toEqual({ address, refused: 'string' });
    }
  });

  it('should refuse, when the definition is registered, names that resolve to refused addresses', async () => {
    const dns: Record<string, string[]> = { 'rebind.example': ['93.184.216.34', '10.0.0.5'], 'public.example': ['93.184.216.34'] };
    const p = policy();
    p.resolve = async (host) => {
      if (!dns[host]) throw new Error('ENOTFOUND');
      return dns[host].map((address) => ({ address }));
    };
    expect(await p.checkUrlResolving('https://rebind.example/x')).toBe(
      'names rebind.example, which resolves to 10.0.0.5, a private address, which PARTICIPANT_ALLOWED_NETWORKS does not allow',
    );
    expect(await p.checkUrlResolving('https://public.example/x')).toBeNull();
    // A name that does not resolve yet is accepted; every call checks the address it connects to.
    expect(await p.checkUrlResolving('https://not-yet.example/x')).toBeNull();
    expect(await p.checkUrlResolving('http://localhost/')).toEqual(expect.any(String));
  });
});
