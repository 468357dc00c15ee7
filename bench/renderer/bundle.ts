/**
 * Builds the renderer with the project's Vite config into a folder of the benchmark's own (build/renderer
 * belongs to the e2e web server, which may be building at the same time) and sizes what it emitted.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'vite';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

export async function buildRenderer(outDir: string): Promise<number> {
  const started = performance.now();
  await build({
    configFile: path.join(REPO_ROOT, 'vite.config.ts'),
    root: path.join(REPO_ROOT, 'renderer'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  return performance.now() - started;
}

export interface AssetSize {
  /** Relative to the build folder, with forward slashes (as index.html refers to it). */
  file: string;
  raw: number;
  /** zlib level 9, as a server compressing ahead of time would serve it. */
  gzip: number;
  /** Brotli quality 11. */
  brotli: number;
  /** index.html itself, or referenced by it (script, stylesheet, modulepreload): fetched before first render. */
  startup: boolean;
}

export interface SizeTotals {
  files: number;
  raw: number;
  gzip: number;
  brotli: number;
}

function sizeOf(file: string, bytes: Buffer, startup: boolean): AssetSize {
  return {
    file,
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, {
      params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
    }).length,
    startup,
  };
}

/** What index.html loads by itself: module scripts, stylesheets and modulepreloads (not data: URLs). */
export function startupReferences(indexHtml: string): string[] {
  const refs = new Set<string>();
  for (const tag of indexHtml.match(/<(script|link)\b[^>]*>/gi) ?? []) {
    const isScript = /^<script/i.test(tag);
    const rel = /\brel\s*=\s*"([^"]*)"/i.exec(tag)?.[1]?.toLowerCase() ?? '';
    if (!isScript && !/\b(stylesheet|modulepreload|preload)\b/.test(rel)) continue;
    const url = /\b(?:src|href)\s*=\s*"([^"]+)"/i.exec(tag)?.[1];
    if (!url || /^[a-z][a-z0-9+.-]*:/i.test(url)) continue;
    refs.add(path.posix.normalize(url.replace(/^\.?\//, '')));
  }
  return [...refs];
}

function walk(dir: string, base = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full, base) : [path.relative(base, full).split(path.sep).join('/')];
  });
}

/** Every emitted JS, CSS and HTML file (source maps are not shipped to users' startup, so left out). */
export function measureAssets(outDir: string): { assets: AssetSize[]; startupFiles: string[] } {
  const startupFiles = ['index.html', ...startupReferences(readFileSync(path.join(outDir, 'index.html'), 'utf8'))];
  const assets = walk(outDir)
    .filter((f) => /\.(m?js|css|html)$/.test(f))
    .sort()
    .map((f) => sizeOf(f, readFileSync(path.join(outDir, f)), startupFiles.includes(f)));
  const missing = startupFiles.filter((f) => !assets.some((a) => a.file === f));
  if (missing.length) throw new Error(`index.html refers to files the build did not emit: ${missing.join(', ')}`);
  return { assets, startupFiles };
}

export function totals(assets: AssetSize[]): SizeTotals {
  return assets.reduce((t, a) => ({ files: t.files + 1, raw: t.raw + a.raw, gzip: t.gzip + a.gzip, brotli: t.brotli + a.brotli }), {
    files: 0,
    raw: 0,
    gzip: 0,
    brotli: 0,
  });
}
