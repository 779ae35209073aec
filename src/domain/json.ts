// Narrowing decoded JSON/YAML, which arrives as `unknown` from the API server, files and stdin.

/** A JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
