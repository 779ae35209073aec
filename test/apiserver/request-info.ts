// Parses a resource URL the way the real RequestInfoFactory does: /api/v1/... or /apis/G/V/...,
// optional namespaces/NS, resource, name, subresource; the verb follows from method and shape.
export interface RequestInfo {
  group: string;
  version: string;
  namespace: string | undefined;
  resource: string;
  name: string | undefined;
  subresource: string;
  verb: string;
}

export function parseRequestInfo(
  method: string,
  pathname: string,
  query: URLSearchParams,
): RequestInfo | undefined {
  const parts = pathname
    .split("/")
    .filter((p) => p !== "")
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    group = "";
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return undefined;
  if (rest.length === 0) return undefined;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length > 1) {
    namespace = rest[1];
    // namespaces/NAME/status and /finalize are subresources of the namespace itself.
    if (rest.length > 2 && rest[2] !== "status" && rest[2] !== "finalize") rest = rest.slice(2);
  }
  const [resource, name, subresource = "", ...extra] = rest;
  if (!resource || extra.length > 0) return undefined;
  const watch = query.get("watch") === "true" || query.get("watch") === "1";
  let verb: string;
  switch (method) {
    case "GET":
    case "HEAD":
      verb = name ? "get" : watch ? "watch" : "list";
      break;
    case "POST":
      verb = "create";
      break;
    case "PUT":
      verb = "update";
      break;
    case "PATCH":
      verb = "patch";
      break;
    case "DELETE":
      verb = name ? "delete" : "deletecollection";
      break;
    default:
      verb = method.toLowerCase();
  }
  if (resource === "namespaces" && name === undefined && namespace !== undefined) {
    return {
      group,
      version,
      namespace,
      resource,
      name: namespace,
      subresource: "",
      verb: method === "GET" || method === "HEAD" ? "get" : method === "DELETE" ? "delete" : verb,
    };
  }
  return { group, version, namespace, resource, name, subresource, verb };
}
