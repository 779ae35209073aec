// Bearer-token authentication: each token maps to a user (username, uid, groups), so the userInfo
// in AdmissionReviews and SubjectAccessReviews is real. Unknown or missing token → 401.
import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

export interface UserInfo {
  username: string;
  uid: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export class TokenAuthenticator {
  private readonly byToken = new Map<string, UserInfo>();

  /** Registers a user and returns its token (a given token is kept, e.g. for dev setups). */
  add(username: string, groups: string[] = [], token = randomBytes(24).toString("base64url")): string {
    // Real authenticators always add system:authenticated.
    const all = [...new Set([...groups, "system:authenticated"])];
    this.byToken.set(token, { username, uid: randomUUID(), groups: all });
    return token;
  }

  authenticate(req: IncomingMessage): UserInfo | undefined {
    const header = req.headers.authorization;
    if (!header) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return m ? this.byToken.get(m[1]!) : undefined;
  }
}
