// Every screen's URL. Signed-in screens sit under one layout route that sends a visitor
// without a token or an open session to Login (and back to where they were going afterwards).
import { lazy, Suspense, type ReactNode } from "react";
import { createRootRoute, createRoute, createRouter, Outlet, redirect } from "@tanstack/react-router";
import { AppShell } from "./app-shell.tsx";
import { AutomationDetail } from "./features/automations/automation-detail.tsx";
import { AutomationsPage } from "./features/automations/automations-page.tsx";
import { NewAutomation } from "./features/automations/new-automation.tsx";
import { RunTrace } from "./features/automations/run-trace.tsx";
import { ChecksPage } from "./features/checks/list/checks-page.tsx";
import type { ChecksSearch } from "./features/checks/list/checks-query.ts";
import { LoginPage } from "./features/login/login-page.tsx";
import { resumeOpenSession } from "./features/login/open-session.ts";
import { MaintenancePage } from "./features/maintenance/maintenance-page.tsx";
import { ChannelsPage } from "./features/notifications/channels-page.tsx";
import { SettingsPage } from "./features/settings/settings-page.tsx";
import { OverviewPage } from "./features/pending/overview-page.tsx";
import { PendingPage } from "./features/pending/pending-page.tsx";
import { SatelliteDetail } from "./features/satellites/satellite-detail.tsx";
import { SatellitesPage } from "./features/satellites/satellites-page.tsx";
import { Loading } from "./ui/components.tsx";

// The check detail (uPlot) and editor (the YAML library) load when first opened, not with the app.
const CheckDetail = lazy(() => import("./features/checks/detail/check-detail.tsx").then((module) => ({ default: module.CheckDetail })));
const NewCheck = lazy(() => import("./features/checks/editor/check-editor-pages.tsx").then((module) => ({ default: module.NewCheck })));
const EditCheck = lazy(() => import("./features/checks/editor/check-editor-pages.tsx").then((module) => ({ default: module.EditCheck })));
const loadingScreen = (screen: ReactNode) => <Suspense fallback={<Loading what="the screen" />}>{screen}</Suspense>;

const rootRoute = createRootRoute({ component: Outlet, notFoundComponent: () => <PendingPage title="Not found" why="there is no page at this address." /> });

const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/login",
  validateSearch: (search: Record<string, unknown>): { redirect?: string } => (typeof search.redirect === "string" ? { redirect: search.redirect } : {}),
  component: function Login() {
    const { redirect: target } = loginRoute.useSearch();
    return <LoginPage redirect={target} />;
  },
});

const appRoute = createRoute({
  getParentRoute: () => rootRoute,
  id: "app",
  // A tab without credentials first picks up a session the browser still has open.
  beforeLoad: async ({ location }) => {
    if (!(await resumeOpenSession())) throw redirect({ to: "/login", search: { redirect: location.href } });
  },
  component: AppShell,
});

// Written out one by one: TanStack Router types every link from each route's literal path.
const overviewRoute = createRoute({ getParentRoute: () => appRoute, path: "/", component: OverviewPage });
const SEARCH_KEYS = ["q", "type", "label", "enabled", "status", "location"] as const;
const BAR_RANGES = ["24h", "90d"] as const;
const checksRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/checks",
  // Filters live in the URL, so a filtered list can be bookmarked and shared.
  validateSearch: (search: Record<string, unknown>): ChecksSearch => ({
    ...(Object.fromEntries(SEARCH_KEYS.flatMap((key) => (typeof search[key] === "string" && search[key] !== "" ? [[key, search[key]]] : []))) as ChecksSearch),
    ...(BAR_RANGES.find((range) => range === search.bars && range !== "24h") ? { bars: search.bars as ChecksSearch["bars"] } : {}),
  }),
  component: function Checks() {
    return <ChecksPage search={checksRoute.useSearch()} />;
  },
});
const newCheckRoute = createRoute({ getParentRoute: () => appRoute, path: "/checks/new", component: () => loadingScreen(<NewCheck />) });
const checkRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/checks/$checkId",
  component: function Check() {
    const { checkId } = checkRoute.useParams();
    return loadingScreen(<CheckDetail key={checkId} checkId={checkId} />);
  },
});
const editCheckRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/checks/$checkId/edit",
  component: function EditCheckPage() {
    const { checkId } = editCheckRoute.useParams();
    return loadingScreen(<EditCheck key={checkId} checkId={checkId} />);
  },
});
const satellitesRoute = createRoute({ getParentRoute: () => appRoute, path: "/satellites", component: SatellitesPage });
const automationsRoute = createRoute({ getParentRoute: () => appRoute, path: "/automations", component: AutomationsPage });
const newAutomationRoute = createRoute({ getParentRoute: () => appRoute, path: "/automations/new", component: NewAutomation });
const notificationsRoute = createRoute({ getParentRoute: () => appRoute, path: "/notifications", component: ChannelsPage });
const maintenanceRoute = createRoute({ getParentRoute: () => appRoute, path: "/maintenance", component: MaintenancePage });
const settingsRoute = createRoute({ getParentRoute: () => appRoute, path: "/settings", component: SettingsPage });

const satelliteRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/satellites/$satelliteId",
  component: function Satellite() {
    const { satelliteId } = satelliteRoute.useParams();
    return <SatelliteDetail key={satelliteId} satelliteId={satelliteId} />;
  },
});

const automationRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/automations/$automationId",
  component: function Automation() {
    const { automationId } = automationRoute.useParams();
    return <AutomationDetail key={automationId} automationId={automationId} />;
  },
});

const runRoute = createRoute({
  getParentRoute: () => appRoute,
  path: "/automations/$automationId/runs/$runId",
  component: function Run() {
    const { automationId, runId } = runRoute.useParams();
    return <RunTrace key={runId} automationId={automationId} runId={runId} />;
  },
});

const routeTree = rootRoute.addChildren([
  loginRoute,
  appRoute.addChildren([
    overviewRoute,
    checksRoute,
    newCheckRoute,
    checkRoute,
    editCheckRoute,
    satellitesRoute,
    satelliteRoute,
    automationsRoute,
    newAutomationRoute,
    automationRoute,
    runRoute,
    notificationsRoute,
    maintenanceRoute,
    settingsRoute,
  ]),
]);

export const router = createRouter({ routeTree, defaultPreload: "intent", scrollRestoration: true });

declare module "@tanstack/react-router" {
  interface Register {
    router: typeof router;
  }
}
