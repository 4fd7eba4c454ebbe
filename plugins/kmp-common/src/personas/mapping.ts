import { z } from 'zod';
import { dnsLabelSchema, entityRefSchema } from '../model/common';
import { Persona, personaSchema } from '../model/persona';
import { PERSONAS_BY_PRIVILEGE } from './matrix';

/**
 * One entry of `kmp.personas`: members of an identity-provider group (as it
 * appears among a user's ownership refs) hold a persona in the given
 * environment groups, or in all of them when none are given.
 *
 * @public
 */
export const personaMappingSchema = z
  .object({
    group: entityRefSchema,
    persona: personaSchema,
    environmentGroups: z.array(dnsLabelSchema).min(1).optional(),
  })
  .strict();

/** @public */
export type PersonaMapping = z.infer<typeof personaMappingSchema>;

/** @public */
export const personaMappingsSchema = z.array(personaMappingSchema);

/**
 * A persona a caller holds, and where (`undefined`: every environment
 * group).
 *
 * @public
 */
export interface PersonaGrant {
  persona: Persona;
  environmentGroups?: string[];
}

const lower = (ref: string) => ref.toLocaleLowerCase('en-US');

/**
 * The persona grants of a caller, from their ownership refs (entity refs
 * compare case-insensitively, as everywhere in Backstage).
 *
 * @public
 */
export function personaGrantsOf(
  mappings: readonly PersonaMapping[],
  ownershipRefs: readonly string[],
): PersonaGrant[] {
  const refs = new Set(ownershipRefs.map(lower));
  return mappings
    .filter(m => refs.has(lower(m.group)))
    .map(m => ({
      persona: m.persona,
      ...(m.environmentGroups
        ? { environmentGroups: [...m.environmentGroups] }
        : {}),
    }));
}

/**
 * The personas a caller holds in one environment group, most privileged
 * first.
 *
 * @public
 */
export function personasIn(
  grants: readonly PersonaGrant[],
  environmentGroup: string,
): Persona[] {
  const found = new Set(
    grants
      .filter(
        g =>
          !g.environmentGroups ||
          g.environmentGroups.includes(environmentGroup),
      )
      .map(g => g.persona),
  );
  return PERSONAS_BY_PRIVILEGE.filter(p => found.has(p));
}
