/** Percentiles and timing helpers. */
import { throwIfInterrupted } from './interrupt.mjs';

export function percentile(values, p) {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export const summary = (values) => ({ p50: percentile(values, 50), p95: percentile(values, 95), n: values.length });

export function timeMs(fn) {
  throwIfInterrupted();
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

export async function timeMsAsync(fn) {
  throwIfInterrupted();
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

export const round = (x, digits = 2) => (x === null || x === undefined ? null : Number(x.toFixed(digits)));
