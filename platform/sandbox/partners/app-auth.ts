import type { Request, RequestHandler, Response } from 'express';
import { sameSecret } from '../auth';

/**
 * The developer app merchant-ops runs as on the partners' open platforms (AppID, AppSecret,
 * docs/rules.md §5.1), with the callback URLs registered for it. The sandbox knows one app.
 */
export interface PartnerApp {
  appId: string;
  appSecret: string;
  redirectUris: string[];
}

/**
 * The app's credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part form-encoded,
 * then base64) or, on the token endpoint only, from `client_id` / `client_secret` in the body.
 */
export function clientCredentials(req: Request, allowBody: boolean): { id: string; secret: string } | undefined {
  const basic = /^Basic (.+)$/.exec(req.get('Authorization') ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return undefined;
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  }
  const body = (req.body ?? {}) as Record<string, unknown>;
  if (allowBody && typeof body.client_id === 'string' && typeof body.client_secret === 'string') {
    return { id: body.client_id, secret: body.client_secret };
  }
  return undefined;
}

export function isTheApp(app: PartnerApp | undefined, credentials: { id: string; secret: string } | undefined): boolean {
  return app !== undefined && credentials !== undefined && credentials.id === app.appId && sameSecret(credentials.secret, app.appSecret);
}

export function refuseClient(res: Response): void {
  res.set('WWW-Authenticate', 'Basic realm="partners"').status(401).json({ error: 'invalid_client' });
}

/** The union APIs' reads: the app authenticates itself, as it signs its calls to the real ones. */
export function requireApp(app: PartnerApp | undefined): RequestHandler {
  return (req, res, next) => {
    if (isTheApp(app, clientCredentials(req, false))) next();
    else refuseClient(res);
  };
}

function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
