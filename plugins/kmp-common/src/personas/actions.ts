import { z } from 'zod';

/**
 * What a person does to a cluster, in the words of the persona matrix
 * (PERSONAS.md). The broker classifies every Kubernetes request into one of
 * these ({@link classifyKubeRequest}); the portal asks about them to show or
 * hide an action; the permission policy grants them per persona and
 * environment.
 *
 * @public
 */
export const kmpActionSchema = z.enum([
  'read',
  'read-secrets',
  'logs',
  'exec',
  'restart',
  'delete-pod',
  'scale',
  'write',
  'create-namespace',
  'kubeconfig',
  'manage-platform',
  'break-glass-request',
  'break-glass-approve',
  'read-audit',
]);

/** @public */
export type KmpAction = z.infer<typeof kmpActionSchema>;

/** @public */
export const KMP_ACTIONS: readonly KmpAction[] = kmpActionSchema.options;

/**
 * The actions a request through the broker can be classified as: everything
 * that happens on a cluster's Kubernetes API (the others are KMP's own
 * routes: kubeconfigs, platform management, break-glass, audit).
 *
 * @public
 */
export const KUBE_ACTIONS: readonly KmpAction[] = [
  'read',
  'read-secrets',
  'logs',
  'exec',
  'restart',
  'delete-pod',
  'scale',
  'write',
  'create-namespace',
];

/**
 * Actions that change nothing on the cluster.
 *
 * @public
 */
export const READ_ACTIONS: readonly KmpAction[] = [
  'read',
  'read-secrets',
  'logs',
];
