import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CallEvent, type LocalView } from '../../renderer/src/call/events.js';
import { findPreferred, LocalMedia } from '../../renderer/src/call/LocalMedia.js';
import { FakeStream } from '../support/fakeMediaStream.js';

// LocalMedia with a fake MediaDevices whose devices can be unplugged: the track ends and the device
// list changes, as Chromium reports it.

class FakeTrack extends EventTarget {
  enabled = true;
  stopped = false;
  constructor(
    readonly kind: 'audio' | 'video',
    readonly deviceId: string,
    readonly label: string,
  ) {
    super();
  }
  getSettings() {
    return { deviceId: this.deviceId };
  }
  stop() {
    this.stopped = true;
  }
  unplug() {
    this.dispatchEvent(new Event('ended'));
  }
}

type Device = { kind: MediaDeviceKind; deviceId: string; label: string; groupId: string };

class FakeDevices extends EventTarget {
  devices: Device[] = [
    { kind: 'audioinput', deviceId: 'default-mic', label: 'Built-in microphone', groupId: '' },
    { kind: 'audioinput', deviceId: 'usb-mic', label: 'USB headset', groupId: '' },
    { kind: 'videoinput', deviceId: 'built-in-cam', label: 'Built-in camera', groupId: '' },
    { kind: 'audiooutput', deviceId: 'usb-speaker', label: 'USB headset', groupId: '' },
  ];
  asked: MediaStreamConstraints[] = [];
  async enumerateDevices() {
    return this.devices.map((d) => ({ ...d, toJSON: () => d }));
  }
  async getUserMedia(c: MediaStreamConstraints) {
    this.asked.push(c);
    const pick = (kind: MediaDeviceKind, constraint: boolean | MediaTrackConstraints | undefined) => {
      const wanted = typeof constraint === 'object' ? (constraint.deviceId as { ideal?: string; exact?: string } | undefined) : undefined;
      const id = wanted?.exact ?? wanted?.ideal;
      const present = this.devices.filter((d) => d.kind === kind);
      const device = present.find((d) => d.deviceId === id) ?? (wanted?.exact ? undefined : present[0]);
      if (!device) throw Object.assign(new Error('gone'), { name: 'NotFoundError' });
      return new FakeTrack(kind === 'audioinput' ? 'audio' : 'video', device.deviceId, device.label);
    };
    const tracks = [...(c.audio ? [pick('audioinput', c.audio)] : []), ...(c.video ? [pick('videoinput', c.video)] : [])];
    return new FakeStream(tracks);
  }
  unplug(deviceId: string) {
    this.devices = this.devices.filter((d) => d.deviceId !== deviceId);
    this.dispatchEvent(new Event('devicechange'));
  }
}

let devices: FakeDevices;
let media: LocalMedia;
let view: LocalView;
let replaced: [string, FakeTrack | null][];

beforeEach(() => {
  (globalThis as { MediaStream?: unknown }).MediaStream = FakeStream;
  devices = new FakeDevices();
  replaced = [];
  media = new LocalMedia({
    media: devices as unknown as MediaDevices,
    createMeter: () => ({ close: () => undefined }),
    onTrackReplaced: (kind, track) => replaced.push([kind, track as unknown as FakeTrack | null]),
  });
  view = { ...media.view };
  media.on(CallEvent.LocalChanged, (patch) => (view = { ...view, ...patch }));
});

afterEach(() => {
  media.close();
  delete (globalThis as { MediaStream?: unknown }).MediaStream;
});

const audioTrack = () => media.stream.getAudioTracks()[0] as unknown as FakeTrack;

