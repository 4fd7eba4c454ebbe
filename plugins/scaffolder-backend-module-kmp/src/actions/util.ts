import {
  AuthService,
  DiscoveryService,
  resolveSafeChildPath,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { z as zod } from 'zod/v3';
import { KmpBackendClient } from '../client/KmpBackendClient';
import { KubeObject } from '../client/ServerSideApply';

/** What the KMP actions need from the backend. */
export interface KmpActionDeps {
  auth: AuthService;
  discovery: DiscoveryService;
}

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dnsLabelMessage =
  "must be a DNS-1123 label: lower-case letters, digits and '-', at most 63 characters";

export const dnsLabel = (z: typeof zod) =>
  z.string().max(63).regex(DNS_LABEL, dnsLabelMessage);

/**
 * Parses action input with its zod schema: the scaffolder checks the JSON
 * schema only, so defaults and refinements apply here. A failure names the
 * field.
 */
export function parseActionInput<T extends zod.ZodTypeAny>(
  actionId: string,
  schema: T,
  input: unknown,
): zod.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `Invalid input to ${actionId} at ${issue.path.join('.') || '(root)'}: ${
        issue.message
      }`,
    );
  }
  return parsed.data;
}

/** A KMP client acting as the user who runs the template. */
export async function initiatorClient(
  deps: KmpActionDeps,
  ctx: { getInitiatorCredentials(): Promise<any> },
): Promise<KmpBackendClient> {
  return KmpBackendClient.forInitiator({
    auth: deps.auth,
    discovery: deps.discovery,
    credentials: await ctx.getInitiatorCredentials(),
  });
}

function isKubeObject(value: unknown): value is KubeObject {
  const v = value as KubeObject;
  return (
    !!v &&
    typeof v === 'object' &&
    typeof v.apiVersion === 'string' &&
    typeof v.kind === 'string' &&
    typeof v.metadata?.name === 'string'
  );
}

/** Checks that every item is a Kubernetes object and expands `List`s. */
export function asKubeObjects(items: unknown[], where: string): KubeObject[] {
  const out: KubeObject[] = [];
  items.forEach((item, i) => {
    const list = item as { kind?: string; items?: unknown[] };
    if (
      list &&
      typeof list.kind === 'string' &&
      list.kind.endsWith('List') &&
      Array.isArray(list.items)
    ) {
      out.push(...asKubeObjects(list.items, `${where}[${i}].items`));
      return;
    }
    if (!isKubeObject(item)) {
      throw new InputError(
        `${where}[${i}] is not a Kubernetes object (apiVersion, kind and metadata.name are required)`,
      );
    }
    out.push(item);
  });
  return out;
}

/**
 * Reads the Kubernetes objects of a workspace file or folder (`.yaml`,
 * `.yml`, `.json`; multi-document files; a kustomization.yaml is skipped),
 * in file-name order.
 */
export async function readWorkspaceManifests(
  workspacePath: string,
  relative: string,
): Promise<KubeObject[]> {
  const target = resolveSafeChildPath(workspacePath, relative);
  const stat = await fs.stat(target).catch(() => undefined);
  if (!stat) {
    throw new InputError(`No manifests at ${relative} in the workspace`);
  }
  const files = stat.isDirectory()
    ? (await fs.readdir(target, { recursive: true }))
        .map(String)
        .filter(f => /\.(ya?ml|json)$/.test(f))
        .filter(f => !/(^|\/)kustomization\.ya?ml$/.test(f))
        .sort()
        .map(f => path.join(target, f))
    : [target];
  const objects: unknown[] = [];
  for (const file of files) {
    const text = await fs.readFile(file, 'utf8');
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) {
        throw new InputError(
          `${path.relative(workspacePath, file)}: ${doc.errors[0].message}`,
        );
      }
      const value = doc.toJS();
      if (value !== null && value !== undefined) objects.push(value);
    }
  }
  return asKubeObjects(objects, relative);
}

/** Manifests given inline or as a workspace path; exactly one of them. */
export async function manifestsFromInput(
  workspacePath: string,
  input: { manifests?: unknown[]; path?: string },
): Promise<KubeObject[]> {
  if (!!input.manifests === !!input.path) {
    throw new InputError('Give either manifests or path, not both or neither');
  }
  const objects = input.manifests
    ? asKubeObjects(input.manifests, 'manifests')
    : await readWorkspaceManifests(workspacePath, input.path!);
  if (objects.length === 0) throw new InputError('No manifests to process');
  return objects;
}

/** `Kind namespace/name` for messages. */
export function describeObject(o: {
  kind?: string;
  namespace?: string;
  name?: string;
}): string {
  return `${o.kind ?? 'object'} ${o.namespace ? `${o.namespace}/` : ''}${
    o.name ?? '(unnamed)'
  }`;
}
