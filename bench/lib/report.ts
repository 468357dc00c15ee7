/**
 * What every benchmark shares: parameters from the command line, percentiles, a printed table and a
 * JSON record under bench/results (the latest run per benchmark, plus a timestamped copy).
 */
import { cpus, totalmem } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: Iterable<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    n: sorted.length,
    min: sorted.length ? sorted[0]! : NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
  };
}

export type Cell = string | number | boolean | null | undefined;

/** Formats a number for a table: integers as they are, others to a sensible precision. */
export function fmt(value: Cell, digits = 1): string {
  if (value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value))) return '–';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Prints a Markdown table (readable in a terminal, pasteable into bench/README.md). */
export function printTable(title: string, headers: string[], rows: Cell[][]): string {
  const cells = rows.map((r) => r.map((c) => fmt(c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const text = [
    `\n### ${title}\n`,
    line(headers),
    `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...cells.map(line),
    '',
  ].join('\n');
  console.log(text);
  return text;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /**
   * Reported, but not a reason to exit 1: a figure this machine cannot settle (it depends on how
   * many cores the generator and the server share), with the reason printed beside it.
   */
  informative?: string;
}

export function printChecks(checks: Check[]): void {
  console.log('\n### Floors\n');
  for (const c of checks) {
    const mark = c.ok ? '' : c.informative ? `  (informative, not met: ${c.informative})` : '  <-- NOT MET';
    console.log(`- [${c.ok ? 'x' : ' '}] ${c.name}: ${c.detail}${mark}`);
  }
  console.log('');
}

/** Exit code 1 when a floor that gates is missed; informative figures never fail a run. */
export function floorsMissed(checks: Check[]): boolean {
  return checks.some((c) => !c.ok && !c.informative);
}

function machine() {
  const cpu = cpus();
  let os = '';
  try {
    os = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux
  }
  return { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, memoryGiB: Math.round(totalmem() / 2 ** 30), os, node: process.version };
}

/** Writes bench/results/<name>.json (latest) and <name>-<timestamp>.json; returns the latest's path. */
export function writeResults(name: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const at = new Date();
  const record = { benchmark: name, at: at.toISOString(), machine: machine(), ...data };
  const text = `${JSON.stringify(record, null, 2)}\n`;
  const latest = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(latest, text);
  writeFileSync(join(RESULTS_DIR, `${name}-${at.toISOString().replace(/[:.]/g, '-')}.json`), text);
  console.log(`results: ${latest}`);
  return latest;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parses `--name value` options with defaults; `--help` prints them with their descriptions and exits.
 * Numbers are validated so a typo fails loudly rather than benchmarking NaN.
 */
export function benchArgs<const T extends Record<string, { default: string | number | boolean; help: string }>>(
  usage: string,
  spec: T,
  argv = process.argv.slice(2),
): { [K in keyof T]: T[K]['default'] extends number ? number : T[K]['default'] extends boolean ? boolean : string } {
  const options: Options = { help: { type: 'boolean' } };
  for (const [name, s] of Object.entries(spec)) options[name] = { type: typeof s.default === 'boolean' ? 'boolean' : 'string' };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: false });
  } catch (err) {
    console.error(`${(err as Error).message}\n(try --help)`);
    process.exit(2);
  }
  if (parsed.values.help) {
    console.log(`${usage}\n\nOptions:`);
    for (const [name, s] of Object.entries(spec)) console.log(`  --${name.padEnd(22)} ${s.help} (default: ${String(s.default)})`);
    process.exit(0);
  }
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(spec)) {
    const raw = parsed.values[name];
    if (raw === undefined) out[name] = s.default;
    else if (typeof s.default === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n) || n < 0) {
        console.error(`--${name} must be a non-negative number, not ${String(raw)}`);
        process.exit(2);
      }
      out[name] = n;
    } else out[name] = raw;
  }
  return out as never;
}
