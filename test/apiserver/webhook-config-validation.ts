// Validation of Validating/MutatingWebhookConfigurations on create and update, with the real
// registry's field paths and texts, so a broken registration fails at `kubectl apply` (422) as on a
// real server instead of failing every later request. matchCondition expressions are not compiled
// here: CEL outside the double's subset is reported when evaluated (per failurePolicy).
import type { ResourceDef } from "./resources.js";
import { badRequest, invalid, type ApiError } from "./status.js";

type Cause = { field: string; reason: string; message: string };

function isObj(v: unknown): v is Record<string, any> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Shape errors are decode errors (400) on a real server; value errors are 422 causes. */
export function validateWebhookConfiguration(r: ResourceDef, obj: any): ApiError | undefined {
  const mutating = r.kind === "MutatingWebhookConfiguration";
  const hooks = obj.webhooks ?? [];
  if (!Array.isArray(hooks))
    return badRequest(
      `json: cannot unmarshal ${typeof hooks} into Go struct field ${r.kind}.webhooks of type []v1.${mutating ? "Mutating" : "Validating"}Webhook`,
    );
  const causes: Cause[] = [];
  const seen = new Set<string>();
  hooks.forEach((wh: any, i: number) => {
    const at = `webhooks[${i}]`;
    if (!isObj(wh)) {
      causes.push({ field: at, reason: "FieldValueInvalid", message: "Invalid value: must be an object" });
      return;
    }
    if (!wh.name)
      causes.push({ field: `${at}.name`, reason: "FieldValueRequired", message: "Required value" });
    else if (String(wh.name).split(".").length < 3) {
      causes.push({
        field: `${at}.name`,
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(wh.name)}: should be a domain with at least three segments separated by dots`,
      });
    } else if (seen.has(wh.name))
      causes.push({
        field: `${at}.name`,
        reason: "FieldValueDuplicate",
        message: `Duplicate value: ${JSON.stringify(wh.name)}`,
      });
    seen.add(wh.name);
    for (const list of ["rules", "admissionReviewVersions", "matchConditions"]) {
      if (wh[list] !== undefined && !Array.isArray(wh[list]))
        causes.push({
          field: `${at}.${list}`,
          reason: "FieldValueInvalid",
          message: "Invalid value: must be a list",
        });
    }
    if (!Array.isArray(wh.admissionReviewVersions) || wh.admissionReviewVersions.length === 0) {
      causes.push({
        field: `${at}.admissionReviewVersions`,
        reason: "FieldValueRequired",
        message: "Required value: must specify one of v1, v1beta1",
      });
    }
    if (!["None", "NoneOnDryRun"].includes(wh.sideEffects)) {
      causes.push(
        wh.sideEffects === undefined
          ? {
              field: `${at}.sideEffects`,
              reason: "FieldValueRequired",
              message: "Required value: must specify one of None, NoneOnDryRun",
            }
          : {
              field: `${at}.sideEffects`,
              reason: "FieldValueNotSupported",
              message: `Unsupported value: ${JSON.stringify(wh.sideEffects)}: supported values: "None", "NoneOnDryRun"`,
            },
      );
    }
    if (wh.failurePolicy !== undefined && !["Fail", "Ignore"].includes(wh.failurePolicy)) {
      causes.push({
        field: `${at}.failurePolicy`,
        reason: "FieldValueNotSupported",
        message: `Unsupported value: ${JSON.stringify(wh.failurePolicy)}: supported values: "Fail", "Ignore"`,
      });
    }
    if (
      wh.timeoutSeconds !== undefined &&
      !(Number.isInteger(wh.timeoutSeconds) && wh.timeoutSeconds >= 1 && wh.timeoutSeconds <= 30)
    ) {
      causes.push({
        field: `${at}.timeoutSeconds`,
        reason: "FieldValueInvalid",
        message: `Invalid value: ${JSON.stringify(wh.timeoutSeconds)}: the timeout value must be between 1 and 30 seconds`,
      });
    }
    const cc = wh.clientConfig;
    if (!isObj(cc) || (cc.url === undefined) === (cc.service === undefined)) {
      causes.push({
        field: `${at}.clientConfig`,
        reason: "FieldValueRequired",
        message: "Required value: exactly one of url or service is required",
      });
    } else if (cc.url !== undefined) {
      let u: URL | undefined;
      try {
        u = new URL(String(cc.url));
      } catch {
        causes.push({
          field: `${at}.clientConfig.url`,
          reason: "FieldValueInvalid",
          message: `Invalid value: ${JSON.stringify(cc.url)}: host must be specified`,
        });
      }
      if (u && u.protocol !== "https:")
        causes.push({
          field: `${at}.clientConfig.url`,
          reason: "FieldValueInvalid",
          message: `Invalid value: ${JSON.stringify(cc.url)}: 'https' is the only allowed URL scheme`,
        });
    } else if (!isObj(cc.service) || !cc.service.name || !cc.service.namespace) {
      causes.push({
        field: `${at}.clientConfig.service`,
        reason: "FieldValueRequired",
        message: "Required value: service name and namespace are required",
      });
    }
    if (cc?.caBundle !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(String(cc.caBundle))) {
      causes.push({
        field: `${at}.clientConfig.caBundle`,
        reason: "FieldValueInvalid",
        message: "Invalid value: illegal base64 data",
      });
    }
    const names = new Set<string>();
    (Array.isArray(wh.matchConditions) ? wh.matchConditions : []).forEach((mc: any, j: number) => {
      const f = `${at}.matchConditions[${j}]`;
      if (!isObj(mc) || !mc.name)
        causes.push({ field: `${f}.name`, reason: "FieldValueRequired", message: "Required value" });
      else if (names.has(mc.name))
        causes.push({
          field: `${f}.name`,
          reason: "FieldValueDuplicate",
          message: `Duplicate value: ${JSON.stringify(mc.name)}`,
        });
      else names.add(mc.name);
      if (!isObj(mc) || typeof mc.expression !== "string" || mc.expression.trim() === "")
        causes.push({ field: `${f}.expression`, reason: "FieldValueRequired", message: "Required value" });
    });
  });
  return causes.length > 0 ? invalid(r, obj.metadata?.name ?? "", causes) : undefined;
}
