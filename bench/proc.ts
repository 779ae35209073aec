// Process figures from Linux /proc, shared by the benches.
import { readFileSync } from "node:fs";

/** User and system CPU seconds of a process so far (/proc/<pid>/stat fields 14 and 15, clock ticks of 1/100 s). */
export function cpuTimes(pid: number | "self"): { user: number; sys: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
}
