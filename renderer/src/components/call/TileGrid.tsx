import { selectPeerOrder, useAppStore } from '../../store/index.js';
import { PeerTile } from './PeerTile.js';
import { SelfTile } from './SelfTile.js';

/** You first, then everyone else in join order; the layout follows the count (1–4, more just in case). */
export function TileGrid() {
  const order = useAppStore(selectPeerOrder);
  const count = order.length + 1;
  return (
    <section className={`tile-grid tile-grid-${count > 4 ? 'many' : count}`} aria-label="Participants">
      <SelfTile />
      {order.map((id) => (
        <PeerTile key={id} peerId={id} />
      ))}
    </section>
  );
}
