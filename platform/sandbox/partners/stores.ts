import { Router, type Request } from 'express';
import { PARTNER_PLATFORMS, type PartnerPlatform } from '../../partners/types';
import { partnerStoreKey, type SandboxState } from '../state';
import { clientCredentials, isTheApp, refuseClient, type PartnerApp } from './app-auth';
import { grantOfAccessToken } from './youzan-grants';

export const STORE_PATH = '/stores/:platform/:storeId';

/**
 * A store as its platform shows it to the app. Youzan also answers a merchant's access token
 * for its own store, which is how a revoked or expired grant shows: 401 invalid_token.
 */
export function storesRouter(state: SandboxState, app: PartnerApp | undefined, now: () => number): Router {
  const router = Router();
  router.get(STORE_PATH, (req, res) => {
    const platform = req.params.platform as PartnerPlatform;
    if (!PARTNER_PLATFORMS.includes(platform)) {
      res.status(404).json({ error: 'not_found' });
      return;
    }
    const bearer = bearerToken(req);
    if (bearer !== undefined && platform === 'youzan') {
      const grant = grantOfAccessToken(state.partners.youzan, bearer, now());
      if (!grant) {
        res.set('WWW-Authenticate', 'Bearer error="invalid_token"').status(401).json({ error: 'invalid_token' });
        return;
      }
      if (grant.storeId !== req.params.storeId) {
        res.status(403).json({ error: 'insufficient_scope' });
        return;
      }
    } else if (!isTheApp(app, clientCredentials(req, false))) {
      refuseClient(res);
      return;
    }
    const store = state.partners.stores.get(partnerStoreKey(platform, req.params.storeId));
    if (!store) {
      res.status(404).json({ error: 'store_not_found' });
      return;
    }
    res.json(store);
  });
  return router;
}

export function bearerToken(req: Request): string | undefined {
  return /^Bearer (.+)$/.exec(req.get('Authorization') ?? '')?.[1];
}
