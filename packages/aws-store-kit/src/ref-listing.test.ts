import { describe, expect, it } from 'vitest';
import { compareRefs, pageOfRefs, RefListing } from './ref-listing.js';

const a = '00000000-0000-4000-8000-00000000000a';
const b = '00000000-0000-4000-8000-00000000000b';

describe('RefListing', () => {
  it('sorts by secret id, then by version as a number', async () => {
    const listing = new RefListing();
    const refs = await listing.all(false, async () => [
      { secretId: b, version: 1 },
      { secretId: a, version: 10 },
      { secretId: a, version: 9 },
    ]);
    expect(refs).toEqual([
      { secretId: a, version: 9 },
      { secretId: a, version: 10 },
      { secretId: b, version: 1 },
    ]);
    expect(compareRefs(refs[0]!, refs[1]!)).toBeLessThan(0);
  });

  it('reuses the listing for the next pages until the backend writes', async () => {
    const listing = new RefListing();
    let loads = 0;
    const load = async () => {
      loads++;
      return [{ secretId: a, version: loads }];
    };
    await listing.all(false, load);
    expect(await listing.all(true, load)).toEqual([{ secretId: a, version: 1 }]);
    // a first page always asks the store again
    await listing.all(false, load);
    expect(loads).toBe(2);
    listing.changed();
    expect(await listing.all(true, load)).toEqual([{ secretId: a, version: 3 }]);
  });

  it('pages after a ref, handing out copies', () => {
    const refs = [1, 2, 3, 4].map((version) => ({ secretId: a, version }));
    const page = pageOfRefs(refs, { secretId: a, version: 2 }, 1);
    expect(page).toEqual([{ secretId: a, version: 3 }]);
    page[0]!.version = 99;
    expect(refs[2]!.version).toBe(3);
    expect(pageOfRefs(refs, { secretId: b, version: 1 }, 10)).toEqual([]);
  });
});
