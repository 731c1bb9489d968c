// The admin API as a test outside the process calls it: over real HTTP with the admin token.
import { expect } from "vitest";

/** Registers a satellite through `POST /api/v1/satellites`: its id and one-time token. */
export async function createSatelliteThroughApi(coreUrl: string, adminToken: string, name: string): Promise<{ satelliteId: string; token: string }> {
  const response = await fetch(`${coreUrl}/api/v1/satellites`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name, region: "eu-west" }),
  });
  expect(response.status).toBe(201);
  const created = (await response.json()) as { id: string; token: string };
  return { satelliteId: created.id, token: created.token };
}
