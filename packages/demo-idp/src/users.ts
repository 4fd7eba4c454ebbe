/**
 * The demo organisation's people, one per persona (see
 * packages/backend/demo/org.yaml, which holds the same users and groups as
 * catalog entities).
 *
 * DEMO ONLY: each user's password is their username. The provider refuses to
 * start with NODE_ENV=production, and no production configuration points
 * Backstage at it.
 */
export interface DemoUser {
  /** Login name; also the `sub`, `preferred_username` and catalog User name. */
  username: string;
  /** Display name (`name` claim). */
  name: string;
  /** `email` claim; its local part is the catalog User name. */
  email: string;
  /** `groups` claim: catalog Group names the user is a member of. */
  groups: string[];
  /** What the user demonstrates, shown on the login page. */
  persona: string;
}

export const demoUsers: readonly DemoUser[] = Object.freeze([
  {
    username: 'alice',
    name: 'Alice Developer',
    email: 'alice@kmp.example',
    groups: ['team-payments'],
    persona: 'developer (team-payments)',
  },
  {
    username: 'oscar',
    name: 'Oscar Ops',
    email: 'oscar@kmp.example',
    groups: ['ops-team'],
    persona: 'ops (payments environment groups)',
  },
  {
    username: 'petra',
    name: 'Petra Platform',
    email: 'petra@kmp.example',
    groups: ['platform-team'],
    persona: 'platform engineer (everywhere)',
  },
  {
    username: 'eddie',
    name: 'Eddie Edge',
    email: 'eddie@kmp.example',
    groups: ['retail-ops'],
    persona: 'edge operator (retail-edge)',
  },
]);

/**
 * Checks a demo login. DEMO ONLY: the password of every demo user is the
 * username itself.
 */
export function checkDemoLogin(
  users: readonly DemoUser[],
  username: string,
  password: string,
): DemoUser | undefined {
  const user = users.find(u => u.username === username);
  return user && password === user.username ? user : undefined;
}
