import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

/**
 * oidc-provider's storage contract over one Map per provider instance:
 * sessions, interactions, codes, tokens and grants live only as long as the
 * process (a restart signs everyone out, which suits a demo).
 */
export function createInMemoryAdapter(): (model: string) => Adapter {
  const entries = new Map<string, Entry>();
  const sessionsByUid = new Map<string, string>();
  const grants = new Map<string, Set<string>>();

  const get = (key: string) => {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return entry?.payload;
  };

  return model => {
    const keyOf = (id: string) => `${model}:${id}`;
    return {
      async upsert(id, payload, expiresIn) {
        const key = keyOf(id);
        entries.set(key, {
          payload,
          expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity,
        });
        if (model === 'Session' && payload.uid) {
          sessionsByUid.set(payload.uid, id);
        }
        if (payload.grantId && model !== 'Grant') {
          const members = grants.get(payload.grantId) ?? new Set();
          members.add(key);
          grants.set(payload.grantId, members);
        }
      },
      async find(id) {
        return get(keyOf(id));
      },
      async findByUid(uid) {
        const id = sessionsByUid.get(uid);
        return id ? get(keyOf(id)) : undefined;
      },
      async findByUserCode() {
        // The device flow is not enabled.
        return undefined;
      },
      async consume(id) {
        const payload = get(keyOf(id));
        if (payload) {
          payload.consumed = Math.floor(Date.now() / 1000);
        }
      },
      async destroy(id) {
        const key = keyOf(id);
        const payload = entries.get(key)?.payload;
        entries.delete(key);
        if (model === 'Session' && payload?.uid) {
          sessionsByUid.delete(payload.uid);
        }
      },
      async revokeByGrantId(grantId) {
        for (const key of grants.get(grantId) ?? []) {
          entries.delete(key);
        }
        grants.delete(grantId);
        entries.delete(`Grant:${grantId}`);
      },
    };
  };
}
