// The process's root logger: structured JSON lines on stderr (stdout stays free for command output).
// Level from the commands' --log-level flag; callers attach request- or backup-scoped fields with child().
import { pino, type Logger } from "pino";

export type { Logger };

/** The levels every command's --log-level accepts (pino's). */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function createLogger(opts: { level?: string; name?: string } = {}): Logger {
  return pino(
    {
      name: opts.name ?? "hookguard",
      level: opts.level ?? "info",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that writes nothing: for tests and library callers that did not ask for logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