describe('LocalMedia: the devices the user chose', () => {
  it('opens the kept devices, found by id, else by name; a kept speaker is selected too', async () => {
    await media.open({
      startMuted: false,
      startCameraOff: false,
      preferred: { audioinput: { deviceId: 'old-id', label: 'USB headset' }, audiooutput: { deviceId: 'usb-speaker', label: 'USB headset' } },
    });
    expect(devices.asked[0]!.audio).toEqual({ deviceId: { ideal: 'usb-mic' } });
    expect(view.selected).toEqual({ audioinput: 'usb-mic', videoinput: 'built-in-cam', audiooutput: 'usb-speaker' });
  });

  it('a kept device that is not there gives way to the default', async () => {
    await media.open({ startMuted: true, startCameraOff: false, preferred: { audioinput: { deviceId: 'gone', label: 'Old headset' } } });
    expect(view.selected.audioinput).toBe('default-mic');
    expect(view.media.audio).toBe(false);
  });

  it('finds a device by id first, then by name, never by an empty name', () => {
    const list = devices.devices as unknown as MediaDeviceInfo[];
    expect(findPreferred({ deviceId: 'usb-mic', label: 'renamed' }, 'audioinput', list)).toBe('usb-mic');
    expect(findPreferred({ deviceId: 'x', label: 'USB headset' }, 'audioinput', list)).toBe('usb-mic');
    expect(findPreferred({ deviceId: 'x', label: '' }, 'audioinput', list)).toBeNull();
    expect(findPreferred(null, 'audioinput', list)).toBeNull();
  });
});

describe('LocalMedia: a device in use goes away', () => {
  beforeEach(async () => {
    await media.open({ startMuted: true, startCameraOff: false, preferred: { audioinput: { deviceId: 'usb-mic', label: 'USB headset' } } });
    expect(view.selected.audioinput).toBe('usb-mic');
  });

  it('falls back to the default microphone, keeps it muted, hands the senders the new track, and says so', async () => {
    const lost = audioTrack();
    devices.devices = devices.devices.filter((d) => d.deviceId !== 'usb-mic');
    lost.unplug();
    await expect.poll(() => view.selected.audioinput).toBe('default-mic');
    expect(lost.stopped).toBe(true);
    expect(audioTrack()).not.toBe(lost);
    expect(audioTrack().enabled).toBe(false);
    expect(view.media.audio).toBe(false);
    expect(view.deviceNotice).toBe('Your microphone “USB headset” was disconnected: using “Built-in microphone” now.');
    expect(replaced).toEqual([['audio', audioTrack()]]);
  });

  it('notices it from the device list alone, and replaces the track once when both signs come', async () => {
    const lost = audioTrack();
    devices.unplug('usb-mic');
    lost.unplug();
    await expect.poll(() => view.selected.audioinput).toBe('default-mic');
    await expect.poll(() => replaced.length).toBe(1);
    expect(media.stream.getAudioTracks()).toHaveLength(1);
  });

  it('with no microphone left: none is sent, and it says so', async () => {
    devices.devices = devices.devices.filter((d) => d.kind !== 'audioinput');
    audioTrack().unplug();
    await expect.poll(() => view.deviceNotice).toMatch(/microphone “USB headset” was disconnected: no other microphone was found/);
    expect(media.stream.getAudioTracks()).toEqual([]);
    expect(view.selected.audioinput).toBeNull();
    expect(replaced).toEqual([['audio', null]]);
  });

  it('a speaker unplugged: back to the default speaker, said', async () => {
    await media.switchDevice('audiooutput', 'usb-speaker');
    devices.unplug('usb-speaker');
    await expect.poll(() => view.selected.audiooutput).toBeNull();
    expect(view.deviceNotice).toMatch(/speaker was disconnected/);
  });

  it('picking a device clears the notice', async () => {
    devices.devices = devices.devices.filter((d) => d.deviceId !== 'usb-mic');
    audioTrack().unplug();
    await expect.poll(() => view.deviceNotice).not.toBeNull();
    await media.switchDevice('audioinput', 'default-mic');
    expect(view.deviceNotice).toBeNull();
  });

  it('after close, an unplugged device opens nothing', async () => {
    const lost = audioTrack();
    media.close();
    const asked = devices.asked.length;
    lost.unplug();
    devices.unplug('usb-mic');
    await Promise.resolve();
    expect(devices.asked.length).toBe(asked);
    expect(replaced).toEqual([]);
  });
});
