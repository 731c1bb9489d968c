// Cross-process plumbing every module shares: the one LISTEN connection of a process, duties
// held by one process of the cluster at a time, and sleeps that a NOTIFY cuts short.
export { createLeaderDuty, createLeaderLoop, createPeriodicDuty } from "./leader-loop.ts";
export type { LeaderDuty, PeriodicDuty } from "./leader-loop.ts";
export { createDeadlineMonitor, MAX_DEADLINE_MONITOR_INTERVAL_MS } from "./deadline-monitor.ts";
export type { DeadlineMonitor, DeadlineMonitorOptions } from "./deadline-monitor.ts";
export { createNotificationHub } from "./notification-hub.ts";
export { notifyStatement, parseNotice, publishNotice } from "./notices.ts";
export { createLargeNoticeAssembler, MAX_LARGE_NOTICE_BYTES, publishLargeNotice } from "./large-notices.ts";
export type { LargeNoticeAssembler } from "./large-notices.ts";
export type { NotificationHub } from "./notification-hub.ts";
export { createWakeableSleep } from "./wakeable-sleep.ts";
