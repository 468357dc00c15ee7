/**
 * The icon containers electron-builder takes (Windows .ico, macOS .icns), written from rendered
 * bitmaps, and read back for the tests. Pure: no files, no browser.
 */

/** One rendered size: its PNG file and its raw pixels (RGBA, rows top to bottom). */
export interface RenderedIcon {
  size: number;
  png: Buffer;
  rgba: Buffer;
}

/** Width and height from a PNG's IHDR chunk; throws on anything that is not a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (png.length < 24 || !png.subarray(0, 8).equals(signature) || png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * A 32-bit BMP as an .ico entry stores it: BITMAPINFOHEADER (height doubled for the AND mask), BGRA
 * rows bottom-up, then a 1-bit AND mask (all zeros: the alpha channel decides). Small sizes go in
 * this form because older Windows shells and NSIS read only BMP entries.
 */
function bmpEntry(icon: RenderedIcon): Buffer {
  const { size, rgba } = icon;
  const header = Buffer.alloc(40);
  header.writeUInt32LE(40, 0);
  header.writeInt32LE(size, 4);
  header.writeInt32LE(size * 2, 8);
  header.writeUInt16LE(1, 12); // planes
  header.writeUInt16LE(32, 14); // bits per pixel
  const pixels = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const from = (y * size + x) * 4;
      const to = ((size - 1 - y) * size + x) * 4;
      pixels[to] = rgba[from + 2]!;
      pixels[to + 1] = rgba[from + 1]!;
      pixels[to + 2] = rgba[from]!;
      pixels[to + 3] = rgba[from + 3]!;
    }
  }
  const maskRow = Math.ceil(size / 32) * 4;
  return Buffer.concat([header, pixels, Buffer.alloc(maskRow * size)]);
}

/** A Windows .ico: sizes under 256 as BMP entries, 256 as PNG (as Windows' own icons are). */
export function encodeIco(icons: readonly RenderedIcon[]): Buffer {
  const entries = icons.map((icon) => (icon.size >= 256 ? icon.png : bmpEntry(icon)));
  const dir = Buffer.alloc(6 + 16 * icons.length);
  dir.writeUInt16LE(0, 0);
  dir.writeUInt16LE(1, 2); // type: icon
  dir.writeUInt16LE(icons.length, 4);
  let offset = dir.length;
  icons.forEach((icon, i) => {
    if (icon.size > 256) throw new Error(`an .ico entry cannot be ${icon.size} px`);
    const at = 6 + 16 * i;
    dir.writeUInt8(icon.size === 256 ? 0 : icon.size, at); // 0 means 256
    dir.writeUInt8(icon.size === 256 ? 0 : icon.size, at + 1);
    dir.writeUInt16LE(1, at + 4); // planes
    dir.writeUInt16LE(32, at + 6); // bits per pixel
    dir.writeUInt32LE(entries[i]!.length, at + 8);
    dir.writeUInt32LE(offset, at + 12);
    offset += entries[i]!.length;
  });
  return Buffer.concat([dir, ...entries]);
}

export interface IcoEntry {
  size: number;
  format: 'png' | 'bmp';
  data: Buffer;
}

export function decodeIco(ico: Buffer): IcoEntry[] {
  if (ico.readUInt16LE(0) !== 0 || ico.readUInt16LE(2) !== 1) throw new Error('not an .ico');
  const count = ico.readUInt16LE(4);
  return Array.from({ length: count }, (_, i) => {
    const at = 6 + 16 * i;
    const size = ico.readUInt8(at) || 256;
    const data = ico.subarray(ico.readUInt32LE(at + 12), ico.readUInt32LE(at + 12) + ico.readUInt32LE(at + 8));
    return { size, format: data.readUInt32BE(0) === 0x89504e47 ? 'png' : 'bmp', data };
  });
}

/** The PNG element types of .icns, by the pixel size they hold (retina types hold twice their point size). */
export const ICNS_TYPES: readonly { type: string; pixels: number }[] = [
  { type: 'icp4', pixels: 16 },
  { type: 'icp5', pixels: 32 },
  { type: 'ic11', pixels: 32 }, // 16pt @2x
  { type: 'icp6', pixels: 64 },
  { type: 'ic12', pixels: 64 }, // 32pt @2x
  { type: 'ic07', pixels: 128 },
  { type: 'ic08', pixels: 256 },
  { type: 'ic13', pixels: 256 }, // 128pt @2x
  { type: 'ic09', pixels: 512 },
  { type: 'ic14', pixels: 512 }, // 256pt @2x
  { type: 'ic10', pixels: 1024 }, // 512pt @2x
];

/** A macOS .icns holding every PNG element type, each from the rendered PNG of its pixel size. */
export function encodeIcns(pngBySize: ReadonlyMap<number, Buffer>): Buffer {
  const elements = ICNS_TYPES.map(({ type, pixels }) => {
    const png = pngBySize.get(pixels);
    if (!png) throw new Error(`.icns needs a ${pixels} px rendering`);
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(8 + png.length, 4);
    return Buffer.concat([head, png]);
  });
  const body = Buffer.concat(elements);
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + body.length, 4);
  return Buffer.concat([head, body]);
}

export function decodeIcns(icns: Buffer): { type: string; data: Buffer }[] {
  if (icns.toString('latin1', 0, 4) !== 'icns' || icns.readUInt32BE(4) !== icns.length) throw new Error('not an .icns');
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < icns.length; ) {
    const length = icns.readUInt32BE(at + 4);
    if (length < 8 || at + length > icns.length) throw new Error('a truncated .icns element');
    out.push({ type: icns.toString('latin1', at, at + 4), data: icns.subarray(at + 8, at + length) });
    at += length;
  }
  return out;
}
