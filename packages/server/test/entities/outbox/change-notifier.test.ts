// Change announcements: coalesced while one NOTIFY is out, and an announcement of changes that
// are not named (run-status changes, migration 0035) folded into one that names seqs.
import { describe, expect, it } from "vitest";
import { createChangeNotifier } from "../../../src/entities/index.ts";
import { silentLogger } from "../../../src/log.ts";

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
});
