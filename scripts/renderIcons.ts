/**
 * `npm run icons`: renders electron/resources/icon.svg, the one source image, into every icon the
 * installers need — PNGs for Linux (electron/resources/icons/NxN.png), icon.ico for Windows, icon.icns
 * for macOS — and records the source's hash in icon-manifest.json, so a test can tell when the
 * rendered files are older than the source. Chromium renders (through Playwright), since it is what
 * the tests already need; the containers are written by scripts/icons/iconFormats.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { encodeIcns, encodeIco, type RenderedIcon } from './icons/iconFormats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const RESOURCES = path.join(ROOT, 'electron/resources');
export const SOURCE = path.join(RESOURCES, 'icon.svg');
export const MANIFEST = path.join(RESOURCES, 'icon-manifest.json');
export const LINUX_SIZES = [16, 24, 32, 48, 64, 128, 256, 512, 1024] as const;
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;
const SYSTEM_CHROMIUM = '/usr/bin/chromium';

export interface IconManifest {
  source: string;
  sourceSha256: string;
  linux: string[];
  win: string;
  mac: string;
}

export const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Runs in the page: draws the SVG onto a canvas of each size; returns each PNG and its RGBA pixels, in base64. */
const DRAW = `async (svg, sizes) => {
  const image = new Image();
  image.src = 'data:image/svg+xml;base64,' + btoa(svg);
  await image.decode();
  const toBase64 = (bytes) => {
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s);
  };
  return sizes.map((size) => {
    const canvas = document.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    const context = canvas.getContext('2d');
    context.imageSmoothingQuality = 'high';
    context.drawImage(image, 0, 0, size, size);
    const png = canvas.toDataURL('image/png').replace(/^data:image\\/png;base64,/, '');
    return { size, png, rgba: toBase64(context.getImageData(0, 0, size, size).data) };
  });
}`;

/** Renders the SVG at each size in Chromium. */
async function render(svg: string, sizes: readonly number[]): Promise<RenderedIcon[]> {
  const browser = await chromium.launch({ headless: true, ...(existsSync(SYSTEM_CHROMIUM) ? { executablePath: SYSTEM_CHROMIUM } : {}) });
  try {
    const page = await browser.newPage();
    // Passed as source text: tsx would otherwise wrap named functions in a helper the page lacks.
    const rendered = (await page.evaluate(`(${DRAW})(${JSON.stringify(svg)}, ${JSON.stringify(sizes)})`)) as { size: number; png: string; rgba: string }[];
    return rendered.map((r) => ({ size: r.size, png: Buffer.from(r.png, 'base64'), rgba: Buffer.from(r.rgba, 'base64') }));
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  const svg = readFileSync(SOURCE, 'utf8');
  const icons = await render(svg, LINUX_SIZES);
  const bySize = new Map(icons.map((icon) => [icon.size, icon]));
  mkdirSync(path.join(RESOURCES, 'icons'), { recursive: true });
  const linux = icons.map((icon) => {
    const name = `icons/${icon.size}x${icon.size}.png`;
    writeFileSync(path.join(RESOURCES, name), icon.png);
    return name;
  });
  writeFileSync(path.join(RESOURCES, 'icon.ico'), encodeIco(ICO_SIZES.map((size) => bySize.get(size)!)));
  writeFileSync(path.join(RESOURCES, 'icon.icns'), encodeIcns(new Map(icons.map((icon) => [icon.size, icon.png]))));
  const manifest: IconManifest = { source: 'icon.svg', sourceSha256: sha256(svg), linux, win: 'icon.ico', mac: 'icon.icns' };
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`rendered ${icons.length} sizes, icon.ico and icon.icns from ${path.relative(ROOT, SOURCE)}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error('could not render the icons:', error);
    process.exit(1);
  });
}
