import type { DesktopErrorCode } from '../../shared/ipc/desktopApi.js';

/** A failure the renderer is told about by code, with a sentence for people. */
export class ServiceError extends Error {
  constructor(
    readonly code: DesktopErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}
