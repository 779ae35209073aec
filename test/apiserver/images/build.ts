// Builds the image root directories the exec double copies into each container. The recipes are
// committed (this file plus the text overlays next to it, e.g. ubuntu/sbin/fsfreeze); binaries are
// never committed: Debian's static busybox (/usr/bin/busybox, package busybox-static) is copied in
// at build time, and the `ubuntu` image also gets the host's real dash and bash with the shared
// libraries they need. Builds are cached per recipe fingerprint in the OS temp dir, created
// atomically (build into a temp dir, then rename) and memoised per process, so calling this from
// many tests at once is cheap and safe.
//
// Why real dash/bash in `ubuntu`: Debian's busybox is built with FEATURE_SH_STANDALONE, so its `sh`
// runs its own applets before searching PATH. `sh -c "fsfreeze --freeze /x"` would then run
// busybox's fsfreeze applet instead of the image's /sbin/fsfreeze stand-in. dash and bash search
// PATH like the shells of a real ubuntu image do.
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import {
  promises as fsp,
  constants as fsConstants,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const BUSYBOX_PATH = "/usr/bin/busybox";
/** Directory holding the committed overlays (test/apiserver/images/<name>/...). */
export const IMAGES_SOURCE_DIR = dirname(fileURLToPath(import.meta.url));

/** Bump when the recipe logic changes in a way the fingerprint cannot see. */
const RECIPE_VERSION = "3";

/** Applets never linked into any image (see file comment; fsfreeze must resolve to the stand-in). */
const NEVER_LINKED = new Set(["fsfreeze", "linuxrc"]);

interface ImageRecipe {
  /** Directories created (absolute paths inside the image). */
  dirs: string[];
  /** Busybox applets (by name) not linked into this image, on top of NEVER_LINKED. */
  skipApplets: string[];
  /** Host binaries copied in (with their shared libraries) and the path they get in the image. */
  hostBinaries: Array<{ host: string; image: string }>;
  /** Symlinks created after everything else: image path -> relative target. */
  symlinks: Record<string, string>;
  /** Files from the overlay directory that must be executable. */
  executables: string[];
}

const BASE_DIRS = [
  "/bin",
  "/sbin",
  "/usr/bin",
  "/usr/sbin",
  "/usr/local/bin",
  "/usr/local/sbin",
  "/tmp",
  "/root",
  "/etc",
  "/proc",
  "/dev",
  "/var/tmp",
  "/var/lib",
  "/var/log",
  "/run",
  "/home",
];

export const IMAGE_RECIPES: Record<string, ImageRecipe> = {
  busybox: { dirs: BASE_DIRS, skipApplets: [], hostBinaries: [], symlinks: {}, executables: [] },
  ubuntu: {
    dirs: [...BASE_DIRS, "/var/lib/fsfreeze-standin", "/var/log/nginx", "/lib/x86_64-linux-gnu", "/lib64"],
    // /bin/sh becomes dash and /bin/bash real bash (see file comment).
    skipApplets: ["sh"],
    hostBinaries: [
      { host: "/usr/bin/dash", image: "/bin/dash" },
      { host: "/usr/bin/bash", image: "/bin/bash" },
    ],
    symlinks: { "/bin/sh": "dash" },
    executables: ["/sbin/fsfreeze"],
  },
  nginx: {
    dirs: [...BASE_DIRS, "/var/log/nginx", "/etc/nginx/conf.d", "/usr/share/nginx/html", "/var/cache/nginx"],
    skipApplets: [],
    hostBinaries: [],
    symlinks: {},
    executables: [],
  },
  mysql: {
    dirs: [...BASE_DIRS, "/var/lib/mysql", "/var/run/mysqld", "/var/lib/mysql-standin", "/etc/mysql"],
    skipApplets: [],
    hostBinaries: [],
    symlinks: {},
    executables: ["/usr/bin/mysql"],
  },
};

export type ImageRootResult =
  { ok: true; name: string; root: string } | { ok: false; name: string; error: string };

/**
 * The image's repository name without registry, tag or digest:
 * `docker.io/library/ubuntu:24.04` -> `ubuntu`, `busybox:1.36` -> `busybox`,
 * `registry.k8s.io/foo/bar@sha256:...` -> `bar`, `localhost:5000/x/mysql:8` -> `mysql`.
 */
export function imageNameFor(image: string): string {
  let ref = image.trim();
  const at = ref.indexOf("@");
  if (at >= 0) ref = ref.slice(0, at);
  const lastSlash = ref.lastIndexOf("/");
  const lastColon = ref.lastIndexOf(":");
  // A colon after the last slash is a tag; one before it belongs to a registry host:port.
  if (lastColon > lastSlash) ref = ref.slice(0, lastColon);
  const parts = ref.split("/");
  return (parts[parts.length - 1] ?? "").toLowerCase();
}

function overlayFiles(name: string): string[] {
  const base = join(IMAGES_SOURCE_DIR, name);
  if (!existsSync(base)) return [];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push(p);
    }
  };
  walk(base);
  return out.sort();
}

