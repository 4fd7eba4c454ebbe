import { parseEntityRef } from '@backstage/catalog-model';
import { Persona, PERSONAS } from '@kmp/plugin-kmp-common';
import { KmpMe } from '../../api';

/** One persona of the viewer and the environment groups they hold it in. */
export interface PersonaScope {
  persona: Persona;
  environmentGroups: string[];
}

/**
 * The viewer's personas in the matrix order (developer, ops, platform
 * engineer, edge operator), each with its environment groups.
 */
export function personaScopes(me: KmpMe): PersonaScope[] {
  return PERSONAS.map(persona => ({
    persona,
    environmentGroups: [
      ...new Set(
        me.personas
          .filter(p => p.persona === persona)
          .map(p => p.environmentGroup),
      ),
    ].sort(),
  })).filter(scope => scope.environmentGroups.length > 0);
}

/**
 * The team names of the viewer's group ownership refs: these are the values
 * of the `kmp.backstage.io/team` label on their tenant namespaces.
 */
export function teamsOf(me: KmpMe): string[] {
  const teams = new Set<string>();
  for (const ref of me.ownershipRefs) {
    try {
      const { kind, name } = parseEntityRef(ref);
      if (kind.toLocaleLowerCase('en-US') === 'group') teams.add(name);
    } catch {
      // not an entity ref: nothing to label namespaces with
    }
  }
  return [...teams].sort();
}

/** `user:default/alice` → `alice`. */
export function displayNameOf(userRef: string): string {
  try {
    return parseEntityRef(userRef).name;
  } catch {
    return userRef;
  }
}
