import { Router, type Response } from 'express';
import { z } from 'zod';
import { markStateChanged } from '../store';
import { partnerStoreKey, type SandboxState } from '../state';
import { invalidRequest } from '../validation';
import { clientCredentials, isTheApp, refuseClient, type PartnerApp } from './app-auth';
import { exchangeCode, issueCode, rotate } from './youzan-grants';

export const YOUZAN_AUTHORIZE_PATH = '/youzan/oauth/authorize';
export const YOUZAN_TOKEN_PATH = '/youzan/oauth/token';

const authorizeQuerySchema = z.object({
  client_id: z.string().min(1),
  redirect_uri: z.string().min(1),
  response_type: z.string().optional(),
  state: z.string().optional(),
  scope: z.string().optional(),
  /** Sandbox only: the store the merchant consents for (on Youzan they pick it after logging in). */
  store_id: z.string().min(1).optional(),
  /** Sandbox only: `deny` plays a merchant who refuses. */
  consent: z.enum(['allow', 'deny']).optional(),
});

const levelSchema = z.enum(['basic', 'advanced', 'custom']);

const tokenRequestSchema = z.discriminatedUnion('grant_type', [
  z.object({ grant_type: z.literal('authorization_code'), code: z.string().min(1), redirect_uri: z.string().min(1) }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1) }),
]);

/**
 * Youzan's OAuth 2.0 authorisation-code flow (RFC 6749 §4.1, §6), with the merchant's consent
 * simulated by the authorize endpoint itself.
 */
export function youzanRouter(state: SandboxState, app: PartnerApp | undefined, now: () => number): Router {
  const router = Router();
  const youzan = state.partners.youzan;

  router.get(YOUZAN_AUTHORIZE_PATH, (req, res) => {
    const query = authorizeQuerySchema.safeParse(req.query);
    if (!query.success) {
      res.status(400).json(invalidRequest(query.error));
      return;
    }
    const q = query.data;
    // An unknown client or callback is answered here, never redirected (RFC 6749 §4.1.2.1):
    // otherwise anyone could send codes or errors to a URL of their choosing.
    if (!app || q.client_id !== app.appId) {
      res.status(400).json({ error: 'invalid_client' });
      return;
    }
    if (!app.redirectUris.includes(q.redirect_uri)) {
      res.status(400).json({ error: 'invalid_redirect_uri' });
      return;
    }
    const back = (params: Record<string, string>) => redirectBack(res, q.redirect_uri, { ...params, ...(q.state === undefined ? {} : { state: q.state }) });
    if (q.response_type !== 'code') return back({ error: 'unsupported_response_type' });
    const level = levelSchema.safeParse(q.scope);
    if (!level.success) return back({ error: 'invalid_scope' });
    if (q.consent === 'deny') return back({ error: 'access_denied' });
    if (q.store_id === undefined) {
      // The real page asks the merchant which store; the sandbox is told (`&store_id=` on the URL).
      res.status(400).json({ error: 'store_id_required' });
      return;
    }
    if (!state.partners.stores.has(partnerStoreKey('youzan', q.store_id))) {
      res.status(404).json({ error: 'store_not_found' });
      return;
    }
    const code = issueCode(youzan, { clientId: app.appId, redirectUri: q.redirect_uri, storeId: q.store_id, level: level.data }, now());
    markStateChanged(res);
    back({ code });
  });

  router.post(YOUZAN_TOKEN_PATH, (req, res) => {
    // Tokens must not be cached on the way (RFC 6749 §5.1), answers and refusals alike.
    res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    const credentials = clientCredentials(req, true);
    if (!app || !isTheApp(app, credentials)) {
      refuseClient(res);
      return;
    }
    const parsed = tokenRequestSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const grantType = (req.body as { grant_type?: unknown } | undefined)?.grant_type;
      const known = grantType === 'authorization_code' || grantType === 'refresh_token';
      res.status(400).json(known || grantType === undefined ? invalidRequest(parsed.error) : { error: 'unsupported_grant_type' });
      return;
    }
    const request = parsed.data;
    if (request.grant_type === 'authorization_code') {
      const granted = exchangeCode(youzan, request.code, { clientId: app.appId, redirectUri: request.redirect_uri }, now());
      if (!granted) {
        res.status(400).json({ error: 'invalid_grant' });
        return;
      }
      res.json(granted);
      return;
    }
    const rotated = rotate(youzan, request.refresh_token, app.appId, now());
    if (!rotated) {
      res.status(400).json({ error: 'invalid_grant' });
      return;
    }
    res.json(rotated);
  });

  return router;
}

function redirectBack(res: Response, redirectUri: string, params: Record<string, string>): void {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  res.redirect(302, url.toString());
}