let fingerprintMemo: string | undefined;

/**
 * Changes whenever a recipe, an overlay file or a host binary changes. Computed once per process:
 * it reads and hashes files synchronously, and ensureImage runs on every exec (it cost the
 * double's event loop ~3 ms per exec); a removed cache directory is still noticed by ensureImage.
 */
function fingerprint(): string {
  fingerprintMemo ??= computeFingerprint();
  return fingerprintMemo;
}

function computeFingerprint(): string {
  const h = createHash("sha256");
  h.update(RECIPE_VERSION);
  // The builder's own source, so a change to the build logic never reuses a stale cache.
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  h.update(JSON.stringify(IMAGE_RECIPES));
  for (const name of Object.keys(IMAGE_RECIPES).sort()) {
    for (const file of overlayFiles(name)) {
      h.update(relative(IMAGES_SOURCE_DIR, file));
      h.update(readFileSync(file));
    }
  }
  for (const bin of [BUSYBOX_PATH, "/usr/bin/dash", "/usr/bin/bash"]) {
    try {
      const st = statSync(bin);
      h.update(`${bin}:${st.size}:${st.mtimeMs}`);
    } catch {
      h.update(`${bin}:missing`);
    }
  }
  return h.digest("hex").slice(0, 16);
}

let cacheDirOverride: string | undefined;
/** Tests may point the cache somewhere else (default: <os tmpdir>/hookguard-images-<fingerprint>). */
export function setImageCacheDir(dir: string | undefined): void {
  cacheDirOverride = dir;
  built.clear();
  ready.clear();
}

function cacheRoot(): string {
  return cacheDirOverride ?? join(tmpdir(), `hookguard-images-${fingerprint()}`);
}

/** Joins an absolute image path onto a root without ever leaving it. */
function inImage(root: string, imagePath: string): string {
  const p = resolve(root, "." + resolve("/", imagePath));
  if (p !== root && !p.startsWith(root + sep)) throw new Error(`path ${imagePath} escapes the image root`);
  return p;
}

let appletCache: Promise<string[]> | undefined;
/** Busybox's own install layout (`--list-full`: e.g. `bin/ls`, `usr/bin/awk`). */
function busyboxApplets(): Promise<string[]> {
  appletCache ??= execFileAsync(BUSYBOX_PATH, ["--list-full"], { env: {} }).then(({ stdout }) =>
    stdout
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.length > 0),
  );
  return appletCache;
}

/** Shared libraries a dynamic host binary needs, as absolute paths (from ldd). */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await execFileAsync("ldd", [binary], { env: { PATH: "/usr/bin:/bin" } });
  const libs: string[] = [];
  for (const line of stdout.split("\n")) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const bare = /^\s*(\/\S+)\s+\(/.exec(line);
    const lib = arrow?.[1] ?? bare?.[1];
    if (lib) libs.push(lib);
  }
  return libs;
}

async function copyHostFile(hostPath: string, dest: string, mode: number): Promise<void> {
  await fsp.mkdir(dirname(dest), { recursive: true });
  // copyFile follows symlinks, so e.g. libtinfo.so.6 -> libtinfo.so.6.4 lands as a plain file.
  await fsp.copyFile(hostPath, dest);
  await fsp.chmod(dest, mode);
}

