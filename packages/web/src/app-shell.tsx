// The frame around every signed-in screen: the navigation (a sidebar, a top bar on phones),
// whether live updates are on, sign out, and the page in <main>.
import { Link, Outlet } from "@tanstack/react-router";
import { signOut } from "./auth.ts";
import { useLiveState } from "./live-context.ts";
import { usePermissions } from "./permissions.ts";

const NAV = [
  { to: "/", label: "Overview", exact: true },
  { to: "/checks", label: "Checks" },
  { to: "/satellites", label: "Satellites" },
  { to: "/automations", label: "Automations" },
  { to: "/notifications", label: "Notifications" },
  { to: "/maintenance", label: "Maintenance" },
  { to: "/settings", label: "Settings" },
] as const;

const LIVE_LABEL = { live: "Live", connecting: "Connecting…", unavailable: "Updates on focus", stopped: "" } as const;

export function AppShell() {
  const live = useLiveState();
  const { role } = usePermissions();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand">Vantage</div>
        <nav className="nav" aria-label="Main">
          {NAV.map((item) => (
            <Link key={item.to} to={item.to} activeOptions={{ exact: "exact" in item }}>
              {item.label}
            </Link>
          ))}
        </nav>
        <div className="sidebar-foot">
          <span title={live === "unavailable" ? "This core has no event stream yet: screens refresh when the window regains focus." : undefined}>
            {LIVE_LABEL[live]}
          </span>
          {role ? <span className="muted">as {role}</span> : null}
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </aside>
      <main className="main" id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
