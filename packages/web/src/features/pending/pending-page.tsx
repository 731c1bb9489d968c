// Screens whose API (or screen) is not there yet: they say what they wait for, rather than
// showing an empty page that looks broken.
import { PageHead } from "../../ui/components.tsx";

export function PendingPage({ title, why }: { title: string; why: string }) {
  return (
    <>
      <PageHead title={title} />
      <div className="notice">Not available yet: {why}</div>
    </>
  );
}
