// WHATWG URL exists in every runtime shared/ runs in (browsers, Node, Electron), but not in the
// ES library; these declarations cover only what shared/ uses, so no DOM or Node types leak in.
declare class URL {
  constructor(url: string, base?: string);
  readonly hash: string;
  readonly hostname: string;
  readonly origin: string;
  readonly password: string;
  readonly pathname: string;
  readonly protocol: string;
  readonly search: string;
  readonly username: string;
  toString(): string;
}
declare class URLSearchParams {
  constructor(init?: string);
  getAll(name: string): string[];
}
