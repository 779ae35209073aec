// The backup archive in Velero's layout: `resources/<resource>[.<group>]/namespaces/<ns>/<name>.json`
// for namespaced items, `resources/<resource>[.<group>]/cluster/<name>.json` for cluster-scoped ones,
// plus `metadata/version`. Written as `<storage-dir>/<backup>/<backup>.tar.gz` atomically (tmp file +
// rename), so a crash never leaves a half archive under the final name.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import type { Result } from "../../domain/index.js";
import { tarBytes, untar, type TarEntry } from "./tar.js";

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

/** Velero's archive format version (metadata/version). */
const FORMAT_VERSION = "1.1.0";

export function archiveItemPath(item: Pick<ArchiveItem, "resource" | "group" | "namespace" | "name">): string {
  const gr = item.group ? `${item.resource}.${item.group}` : item.resource;
  return item.namespace ? `resources/${gr}/namespaces/${item.namespace}/${item.name}.json` : `resources/${gr}/cluster/${item.name}.json`;
}

export function archivePath(storageDir: string, backup: string): string {
  return `${storageDir}/${backup}/${backup}.tar.gz`;
}

export async function writeArchive(path: string, items: readonly ArchiveItem[]): Promise<Result<{ bytes: number }, string>> {
  try {
    const entries: TarEntry[] = [{ path: "metadata/version", data: Buffer.from(`${FORMAT_VERSION}\n`) }];
    const seen = new Set<string>();
    for (const it of items) {
      const p = archiveItemPath(it);
      if (seen.has(p)) continue;
      seen.add(p);
      entries.push({ path: p, data: Buffer.from(JSON.stringify(it.object)) });
    }
    const gz = gzipSync(tarBytes(entries));
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, gz, { mode: 0o640 });
    await rename(tmp, path);
    return { ok: true, value: { bytes: gz.length } };
  } catch (err) {
    return { ok: false, error: `writing archive ${path}: ${(err as Error).message}` };
  }
}

/** Lists the archive's files with their content (for tests and inspection tools). */
export async function readArchive(path: string): Promise<Result<Map<string, Buffer>, string>> {
  try {
    const entries = untar(gunzipSync(await readFile(path)));
    return { ok: true, value: new Map(entries.map((e) => [e.path, e.data])) };
  } catch (err) {
    return { ok: false, error: `reading archive ${path}: ${(err as Error).message}` };
  }
}
