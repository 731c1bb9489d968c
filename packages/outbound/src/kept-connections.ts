// Connections kept open after an answer, for the next request to the same origin with the same
// settings: what a request asks for with `reuseConnection` (webhooks and notifications — a
// mass outage sends thousands to one receiver, and opening and closing a connection for each
// cost the core about 7 % of its CPU, bench/mass-outage). Probes never ask: they measure a
// fresh connection every run.
//
// node's keep-alive Agent keeps them; it opens each through the exchange that first needed
// it (resolution, the address policy, TLS and its verification as for any other connection),
// so a kept connection is one that passed them with these same settings.
import { Agent } from "node:http";
import type { Socket } from "node:net";
import type { AddressPolicy } from "./resolve-address.ts";

/** Request options the Agent hands back to `createConnection`: how the exchange opens a connection. */
export interface OpenThroughExchange {
  openSocket(): Promise<Socket>;
}

export interface KeptConnections {
  /** The Agent keeping the connections of requests with these settings (`key`: everything but the policy, which is compared by identity). */
  agentFor(key: string, policy: AddressPolicy | undefined): Agent;
  /** Ends every kept connection. */
  close(): void;
}

// Idle connections are closed before a node receiver's default keepAliveTimeout (5 s) would
// close them, so a request rarely meets a connection its receiver is closing at that moment.
const IDLE_MS = 4_000;

const NO_POLICY = {};

export function createKeptConnections(): KeptConnections {
  const byPolicy = new WeakMap<object, Map<string, Agent>>();
  const all = new Set<Agent>();
  return {
    agentFor(key, policy) {
      let agents = byPolicy.get(policy ?? NO_POLICY);
      if (!agents) byPolicy.set(policy ?? NO_POLICY, (agents = new Map()));
      let agent = agents.get(key);
      if (!agent) {
        agent = new Agent({ keepAlive: true, timeout: IDLE_MS, scheduling: "lifo" });
        // The connection is opened by the exchange that asked (see OpenThroughExchange).
        (agent as unknown as { createConnection: unknown }).createConnection = (
          options: OpenThroughExchange,
          created: (error: Error | null, socket?: Socket) => void,
        ) => {
          options.openSocket().then(
            (socket) => created(null, socket),
            (error: Error) => created(error),
          );
          return undefined;
        };
        agents.set(key, agent);
        all.add(agent);
      }
      return agent;
    },
    close() {
      for (const agent of all) agent.destroy();
      all.clear();
    },
  };
}
