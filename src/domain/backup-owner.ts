// Who ran a Backup. hookguard's standalone agent writes its identity into this annotation in the
// same guarded write that claims the Backup (phase InProgress), so a Backup without it was run by
// Velero (or by nobody yet). The CLI decides from it where a Backup's hook results and log are:
// in the agent's storage dir, or in Velero's object storage through a DownloadRequest.
export const OWNER_ANNOTATION = "hookguard.io/owner";

export type BackupRunner = "hookguard" | "velero";

export function backupRunner(backup: { metadata?: { annotations?: Record<string, string> } }): BackupRunner {
  return backup.metadata?.annotations?.[OWNER_ANNOTATION] !== undefined ? "hookguard" : "velero";
}
