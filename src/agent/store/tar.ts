// A minimal POSIX ustar writer/reader (regular files only), so the archive needs no dependency.
// Names longer than ustar's 100+155 split get a PAX extended header ("path=" record), which GNU tar,
// bsdtar and Go's archive/tar (Velero) all read.

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: string, size: number, mtime: number, type: "0" | "x", prefix = ""): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  h.write(name, 0, 100, "utf8");
  h.write(octal(0o644, 8), 100, "ascii");
  h.write(octal(0, 8), 108, "ascii");
  h.write(octal(0, 8), 116, "ascii");
  h.write(octal(size, 12), 124, "ascii");
  h.write(octal(Math.floor(mtime / 1000), 12), 136, "ascii");
  h.write("        ", 148, "ascii"); // checksum field counts as spaces while summing
  h.write(type, 156, "ascii");
  h.write("ustar\0", 257, "ascii");
  h.write("00", 263, "ascii");
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + " ", 148, "ascii");
  return h;
}

function pad(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest, 0);
}

/** Splits a path into ustar (prefix, name) or undefined when it does not fit. */
function splitUstar(path: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(path) <= 100) return { prefix: "", name: path };
  for (let i = path.indexOf("/"); i !== -1; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { prefix, name };
  }
  return undefined;
}

function paxRecord(key: string, value: string): string {
  // "<len> key=value\n" where len counts itself
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

export interface TarEntry {
  path: string;
  data: Buffer;
}

/** Serialises entries into an uncompressed tar stream (ends with the two zero blocks). */
export function tarBytes(entries: readonly TarEntry[], mtime = Date.now()): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const split = splitUstar(e.path);
    if (split) {
      parts.push(header(split.name, e.data.length, mtime, "0", split.prefix));
    } else {
      const pax = Buffer.from(paxRecord("path", e.path), "utf8");
      parts.push(header("PaxHeaders/entry", pax.length, mtime, "x"), pax, pad(pax.length));
      parts.push(header(Buffer.from(e.path).subarray(0, 99).toString("utf8").replace(/\uFFFD$/, ""), e.data.length, mtime, "0"));
    }
    parts.push(e.data, pad(e.data.length));
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

function cstring(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? len : end).toString("utf8");
}

/** Reads regular-file entries back (ustar + PAX path records). Throws on a corrupt archive. */
export function untar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let paxPath: string | undefined;
  while (off + BLOCK <= buf.length) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(cstring(h, 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(h[156]!);
    const prefix = cstring(h, 345, 155);
    const name = cstring(h, 0, 100);
    const data = buf.subarray(off + BLOCK, off + BLOCK + size);
    if (data.length !== size) throw new Error("truncated tar archive");
    off += BLOCK + size + pad(size).length;
    if (type === "x") {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString("utf8"));
      paxPath = m?.[1];
      continue;
    }
    if (type === "0" || type === "\0") out.push({ path: paxPath ?? (prefix ? `${prefix}/${name}` : name), data: Buffer.from(data) });
    paxPath = undefined;
  }
  return out;
}
