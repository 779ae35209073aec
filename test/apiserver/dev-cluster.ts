// `npm run dev:cluster`: the API-server double as a standalone process. Prints KUBECONFIG=<path>
// once it serves, and stops cleanly on SIGINT/SIGTERM.
import { startApiServer } from "./server.js";

const api = await startApiServer();
process.stdout.write(`KUBECONFIG=${api.kubeconfigPath}\n`);
process.stdout.write(`# API server double at ${api.url} (admin token in the kubeconfig). Ctrl-C to stop.\n`);
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  api.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
