// Loaded into a measured core (`node --import`) by bench/satellite-connects --count-syncs:
// counts the ReadyForQuery messages its pg connections receive — one per Sync, i.e. per time
// the backend flushed an answer and the core woke for it (a pipelined round trip carrying a
// statement batch is one) — and keeps the count in the file named by VANTAGE_BENCH_SYNC_FILE.
import { renameSync, writeFileSync } from "node:fs";
import process from "node:process";
import { setInterval } from "node:timers";
import pg from "pg";

const file = process.env.VANTAGE_BENCH_SYNC_FILE;
if (file) {
  let syncs = 0;
  const emit = pg.Connection.prototype.emit;
  pg.Connection.prototype.emit = function countingSyncs(event, ...args) {
    if (event === "readyForQuery") syncs += 1;
    return emit.call(this, event, ...args);
  };
  // Written aside and renamed: a reader never sees the file truncated.
  const save = () => {
    writeFileSync(`${file}.next`, String(syncs));
    renameSync(`${file}.next`, file);
  };
  save();
  setInterval(save, 20).unref();
}
