import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import ipaddr from 'ipaddr.js';
import { LookupAddress, promises as dns } from 'node:dns';
import type { LookupFunction } from 'node:net';

type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const defaultResolver: Resolver = hostname =>
  dns.lookup(hostname, { all: true, verbatim: true });

function matchesHostPattern(hostname: string, pattern: string): boolean {
  const host = hostname.toLowerCase();
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) {
    return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  }
  return host === p;
}

function describeRange(address: ipaddr.IPv4 | ipaddr.IPv6): string {
  const range = address.range();
  const names: Record<string, string> = {
    loopback: 'a loopback address',
    linkLocal: 'a link-local address (this includes cloud metadata endpoints)',
    private: 'a private-network address',
    uniqueLocal: 'a unique-local address',
    carrierGradeNat: 'a carrier-grade NAT address',
    unspecified: 'the unspecified address',
    broadcast: 'the broadcast address',
    multicast: 'a multicast address',
    reserved: 'a reserved address',
  };
  return names[range] ?? `an address in the non-public range '${range}'`;
}

/**
 * The registry's rule for cluster API server URLs, the same SSRF rule the
 * stock Kubernetes plugin applies to catalog clusters: https only, and only
 * publicly routable addresses, unless the host or network is allow-listed in
 * `kmp.registry.allowedClusterHosts` (hostname patterns such as `localhost`
 * or `*.corp.example.com`, or CIDRs such as `10.20.0.0/16`). Plain http needs
 * `kmp.registry.allowInsecureHttp` as well as an allow-listed host.
 *
 * The check runs at registration and again at every connection through
 * {@link ClusterUrlPolicy.lookup}, so a name that later resolves elsewhere
 * (DNS rebinding) is refused too.
 */
export class ClusterUrlPolicy {
  private constructor(
    private readonly hostPatterns: string[],
    private readonly cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][],
    private readonly allowInsecureHttp: boolean,
    private readonly resolve: Resolver,
  ) {}

  static fromConfig(config: Config, resolve: Resolver = defaultResolver) {
    const entries =
      config.getOptionalStringArray('kmp.registry.allowedClusterHosts') ?? [];
    const hostPatterns: string[] = [];
    const cidrs: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
    entries.forEach((entry, index) => {
      if (entry.includes('/')) {
        try {
          cidrs.push(ipaddr.parseCIDR(entry));
        } catch {
          throw new InputError(
            `Invalid configuration at kmp.registry.allowedClusterHosts[${index}]: '${entry}' is not a valid CIDR`,
          );
        }
      } else if (
        !/^(\*\.)?[a-zA-Z0-9.-]+$/.test(entry) &&
        !ipaddr.isValid(entry)
      ) {
        throw new InputError(
          `Invalid configuration at kmp.registry.allowedClusterHosts[${index}]: '${entry}' is neither a hostname pattern nor a CIDR`,
        );
      } else {
        hostPatterns.push(entry);
      }
    });
    return new ClusterUrlPolicy(
      hostPatterns,
      cidrs,
      config.getOptionalBoolean('kmp.registry.allowInsecureHttp') ?? false,
      resolve,
    );
  }

  private hostAllowed(hostname: string): boolean {
    return this.hostPatterns.some(p => matchesHostPattern(hostname, p));
  }

  /** Returns why an address may not be used, or undefined if it may. */
  private refuseAddress(address: string): string | undefined {
    if (!ipaddr.isValid(address)) {
      return `'${address}' is not an IP address`;
    }
    let parsed = ipaddr.parse(address);
    if (
      parsed.kind() === 'ipv6' &&
      (parsed as ipaddr.IPv6).isIPv4MappedAddress()
    ) {
      parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    }
    if (
      this.cidrs.some(
        ([net, bits]) =>
          net.kind() === parsed.kind() && parsed.match([net, bits] as any),
      )
    ) {
      return undefined;
    }
    if (parsed.range() === 'unicast') {
      return undefined;
    }
    return `${address} is ${describeRange(parsed)}`;
  }

  /**
   * Validates a cluster URL at registration. Throws an InputError naming the
   * rule; returns the normalised URL.
   */
  async check(rawUrl: string, field = 'apiServerUrl'): Promise<string> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new InputError(`${field} '${rawUrl}' is not a valid URL`);
    }
    if (url.username || url.password) {
      throw new InputError(`${field} must not carry credentials`);
    }
    if (url.search || url.hash) {
      throw new InputError(`${field} must not have a query or fragment`);
    }
    const hostname = url.hostname.replace(/^\[|\]$/g, '');
    const hostAllowed = this.hostAllowed(hostname);
    if (url.protocol === 'http:') {
      if (!this.allowInsecureHttp || !hostAllowed) {
        throw new InputError(
          `${field} must use https; plain http needs kmp.registry.allowInsecureHttp and the host in kmp.registry.allowedClusterHosts`,
        );
      }
    } else if (url.protocol !== 'https:') {
      throw new InputError(
        `${field} must use https, not ${url.protocol.replace(':', '')}`,
      );
    }
    if (!hostAllowed) {
      const addresses = ipaddr.isValid(hostname)
        ? [hostname]
        : await this.resolve(hostname)
            .then(r => r.map(a => a.address))
            .catch(() => {
              throw new InputError(
                `${field} host '${hostname}' does not resolve`,
              );
            });
      for (const address of addresses) {
        const reason = this.refuseAddress(address);
        if (reason) {
          throw new InputError(
            `${field} '${rawUrl}' is refused: ${reason}; allow it with kmp.registry.allowedClusterHosts`,
          );
        }
      }
    }
    return url.toString().replace(/\/$/, '');
  }

  /**
   * A `lookup` for http(s) agents that refuses, at connection time, any
   * resolved address the policy does not allow.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const allowAll = this.hostAllowed(hostname);
    this.resolve(hostname).then(
      addresses => {
        const allowed = allowAll
          ? addresses
          : addresses.filter(a => !this.refuseAddress(a.address));
        if (allowed.length === 0) {
          const reason = addresses[0]
            ? this.refuseAddress(addresses[0].address)
            : 'no addresses';
          const error = Object.assign(
            new Error(
              `connection to ${hostname} refused by the cluster URL policy: ${reason}`,
            ),
            { code: 'EKMPURLPOLICY' },
          );
          (callback as any)(error, '', 4);
          return;
        }
        if ((options as { all?: boolean }).all) {
          (callback as any)(null, allowed);
        } else {
          (callback as any)(null, allowed[0].address, allowed[0].family);
        }
      },
      error => (callback as any)(error, '', 4),
    );
  };
}
