// The backup archive in Velero's layout, format version 1.1.0 (`metadata/version`): each item is
// written twice, as Velero does, under `resources/<resource>[.<group>]/<version>-preferredversion/`
// (1.1.0's versioned path, e.g. `v1-preferredversion`) and under the 1.0 path without the version
// directory; below either, `namespaces/<ns>/<name>.json` for namespaced items and
// `cluster/<name>.json` for cluster-scoped ones. hookguard backs up only the preferred version (it
// reads pods, PVCs and PVs as core/v1), which is all Velero writes for kinds served in one version.
// Written as `<storage-dir>/<backup>/<backup>.tar.gz` atomically (tmp file + rename), so a crash never
// leaves a half archive under the final name. The tar stream is tar-stream's (ustar, with a PAX header
// for a path longer than ustar's 100+155 split, which GNU tar, bsdtar and Go's archive/tar all read),
// gzip'd straight to the file.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { extract as tarExtract, pack as tarPack, type Pack } from "tar-stream";
import type { Result } from "../../domain/index.js";

export interface ArchiveItem {
  /** plural resource, e.g. "pods", "persistentvolumes" */
  resource: string;
  /** API group, "" for the core group */
  group: string;
  /** undefined for cluster-scoped items */
  namespace?: string;
  name: string;
  object: unknown;
}

const ENTRIES_PER_WAIT = 256;

/** Velero's archive format version (metadata/version). */
const FORMAT_VERSION = "1.1.0";

export function archiveItemPath(
  item: Pick<ArchiveItem, "resource" | "group" | "namespace" | "name">,
): string {
  const gr = item.group ? `${item.resource}.${item.group}` : item.resource;
  return item.namespace
    ? `resources/${gr}/namespaces/${item.namespace}/${item.name}.json`
    : `resources/${gr}/cluster/${item.name}.json`;
}

export function archivePath(storageDir: string, backup: string): string {
  return `${storageDir}/${backup}/${backup}.tar.gz`;
}

/** The 1.1.0 path: `resources/<gr>/<version>-preferredversion/...`; the version is the object's own. */
export function preferredVersionPath(
  item: Pick<ArchiveItem, "resource" | "group" | "namespace" | "name" | "object">,
): string {
  const gr = item.group ? `${item.resource}.${item.group}` : item.resource;
  const apiVersion = (item.object as { apiVersion?: unknown } | null)?.apiVersion;
  const version = typeof apiVersion === "string" && apiVersion !== "" ? apiVersion.split("/").pop()! : "v1";
  const rest = item.namespace
    ? `namespaces/${item.namespace}/${item.name}.json`
    : `cluster/${item.name}.json`;
  return `resources/${gr}/${version}-preferredversion/${rest}`;
}

export async function writeArchive(
  path: string,
  items: readonly ArchiveItem[],
): Promise<Result<{ bytes: number }, string>> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await mkdir(dirname(path), { recursive: true });
    const tar = tarPack();
    const written = pipeline(tar, createGzip(), createWriteStream(tmp, { mode: 0o640 }));
    // a failed write ends the pipeline; the entries below then fail too, and `written` says why
    written.catch(() => undefined);
    const mtime = new Date();
    addEntry(tar, "metadata/version", Buffer.from(`${FORMAT_VERSION}\n`), mtime, false);
    const seen = new Set<string>();
    for (const it of items) {
      const p = archiveItemPath(it);
      if (seen.has(p)) continue;
      seen.add(p);
      const data = Buffer.from(JSON.stringify(it.object));
      addEntry(tar, p, data, mtime, false);
      await addEntry(tar, preferredVersionPath(it), data, mtime, seen.size % ENTRIES_PER_WAIT === 0);
    }
    tar.finalize();
    await written;
    const { size } = await stat(tmp);
    await rename(tmp, path);
    return { ok: true, value: { bytes: size } };
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    return { ok: false, error: `writing archive ${path}: ${(err as Error).message}` };
  }
}

/**
 * Queues one file. Waiting for every entry to be consumed makes tar and gzip take turns per entry
 * (about 3x slower on a 5000-item archive), so only every ENTRIES_PER_WAIT-th entry is waited for:
 * memory stays bounded by that many items' JSON, not the whole archive.
 */
function addEntry(
  tar: Pack,
  name: string,
  data: Buffer,
  mtime: Date,
  wait: boolean,
): Promise<void> | undefined {
  const header = { name, size: data.length, mode: 0o644, mtime, type: "file" as const };
  if (!wait) {
    tar.entry(header, data);
    return undefined;
  }
  return new Promise((resolve, reject) => tar.entry(header, data, (err) => (err ? reject(err) : resolve())));
}

/** Lists the archive's files with their content (for tests and inspection tools). */
export async function readArchive(path: string): Promise<Result<Map<string, Buffer>, string>> {
  try {
    const files = new Map<string, Buffer>();
    const tar = tarExtract();
    const reading = pipeline(createReadStream(path), createGunzip(), tar);
    reading.catch(() => undefined);
    for await (const entry of tar) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      if (entry.header.type === "file") files.set(entry.header.name, Buffer.concat(chunks));
    }
    await reading;
    return { ok: true, value: files };
  } catch (err) {
    return { ok: false, error: `reading archive ${path}: ${(err as Error).message}` };
  }
}
