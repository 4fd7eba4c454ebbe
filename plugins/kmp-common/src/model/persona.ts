import { z } from 'zod';

/**
 * The four personas of the seed. Personas are derived from identity-provider
 * groups per environment group; see PERSONAS.md for the default matrix.
 *
 * @public
 */
export const personaSchema = z.enum([
  'developer',
  'ops',
  'platform-engineer',
  'edge-operator',
]);

/** @public */
export type Persona = z.infer<typeof personaSchema>;

/** @public */
export const PERSONAS: readonly Persona[] = personaSchema.options;

/**
 * Human-readable titles and scopes of the personas.
 *
 * @public
 */
export const PERSONA_INFO: Record<
  Persona,
  { title: string; description: string }
> = {
  developer: {
    title: 'Developer',
    description: "Works in their team's tenant namespaces only.",
  },
  ops: {
    title: 'Ops',
    description:
      'Operates every cluster of their environment groups; system namespaces read-only.',
  },
  'platform-engineer': {
    title: 'Platform Engineer',
    description:
      'Cluster-wide administration of their environment groups, profiles and policies.',
  },
  'edge-operator': {
    title: 'Edge Operator',
    description:
      'Operates the edge clusters of their environment groups and their connectivity.',
  },
};
