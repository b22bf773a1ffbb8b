import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../domain/errors';
import { errorCodeOf, requestJson } from '../json-request';
import type { OAuthGrant, PartnerProductPage, PartnerGateway, PartnerGatewayOptions, PartnerPlatform, PermissionLevel } from './types';

/** The token endpoint's answer (RFC 6749 §5.1, with the refresh token's lifetime beside). */
interface TokenAnswer {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  refresh_expires_in: number;
  scope: PermissionLevel;
  store_id: string;
}

const LEVELS: readonly string[] = ['basic', 'advanced', 'custom'];

/** The partner platforms over HTTP (the sandbox's /partners endpoints in dev and tests). */
export function createPartnerGateway(options: PartnerGatewayOptions): PartnerGateway {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetchImpl ?? fetch;
  // RFC 6749 §2.3.1: each part form-encoded, then base64. The secret travels in this header
  // only, never in a URL (URLs end up in proxies' and servers' logs).
  const appAuthorization = `Basic ${Buffer.from(`${formEncode(options.youzan.appId)}:${formEncode(options.youzan.appSecret)}`).toString('base64')}`;

  function read<T>(path: string, query: Record<string, string>, notFoundAs?: T, authorization = appAuthorization): Promise<T> {
    const search = new URLSearchParams(query).toString();
    const url = `${baseUrl}${path}${search ? `?${search}` : ''}`;
    return requestJson<T>({ fetchImpl, url, method: 'GET', path, headers: { Authorization: authorization }, timeoutMs: options.timeoutMs, notFoundAs, refusal: revokedToken, rejectedBody: 'error_code' });
  }

  async function token(form: Record<string, string>, refusal?: (status: number, body: unknown, message: string) => ApplicationFailure | undefined): Promise<OAuthGrant> {
    const path = '/youzan/oauth/token';
    const answer = await requestJson<TokenAnswer>({
      fetchImpl,
      url: `${baseUrl}${path}`,
      method: 'POST',
      path,
      headers: { Authorization: appAuthorization, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      timeoutMs: options.timeoutMs,
      refusal,
      // A partner's refusal may quote the code or refresh token it was sent.
      rejectedBody: 'error_code',
    });
    return grantFrom(answer, path);
  }

  return {
    storeInfo: (platform: PartnerPlatform, storeId: string, accessToken?: string) =>
      read(`/stores/${encodeURIComponent(platform)}/${encodeURIComponent(storeId)}`, {}, null, accessToken === undefined ? appAuthorization : `Bearer ${accessToken}`),
    taobaoUnionAuthorisation: (platform, storeId, pid) => read('/taobao-union/authorisations', { platform, storeId, pid }),
    youzanAuthorizeUrl: ({ state, level, redirectUri }) => {
      const url = new URL(`${baseUrl}/youzan/oauth/authorize`);
      // searchParams encodes each value, so a state or callback with `&`, `#` or spaces stays whole.
      for (const [name, value] of Object.entries({ response_type: 'code', client_id: options.youzan.appId, redirect_uri: redirectUri, state, scope: level })) {
        url.searchParams.set(name, value);
      }
      return url.toString();
    },
    youzanExchangeCode: (code, redirectUri) => token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
    youzanRefresh: (refreshToken) => token({ grant_type: 'refresh_token', refresh_token: refreshToken }, refusedRefresh),
    jdUnionAuthorisation: (storeId, unionId) => read('/jd-union/authorisations', { storeId, unionId }),
    pinduoduoAuthorisation: (storeId, pid) => read('/pinduoduo/authorisations', { storeId, pid }),
    listProducts: (platform, storeId, { cursor, limit }, accessToken) =>
      read<PartnerProductPage>(
        `/stores/${encodeURIComponent(platform)}/${encodeURIComponent(storeId)}/products`,
        { ...(cursor === null ? {} : { cursor }), limit: String(limit) },
        undefined,
        accessToken === undefined ? appAuthorization : `Bearer ${accessToken}`,
      ),
  };
}

// A refresh token the partner refuses (revoked by the merchant, expired, already rotated)
// will not work on a retry: the merchant has to authorise again.
function refusedRefresh(status: number, body: unknown, message: string): ApplicationFailure | undefined {
  if (status === 400 && errorCodeOf(body) === 'invalid_grant') return revoked(message, status);
  return undefined;
}

// An access token the partner no longer accepts: same story as a refused refresh.
function revokedToken(status: number, body: unknown, message: string): ApplicationFailure | undefined {
  if (status === 401 && errorCodeOf(body) === 'invalid_token') return revoked(message, status);
  return undefined;
}

function revoked(message: string, status: number): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, ErrorType.PartnerAuthorisationRevoked, { status });
}

/** Checked, so a grant the binding stores is whole; a malformed answer is the partner's fault and may heal. */
function grantFrom(answer: TokenAnswer, path: string): OAuthGrant {
  const wellFormed =
    typeof answer === 'object' &&
    answer !== null &&
    typeof answer.access_token === 'string' &&
    typeof answer.refresh_token === 'string' &&
    typeof answer.store_id === 'string' &&
    LEVELS.includes(answer.scope) &&
    Number.isSafeInteger(answer.expires_in) &&
    Number.isSafeInteger(answer.refresh_expires_in) &&
    answer.expires_in > 0 &&
    answer.refresh_expires_in > 0;
  if (!wellFormed) throw ApplicationFailure.retryable(`POST ${path} returned 200 with an answer that is not a grant`, ErrorType.PlatformUnavailable);
  return {
    storeId: answer.store_id,
    accessToken: answer.access_token,
    refreshToken: answer.refresh_token,
    accessExpiresInSeconds: answer.expires_in,
    refreshExpiresInSeconds: answer.refresh_expires_in,
    level: answer.scope,
  };
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
