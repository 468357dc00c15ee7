/**
 * `npm run test:electron-scan`: Electronegativity over electron/, failing on every finding of medium
 * severity or above that electron/security-allowlist.json does not explain. The tool exits 0 whatever it
 * finds, so the gate reads its CSV report (CSV: the SARIF report carries no severity).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCAN_DIR = 'electron';
const ALLOWLIST_FILE = 'electron/security-allowlist.json';
// The only check that goes online (Electron's release list on GitHub); Electron updates are tracked elsewhere.
const EXCLUDED_CHECKS = ['AvailableSecurityFixesGlobalCheck'];
const BLOCKING = new Set(['MEDIUM', 'HIGH']);
const CSV_HEADER = 'issue, severity, confidence, filename, location, sample, description, url';

export interface Finding {
  check: string;
  severity: string;
  confidence: string;
  /** Repository-relative with forward slashes, or `N/A` for whole-application findings. */
  file: string;
  location: string;
  sample: string;
}

export const Allowlist = z.object({
  $comment: z.string().optional(),
  entries: z.array(
    z.object({
      check: z.string().regex(/^[A-Z0-9_]+$/),
      file: z.string().min(1),
      reason: z.string().min(20, 'say why this finding is acceptable'),
    }).strict(),
  ),
}).strict();
export type Allowlist = z.infer<typeof Allowlist>;

/** RFC 4180 records; quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('unterminated quoted field');
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** Reads Electronegativity's CSV report strictly: anything malformed is an error, never "no findings". */
export function parseReport(csv: string, scanDir: string): Finding[] {
  const lines = parseCsv(csv);
  if (lines[0]?.map((h) => h.trim()).join(', ') !== CSV_HEADER) throw new Error('the report does not start with the expected CSV header');
  return lines.slice(1).map((cells, i) => {
    const [check, severity, confidence, file, location, sample, , url] = cells;
    if (cells.length !== 8 || !check || !/^[A-Z0-9_]+$/.test(check) || !['HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'].includes(severity!)) {
      throw new Error(`report line ${i + 2} is malformed: ${JSON.stringify(cells)}`);
    }
    if (url !== `https://github.com/doyensec/electronegativity/wiki/${check}`) throw new Error(`report line ${i + 2} is malformed`);
    const normalised = file === 'N/A' ? file : path.posix.join(scanDir, file!.replace(/\\/g, '/'));
    return { check, severity: severity!, confidence: confidence!, file: normalised, location: location!, sample: sample! };
  });
}

export interface Verdict {
  /** Medium or above, not in the allow-list. */
  unexplained: Finding[];
  allowed: { finding: Finding; reason: string }[];
  /** Below medium: reported, not blocking. */
  minor: Finding[];
  /** Entries that explain nothing any more: remove them, so they cannot hide a future finding. */
  stale: Allowlist['entries'];
}

export function judge(findings: Finding[], allowlist: Allowlist): Verdict {
  const verdict: Verdict = { unexplained: [], allowed: [], minor: [], stale: [] };
  const used = new Set<number>();
  for (const finding of findings) {
    const index = allowlist.entries.findIndex((e) => e.check === finding.check && e.file === finding.file);
    if (index >= 0) used.add(index);
    if (!BLOCKING.has(finding.severity)) verdict.minor.push(finding);
    else if (index >= 0) verdict.allowed.push({ finding, reason: allowlist.entries[index]!.reason });
    else verdict.unexplained.push(finding);
  }
  verdict.stale = allowlist.entries.filter((_e, i) => !used.has(i));
  return verdict;
}

const require = createRequire(import.meta.url);
const TOOL = path.dirname(require.resolve('@doyensec/electronegativity/package.json'));

