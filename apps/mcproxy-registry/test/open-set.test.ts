// OpenSet, the membership the data plane changes on every request: set semantics, removal while
// going through it, and the reason it exists (a Set in V8's old generation under add/delete churn
// keeps every member alive through young collections; see open-set.ts).

import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { OpenSet, type OpenSetMember } from "../src/dataplane/open-set.js";

interface Item extends OpenSetMember {
  id: number;
}
const item = (id: number): Item => ({ id });
const ids = (set: OpenSet<Item>) => set.toArray().map((m) => m.id);

describe("OpenSet", () => {
  it("adds, removes and tells members, each once", () => {
    const set = new OpenSet<Item>();
    const [a, b, c] = [item(1), item(2), item(3)];
    set.add(a);
    set.add(b);
    set.add(c);
    set.add(b); // again: no change
    expect(set.size).toBe(3);
    expect(set.delete(a)).toBe(true);
    expect(set.delete(a)).toBe(false);
    expect(set.has(a)).toBe(false);
    expect(set.has(c)).toBe(true);
    expect(ids(set).sort()).toEqual([2, 3]);
    set.add(a);
    expect(ids(set).sort()).toEqual([1, 2, 3]);
    set.clear();
    expect(set.size).toBe(0);
    expect(set.has(b)).toBe(false);
    set.add(b); // cleared members can join again
    expect(ids(set)).toEqual([2]);
  });

  it("refuses a member of another set, and takes it once it left that one", () => {
    const first = new OpenSet<Item>();
    const second = new OpenSet<Item>();
    const a = item(1);
    first.add(item(0));
    first.add(a);
    expect(() => second.add(a)).toThrow(/another set/);
    first.delete(a);
    second.add(a);
    expect(second.has(a)).toBe(true);
    expect(first.has(a)).toBe(false);
  });

  it("visits every member once while each visit may remove the member visited", () => {
    const set = new OpenSet<Item>();
    const all = Array.from({ length: 50 }, (_, i) => item(i));
    for (const m of all) set.add(m);
    const seen: number[] = [];
    set.forEach((m) => {
      seen.push(m.id);
      if (m.id % 3 === 0) set.delete(m);
    });
    expect(seen.sort((x, y) => x - y)).toEqual(all.map((m) => m.id));
    expect(ids(set).sort((x, y) => x - y)).toEqual(all.filter((m) => m.id % 3 !== 0).map((m) => m.id));
  });

  it("matches a Set over 20,000 random adds and deletes", () => {
    const set = new OpenSet<Item>();
    const model = new Set<Item>();
    const pool = Array.from({ length: 200 }, (_, i) => item(i));
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 20_000; i++) {
      const m = pool[next() % pool.length]!;
      if (next() % 2 === 0) {
        set.add(m);
        model.add(m);
      } else {
        expect(set.delete(m)).toBe(model.delete(m));
      }
      expect(set.size).toBe(model.size);
    }
    expect(new Set(set.toArray())).toEqual(model);
  });

  it("lets churned members die young: the heap stays small where a Set's would not", () => {
    // The data plane's pattern: a long-lived set (moved to the old generation by a full
    // collection, as after an idle spell), 64 members open at a time, each added and removed once.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const peakHeap = (set: { add(m: Item): void; delete(m: Item): void }) => {
      gc();
      gc();
      const open: Item[] = [];
      let peak = 0;
      for (let i = 0; i < 300_000; i++) {
        const m: Item & { payload?: number[] } = { id: i, payload: new Array(30).fill(i) };
        set.add(m);
        open.push(m);
        if (open.length > 64) set.delete(open.shift()!);
        if ((i & 4095) === 0) peak = Math.max(peak, getHeapStatistics().used_heap_size);
      }
      gc();
      return peak - getHeapStatistics().used_heap_size;
    };
    const openSetGrowth = peakHeap(new OpenSet<Item>());
    // What the members would hold alive in a Set on this V8 (40 MB and more when measured), for
    // the message; the assertion is about OpenSet.
    const setGrowth = peakHeap(new Set<Item>());
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
    expect(
      openSetGrowth,
      `heap growth: OpenSet ${mb(openSetGrowth)}, a Set ${mb(setGrowth)} under the same churn`,
    ).toBeLessThan(16 * 2 ** 20);
  });
});
