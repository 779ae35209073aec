// The API-server double's process spawner (see runner.ts, "Why a spawner process"). A small plain
// Node process (no tsx, no test code loaded) that receives, over an IPC channel, the exact
// file/argv/env runner.ts built and spawns it, without a shell, relaying stdio and the exit over the
// same channel. It makes no decisions: confinement is entirely in the argv runner.ts sends.
import { spawn } from "node:child_process";

/** id -> ChildProcess */
const children = new Map();

function send(message) {
  if (process.connected) process.send(message);
}

function start(m) {
  let child;
  try {
    child = spawn(m.file, m.args, {
      env: m.env,
      stdio: [m.stdin ? "pipe" : "ignore", "pipe", "pipe"],
      shell: false,
    });
  } catch (e) {
    send({ op: "error", id: m.id, message: e instanceof Error ? e.message : String(e) });
    send({ op: "close", id: m.id, code: null, signal: null });
    return;
  }
  children.set(m.id, child);
  child.on("error", (e) => send({ op: "error", id: m.id, message: e.message }));
  child.stdout.on("data", (data) => send({ op: "stdout", id: m.id, data }));
  child.stderr.on("data", (data) => send({ op: "stderr", id: m.id, data }));
  child.stdin?.on("error", () => undefined);
  // "close" comes after both output streams ended, and IPC keeps order: no output is lost
  child.on("close", (code, signal) => {
    children.delete(m.id);
    send({ op: "close", id: m.id, code, signal });
  });
}

process.on("message", (m) => {
  const child = children.get(m.id);
  switch (m.op) {
    case "start":
      return start(m);
    case "stdin":
      return void child?.stdin?.write(m.data);
    case "stdin-end":
      return void child?.stdin?.end();
    case "kill":
      return void child?.kill(m.signal);
  }
});

// The double went away (stopped, crashed, SIGKILLed): nothing it started may outlive it.
// Killing unshare (--kill-child) takes the whole PID namespace with it.
process.on("disconnect", () => {
  for (const child of children.values()) child.kill("SIGKILL");
  process.exit(0);
});
