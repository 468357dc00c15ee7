import { PROTOCOL_VERSION } from '../../shared/protocol/index.js';

export function App() {
  return (
    <main>
      <h1>ZeroRange</h1>
      <p>Signaling protocol v{PROTOCOL_VERSION}</p>
    </main>
  );
}
