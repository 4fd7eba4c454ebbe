import {
  EffectivePolicyBundle,
  KMP_ANNOTATIONS,
  PolicyDriftStatus,
  PolicyInstallation,
} from '@kmp/plugin-kmp-common';
import { InputError } from '@backstage/errors';
import {
  GitopsConfig,
  GitopsPublisher,
  GitopsRepository,
  gitopsRepositoryFor,
} from '@kmp/plugin-kmp-node';
import fs from 'node:fs';
import path from 'node:path';
import { contentHash } from '../bundle/PolicyBundleSet';
import {
  collectionPath,
  KubeClient,
  KubeRequestError,
} from '../cluster/KubeClient';
import { PolicyStore } from '../PolicyStore';
import {
  KubeObject,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  renderGatekeeper,
  renderKyverno,
  renderValidatingAdmissionPolicies,
  toYaml,
} from '../render/renderPolicies';

/** Field manager of KMP's server-side applies. */
export const POLICY_FIELD_MANAGER = 'kmp-policy';

const ADMISSION_GROUP = 'admissionregistration.k8s.io';
const POLICY_RESOURCES = {
  ValidatingAdmissionPolicy: 'validatingadmissionpolicies',
  ValidatingAdmissionPolicyBinding: 'validatingadmissionpolicybindings',
} as const;
type PolicyKind = keyof typeof POLICY_RESOURCES;

function objectPath(kind: PolicyKind, name?: string) {
  const base = collectionPath(ADMISSION_GROUP, 'v1', POLICY_RESOURCES[kind]);
  return name ? `${base}/${encodeURIComponent(name)}` : base;
}

const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/**
 * The part of a live object that KMP governs: the live value at every
 * path the rendered object sets (what server-side apply owns), so defaults
 * the API server adds do not count as drift but any change to a governed
 * field does.
 */
export function governedProjection(rendered: unknown, live: unknown): unknown {
  if (Array.isArray(rendered)) {
    if (!Array.isArray(live)) return live ?? null;
    if (live.length !== rendered.length) return live;
    return rendered.map((r, i) => governedProjection(r, live[i]));
  }
  if (rendered && typeof rendered === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) {
      return live ?? null;
    }
    return Object.fromEntries(
      Object.keys(rendered)
        .filter(k => (rendered as Record<string, unknown>)[k] !== undefined)
        .map(k => [
          k,
          governedProjection(
            (rendered as Record<string, unknown>)[k],
            (live as Record<string, unknown>)[k],
          ),
        ]),
    );
  }
  return live === undefined ? null : live;
}

function governed(object: KubeObject) {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: {
      name: object.metadata.name,
      labels: object.metadata.labels,
      annotations: object.metadata.annotations,
    },
    spec: object.spec,
  };
}

/** Hash of the governed content of rendered objects. */
export function renderedHash(objects: KubeObject[]): string {
  return contentHash(
    [...objects]
      .map(governed)
      .sort((a, b) =>
        `${a.kind}/${a.metadata.name}`.localeCompare(
          `${b.kind}/${b.metadata.name}`,
        ),
      ),
    32,
  );
}

export interface DriftResult {
  status: PolicyDriftStatus;
  details: string[];
  /** Bundle version the live objects are labelled with. */
  liveVersion?: string;
  /** Hash of the live governed content, comparable with renderedHash. */
  liveHash?: string;
}

/** Reads the KMP-managed admission policies and bindings of a cluster. */
export async function readInstalledPolicies(
  client: KubeClient,
): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const kind of Object.keys(POLICY_RESOURCES) as PolicyKind[]) {
    const { items } = await client.list<KubeObject>(objectPath(kind), {
      labelSelector: MANAGED_SELECTOR,
    });
    out.push(
      ...items.map(item => ({
        ...item,
        apiVersion: `${ADMISSION_GROUP}/v1`,
        kind,
      })),
    );
  }
  return out;
}

/** Compares what a cluster runs with what KMP rendered for it. */
export function compareInstalled(
  rendered: KubeObject[],
  live: KubeObject[],
): DriftResult {
  const key = (o: KubeObject) => `${o.kind} ${o.metadata.name}`;
  const liveByKey = new Map(live.map(o => [key(o), o]));
  const details: string[] = [];
  const projected: KubeObject[] = [];
  for (const object of rendered) {
    const match = liveByKey.get(key(object));
    liveByKey.delete(key(object));
    if (!match) {
      details.push(`${key(object)}: missing`);
      continue;
    }
    const projection = governedProjection(governed(object), governed(match));
    projected.push(projection as KubeObject);
    if (contentHash(projection, 32) !== contentHash(governed(object), 32)) {
      const changed = ['metadata', 'spec'].filter(
        part =>
          contentHash((projection as any)[part], 32) !==
          contentHash((governed(object) as any)[part], 32),
      );
      details.push(`${key(object)}: ${changed.join(' and ')} changed`);
    }
  }
  for (const extra of liveByKey.keys()) {
    details.push(`${extra}: not in the governed bundle`);
  }
  const versions = new Set(
    live.map(o => o.metadata.labels?.[KMP_ANNOTATIONS.policyBundleVersion]),
  );
  return {
    status: details.length === 0 ? 'in-sync' : 'drifted',
    details,
    liveVersion: versions.size === 1 ? [...versions][0] : undefined,
    liveHash: renderedHash(projected),
  };
}

