// Change announcements: coalesced while one NOTIFY is out, and an announcement of changes that
// are not named (run-status changes, migration 0035) folded into one that names seqs.
import { describe, expect, it } from "vitest";
import { createChangeNotifier, notifyThroughPool } from "../../../src/entities/index.ts";
import { silentLogger } from "../../../src/log.ts";
import { createPool } from "../../../src/storage/index.ts";
import { createTestDatabase } from "../../support/database.ts";

function recordingNotifier() {
  const sent: string[] = [];
  const notifier = createChangeNotifier(async (payload) => void sent.push(payload), silentLogger());
  return { sent, notifier };
}

describe("change notifier", () => {
  it("names the committed seqs, one NOTIFY for those committed in one turn", async () => {
    const { sent, notifier } = recordingNotifier();
    notifier.committed(1);
    notifier.committed(2);
    await notifier.flush();
    expect(sent).toEqual(["1,2"]);
  });

  it("announces unnamed changes with an empty payload, folded into a NOTIFY that names seqs", async () => {
    const { sent, notifier } = recordingNotifier();
    notifier.announce();
    notifier.announce();
    await notifier.flush();
    expect(sent).toEqual([""]);
    notifier.announce();
    notifier.committed(7);
    await notifier.flush();
    expect(sent).toEqual(["", "7"]);
  });

  it("announces through the pool with a prepared statement, planned once per connection rather than at every NOTIFY", async () => {
    const pool = createPool((await createTestDatabase()).url, silentLogger(), { max: 1 });
    try {
      const notifier = createChangeNotifier(notifyThroughPool(pool), silentLogger());
      // Past plan_cache_mode auto's five custom plans: a prepared statement this cheap goes generic.
      for (let seq = 1; seq <= 8; seq++) {
        notifier.committed(seq);
        await notifier.flush();
      }
      const { rows } = await pool.query<{ generic_plans: string; custom_plans: string }>(
        "SELECT generic_plans::text, custom_plans::text FROM pg_prepared_statements WHERE statement LIKE '%pg_notify%'",
      );
      expect(rows).toEqual([{ generic_plans: "3", custom_plans: "5" }]);
    } finally {
      await pool.end();
    }
  });
});
