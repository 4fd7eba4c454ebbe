import { ClusterCredentials } from '@kmp/plugin-kmp-common';
import {
  createCipheriv,
  createDecipheriv,
  hkdfSync,
  randomBytes,
} from 'node:crypto';

const VERSION = 'v1';
const ALGORITHM = 'aes-256-gcm';

/**
 * Encrypts cluster credentials at rest with AES-256-GCM. The key is derived
 * with HKDF-SHA256 from the configured secret, so any sufficiently long
 * secret string works; the cluster name is bound as associated data, so a
 * ciphertext copied onto another cluster's row does not decrypt.
 */
export class CredentialCipher {
  private constructor(private readonly key: Buffer) {}

  static create(options: { secret: string }): CredentialCipher {
    if (options.secret.length < 32) {
      throw new Error(
        'kmp.registry.encryptionKey must be at least 32 characters of random data',
      );
    }
    const key = Buffer.from(
      hkdfSync('sha256', options.secret, 'kmp-registry', 'credentials-v1', 32),
    );
    return new CredentialCipher(key);
  }

  encrypt(clusterName: string, credentials: ClusterCredentials): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGORITHM, this.key, iv);
    cipher.setAAD(Buffer.from(clusterName));
    const body = Buffer.concat([
      cipher.update(JSON.stringify(credentials), 'utf8'),
      cipher.final(),
    ]);
    const tag = cipher.getAuthTag();
    return [VERSION, iv, tag, body]
      .map(p => (typeof p === 'string' ? p : p.toString('base64')))
      .join('.');
  }

  decrypt(clusterName: string, ciphertext: string): ClusterCredentials {
    const [version, iv, tag, body] = ciphertext.split('.');
    if (version !== VERSION || !iv || !tag || !body) {
      throw new Error(
        `credentials of cluster ${clusterName} are not in a known format`,
      );
    }
    try {
      const decipher = createDecipheriv(
        ALGORITHM,
        this.key,
        Buffer.from(iv, 'base64'),
      );
      decipher.setAAD(Buffer.from(clusterName));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      const plain = Buffer.concat([
        decipher.update(Buffer.from(body, 'base64')),
        decipher.final(),
      ]);
      return JSON.parse(plain.toString('utf8'));
    } catch {
      // Never include key material or ciphertext in the message.
      throw new Error(
        `credentials of cluster ${clusterName} cannot be decrypted with the configured kmp.registry.encryptionKey`,
      );
    }
  }
}
