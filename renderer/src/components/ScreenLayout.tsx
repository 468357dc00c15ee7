import { useEffect, useRef, type ReactNode } from 'react';
import { AlertArea } from './AlertArea.js';

interface ScreenLayoutProps {
  title: ReactNode;
  /** Who and where, shown in the top bar next to the name. */
  info?: ReactNode;
  /** Buttons for the top bar (Settings, Sign out …). */
  actions?: ReactNode;
  /** Move focus to the heading when the screen appears, so screen readers announce it. */
  focusHeading?: boolean;
  /** Use the whole window, no wider than it and no taller (the call grid). */
  fill?: boolean;
  children: ReactNode;
}

export function ScreenLayout({ title, info, actions, focusHeading = true, fill = false, children }: ScreenLayoutProps) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (focusHeading) heading.current?.focus();
  }, [focusHeading]);
  return (
    <div className={fill ? 'app app-fill' : 'app'}>
      <header className="topbar">
        <span className="brand">ZeroRange</span>
        {info != null && <div className="topbar-info">{info}</div>}
        {actions != null && <nav className="topbar-actions" aria-label="App">{actions}</nav>}
      </header>
      <main className={fill ? 'screen screen-fill' : 'screen'}>
        <h1 ref={heading} tabIndex={-1}>
          {title}
        </h1>
        <AlertArea />
        {children}
      </main>
    </div>
  );
}
