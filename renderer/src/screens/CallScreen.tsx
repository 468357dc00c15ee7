import { CallBanners } from '../components/call/CallBanners.js';
import { ControlsBar } from '../components/call/ControlsBar.js';
import { StatsPanel } from '../components/call/StatsPanel.js';
import { TileGrid } from '../components/call/TileGrid.js';
import { ScreenLayout } from '../components/ScreenLayout.js';
import { useAppStore } from '../store/index.js';

function PeopleCount() {
  const count = useAppStore((s) => s.call.order.length + 1);
  return <p className="muted">{count === 1 ? 'Only you so far' : `${count} people in this call`}</p>;
}

/** In the call (or connecting to it, or failed to): the grid, news about the network, and the controls. */
export function CallScreen({ roomId }: { roomId: string }) {
  return (
    <ScreenLayout title={`Room ${roomId}`} info={<PeopleCount />} fill>
      <div className="call-screen">
        <CallBanners />
        <TileGrid />
        <StatsPanel />
        <ControlsBar />
      </div>
    </ScreenLayout>
  );
}
