// Which namespace a stream belongs to (what `agentctl ns ls` and `ns rm` go by):
// every stream Subjects.streams() names, named memory buckets, and nothing else.

import { describe, expect, it } from "vitest";
import { namespaceOfStream, Subjects } from "./subjects.js";

describe("namespaceOfStream", () => {
  it("finds the namespace of every stream the namespace owns", () => {
    const s = new Subjects("shop-2");
    for (const { name } of s.streams()) expect(namespaceOfStream(name)).toBe("shop-2");
    expect(namespaceOfStream("KV_troupe_shop-2_mem_facts")).toBe("shop-2");
  });

  it.each(["KV_other_bucket", "ORDERS", "KV_troupe_shop_unknown", "TROUPE_SHOP_NOPE", "KV_troupe_shop_mem_Bad_Name", "KV_troupe_Shop_state"])("%s belongs to no namespace", (name) => {
    expect(namespaceOfStream(name)).toBeUndefined();
  });

  it("ownsStream keeps namespaces apart", () => {
    expect(new Subjects("a").ownsStream("KV_troupe_a_state")).toBe(true);
    expect(new Subjects("a").ownsStream("KV_troupe_ab_state")).toBe(false);
    expect(new Subjects("a").ownsStream("KV_troupe_a-b_state")).toBe(false);
    expect(new Subjects("a").ownsStream("TROUPE_A-B_DLQ")).toBe(false);
    expect(namespaceOfStream("TROUPE_A-B_DLQ")).toBe("a-b");
    expect(new Subjects("a").ownsStream("KV_troupe_a_mem_x")).toBe(true);
    expect(new Subjects("a").ownsStream("TROUPE_B_DLQ")).toBe(false);
  });
});
