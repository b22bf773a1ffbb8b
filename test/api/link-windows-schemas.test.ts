import type { RequestHandler } from 'express';
import { createOpenApiRegistry, generateOpenApiDocument } from '../../api/openapi';
import { createLinkWindowRouter } from '../../api/link-windows/router';
import { listLinkBody } from '../../api/link-windows/schemas';
import type { LinkWindowService } from '../../api/link-windows/service';

describe('link-window routes at the edge', () => {
  const link = (url: string) => listLinkBody.safeParse({ bindingId: 'bnd-1', linkKind: 'self_operated', productId: 'p-1', url });

  test.each([
    ['https://item.jd.com/1.html', true],
    ['https://item.jd.com:443/1.html', true],
    ['https://item.jd.com:65535/1.html', true],
    ['https://item.jd.com:65536/1.html', false],
    ['https://item.jd.com:99999', false],
  ])('%s accepted: %s', (url, ok) => {
    expect(link(url).success).toBe(ok);
  });

  test('POST /v1/link-windows declares its Idempotency-Key conflicts (409)', () => {
    const registry = createOpenApiRegistry();
    const pass: RequestHandler = (_req, _res, next) => next();
    createLinkWindowRouter({ service: {} as LinkWindowService, registry, limitMutations: pass, idempotent: pass });
    const doc = generateOpenApiDocument(registry) as unknown as { paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>> };
    expect(doc.paths['/v1/link-windows']!.post!.responses['409']!.description).toMatch(/idempotency_key_reused/);
  });
});
