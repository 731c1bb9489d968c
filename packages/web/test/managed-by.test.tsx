// @vitest-environment happy-dom
// Config as code in the UI: a resource a bundle owns reads "managed by <bundle>" (asked of
// GET /config/owners), its editor warns that an edit is drift, and an edit asks first; a
// resource no bundle owns shows and asks nothing.
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { confirmManagedEdit, ManagedByBadge, ManagedWarning, useManagedBy } from "../src/features/config/managed-by.tsx";
import { signInForEachTest } from "./support/render-screen.tsx";

const urls: string[] = [];

function stubOwners(owners: Array<{ bundle: string }>) {
  urls.length = 0;
  vi.stubGlobal("fetch", async (url: string) => {
    urls.push(url);
    const body = { owners: owners.map((owner) => ({ kind: "Check", id: "c1", name: "api", appliedAt: "2030-01-01T00:00:00Z", ...owner })) };
    return new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
  });
}

function CheckHeader({ checkId }: { checkId: string }) {
  const managedBy = useManagedBy("Check", checkId);
  return (
    <>
      <h1>
        api <ManagedByBadge bundle={managedBy} />
      </h1>
      <ManagedWarning what="check" bundle={managedBy} />
    </>
  );
}

function renderHeader() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <CheckHeader checkId="c1" />
    </QueryClientProvider>,
  );
}

signInForEachTest();

describe("a resource managed by a bundle", () => {
  it("is marked with its bundle and its editor warns that an edit is drift", async () => {
    stubOwners([{ bundle: "payments" }]);
    renderHeader();
    expect(await screen.findByText("managed by payments")).toBeTruthy();
    expect(screen.getByRole("note").textContent).toMatch(/managed by the config bundle "payments".*drift.*overwrites/);
    expect(urls).toEqual(["/api/v1/config/owners?kind=Check&id=c1"]);
  });

  it("asks before an edit starts, and goes on only when the user agrees", () => {
    const confirm = vi.fn(() => false);
    vi.stubGlobal("confirm", confirm);
    expect(confirmManagedEdit("check", "payments")).toBe(false);
    expect(confirm).toHaveBeenCalledWith(expect.stringMatching(/managed by the config bundle "payments"/));
    confirm.mockReturnValue(true);
    expect(confirmManagedEdit("check", "payments")).toBe(true);
  });
});

describe("a resource no bundle manages", () => {
  it("shows no mark nor warning, and an edit asks nothing", async () => {
    stubOwners([]);
    renderHeader();
    await vi.waitFor(() => expect(urls).toHaveLength(1));
    expect(screen.queryByText(/managed by/)).toBeNull();
    expect(screen.queryByRole("note")).toBeNull();
    const confirm = vi.fn(() => false);
    vi.stubGlobal("confirm", confirm);
    expect(confirmManagedEdit("check", undefined)).toBe(true);
    expect(confirm).not.toHaveBeenCalled();
  });
});
