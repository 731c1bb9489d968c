// The serial reloader behind the assignment index: one load at a time, requests made during a
// load coalesced into the next, a full reload taking over the keys asked before it, and a
// failed load retried with its keys.
import { describe, expect, it } from "vitest";
import { createSerialReloader } from "../../../src/checks/assignments/serial-reloader.ts";
import { silentLogger } from "../../../src/log.ts";

/** Loads that finish when the test says so, recorded in order. */
function controllableLoads() {
  const loads: Array<{ keys: string[] | "all"; finish: (error?: Error) => void }> = [];
  let arrived: (() => void) | undefined;
  const record = (keys: string[] | "all") =>
    new Promise<void>((resolve, reject) => {
      loads.push({ keys, finish: (error) => (error ? reject(error) : resolve()) });
      arrived?.();
    });
  const nextLoad = async (index: number) => {
    while (loads.length <= index) await new Promise<void>((resolve) => (arrived = resolve));
    return loads[index]!;
  };
  return { loads, nextLoad, loadSome: (keys: string[]) => record(keys), loadAll: () => record("all") };
}

describe("the serial reloader", () => {
  it("loads one batch at a time and coalesces the keys asked meanwhile into the next", async () => {
    const { loads, nextLoad, loadSome, loadAll } = controllableLoads();
    const reloader = createSerialReloader({ loadSome, loadAll, logger: silentLogger(), what: "things" });
    reloader.request("a");
    const first = await nextLoad(0);
    reloader.request("b");
    reloader.request("c");
    reloader.request("b");
    expect(loads).toHaveLength(1);
    first.finish();
    const second = await nextLoad(1);
    expect(second.keys).toEqual(["b", "c"]);
    second.finish();
    await reloader.settled();
    expect(loads.map((load) => load.keys)).toEqual([["a"], ["b", "c"]]);
    await reloader.stop();
  });

  it("lets a full reload stand for the keys asked before it started", async () => {
    const { loads, nextLoad, loadSome, loadAll } = controllableLoads();
    const reloader = createSerialReloader({ loadSome, loadAll, logger: silentLogger(), what: "things" });
    reloader.request("a");
    const first = await nextLoad(0);
    reloader.request("b");
    reloader.requestAll();
    first.finish();
    (await nextLoad(1)).finish();
    await reloader.settled();
    expect(loads.map((load) => load.keys)).toEqual([["a"], "all"]);
    await reloader.stop();
  });

  it("retries a failed load with its keys, together with those asked since", async () => {
    const { loads, nextLoad, loadSome, loadAll } = controllableLoads();
    const reloader = createSerialReloader({ loadSome, loadAll, logger: silentLogger(), what: "things", retryMs: 1 });
    reloader.request("a");
    const first = await nextLoad(0);
    reloader.request("b");
    first.finish(new Error("database unavailable"));
    const retried = await nextLoad(1);
    expect([...(retried.keys as string[])].sort()).toEqual(["a", "b"]);
    retried.finish();
    await reloader.settled();
    expect(loads).toHaveLength(2);
    await reloader.stop();
  });
});
