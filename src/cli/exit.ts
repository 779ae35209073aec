// One error prefix and one exit-code scheme for every `hookguard` command (README: "Errors and exit
// codes"). `error: ` is kubectl's prefix (and commander's, for flag mistakes), so a user and a script
// read hookguard's failures the way they read kubectl's.
export const EXIT_FAILED = 1;
/** Bad flags or arguments, unreadable input, an unusable kubeconfig or context. */
export const EXIT_USAGE = 2;

export function printError(message: string): void {
  process.stderr.write(`error: ${message}\n`);
}
