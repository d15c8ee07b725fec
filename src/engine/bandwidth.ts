import { InvalidArgumentError } from '../errors.js';
import type { Bandwidth, RateLimit } from '../store/records.js';

/**
 * Per-container bandwidth, as the CNI bandwidth plugin does it: what the container receives is
 * shaped by a token bucket on its host-side veth; what it sends enters the host through that veth's
 * ingress, is redirected to an ifb device of its own and shaped on the ifb's egress. Both sit in the
 * host namespace, out of the container's reach whatever capabilities it has.
 */

/** How long a full queue may take to drain (the CNI plugin's 25 ms): the queue is rate × this + burst. */
const LATENCY_S = 0.025;
const MIN_RATE = 8_000;

/** A rate as Kubernetes and tc write it, in bits per second: 50M, 50mbit, 500k, 1.5gbit, or a number. */
export function parseRate(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(bit)?$/i.exec(text.trim());
  if (!m) {
    const hint = /bps$/i.test(text) ? ' (bps would be bytes per second in tc; write bits, e.g. 80mbit)' : '';
    throw new InvalidArgumentError(`invalid ${flag} "${text}": expected bits per second such as 50mbit, 50M or 500k${hint}`);
  }
  const scaled = Number(m[1]) * 1000 ** (m[2] ? 'kmgt'.indexOf(m[2].toLowerCase()) + 1 : 0);
  if (scaled < MIN_RATE) throw new InvalidArgumentError(`${flag} ${text} is below 8kbit; give at least 8k`);
  if (scaled > 1e12) throw new InvalidArgumentError(`${flag} ${text} is above 1tbit; leave it unlimited instead`);
  return Math.round(scaled);
}

/** A burst in bytes, as tc writes it: 32k, 1mb, 65536 (k and m are 1024-based). */
export function parseBurst(text: string, flag: string): number {
  const m = /^(\d+)\s*([km]?)b?$/i.exec(text.trim());
  if (!m) throw new InvalidArgumentError(`invalid ${flag} "${text}": expected bytes such as 64k or 1m`);
  const bytes = Number(m[1]) * 1024 ** (m[2] ? 'km'.indexOf(m[2].toLowerCase()) + 1 : 0);
  if (bytes < 1500 || bytes > 2 ** 31) throw new InvalidArgumentError(`${flag} ${text} must hold at least one frame (1500 bytes) and at most 2g`);
  return bytes;
}

/** The default bucket: 20 ms at the rate, at least 32 KiB (a few full-size frames at any rate). */
export const defaultBurst = (rate: number): number => Math.max(32 * 1024, Math.round((rate / 8) * 0.02));

export interface BandwidthRequest {
  ingressRate?: string;
  ingressBurst?: string;
  egressRate?: string;
  egressBurst?: string;
}

function limitOf(rate: string | undefined, burst: string | undefined, direction: 'ingress' | 'egress'): RateLimit | undefined {
  if (rate === undefined) {
    if (burst !== undefined) throw new InvalidArgumentError(`--${direction}-burst needs --${direction}-rate`);
    return undefined;
  }
  const bits = parseRate(rate, `--${direction}-rate`);
  return { rate: bits, burst: burst !== undefined ? parseBurst(burst, `--${direction}-burst`) : defaultBurst(bits) };
}

export function parseBandwidth(req: BandwidthRequest): Bandwidth | undefined {
  const ingress = limitOf(req.ingressRate, req.ingressBurst, 'ingress');
  const egress = limitOf(req.egressRate, req.egressBurst, 'egress');
  return ingress || egress ? { ...(ingress ? { ingress } : {}), ...(egress ? { egress } : {}) } : undefined;
}

/** CNI's bandwidth capability (runtimeConfig.bandwidth): rates and bursts in bits. */
export function cniBandwidth(b: { ingressRate?: number; ingressBurst?: number; egressRate?: number; egressBurst?: number } | undefined): Bandwidth | undefined {
  if (!b) return undefined;
  const one = (rate: number | undefined, burst: number | undefined, what: string): RateLimit | undefined => {
    if (!rate) return undefined;
    if (rate < MIN_RATE) throw new InvalidArgumentError(`runtimeConfig.bandwidth.${what}Rate ${rate} is below 8000 bit/s`);
    return { rate, burst: burst ? Math.max(1500, Math.round(burst / 8)) : defaultBurst(rate) };
  };
  const ingress = one(b.ingressRate, b.ingressBurst, 'ingress');
  const egress = one(b.egressRate, b.egressBurst, 'egress');
  return ingress || egress ? { ...(ingress ? { ingress } : {}), ...(egress ? { egress } : {}) } : undefined;
}

/** The token bucket of a limit: bytes per second, bucket and queue in bytes. */
export function bucketOf(limit: RateLimit): { rate: number; burst: number; limit: number } {
  const rate = Math.round(limit.rate / 8);
  return { rate, burst: limit.burst, limit: Math.round(rate * LATENCY_S) + limit.burst };
}