/**
 * Applies rendered admission policies with server-side apply, then removes
 * KMP-managed policies that are no longer in the bundle. Policies go first
 * and bindings last (and the reverse when pruning), so a binding never
 * points at a policy that is not there.
 */
export async function applyPolicyObjects(
  client: KubeClient,
  objects: KubeObject[],
): Promise<{ applied: number; pruned: number }> {
  const order = (kind: string) =>
    kind === 'ValidatingAdmissionPolicy' ? 0 : 1;
  const sorted = [...objects].sort((a, b) => order(a.kind) - order(b.kind));
  for (const object of sorted) {
    const at = objectPath(object.kind as PolicyKind, object.metadata.name);
    try {
      await client.apply(at, object, POLICY_FIELD_MANAGER);
    } catch (error) {
      if (
        !(error instanceof KubeRequestError && error.responseStatus === 422)
      ) {
        throw error;
      }
      // Someone else's field manager owns part of a governed field (e.g.
      // added 'Warn' to a binding's validationActions, a set that
      // server-side apply merges into ['Deny', 'Audit', 'Warn'], which is
      // invalid). Governed objects are KMP's alone: replace the object.
      const live = await client.json<KubeObject>('GET', at);
      await client.json('PUT', at, {
        ...object,
        metadata: {
          ...object.metadata,
          resourceVersion: (live.metadata as { resourceVersion?: string })
            .resourceVersion,
        },
      });
    }
  }
  const wanted = new Set(objects.map(o => `${o.kind} ${o.metadata.name}`));
  const live = await readInstalledPolicies(client);
  let pruned = 0;
  for (const object of live.sort((a, b) => order(b.kind) - order(a.kind))) {
    if (!wanted.has(`${object.kind} ${object.metadata.name}`)) {
      await client.delete(
        objectPath(object.kind as PolicyKind, object.metadata.name),
      );
      pruned++;
    }
  }
  return { applied: objects.length, pruned };
}

export type ClusterClientFactory = (cluster: string) => Promise<KubeClient>;

/** Where GitOps distribution commits rendered bundles. */
export interface PolicyGitopsTarget {
  /** `kmp.goldenPaths.gitops`: the repository of each environment group. */
  config: GitopsConfig;
  /** Folder of a cluster's policies; `{cluster}`, `{environmentGroup}`. */
  folder: string;
}

/**
 * Distributes effective bundles to clusters and keeps track of them:
 * `apply` server-side-applies the rendered ValidatingAdmissionPolicies to
 * the cluster; `gitops` commits the rendered bundle (VAP, Gatekeeper and
 * Kyverno flavours) to the GitOps repository of the cluster's environment
 * group, one folder per cluster, which the cluster's GitOps engine applies
 * (or, without a repository, writes it into a local GitOps working tree).
 * Either way the installed version, mode and content hash are recorded;
 * drift checks read the cluster back and compare.
 */
export class PolicyDistributor {
  private constructor(
    private readonly store: PolicyStore,
    private readonly clientFor: ClusterClientFactory,
    private readonly gitopsDir?: string,
    private readonly gitops?: PolicyGitopsTarget,
  ) {}

  static create(options: {
    store: PolicyStore;
    clientFor: ClusterClientFactory;
    gitopsDir?: string;
    gitops?: PolicyGitopsTarget;
  }) {
    return new PolicyDistributor(
      options.store,
      options.clientFor,
      options.gitopsDir,
      options.gitops,
    );
  }

  private enforcementOf(bundle: EffectivePolicyBundle) {
    return Object.fromEntries(bundle.rules.map(r => [r.id, r.enforcement]));
  }

  async apply(
    cluster: string,
    bundle: EffectivePolicyBundle,
    actor: string,
  ): Promise<PolicyInstallation> {
    const objects = renderValidatingAdmissionPolicies(bundle);
    const client = await this.clientFor(cluster);
    try {
      await applyPolicyObjects(client, objects);
    } finally {
      client.close();
    }
    return this.store.recordInstallation({
      cluster,
      bundleVersion: bundle.version,
      mode: 'apply',
      enforcement: this.enforcementOf(bundle),
      contentHash: renderedHash(objects),
      actor,
    });
  }