async function buildImage(name: string, recipe: ImageRecipe, dest: string): Promise<void> {
  for (const d of recipe.dirs) await fsp.mkdir(inImage(dest, d), { recursive: true });
  await fsp.chmod(inImage(dest, "/tmp"), 0o1777);
  await fsp.chmod(inImage(dest, "/var/tmp"), 0o1777);
  await copyHostFile(BUSYBOX_PATH, inImage(dest, "/bin/busybox"), 0o755);

  const skip = new Set([...NEVER_LINKED, ...recipe.skipApplets]);
  const links = (await busyboxApplets()).filter((entry) => {
    const applet = entry.split("/").pop() ?? "";
    return applet !== "" && !skip.has(applet) && entry !== "bin/busybox" && entry.includes("/");
  });
  for (const dir of new Set(links.map((entry) => dirname(inImage(dest, "/" + entry)))))
    await fsp.mkdir(dir, { recursive: true });
  await Promise.all(
    links.map(async (entry) => {
      const linkPath = inImage(dest, "/" + entry);
      // Relative targets: an absolute /bin/busybox would resolve on the host outside the chroot
      // whenever something (like this builder) inspects the tree from outside.
      const target = relative(dirname(linkPath), inImage(dest, "/bin/busybox"));
      await fsp.symlink(target, linkPath).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EEXIST") throw e;
      });
    }),
  );

  for (const { host, image } of recipe.hostBinaries) {
    await copyHostFile(host, inImage(dest, image), 0o755);
    for (const lib of await sharedLibraries(host)) await copyHostFile(lib, inImage(dest, lib), 0o755);
  }

  const files: Record<string, string> = {
    "/etc/passwd":
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "/etc/group": "root:x:0:\nnogroup:x:65534:\n",
    "/etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    "/etc/os-release": `NAME="hookguard test image"\nID=${name}\n`,
    // Without a device node (no mknod in a user namespace) writes to /dev/null land in this plain
    // file inside the container's own root, which is harmless.
    "/dev/null": "",
  };
  for (const [p, content] of Object.entries(files)) await fsp.writeFile(inImage(dest, p), content);

  const overlayBase = join(IMAGES_SOURCE_DIR, name);
  for (const file of overlayFiles(name)) {
    const imagePath = "/" + relative(overlayBase, file).split(sep).join("/");
    const target = inImage(dest, imagePath);
    await fsp.mkdir(dirname(target), { recursive: true });
    await fsp.rm(target, { force: true });
    await fsp.copyFile(file, target);
  }
  for (const exe of recipe.executables) await fsp.chmod(inImage(dest, exe), 0o755);

  for (const [p, target] of Object.entries(recipe.symlinks)) {
    const linkPath = inImage(dest, p);
    await fsp.rm(linkPath, { force: true });
    await fsp.symlink(target, linkPath);
  }
}

const built = new Map<string, Promise<ImageRootResult>>();
const ready = new Set<string>();

/** Builds (once, cached on disk) and returns the root directory of image `name`. */
export function ensureImage(name: string): Promise<ImageRootResult> {
  const known = Object.keys(IMAGE_RECIPES);
  const recipe = IMAGE_RECIPES[name];
  if (!recipe) {
    return Promise.resolve({
      ok: false,
      name,
      error: `no image root for "${name}" (known test images: ${known.join(", ")}; add a recipe in test/apiserver/images/build.ts)`,
    });
  }
  const key = `${cacheRoot()}::${name}`;
  let p = built.get(key);
  // The cache lives in the OS temp dir: if something removed it meanwhile, build it again.
  if (p && ready.has(key) && !existsSync(join(cacheRoot(), name, "bin", "busybox"))) {
    ready.delete(key);
    p = undefined;
  }
  if (!p) {
    p = buildCached(name, recipe).then(
      (r) => {
        if (r.ok) ready.add(key);
        else built.delete(key);
        return r;
      },
      (e: unknown) => {
        built.delete(key);
        return {
          ok: false as const,
          name,
          error: `building image "${name}" failed: ${(e as Error).message}`,
        };
      },
    );
    built.set(key, p);
  }
  return p;
}

async function buildCached(name: string, recipe: ImageRecipe): Promise<ImageRootResult> {
  await fsp.access(BUSYBOX_PATH, fsConstants.X_OK).catch(() => {
    throw new Error(`${BUSYBOX_PATH} is missing (apt-get install busybox-static)`);
  });
  const root = cacheRoot();
  const final = join(root, name);
  if (existsSync(join(final, "bin", "busybox"))) return { ok: true, name, root: final };
  await fsp.mkdir(root, { recursive: true });
  const tmp = await fsp.mkdtemp(join(root, `.${name}-build-`));
  try {
    await buildImage(name, recipe, tmp);
    try {
      await fsp.rename(tmp, final);
    } catch (e) {
      // Another process finished the same build first; its result is identical.
      if (!existsSync(join(final, "bin", "busybox"))) throw e;
    }
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
  return { ok: true, name, root: final };
}

/** The (built) root directory for a pod spec's `image` string. */
export function imageRootFor(image: string): Promise<ImageRootResult> {
  return ensureImage(imageNameFor(image));
}

/** Builds every known image; handy for a warm-up step. */
export async function buildAllImages(): Promise<ImageRootResult[]> {
  return Promise.all(Object.keys(IMAGE_RECIPES).map((n) => ensureImage(n)));
}
