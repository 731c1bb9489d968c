// A satellite token shown the one time the API answers it, with the command that starts the
// satellite. Closing it loses the token for good: only a rotation makes another.
import { satelliteStartCommand } from "@vantage/protocol";
import { CopyableText } from "../../ui/components.tsx";

export function NewToken({ satelliteId, name, token, onDone }: { satelliteId: string; name: string; token: string; onDone: () => void }) {
  return (
    <div className="success-box" role="status">
      <strong>Token for {name}</strong> — shown only now; copy it before closing.
      <CopyableText text={token} label="Token" />
      <p className="muted" style={{ margin: "8px 0 0" }}>
        Start the satellite where it should run (Node.js ≥ 20.19, in a checkout of Vantage; or copy the one file <code>npm run build:satellite</code> makes and
        run <code>node vantage-satellite.mjs</code> with the same variables):
      </p>
      <CopyableText text={satelliteStartCommand(window.location.href, satelliteId, token)} label="Start command" />
      <button type="button" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}