  /**
   * Commits `{vap,gatekeeper,kyverno,kustomization}.yaml` for the cluster to
   * its environment group's GitOps repository (authored by `actor`), or
   * writes them to `<gitopsDir>/<cluster>/kmp-policies/` without one.
   */
  async writeGitOps(
    cluster: string,
    bundle: EffectivePolicyBundle,
    actor: string,
    environmentGroup: string,
  ): Promise<PolicyInstallation> {
    const repository = this.gitops
      ? gitopsRepositoryFor(this.gitops.config, environmentGroup)
      : undefined;
    if (!repository && !this.gitopsDir) {
      throw new InputError(
        `GitOps distribution to ${cluster} needs a GitOps repository for environment group ${environmentGroup} (kmp.goldenPaths.gitops.repositories) or a local working tree (kmp.policy.distribution.gitopsDir)`,
      );
    }
    const header = (engine: string) =>
      `Rendered by KMP from policy bundle ${bundle.name}@${bundle.version}\n` +
      `(${bundle.environment}${
        bundle.environmentGroup ? `/${bundle.environmentGroup}` : ''
      }) for cluster ${cluster}, ${engine}. Do not edit: change the bundle.`;
    const vap = renderValidatingAdmissionPolicies(bundle);
    const files: Array<[string, string]> = [
      [
        'validating-admission-policies.yaml',
        toYaml(vap, header('native ValidatingAdmissionPolicy')),
      ],
      [
        'gatekeeper.yaml',
        toYaml(renderGatekeeper(bundle), header('Gatekeeper')),
      ],
      ['kyverno.yaml', toYaml(renderKyverno(bundle), header('Kyverno'))],
      [
        'kustomization.yaml',
        `# Applies the native policies; swap in gatekeeper.yaml or kyverno.yaml\n` +
          `# where the cluster runs that engine instead.\n` +
          `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n` +
          `resources:\n  - validating-admission-policies.yaml\n`,
      ],
    ];
    const location = repository
      ? await this.commit(
          repository,
          cluster,
          environmentGroup,
          bundle,
          actor,
          files,
        )
      : await this.writeWorkingTree(cluster, files);
    return this.store.recordInstallation({
      cluster,
      bundleVersion: bundle.version,
      mode: 'gitops',
      enforcement: this.enforcementOf(bundle),
      contentHash: renderedHash(vap),
      location,
      actor,
    });
  }

  /** Commits and pushes the files; returns `<repo>#<branch>:<folder>@<commit>`. */
  private async commit(
    repository: GitopsRepository,
    cluster: string,
    environmentGroup: string,
    bundle: EffectivePolicyBundle,
    actor: string,
    files: Array<[string, string]>,
  ): Promise<string> {
    const { config, folder: layout } = this.gitops!;
    const folder = path.posix.normalize(
      layout
        .replaceAll('{cluster}', cluster)
        .replaceAll('{environmentGroup}', environmentGroup),
    );
    const publisher = GitopsPublisher.create({
      repository,
      committer: config.committer,
    });
    const result = await publisher.publishFromFreshClone({
      entries: [{ folder, files: new Map(files) }],
      message:
        `kmp-policies: ${bundle.name}@${bundle.version} for ${cluster}\n\n` +
        `Rendered by KMP from the ${bundle.environment}${
          bundle.environmentGroup ? `/${bundle.environmentGroup}` : ''
        } policy bundle; distributed by ${actor}.`,
      author: { name: actor, email: config.committer.email },
      dryRun: false,
    });
    return `${result.repoUrl}#${result.branch}:${folder}@${result.commit}`;
  }

  /** Writes the files to the local working tree; returns the folder. */
  private async writeWorkingTree(
    cluster: string,
    files: Array<[string, string]>,
  ): Promise<string> {
    const dir = path.join(this.gitopsDir!, cluster, 'kmp-policies');
    await fs.promises.mkdir(dir, { recursive: true });
    for (const [name, text] of files) {
      // write-then-rename, so a GitOps engine never reads half a file
      const target = path.join(dir, name);
      await fs.promises.writeFile(`${target}.tmp`, text);
      await fs.promises.rename(`${target}.tmp`, target);
    }
    return dir;
  }

  /**
   * Reads the cluster's KMP-managed admission policies back and compares
   * them with the governed bundle; records and returns the result.
   */
  async checkDrift(
    cluster: string,
    governedBundle: EffectivePolicyBundle,
  ): Promise<DriftResult> {
    let client: KubeClient | undefined;
    let result: DriftResult;
    try {
      client = await this.clientFor(cluster);
      const live = await readInstalledPolicies(client);
      result = compareInstalled(
        renderValidatingAdmissionPolicies(governedBundle),
        live,
      );
    } catch (error) {
      result = {
        status: 'unknown',
        details: [`could not read the cluster: ${(error as Error).message}`],
      };
    } finally {
      client?.close();
    }
    if (await this.store.getInstallation(cluster)) {
      await this.store.recordDrift(cluster, result);
    }
    return result;
  }
}
