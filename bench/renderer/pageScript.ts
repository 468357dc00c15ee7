/**
 * Code that runs inside a benchmark page is bundled with esbuild and handed to Playwright as text:
 * tsx wraps named functions in `__name()` calls, which do not exist in the page, so Playwright cannot
 * serialise functions written in these scripts.
 */
import { build } from 'esbuild';

/** One IIFE with `entry` and everything it imports; minified like the production renderer unless told. */
export async function bundleForPage(entry: string, { minify = true } = {}): Promise<string> {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome130',
    minify,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}
