// Objects a controller made by copying something a person wrote: a ReplicaSet from a Deployment's
// template, a Pod from a ReplicaSet's, a Job from a CronJob's, a Backup from a Schedule's. Their
// hook mistakes were already reported (or grandfathered) on the object the person wrote; denying the
// copy stops rollouts, pod replacement and nightly backups, where Velero alone would have run the
// hook with its defaults. So a copy gets warnings that say where to fix the mistake, never a denial.
import type { SubjectUser } from "../kube/authz.js";
import { isTemplateCopyingController } from "./authz.js";
import { isObject } from "../domain/index.js";

/** Velero's schedule controller labels every Backup it creates with its Schedule's name. */
export const SCHEDULE_NAME_LABEL = "velero.io/schedule-name";

export interface CopyOrigin {
  /** Who copied: "a controller", or the controller's username when no owner names the source. */
  by: string;
  /** Where the mistake must be fixed: `the template of Deployment "web"`, `Schedule "nightly"`. */
  fixIn: string;
}

/**
 * Whether `obj` (the request's object) is a controller's copy, and of what. Checked in this order:
 * the controller ownerReference (names the exact owner), the Schedule label of a Backup, then the
 * requesting user being a template-copying controller (the object it copied is not named anywhere).
 */
export function controllerCopyOrigin(
  kind: string,
  obj: Record<string, unknown>,
  user: SubjectUser,
  trusted: ReadonlySet<string>,
): CopyOrigin | undefined {
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const owners = Array.isArray(meta.ownerReferences) ? meta.ownerReferences : [];
  const owner = owners.find((o): o is Record<string, unknown> => isObject(o) && o.controller === true);
  if (owner) {
    const ownerKind = typeof owner.kind === "string" && owner.kind ? owner.kind : "owner";
    const template = ownerKind === "Schedule" ? "" : "the template of ";
    return {
      by: "a controller",
      fixIn: `${template}${ownerKind} ${JSON.stringify(String(owner.name ?? ""))}`,
    };
  }
  const labels = isObject(meta.labels) ? meta.labels : {};
  const schedule = labels[SCHEDULE_NAME_LABEL];
  if (kind === "Backup" && typeof schedule === "string" && schedule !== "")
    return { by: "a controller", fixIn: `Schedule ${JSON.stringify(schedule)}` };
  if (isTemplateCopyingController(user, trusted))
    return { by: user.username ?? "a controller", fixIn: "its source" };
  return undefined;
}
