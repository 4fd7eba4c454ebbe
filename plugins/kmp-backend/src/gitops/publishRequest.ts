import { InputError } from '@backstage/errors';
import { dnsLabelSchema } from '@kmp/plugin-kmp-common';
import { DeclaredObject } from '@kmp/plugin-kmp-node';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';

/** At most this many objects per publication. */
export const MAX_OBJECTS = 100;

const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a DNS-1123 subdomain',
  );

const objectSchema = z
  .object({
    apiVersion: z
      .string()
      .min(1)
      .max(253)
      .regex(/^([a-z0-9.-]+\/)?[a-z0-9]+$/, 'must be an apiVersion'),
    kind: z
      .string()
      .min(1)
      .max(63)
      .regex(/^[A-Z][A-Za-z0-9]*$/, 'must be a kind'),
    metadata: z
      .object({ name: objectName, namespace: dnsLabelSchema.optional() })
      .loose(),
  })
  .loose();

/** The request body of `POST /clusters/{name}/gitops/publish`. */
export const publishBodySchema = z
  .object({
    manifests: z.union([
      z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_OBJECTS),
      z
        .string()
        .min(1)
        .max(1024 * 1024),
    ]),
    message: z.string().trim().min(1).max(2000).optional(),
    namespace: dnsLabelSchema.optional(),
  })
  .strict();

export const publishParamsSchema = z.object({ name: dnsLabelSchema });

/**
 * Kinds that live outside namespaces: a publication writes one namespace's
 * folder, so these belong to the platform's own repository layout.
 */
const CLUSTER_SCOPED = new Set([
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'IngressClass',
  'RuntimeClass',
  'Node',
  'APIService',
]);

function issueText(error: z.ZodError, at: string): string {
  const issue = error.issues[0];
  const key = issue.path.reduce<string>(
    (acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : `${acc}.${String(part)}`,
    at,
  );
  return `Invalid request ${key}: ${issue.message}`;
}

/** The YAML documents of a string, as plain values. */
function parseYaml(text: string): unknown[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  const out: unknown[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      throw new InputError(
        `Invalid request body.manifests: YAML document ${i + 1}: ${
          doc.errors[0].message.split('\n')[0]
        }`,
      );
    }
    const value = doc.toJS();
    // Empty documents (a leading or trailing ---) carry nothing.
    if (value !== null && value !== undefined) out.push(value);
  });
  return out;
}

/** What is published: the objects, all in one namespace. */
export interface PublishObjects {
  namespace: string;
  objects: DeclaredObject[];
}

/**
 * The objects of a publish request, validated: Kubernetes objects with an
 * apiVersion, kind and name, all of one namespace (the request's, or the
 * one they name), no Secrets (their values do not belong in Git) and no
 * cluster-scoped kinds besides the namespace itself. Objects that name no
 * namespace are given it, so that the record in Git is explicit.
 */
export function publishObjectsOf(
  body: z.infer<typeof publishBodySchema>,
): PublishObjects {
  const values =
    typeof body.manifests === 'string'
      ? parseYaml(body.manifests)
      : body.manifests;
  if (values.length === 0) {
    throw new InputError('Invalid request body.manifests: no objects');
  }
  if (values.length > MAX_OBJECTS) {
    throw new InputError(
      `Invalid request body.manifests: at most ${MAX_OBJECTS} objects, got ${values.length}`,
    );
  }
  const objects = values.map((value, i) => {
    const parsed = objectSchema.safeParse(value);
    if (!parsed.success) {
      throw new InputError(issueText(parsed.error, `body.manifests[${i}]`));
    }
    const o = parsed.data as DeclaredObject;
    const what = `body.manifests[${i}] (${o.kind} ${o.metadata.name})`;
    if (o.kind === 'List') {
      throw new InputError(
        `Invalid request ${what}: send the items, not a List`,
      );
    }
    if (o.kind === 'Secret' && o.apiVersion === 'v1') {
      throw new InputError(
        `Invalid request ${what}: Secret values do not go to Git; declare a SealedSecret or ExternalSecret instead`,
      );
    }
    if (CLUSTER_SCOPED.has(o.kind)) {
      throw new InputError(
        `Invalid request ${what}: cluster-scoped objects are not published to a namespace's folder`,
      );
    }
    return o;
  });

  const named = new Set(
    objects.map(o =>
      o.kind === 'Namespace' && o.apiVersion === 'v1'
        ? o.metadata.name
        : o.metadata.namespace,
    ),
  );
  named.delete(undefined);
  if (body.namespace) named.add(body.namespace);
  if (named.size === 0) {
    throw new InputError(
      'Invalid request body.namespace: the objects name no namespace; give one',
    );
  }
  if (named.size > 1) {
    throw new InputError(
      `Invalid request body.manifests: the objects of one publication belong to one namespace, got ${[
        ...named,
      ]
        .sort()
        .join(', ')}`,
    );
  }
  const [namespace] = named as Set<string>;
  return {
    namespace,
    objects: objects.map(o =>
      o.kind === 'Namespace' || o.metadata.namespace
        ? o
        : { ...o, metadata: { ...o.metadata, namespace } },
    ),
  };
}

/** `Kind namespace/name`, for messages and the audit trail. */
export const describeObject = (o: DeclaredObject) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${
    o.metadata.name
  }`;
