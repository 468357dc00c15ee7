import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { DEV_USERS, SIGNALING_SCOPE, startDevIdp, type DevIdp } from '../../dev/idp.js';
import { tokenRevocation } from 'openid-client';
import { discoverIdp, IdpLoginError, loginWithPassword, refreshTokens } from '../support/idpLogin.js';

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('dev identity provider', () => {
  let idp: DevIdp;
  let jwks: JWTVerifyGetKey;
  const alice = DEV_USERS.find((u) => u.username === 'alice')!;

  beforeAll(async () => {
    idp = await startDevIdp();
    const config = await discoverIdp(idp);
    const jwksUri = config.serverMetadata().jwks_uri;
    expect(jwksUri).toBeTypeOf('string');
    jwks = createRemoteJWKSet(new URL(jwksUri!));
  });

  afterAll(async () => {
    await idp?.close();
  });

  it('publishes discovery for its own issuer with the expected features', async () => {
    expect(idp.issuer).toBe(`http://127.0.0.1:${idp.port}`);
    expect(idp.audience).toBe('urn:zerorange:signaling');
    expect(idp.clientId).toBe('zerorange-desktop');
    const metadata = (await discoverIdp(idp)).serverMetadata();
    expect(metadata.issuer).toBe(idp.issuer);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.revocation_endpoint).toBeTypeOf('string');
    expect(metadata.end_session_endpoint).toBeTypeOf('string');
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'offline_access']));
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
  });

  it('logs alice in with code + PKCE and issues a verifiable ES256 at+jwt access token', async () => {
    const tokens = await loginWithPassword(idp, alice);

    const { payload, protectedHeader } = await jwtVerify(tokens.accessToken, jwks, {
      issuer: idp.issuer,
      audience: idp.audience,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.alg).toBe('ES256');
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(protectedHeader.kid).toBe(idp.signingJwk.kid);
    expect(payload.iss).toBe(idp.issuer);
    expect(payload.aud).toBe(idp.audience);
    expect(payload.sub).toBe(alice.sub);
    expect(payload.client_id).toBe(idp.clientId);
    expect(payload.scope).toBe(SIGNALING_SCOPE);
    expect(payload.name).toBe(alice.name);
    expect(payload.email).toBe(alice.email);
    expect(payload.groups).toEqual(alice.groups);
    expect(payload.preferred_username).toBe('alice');
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(tokens.expiresIn).toBeGreaterThan(290);
    expect(tokens.expiresIn).toBeLessThanOrEqual(300);

    // ID token: validated by openid-client (iss, aud, nonce); carries the profile/email/groups claims.
    expect(tokens.idTokenClaims).toMatchObject({
      iss: idp.issuer,
      aud: idp.clientId,
      sub: alice.sub,
      name: alice.name,
      email: alice.email,
      email_verified: true,
      preferred_username: 'alice',
      groups: alice.groups,
    });
    const idToken = await jwtVerify(tokens.idToken, jwks, { issuer: idp.issuer, audience: idp.clientId });
    expect(idToken.protectedHeader.alg).toBe('ES256');

    // offline_access was requested, so a refresh token was issued.
    expect(tokens.refreshToken).toBeTypeOf('string');
  });

  it('re-shows the login form with an error on a wrong password and issues no code', async () => {
    const error = await loginWithPassword(idp, { username: 'alice', password: 'not-the-password' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(IdpLoginError);
    const loginError = error as IdpLoginError;
    expect(loginError.url).not.toContain('code=');
    expect(loginError.url).toMatch(/\/interaction\/[^/]+\/login$/);
    expect(loginError.body).toContain('Invalid username or password.');
    expect(loginError.body).toMatch(/<form method="post" action="\/interaction\/[^"]+\/login">/);
    // The username is echoed back (escaped), the password is not.
    expect(loginError.body).toContain('value="alice"');
    expect(loginError.body).not.toContain('not-the-password');

    await expect(loginWithPassword(idp, { username: 'nobody', password: 'x' })).rejects.toBeInstanceOf(IdpLoginError);
  });

  it('escapes user input it prints', async () => {
    const error = (await loginWithPassword(idp, { username: '"><script>alert(1)</script>', password: 'x' }).catch(
      (err: unknown) => err,
    )) as IdpLoginError;
    expect(error).toBeInstanceOf(IdpLoginError);
    expect(error.body).not.toContain('<script>');
    expect(error.body).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('refreshes: new access token, rotated refresh token, old refresh token rejected', async () => {
    const bob = DEV_USERS.find((u) => u.username === 'bob')!;
    const first = await loginWithPassword(idp, bob);
    expect(first.refreshToken).toBeTypeOf('string');

    const second = await refreshTokens(idp, first.refreshToken!);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).toBeTypeOf('string');
    expect(second.refreshToken).not.toBe(first.refreshToken);

    const { payload } = await jwtVerify(second.accessToken, jwks, {
      issuer: idp.issuer,
      audience: idp.audience,
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(payload.sub).toBe(bob.sub);
    expect(payload.groups).toEqual(['staff', 'ops']);
    expect(payload.scope).toBe(SIGNALING_SCOPE);
    expect(payload.jti).not.toBe(decodeJwt(first.accessToken).jti);

    // Rotation: the used refresh token is consumed; replaying it revokes the whole grant (reuse detection).
    await expect(refreshTokens(idp, first.refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(refreshTokens(idp, second.refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('revokes refresh tokens at the revocation endpoint', async () => {
    const tokens = await loginWithPassword(idp, alice);
    const config = await discoverIdp(idp);
    await tokenRevocation(config, tokens.refreshToken!, { token_type_hint: 'refresh_token' });
    await expect(refreshTokens(idp, tokens.refreshToken!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('publishes only the public signing key, and uses a given signing key', async () => {
    const published = (await (await fetch(`${idp.issuer}/jwks`)).json()) as { keys: Record<string, unknown>[] };
    expect(published.keys).toHaveLength(1);
    expect(published.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: idp.signingJwk.kid });
    expect(published.keys[0]).not.toHaveProperty('d');
    expect(idp.signingJwk.d).toBeTypeOf('string');

    const other = await startDevIdp({ signingKey: idp.signingJwk, accessTokenTtlSeconds: 60 });
    try {
      const tokens = await loginWithPassword(other, alice);
      // Same key, so the first provider's JWKS verifies it; only the issuer differs.
      const { payload } = await jwtVerify(tokens.accessToken, jwks, { issuer: other.issuer, audience: other.audience });
      expect(payload.exp! - payload.iat!).toBe(60);
    } finally {
      await other.close();
    }
  });

  it('issues no refresh token without offline_access', async () => {
    const carol = DEV_USERS.find((u) => u.username === 'carol')!;
    const tokens = await loginWithPassword(idp, carol, { scope: `openid profile email ${SIGNALING_SCOPE}` });
    expect(tokens.refreshToken).toBeUndefined();
    const { payload } = await jwtVerify(tokens.accessToken, jwks, { issuer: idp.issuer, audience: idp.audience });
    expect(payload.groups).toEqual(['guests']);
  });

  it('closes cleanly: the port refuses connections afterwards', async () => {
    const other = await startDevIdp();
    const tokens = await loginWithPassword(other, alice);
    expect(tokens.accessToken).toBeTruthy();
    // Keep a connection open to make sure close() does not wait for idle keep-alive sockets.
    const res = await fetch(`${other.issuer}/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    await other.close();
    expect(await portRefuses(other.port)).toBe(true);
  });
});
