import { z } from 'zod';

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A Kubernetes-style DNS-1123 label: lower-case alphanumerics and '-',
 * starting and ending with an alphanumeric, at most 63 characters.
 *
 * @public
 */
export const dnsLabelSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(
    DNS_1123_LABEL,
    "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit",
  );

/**
 * A reference to a catalog entity, such as `group:default/platform-team`.
 *
 * @public
 */
export const entityRefSchema = z
  .string()
  .regex(
    /^([a-zA-Z][\w-]*:)?([\w.-]+\/)?[\w.-]+$/,
    'must be an entity reference such as group:default/platform-team',
  );

/**
 * The three environment classes of the seed: configuration in `production` is
 * declarative only, `non-production` allows guard-railed ClickOps, `edge`
 * clusters are reached through agents.
 *
 * @public
 */
export const environmentSchema = z.enum([
  'production',
  'non-production',
  'edge',
]);

/** @public */
export type Environment = z.infer<typeof environmentSchema>;

/** @public */
export const ENVIRONMENTS: readonly Environment[] = environmentSchema.options;
