// Hook commands that run but do not hold what they promise. One row per known pattern: adding one
// is one line. Each message says why it fails and, after the last "; ", what works instead, in at
// most 82 characters, so that `KEY: MESSAGE` fits a 120-character admission warning whole.
import type { ContainerLike, Finding } from "./types.js";
import { q, warning } from "./findings.js";

export interface RiskyPattern {
  code: string;
  /** Matched against the whole argv joined with spaces (shell scripts included). */
  command: RegExp;
  /** The command does not count when this matches too (e.g. the session is kept open). */
  unless?: RegExp;
  /** Only for a container whose image matches (annotation hooks, where the container is known). */
  image?: RegExp;
  /** argv[0] (through env/busybox) must match, e.g. a shell the image may not have. */
  program?: RegExp;
  message: (ctx: { image: string }) => string;
}

// A session stays open only if something keeps it: a background job (`&`), or a named pipe.
const KEPT_OPEN = /(^|[^&])&(\s|$)|\bmkfifo\b|\bcoproc\b|\bnohup\b|\bsetsid\b/;

export const RISKY_PATTERNS: readonly RiskyPattern[] = [
  {
    code: "mysql-lock-released",
    command: /\bmysql\b[\s\S]*FLUSH\s+TABLES\s+WITH\s+READ\s+LOCK/i,
    unless: KEPT_OPEN,
    message: () => `FLUSH TABLES WITH READ LOCK ends as mysql exits; freeze the volume instead`,
  },
  {
    code: "pg-backup-removed",
    command: /\bpg_(start|stop)_backup\b/i,
    message: () => `pg_start/stop_backup are gone in PostgreSQL 15; use pg_backup_start/stop`,
  },
  {
    code: "pg-backup-session",
    command: /\bpsql\b[\s\S]*\bpg_backup_start\b/i,
    unless: KEPT_OPEN,
    message: () => `pg_backup_start ends as this psql exits; keep a session open to pg_backup_stop`,
  },
  {
    code: "bash-on-alpine",
    command: /[\s\S]*/,
    program: /^(\/usr)?(\/bin\/)?bash$/,
    image: /alpine/i,
    message: ({ image }) => `image ${q(image)} has no bash (Alpine ships BusyBox sh); use /bin/sh`,
  },
];

function program(argv: readonly string[]): string {
  const first = argv[0] ?? "";
  const base = first.slice(first.lastIndexOf("/") + 1);
  return (base === "env" || base === "busybox") && argv.length > 1 ? argv[1]! : first;
}

/** Warnings for the known patterns this command matches; `container` is the one it runs in, if known. */
export function riskyCommandFindings(
  argv: readonly string[],
  container: ContainerLike | undefined,
  path: string,
): Finding[] {
  if (argv.length === 0) return [];
  const text = argv.join(" ");
  const image = container?.image ?? "";
  const out: Finding[] = [];
  for (const p of RISKY_PATTERNS) {
    if (!p.command.test(text) || p.unless?.test(text)) continue;
    if (p.image && !p.image.test(image)) continue;
    if (p.program && !p.program.test(program(argv))) continue;
    out.push(warning(p.code, path, p.message({ image })));
  }
  return out;
}
