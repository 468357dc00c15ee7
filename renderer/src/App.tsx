import { ScreenSourcePicker } from './components/call/ScreenSourcePicker.js';
import { UnknownServerDialog } from './components/UnknownServerDialog.js';
import { UpdateBanner } from './components/UpdateBanner.js';
import { ConnectScreen } from './screens/ConnectScreen.js';
import { HomeScreen } from './screens/HomeScreen.js';
import { NetworkCheckScreen } from './screens/NetworkCheckScreen.js';
import { RoomScreen } from './screens/RoomScreen.js';
import { SettingsScreen } from './screens/SettingsScreen.js';
import { SignedOutScreen } from './screens/SignedOutScreen.js';
import { CannotStartScreen, StartingScreen } from './screens/StartupScreens.js';
import { selectScreen, useAppStore, type Screen } from './store/index.js';

function CurrentScreen({ screen }: { screen: Screen }) {
  switch (screen) {
    case 'starting':
      return <StartingScreen />;
    case 'cannot-start':
      return <CannotStartScreen />;
    case 'connect':
      return <ConnectScreen />;
    case 'signed-out':
      return <SignedOutScreen />;
    case 'home':
      return <HomeScreen />;
    case 'room':
      return <RoomScreen />;
    case 'settings':
      return <SettingsScreen />;
    case 'network-check':
      return <NetworkCheckScreen />;
  }
}

export function App() {
  const screen = useAppStore(selectScreen);
  return (
    <>
      {screen !== 'starting' && screen !== 'cannot-start' && <UpdateBanner />}
      <CurrentScreen screen={screen} />
      {screen !== 'starting' && screen !== 'cannot-start' && <UnknownServerDialog />}
      {screen === 'room' && <ScreenSourcePicker />}
    </>
  );
}
