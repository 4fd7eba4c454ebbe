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
 * The object a change applies (server-side apply as `kmp-clickops`): a whole
 * Deployment for a deployment, and only the fields a scale or an environment
 * variable owns for the others, so that the apply touches nothing else.
 */
export function manifestOf(change: ClickOpsChange): KubernetesObject {
  const metadata = { name: change.name, namespace: change.namespace };
  switch (change.kind) {
    case 'deploy': {
      const labels = { 'app.kubernetes.io/name': change.name };
      return {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          ...metadata,
          labels: {
            ...labels,
            'app.kubernetes.io/managed-by': 'kmp-clickops',
          },
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
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    capabilities: { drop: ['ALL'] },
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
