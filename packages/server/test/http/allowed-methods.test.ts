// Proves a wrong method on a path that exists is a 405 naming the methods to use (the Allow
// header too), on every /api/v1 route and the health endpoints, while an unknown path stays a 404.
import { describe, expect, it } from "vitest";
import { callApi, TEST_ADMIN_TOKEN } from "../support/api/api-app.ts";
import { useFullApiApp } from "../support/api/full-api-app.ts";

const api = useFullApiApp("allowed-methods");

const ID = "6f0c2a4e-1b2c-4d3e-8f40-123456789abc";

// Each path of the API with the methods it answers; every other method must be a 405. (A named
// path beside an id, like /automations/validate, also answers the id's methods, as an unknown id.)
const PATHS: Array<[path: string, allow: string]> = [
  ["/api/v1/satellites", "GET, HEAD, POST"],
  [`/api/v1/satellites/${ID}`, "GET, HEAD, PATCH, DELETE"],
  [`/api/v1/satellites/${ID}/rotate-token`, "POST"],
  ["/api/v1/notification-channels", "GET, HEAD, POST"],
  [`/api/v1/notification-channels/${ID}`, "GET, HEAD, PATCH, DELETE"],
  [`/api/v1/notification-channels/${ID}/test`, "POST"],
  ["/api/v1/automations", "GET, HEAD, POST"],
  [`/api/v1/automations/${ID}`, "GET, HEAD, PUT, DELETE"],
  [`/api/v1/automations/${ID}/enable`, "POST"],
  [`/api/v1/automations/${ID}/runs`, "GET, HEAD"],
  [`/api/v1/automations/${ID}/runs/${ID}`, "GET, HEAD"],
  [`/api/v1/automations/${ID}/runs/${ID}/cancel`, "POST"],
  [`/api/v1/automations/${ID}/run`, "POST"],
  ["/api/v1/triggers", "GET, HEAD"],
  ["/healthz", "GET, HEAD"],
];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

describe("a method a path does not answer", () => {
  it.each(PATHS)("on %s is a 405 that allows %s", async (path, allow) => {
    for (const method of METHODS.filter((method) => !allow.split(", ").includes(method))) {
      const response = await api.app.request(path, { method, headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
      expect(response.status, `${method} ${path}`).toBe(405);
      expect(response.headers.get("allow"), `${method} ${path}`).toBe(allow);
      expect(await response.json()).toEqual({ error: { code: "method_not_allowed", message: `${method} is not allowed on ${path}; use ${allow}.` } });
    }
  });

  it("is still refused for its credentials first on the API", async () => {
    const answer = await callApi(api.app, "PUT", "/api/v1/satellites", undefined, null);
    expect(answer.status).toBe(401);
  });
});

describe("a path no route answers", () => {
  it("is a 404 whatever the method", async () => {
    for (const method of METHODS) {
      const answer = await callApi(api.app, method, "/api/v1/no-such-thing");
      expect(answer.status, method).toBe(404);
      expect(answer.body).toMatchObject({ error: { code: "not_found" } });
    }
    expect((await callApi(api.app, "DELETE", `/api/v1/satellites/${ID}/nothing`)).status).toBe(404);
  });
});
