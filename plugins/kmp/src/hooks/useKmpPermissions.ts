import { useApi } from '@backstage/core-plugin-api';
import {
  decideAction,
  KMP_RULES,
  KmpAction,
  KmpActionDecision,
  KmpScope,
  Persona,
  PERSONAS_BY_PRIVILEGE,
  RegisteredCluster,
  teamsOf,
} from '@kmp/plugin-kmp-common';
import { useCallback, useMemo } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { kmpApiRef } from '../api';

/**
 * What the signed-in user may do on one cluster, by the personas they hold
 * in its environment group.
 *
 * @public
 */
export interface KmpPermissions {
  loading: boolean;
  error?: Error;
  /** The viewer's personas in the cluster's environment group. */
  personas: Persona[];
  /** The viewer's teams (group names of their ownership refs). */
  teams: string[];
  /** Which namespaces the viewer reads: `own-namespaces` for developers. */
  readScope?: KmpScope;
  /** The most permissive decision of the viewer's personas. */
  decide(action: KmpAction): KmpActionDecision;
}

/** Allowed directly, allowed through something, shown as GitOps, refused. */
function rank(d: KmpActionDecision): number {
  if (d.allowed) return d.via ? 2 : 3;
  return d.via === 'gitops' ? 1 : 0;
}

/**
 * Decides, from `GET /api/kmp/me` and the persona matrix of kmp-common,
 * which controls the viewer sees: allowed ones enabled, ones production
 * routes through GitOps visible but disabled with the reason, the others
 * hidden. The broker enforces the same matrix; this only shapes the page.
 *
 * @public
 */
export function useKmpPermissions(
  cluster: Pick<RegisteredCluster, 'environment' | 'environmentGroup'>,
): KmpPermissions {
  const kmpApi = useApi(kmpApiRef);
  const {
    value: me,
    loading,
    error,
  } = useAsync(() => kmpApi.getMe(), [kmpApi]);
  const { environment, environmentGroup } = cluster;
  const personas = useMemo(
    () =>
      PERSONAS_BY_PRIVILEGE.filter(p =>
        (me?.personas ?? []).some(
          g => g.environmentGroup === environmentGroup && g.persona === p,
        ),
      ),
    [me, environmentGroup],
  );
  const teams = useMemo(() => teamsOf(me?.ownershipRefs ?? []), [me]);
  const decide = useCallback(
    (action: KmpAction): KmpActionDecision => {
      if (!me) {
        return {
          allowed: false,
          reason: error
            ? `your personas could not be read: ${error.message}`
            : 'your personas are not known yet',
        };
      }
      const decisions = personas
        .map(persona => decideAction({ persona, environment, action }))
        .sort((a, b) => rank(b) - rank(a));
      return (
        decisions[0] ?? {
          allowed: false,
          reason: KMP_RULES.noPersona(environmentGroup),
        }
      );
    },
    [me, error, personas, environment, environmentGroup],
  );
  const readScope = me ? decide('read').scope : undefined;
  return { loading, error, personas, teams, readScope, decide };
}
