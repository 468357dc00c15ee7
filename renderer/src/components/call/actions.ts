import { callController } from '../../controllers/index.js';
import { useAppStore } from '../../store/index.js';

/**
 * What the call screens' buttons do, through the call controller. The controller reports into the
 * store (errors included), so a rejection here is unexpected: it is logged, not shown twice.
 */
export function run(task: Promise<unknown>, what: string): void {
  task.catch((err: unknown) => console.warn(`${what} failed`, err));
}

/** Ends the call (or pre-join), releases camera and microphone, and leaves the room. */
export function leaveCall(): void {
  callController().leave();
  useAppStore.getState().leaveRoom();
}

/** After a failure: start over from the pre-join screen for the same room. */
export function retryCall(): void {
  const { room } = useAppStore.getState();
  const controller = callController();
  controller.leave();
  if (room.target != null && room.status === 'joined') run(controller.prepare(room.target.roomId), 'Opening the preview');
}

/** Resolves to the microphone's state after the toggle: true when it is on. */
export async function toggleMicrophone(): Promise<boolean> {
  await callController().toggleAudio();
  return useAppStore.getState().call.local.media.audio;
}

/** Resolves to the camera's state after the toggle: true when it is on. */
export async function toggleCamera(): Promise<boolean> {
  await callController().toggleVideo();
  return useAppStore.getState().call.local.media.video;
}
