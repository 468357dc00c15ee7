import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { installCallLifecycle } from './controllers/index.js';
import { installMainReports } from './controllers/mainReports.js';
import { desktopClient, hasDesktopBridge } from './desktop.js';
import { useAppStore } from './store/index.js';
import './styles.css';

// Outside React: effects run twice under StrictMode, and the subscriptions belong to the store anyway.
void useAppStore.getState().bootstrap();
installCallLifecycle();
if (hasDesktopBridge()) installMainReports(useAppStore, desktopClient(), window);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