/** In report mode the tool silently skips files it cannot parse; parse them first with its own parser. */
async function unparseable(dir: string): Promise<string[]> {
  const { Parser } = require(path.join(TOOL, 'dist/parser')) as { Parser: new (babelFirst: boolean, tsBabelFirst: boolean) => { parse(file: string, content: string): unknown } };
  const { list_files } = require(path.join(TOOL, 'dist/util')) as { list_files(dir: string): Promise<string[]> };
  const parser = new Parser(false, true);
  const failed: string[] = [];
  for (const file of await list_files(dir)) {
    try {
      parser.parse(file, readFileSync(file, 'utf8'));
    } catch (error) {
      failed.push(`${path.relative(ROOT, file)}: ${(error as Error).message}`);
    }
  }
  return failed;
}

function runTool(electronVersion: string, out: string): string {
  const cli = path.join(TOOL, 'dist/index.js');
  const args = ['-i', SCAN_DIR, '-o', out, '-r', '-e', electronVersion, '-x', EXCLUDED_CHECKS.join(',')];
  // The preload keeps the tool from fetching translations online (see the file for why).
  const offline = path.join(ROOT, 'scripts/electronScanOffline.cjs');
  const run = spawnSync(process.execPath, ['--require', offline, cli, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  if (run.status !== 0) throw new Error(`electronegativity failed (${run.status ?? run.signal}): ${run.stderr || run.stdout}`);
  return readFileSync(out, 'utf8');
}

const SCAN_ATTEMPTS = 5;

function scanUntilWellFormed(electronVersion: string, tmp: string): Finding[] {
  for (let attempt = 1; ; attempt++) {
    try {
      return parseReport(runTool(electronVersion, path.join(tmp, `scan-${attempt}.csv`)), SCAN_DIR);
    } catch (error) {
      if (attempt >= SCAN_ATTEMPTS) throw error;
      console.warn(`electron-scan: ${(error as Error).message}; scanning again`);
    }
  }
}

function show(f: Finding): string {
  return `${f.severity.padEnd(6)} ${f.check} ${f.file}${f.file === 'N/A' ? '' : `:${f.location}`}${f.sample && f.sample !== 'N/A' ? `\n         ${f.sample}` : ''}`;
}

async function main(): Promise<number> {
  const electronVersion = (require('electron/package.json') as { version: string }).version;
  const allowlist = Allowlist.parse(JSON.parse(readFileSync(path.join(ROOT, ALLOWLIST_FILE), 'utf8')));
  const broken = await unparseable(path.join(ROOT, SCAN_DIR));
  const tmp = mkdtempSync(path.join(tmpdir(), 'zr-electron-scan-'));
  let findings: Finding[];
  try {
    // The tool writes the CSV header and rows with two unordered async writes, and the header can land
    // over the first row (about one report in twelve, measured): a garbled report is never believed, and
    // the scan runs again, up to SCAN_ATTEMPTS times.
    findings = scanUntilWellFormed(electronVersion, tmp);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const verdict = judge(findings, allowlist);

  console.log(`electron-scan: Electronegativity over ${SCAN_DIR}/ (Electron ${electronVersion}): ${findings.length} finding(s)`);
  const explained = new Set<string>();
  for (const { finding, reason } of verdict.allowed) {
    console.log(`  allowed  ${show(finding)}${explained.has(reason) ? '' : `\n         why: ${reason}`}`);
    explained.add(reason);
  }
  for (const finding of verdict.minor) console.log(`  minor    ${show(finding)}`);
  const problems = [
    ...verdict.unexplained.map((f) => `not in ${ALLOWLIST_FILE}: ${show(f)}`),
    ...verdict.stale.map((e) => `stale entry in ${ALLOWLIST_FILE} (matches no finding): ${e.check} ${e.file}`),
    ...broken.map((b) => `not scanned, the scanner cannot parse it: ${b}`),
  ];
  if (problems.length === 0) {
    console.log('electron-scan: passed');
    return 0;
  }
  console.error(`electron-scan: FAILED\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`electron-scan: ${(error as Error).message}`);
      process.exit(2);
    },
  );
}
