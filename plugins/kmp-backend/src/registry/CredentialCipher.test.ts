import { CredentialCipher } from './CredentialCipher';

const secret = 'a-test-secret-that-is-long-enough-0123456789';

describe('CredentialCipher', () => {
  const cipher = CredentialCipher.create({ secret });
  const credentials = { token: 'sa-token-value', certificateAuthority: 'PEM' };

  it('round-trips credentials and never stores them in clear', () => {
    const ciphertext = cipher.encrypt('prod-eu1', credentials);
    expect(ciphertext).not.toContain('sa-token-value');
    expect(ciphertext.startsWith('v1.')).toBe(true);
    expect(cipher.decrypt('prod-eu1', ciphertext)).toEqual(credentials);
  });

  it('uses a fresh IV each time', () => {
    expect(cipher.encrypt('a', credentials)).not.toEqual(
      cipher.encrypt('a', credentials),
    );
  });

  it('refuses a ciphertext moved to another cluster', () => {
    const ciphertext = cipher.encrypt('prod-eu1', credentials);
    expect(() => cipher.decrypt('dev-eu1', ciphertext)).toThrow(
      'credentials of cluster dev-eu1 cannot be decrypted',
    );
  });

  it('refuses a tampered ciphertext and a wrong key without leaking either', () => {
    const ciphertext = cipher.encrypt('prod-eu1', credentials);
    const parts = ciphertext.split('.');
    const body = Buffer.from(parts[3], 'base64');
    body[0] ^= 1;
    parts[3] = body.toString('base64');
    expect(() => cipher.decrypt('prod-eu1', parts.join('.'))).toThrow(
      /cannot be decrypted/,
    );

    const other = CredentialCipher.create({ secret: `${secret}-other` });
    const error = (() => {
      try {
        other.decrypt('prod-eu1', ciphertext);
        return undefined;
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(/cannot be decrypted/);
    expect(error?.message).not.toContain(ciphertext);
  });

  it('refuses a short secret', () => {
    expect(() => CredentialCipher.create({ secret: 'short' })).toThrow(
      'kmp.registry.encryptionKey must be at least 32 characters',
    );
  });
});
