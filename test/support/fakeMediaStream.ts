/** A MediaStream stand-in for tests without a browser: a list of tracks, as MediaStream keeps them. */
export class FakeStream<T extends { kind: string }> {
  private readonly list: T[] = [];
  constructor(tracks: T[] = []) {
    this.list.push(...tracks);
  }
  addTrack(t: T) {
    this.list.push(t);
  }
  removeTrack(t: T) {
    this.list.splice(this.list.indexOf(t), 1);
  }
  getTracks() {
    return [...this.list];
  }
  getAudioTracks() {
    return this.list.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this.list.filter((t) => t.kind === 'video');
  }
}
