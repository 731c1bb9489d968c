// The CLI's side of the /api/v1/config API: one request with the token, answers parsed, and the
// core's errors turned into ConfigApiError (with the issues it listed, to be placed in files).
import type { Issue } from "@vantage/protocol";

export interface ConfigClientOptions {
  url: string;
  token: string | undefined;
}

export class ConfigApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
    readonly issues: Issue[],
  ) {
    super(message);
    this.name = "ConfigApiError";
  }
}

export function createConfigClient(options: ConfigClientOptions) {
  const base = options.url.replace(/\/+$/, "");
  const request = async <T>(method: string, path: string, body?: unknown, accept = "application/json"): Promise<{ value: T; text: string }> => {
    const headers: Record<string, string> = { accept };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    try {
      response = await fetch(`${base}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (error) {
      throw new ConfigApiError(
        `cannot reach the core at ${base}: ${(error as Error).cause ?? (error as Error).message} (set --url or VANTAGE_URL)`,
        0,
        undefined,
        [],
      );
    }
    const text = await response.text();
    if (!response.ok) {
      let parsed: { error?: { code?: string; message?: string; details?: { issues?: Issue[] } } } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // Not one of ours (a proxy's page): the status says enough.
      }
      const message = parsed.error?.message ?? `${response.status} ${response.statusText}`;
      throw new ConfigApiError(message, response.status, parsed.error?.code, parsed.error?.details?.issues ?? []);
    }
    return { value: (accept === "application/json" ? JSON.parse(text) : undefined) as T, text };
  };
  return {
    post: async <T>(path: string, body: unknown): Promise<T> => (await request<T>("POST", path, body)).value,
    put: async <T>(path: string, body: unknown): Promise<T> => (await request<T>("PUT", path, body)).value,
    delete: async (path: string): Promise<void> => void (await request<unknown>("DELETE", path, undefined, "*/*")),
    get: async <T>(path: string): Promise<T> => (await request<T>("GET", path)).value,
    getText: async (path: string, accept: string): Promise<string> => (await request<unknown>("GET", path, undefined, accept)).text,
  };
}

export type ConfigClient = ReturnType<typeof createConfigClient>;
