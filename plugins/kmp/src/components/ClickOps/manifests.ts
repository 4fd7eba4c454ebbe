import { KMP_ANNOTATIONS } from '@kmp/plugin-kmp-common';
import { KubernetesObject } from '../../api';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
// registry/path:tag or @digest; no whitespace.
const IMAGE = /^[a-z0-9]+([._\-/:@a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export type ClickOpsChange =
  | {
      kind: 'deploy';
      namespace: string;
      name: string;
      image: string;
      replicas: string;
      port: string;
      /** `key=value` pairs, comma-separated (optional). */
      annotations?: string;
    }
  | { kind: 'scale'; namespace: string; name: string; replicas: string }
  | {
      kind: 'env';
      namespace: string;
      name: string;
      container: string;
      key: string;
      value: string;
    };

// An annotation key: optional DNS-subdomain prefix and '/', then a name.
const ANNOTATION_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * The annotations of a `key=value, key=value` field, or the reason it is
 * not one.
 */
export function parseAnnotations(
  text: string | undefined,
): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const pair of (text ?? '').split(',')) {
    if (!pair.trim()) continue;
    const at = pair.indexOf('=');
    const key = (at < 0 ? pair : pair.slice(0, at)).trim();
    if (at < 0) return `'${key}' needs a value: key=value`;
    if (!ANNOTATION_KEY.test(key) || key.length > 317) {
      return `'${key}' is not an annotation key`;
    }
    out[key] = pair.slice(at + 1).trim();
  }
  return out;
}

/** What is wrong with a form, field by field. */
export type FieldErrors = Record<string, string>;

const label = (value: string, errors: FieldErrors, field: string) => {
  if (!DNS_LABEL.test(value) || value.length > 63) {
    errors[field] =
      "lower-case letters, digits and '-', starting and ending with a letter or digit";
  }
};

const count = (
  value: string,
  errors: FieldErrors,
  field: string,
  max: number,
) => {
  if (!/^\d+$/.test(value) || Number(value) > max) {
    errors[field] = `a whole number from 0 to ${max}`;
  }
};

export function validateChange(change: ClickOpsChange): FieldErrors {
  const errors: FieldErrors = {};
  label(change.namespace, errors, 'namespace');
  label(change.name, errors, 'name');
  switch (change.kind) {
    case 'deploy':
      if (!IMAGE.test(change.image)) errors.image = 'an image reference';
      count(change.replicas, errors, 'replicas', 100);
      if (
        change.port &&
        (!/^\d+$/.test(change.port) || +change.port < 1 || +change.port > 65535)
      ) {
        errors.port = 'a port from 1 to 65535';
      }
      {
        const annotations = parseAnnotations(change.annotations);
        if (typeof annotations === 'string') errors.annotations = annotations;
      }
      break;
    case 'scale':
      count(change.replicas, errors, 'replicas', 1000);
      break;
    case 'env':
      label(change.container, errors, 'container');
      if (!ENV_NAME.test(change.key)) errors.key = 'a valid variable name';
      break;
    default:
  }
  return errors;
}

/**
 * Who a tenant namespace belongs to, as its golden path labelled it: the
 * team label and the owner and cost-centre annotations, which the policy
 * baseline requires on workloads too.
 */
export interface NamespaceOwnership {
  team?: string;
  owner?: string;
  costCentre?: string;
}

/** The ownership a namespace object declares (absent values left out). */
export function ownershipOf(namespace: {
  metadata?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}): NamespaceOwnership {
  const labels = namespace.metadata?.labels ?? {};
  const annotations = namespace.metadata?.annotations ?? {};
  return {
    team: labels[KMP_ANNOTATIONS.team] || undefined,
    owner: annotations[KMP_ANNOTATIONS.owner] || undefined,
    costCentre: annotations[KMP_ANNOTATIONS.costCentre] || undefined,
  };
}

/**
 * The object a change applies (server-side apply as `kmp-clickops`): a whole
 * Deployment for a deployment, and only the fields a scale or an environment
 * variable owns for the others, so that the apply touches nothing else. A
 * new Deployment carries its namespace's ownership (team label, owner and
 * cost-centre annotations) as the policy baseline requires.
 */
export function manifestOf(
  change: ClickOpsChange,
  ownership: NamespaceOwnership = {},
): KubernetesObject {
  const metadata = { name: change.name, namespace: change.namespace };
  switch (change.kind) {
    case 'deploy': {
      const labels = { 'app.kubernetes.io/name': change.name };
      const given = parseAnnotations(change.annotations);
      const annotations = {
        ...(ownership.owner
          ? { [KMP_ANNOTATIONS.owner]: ownership.owner }
          : {}),
        ...(ownership.costCentre
          ? { [KMP_ANNOTATIONS.costCentre]: ownership.costCentre }
          : {}),
        ...(typeof given === 'string' ? {} : given),
      };
      return {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          ...metadata,
          labels: {
            ...labels,
            'app.kubernetes.io/managed-by': 'kmp-clickops',
            ...(ownership.team
              ? { [KMP_ANNOTATIONS.team]: ownership.team }
              : {}),
          },
          ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        },
        spec: {
          replicas: Number(change.replicas),
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              securityContext: {
                runAsNonRoot: true,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              containers: [
                {
                  name: change.name,
                  image: change.image,
                  ...(change.port
                    ? { ports: [{ containerPort: Number(change.port) }] }
                    : {}),
                  resources: {
                    requests: { cpu: '100m', memory: '128Mi' },
                    limits: { cpu: '500m', memory: '256Mi' },
                  },
                  // The golden path's defaults (restricted Pod Security,
                  // read-only root file system).
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ['ALL'] },
                    readOnlyRootFilesystem: true,
                  },
                },
              ],
            },
          },
        },
      };
    }
    case 'scale':
      return {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata,
        spec: { replicas: Number(change.replicas) },
      };
    case 'env':
      return {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata,
        spec: {
          template: {
            spec: {
              containers: [
                {
                  name: change.container,
                  env: [{ name: change.key, value: change.value }],
                },
              ],
            },
          },
        },
      };
    default:
      throw new Error('unknown change');
  }
}
