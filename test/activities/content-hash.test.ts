import { createHash } from 'node:crypto';
import { contentHashOf } from '../../activities/catalogue-sync';
import { generateProducts } from '../../platform/sandbox';

/** The hash as every earlier run stored it: a product's three parts, each SHA-256 of its JSON, cut to 32 hex digits. */
const stored = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);

describe('content hash of a partner product', () => {
  it('is the one earlier runs stored, whichever digest call computes it (a new one would rewrite and relist every product)', () => {
    for (const p of generateProducts({ storeId: 'tb-hash', count: 50, seed: 7 })) {
      const base = stored([p.title, p.description, p.category, p.priceFen, p.channelPriceFen, p.attributes, p.images, p.qualityReport, p.filingNumber, p.detailUrl]);
      expect(contentHashOf(p)).toBe(`${base}.${stored([p.inventory, p.presale, p.presaleLabel])}.${stored(p.promoTags)}`);
    }
  });

  it('changes with the part a run of each kind compares', () => {
    const [p] = generateProducts({ storeId: 'tb-hash', count: 1, seed: 7 });
    const parts = (q: typeof p) => contentHashOf(q!).split('.');
    expect(parts({ ...p!, priceFen: p!.priceFen + 1 })[0]).not.toBe(parts(p)[0]);
    expect(parts({ ...p!, inventory: p!.inventory + 1 })[1]).not.toBe(parts(p)[1]);
    expect(parts({ ...p!, promoTags: [] })[2]).toBe(stored([]));
  });
});
