// Every backup gets its own log: JSON lines in `<storage-dir>/<backup>/<backup>-logs.jsonl`, with
// Velero's hook field names (docs/velero-hook-semantics.md "Log lines", JSON flavour: hookCommand is an
// array, hookTimeout a Go duration string) plus namespace and pod, which Velero 1.15+ lost.
// Like Velero's log counter hook, error- and warning-level lines are counted: those counts become
// status.errors / status.warnings, and any error-level line makes the Backup PartiallyFailed. That is
// why the methods that write them are named recordError / recordWarning: calling one is a decision
// about the Backup's outcome, not just a log line.
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";

export type BackupLogLevel = "info" | "warning" | "error";
export type LogFields = Record<string, unknown>;

export interface BackupLogSink {
  /** A line for the user's record; changes nothing about the Backup's outcome. */
  info(msg: string, fields?: LogFields): void;
  /** Counts into status.warnings and the results file's warnings; the phase is unchanged. */
  recordWarning(msg: string, fields?: LogFields): void;
  /** Counts into status.errors and makes the Backup PartiallyFailed (Velero: any error-level line). */
  recordError(msg: string, fields?: LogFields): void;
}

const MAX_KEPT_MESSAGES = 1000;

/** Where a backup's log lives under the storage dir (the agent writes it, `backup logs` reads it). */
export function backupLogPath(storageDir: string, backup: string): string {
  return `${storageDir}/${backup}/${backup}-logs.jsonl`;
}

export class BackupLog implements BackupLogSink {
  private readonly stream: WriteStream | undefined;
  private errorCount = 0;
  private warningCount = 0;
  /** error-level lines (message + error), for the results file and describe's Errors section */
  readonly errorMessages: string[] = [];
  readonly warningMessages: string[] = [];
  private closed: Promise<void> | undefined;
  private corked = false;

  /** path undefined: count only (tests, `backup plan`). Appends, so a recovery adds to the same log. */
  constructor(
    private readonly backup: string,
    path?: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (path) {
      mkdirSync(dirname(path), { recursive: true });
      this.stream = createWriteStream(path, { flags: "a", mode: 0o640 });
      // a full disk must not crash the agent: the backup still finishes and its status says so
      this.stream.on("error", () => undefined);
    }
  }

  info(msg: string, fields: LogFields = {}): void {
    this.write("info", msg, fields);
  }

  recordWarning(msg: string, fields: LogFields = {}): void {
    this.warningCount++;
    if (this.warningMessages.length < MAX_KEPT_MESSAGES) this.warningMessages.push(describeLine(msg, fields));
    this.write("warning", msg, fields);
  }

  recordError(msg: string, fields: LogFields = {}): void {
    this.errorCount++;
    if (this.errorMessages.length < MAX_KEPT_MESSAGES) this.errorMessages.push(describeLine(msg, fields));
    this.write("error", msg, fields);
  }

  get errors(): number {
    return this.errorCount;
  }

  get warnings(): number {
    return this.warningCount;
  }

  /** Flushes and closes the file; idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      const stream = this.stream;
      this.closed = stream ? new Promise<void>((resolve) => stream.end(() => resolve())) : Promise.resolve();
    }
    return this.closed;
  }

  private write(level: BackupLogLevel, msg: string, fields: LogFields): void {
    if (!this.stream || this.closed) return;
    const line = { level, time: this.now().toISOString(), msg, backup: this.backup, ...fields };
    // Lines written in the same tick (a hook's "stdout:"/"stderr:" pair, 16 workers' lines) go
    // to the file in one write instead of one write syscall each.
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.corked = false;
        this.stream?.uncork();
      });
    }
    this.stream.write(`${JSON.stringify(line)}\n`);
  }
}

function describeLine(msg: string, fields: LogFields): string {
  const where =
    typeof fields.namespace === "string" && typeof fields.pod === "string"
      ? `${fields.namespace}/${fields.pod}: `
      : "";
  const err = typeof fields.error === "string" ? `: ${fields.error}` : "";
  return `${where}${msg}${err}`;
}
