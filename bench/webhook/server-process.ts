// Starts one of servers.ts's servers as its own process and reads its stdout line by line: the
// first line that is a number is the port; every other line goes to `onLine` (GC reports, V8 traces).
import { spawn, type ChildProcess } from "node:child_process";

/** `command`: node arguments before the mode (flags and the servers script). */
export function startServer(
  command: string[],
  mode: string,
  certDir: string,
  onLine: (line: string) => void = () => {},
): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...command, mode, certDir], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    let listening = false;
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      let nl: number;
      while ((nl = out.indexOf("\n")) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (!listening && /^\d+$/.test(line)) {
          listening = true;
          resolve({ child, port: Number(line) });
        } else onLine(line);
      }
    });
    child.on("exit", (code) => reject(new Error(`${mode} server exited with ${code} before listening`)));
  });
}
