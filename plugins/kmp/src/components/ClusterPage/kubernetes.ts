import {
  isSystemNamespace as isSystem,
  KMP_TEAM_LABEL,
} from '@kmp/plugin-kmp-common';
import { KubernetesObject } from '../../api';

/** Labels naming a namespace's team: KMP's, and the testbed's older key. */
const TEAM_LABELS = [KMP_TEAM_LABEL, 'kmp.io/team'];

export function teamOf(ns: KubernetesObject): string | undefined {
  for (const key of TEAM_LABELS) {
    const team = ns.metadata.labels?.[key];
    if (team) return team;
  }
  return undefined;
}

/** `kube-*`, `default` and namespaces labelled `kmp.backstage.io/system`. */
export const isSystemNamespace = (ns: KubernetesObject): boolean =>
  isSystem(ns.metadata.name, ns.metadata.labels);

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export const conditionOf = (
  o: { status?: { conditions?: Condition[] } },
  type: string,
) => o.status?.conditions?.find(c => c.type === type);
