import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeIcns, decodeIco, encodeIcns, encodeIco, ICNS_TYPES, pngSize } from '../../scripts/icons/iconFormats.js';
import { ICO_SIZES, LINUX_SIZES, MANIFEST, RESOURCES, sha256, SOURCE, type IconManifest } from '../../scripts/renderIcons.js';

const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as IconManifest;
const png = (size: number) => readFileSync(path.join(RESOURCES, `icons/${size}x${size}.png`));

describe('app icons', () => {
  it('were rendered from the SVG as it is now (run `npm run icons` after changing it)', () => {
    expect(manifest.source).toBe(path.basename(SOURCE));
    expect(manifest.sourceSha256).toBe(sha256(readFileSync(SOURCE, 'utf8')));
  });

  it('has a PNG of every Linux size, each as large as its name says', () => {
    expect(manifest.linux).toEqual(LINUX_SIZES.map((n) => `icons/${n}x${n}.png`));
    for (const size of LINUX_SIZES) expect(pngSize(png(size)), `${size}x${size}.png`).toEqual({ width: size, height: size });
  });

  it('has a Windows .ico with every size up to 256, the 256 one the same PNG as Linux', () => {
    const entries = decodeIco(readFileSync(path.join(RESOURCES, manifest.win)));
    expect(entries.map((e) => e.size)).toEqual([...ICO_SIZES]);
    for (const entry of entries) {
      if (entry.size === 256) {
        expect(entry.format).toBe('png');
        expect(entry.data.equals(png(256))).toBe(true);
      } else {
        // A 32-bit BMP: header width, doubled height, then the pixels and the AND mask.
        expect(entry.format).toBe('bmp');
        expect([entry.data.readInt32LE(4), entry.data.readInt32LE(8), entry.data.readUInt16LE(14)]).toEqual([entry.size, entry.size * 2, 32]);
        expect(entry.data.length).toBe(40 + entry.size * entry.size * 4 + Math.ceil(entry.size / 32) * 4 * entry.size);
      }
    }
  });

  it('has a macOS .icns with every PNG element up to 1024, each the Linux PNG of its size', () => {
    const elements = decodeIcns(readFileSync(path.join(RESOURCES, manifest.mac)));
    expect(elements.map((e) => e.type)).toEqual(ICNS_TYPES.map((t) => t.type));
    for (const { type, pixels } of ICNS_TYPES) {
      expect(elements.find((e) => e.type === type)!.data.equals(png(pixels)), type).toBe(true);
    }
  });

  it('is not a blank image: the tile is opaque in the middle and transparent in the corner', () => {
    const bmp = decodeIco(readFileSync(path.join(RESOURCES, manifest.win))).find((e) => e.size === 48)!.data;
    // Bottom-up BGRA rows after the 40-byte header: alpha of pixel (x, y from the top).
    const alpha = (x: number, y: number) => bmp[40 + ((47 - y) * 48 + x) * 4 + 3];
    expect(alpha(0, 0)).toBe(0);
    expect(alpha(24, 40)).toBe(255);
  });
});

describe('icon containers', () => {
  const fakePng = (size: number) => {
    const b = Buffer.alloc(32);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b);
    b.write('IHDR', 12, 'latin1');
    b.writeUInt32BE(size, 16);
    b.writeUInt32BE(size, 20);
    return b;
  };

  it('round-trip', () => {
    const icons = [16, 256].map((size) => ({ size, png: fakePng(size), rgba: Buffer.alloc(size * size * 4, 0x7f) }));
    expect(decodeIco(encodeIco(icons)).map((e) => [e.size, e.format])).toEqual([
      [16, 'bmp'],
      [256, 'png'],
    ]);
    const all = new Map([16, 32, 64, 128, 256, 512, 1024].map((n) => [n, fakePng(n)]));
    expect(decodeIcns(encodeIcns(all))).toHaveLength(ICNS_TYPES.length);
  });

  it('refuse what they cannot hold', () => {
    expect(() => encodeIco([{ size: 512, png: fakePng(512), rgba: Buffer.alloc(0) }])).toThrow(/512/);
    expect(() => encodeIcns(new Map([[16, fakePng(16)]]))).toThrow(/32 px/);
    expect(() => pngSize(Buffer.from('GIF89a'))).toThrow(/PNG/);
    const icns = encodeIcns(new Map([16, 32, 64, 128, 256, 512, 1024].map((n) => [n, fakePng(n)])));
    expect(() => decodeIcns(icns.subarray(0, icns.length - 1))).toThrow();
  });
});
