import { BlockList, isIP } from 'node:net'
import { parseTrustEntry } from '../../../core/config/syslog.js'
import { DaytwoError } from '../../../core/errors.js'
import type { Transport } from './listeners.js'

// Who may name a syslog stream's identity (deployment, job, index, process) through structured
// data, `daytwo@<PEN>` or the BOSH syslog release's `instance@47450`. Anyone who can reach a
// listener can send those elements; a deployment that the collector maps to a tenant must not
// be claimable by any sender, so elements from other senders are ignored (their parameters stay
// as per-line attributes) and counted (lines_altered_total{reason="syslog_untrusted_identity"}).
// config forwarder.syslog.identitySenders: addresses, CIDR blocks, or a transport (`udp`,
// `tcp`, `tls`) for every sender on that listener. UDP source addresses can be forged: trust a
// network for UDP only where the network itself prevents that.

const TRANSPORTS: readonly Transport[] = ['udp', 'tcp', 'tls']

export type IdentityTrust = (transport: Transport, peer: string) => boolean

/** `::ffff:10.0.0.1` (an IPv4 sender on a dual-stack socket) as `10.0.0.1`. */
function plain (peer: string): string {
  return peer.startsWith('::ffff:') && isIP(peer.slice(7)) === 4 ? peer.slice(7) : peer
}

export function identityTrust (entries: string[]): IdentityTrust {
  const transports = new Set<Transport>()
  const nets = new BlockList()
  let any = false
  for (const entry of entries) {
    const p = parseTrustEntry(entry)
    if (p === null) throw new DaytwoError('CONFIG', `forwarder.syslog.identitySenders: '${entry}' is not an address, a CIDR block or one of ${TRANSPORTS.join(', ')}`)
    if ('transport' in p) transports.add(p.transport)
    else { nets.addSubnet(p.address, p.prefix, p.family); any = true }
  }
  return (transport, peer) => {
    if (transports.has(transport)) return true
    if (!any || peer === '') return false
    const a = plain(peer)
    const v = isIP(a)
    return v !== 0 && nets.check(a, v === 4 ? 'ipv4' : 'ipv6')
  }
}
