import { LoggerService } from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import {
  EffectivePolicyBundle,
  PolicyComplianceReport,
  PolicyEvaluateRequest,
  PolicyEvaluateResponse,
  PolicyTarget,
  RegisteredCluster,
  policyAdmissionItemSchema,
} from '@kmp/plugin-kmp-common';
import { ClusterRegistry } from '../registry/ClusterRegistry';
import { ClusterStore } from '../registry/ClusterStore';
import { ClusterUrlPolicy } from '../registry/ClusterUrlPolicy';
import { EnvironmentGroupStore } from '../registry/EnvironmentGroupStore';
import { ProfileStore } from '../registry/ProfileStore';
import { PolicyBundleError } from './bundle/BundleSource';
import { PolicyBundleSet } from './bundle/PolicyBundleSet';
import { KubeClient } from './cluster/KubeClient';
import { ComplianceScanner } from './compliance/ComplianceScanner';
import {
  PolicyDistributor,
  PolicyGitopsTarget,
} from './distribution/PolicyDistributor';
import { AdmissionItem, objectRefOf, PolicyEvaluator } from './PolicyEvaluator';
import { PolicyStore } from './PolicyStore';
import { knownKind, splitApiVersion } from './kinds';

/** What the policy domain needs from the cluster registry (setupRegistry's result). */
export interface PolicyRegistry {
  clusters: Pick<ClusterStore, 'get' | 'list'>;
  profiles: Pick<ProfileStore, 'list'>;
  environmentGroups: Pick<EnvironmentGroupStore, 'get'>;
  registry: Pick<ClusterRegistry, 'credentialsOf'>;
  policy: Pick<ClusterUrlPolicy, 'lookup'>;
}

const EVALUATOR_CACHE_SIZE = 32;
const NAMESPACE_TTL_MS = 30_000;
const NAMESPACE_CACHE_SIZE = 10_000;
const NAMESPACE_LOOKUPS_PER_REQUEST = 20;
/**
 * Environment groups come from configuration (synced at start-up), so a
 * found group is remembered briefly: an evaluate request then costs no
 * database round trip.
 */
const GROUP_TTL_MS = 30_000;

/**
 * The policy domain's service: resolves targets to effective bundles,
 * evaluates manifests, distributes bundles and assembles compliance
 * reports.
 */
export class PolicyService {
  private readonly evaluators = new Map<string, PolicyEvaluator>();
  private readonly namespaceCache = new Map<
    string,
    { labels?: Record<string, string>; at: number }
  >();
  private readonly groupCache = new Map<
    string,
    { environment: string; at: number }
  >();

  private constructor(
    readonly bundles: PolicyBundleSet,
    private readonly registry: PolicyRegistry,
    readonly store: PolicyStore,
    readonly distributor: PolicyDistributor,
    private readonly scanner: ComplianceScanner,
    private readonly logger: LoggerService,
    private readonly maxManifests: number,
    private readonly timeoutMs: number,
  ) {}

  static create(options: {
    bundles: PolicyBundleSet;
    registry: PolicyRegistry;
    store: PolicyStore;
    logger: LoggerService;
    gitopsDir?: string;
    gitops?: PolicyGitopsTarget;
    maxManifests?: number;
    timeoutSeconds?: number;
  }): PolicyService {
    let service: PolicyService | undefined = undefined;
    const distributor = PolicyDistributor.create({
      store: options.store,
      clientFor: name => service!.clientFor(name),
      gitopsDir: options.gitopsDir,
      gitops: options.gitops,
    });
    service = new PolicyService(
      options.bundles,
      options.registry,
      options.store,
      distributor,
      ComplianceScanner.create(),
      options.logger,
      options.maxManifests ?? 500,
      (options.timeoutSeconds ?? 30) * 1000,
    );
    return service;
  }

  /**
   * A client for a registered cluster's API server. The access broker does
   * not exist yet, so KMP talks to the cluster with the credentials the
   * registry holds for it (through the registry's URL policy); the broker
   * will route these calls through its own identity with impersonation.
   */
  async clientFor(name: string): Promise<KubeClient> {
    const cluster = await this.clusterOrThrow(name);
    if (cluster.connectivity !== 'direct' || !cluster.apiServerUrl) {
      throw new InputError(
        `cluster '${name}' is not directly reachable (connectivity ${cluster.connectivity}); distribute its policies through GitOps`,
      );
    }
    const credentials = await this.registry.registry.credentialsOf(name);
    if (!credentials) {
      throw new InputError(`the registry holds no credentials for '${name}'`);
    }
    return KubeClient.create(
      {
        server: cluster.apiServerUrl,
        credentials,
        lookup: this.registry.policy.lookup,
      },
      { timeoutMs: this.timeoutMs },
    );
  }

  async clusterOrThrow(name: string): Promise<RegisteredCluster> {
    const cluster = await this.registry.clusters.get(name);
    if (!cluster || cluster.lifecycleState === 'decommissioned') {
      throw new NotFoundError(`cluster '${name}' is not registered`);
    }
    return cluster;
  }

  private resolve(options: Parameters<PolicyBundleSet['resolve']>[0]) {
    try {
      return this.bundles.resolve(options);
    } catch (error) {
      if (error instanceof PolicyBundleError) {
        throw new InputError(error.message);
      }
      throw error;
    }
  }

  /** The governed bundle of a registered cluster. */
  async bundleForCluster(
    cluster: RegisteredCluster,
  ): Promise<EffectivePolicyBundle> {
    const profile = (await this.registry.profiles.list()).find(
      p => p.name === cluster.profile,
    );
    return this.resolve({
      environment: cluster.environment,
      environmentGroup: cluster.environmentGroup,
      overlays: profile?.policyOverlays ?? [],
    });
  }

  async bundleFor(target: PolicyTarget): Promise<EffectivePolicyBundle> {
    if ('cluster' in target) {
      return this.bundleForCluster(await this.clusterOrThrow(target.cluster));
    }
    if (target.environmentGroup) {
      const environment = await this.environmentOfGroup(
        target.environmentGroup,
      );
      if (!environment) {
        throw new InputError(
          `environment group '${target.environmentGroup}' does not exist`,
        );
      }
      if (environment !== target.environment) {
        throw new InputError(
          `environment group '${target.environmentGroup}' is ${environment}, not ${target.environment}`,
        );
      }
    }
    return this.resolve({
      environment: target.environment,
      environmentGroup: target.environmentGroup,
    });
  }

  private async environmentOfGroup(name: string): Promise<string | undefined> {
    const now = Date.now();
    const cached = this.groupCache.get(name);
    if (cached && now - cached.at < GROUP_TTL_MS) return cached.environment;
    const group = await this.registry.environmentGroups.get(name);
    if (!group) {
      this.groupCache.delete(name);
      return undefined;
    }
    if (this.groupCache.size >= NAMESPACE_CACHE_SIZE) this.groupCache.clear();
    this.groupCache.set(name, { environment: group.environment, at: now });
    return group.environment;
  }

  evaluatorFor(bundle: EffectivePolicyBundle): PolicyEvaluator {
    let evaluator = this.evaluators.get(bundle.version);
    if (evaluator) {
      // keep recently used versions at the end (LRU)
      this.evaluators.delete(bundle.version);
    } else {
      evaluator = PolicyEvaluator.create(bundle);
      if (this.evaluators.size >= EVALUATOR_CACHE_SIZE) {
        this.evaluators.delete(this.evaluators.keys().next().value!);
      }
    }
    this.evaluators.set(bundle.version, evaluator);
    return evaluator;
  }

  /**
   * Evaluates an evaluate request. `List` manifests are expanded; items
   * that are neither a Kubernetes object nor an admission item are
   * reported as malformed one by one.
   */
  async evaluate(
    request: PolicyEvaluateRequest,
  ): Promise<PolicyEvaluateResponse> {
    const bundle = await this.bundleFor(request.target);
    const items: Array<AdmissionItem | { error: string; object: unknown }> = [];
    for (const manifest of request.manifests) {
      const m = manifest as Record<string, unknown> | null;
      if (
        m &&
        typeof m === 'object' &&
        m.kind === 'List' &&
        Array.isArray(m.items)
      ) {
        for (const item of m.items) items.push({ object: item });
      } else if (
        m &&
        typeof m === 'object' &&
        !Array.isArray(m) &&
        !('kind' in m) &&
        'object' in m
      ) {
        const parsed = policyAdmissionItemSchema.safeParse(m);
        items.push(
          parsed.success
            ? (parsed.data as AdmissionItem)
            : {
                error: `invalid admission item: ${parsed.error.issues[0].message}`,
                object: m.object,
              },
        );
      } else {
        items.push({ object: manifest });
      }
    }
    if (items.length > this.maxManifests) {
      throw new InputError(
        `at most ${this.maxManifests} manifests can be evaluated at once, got ${items.length}`,
      );
    }
    const evaluator = this.evaluatorFor(bundle);
    const evaluable = items.map(item =>
      'error' in item ? { object: undefined } : item,
    );
    let namespaces = request.namespaces;
    if ('cluster' in request.target) {
      namespaces = {
        ...(await this.liveNamespaceLabels(
          request.target.cluster,
          namespacesOf(evaluable, request.defaultNamespace).filter(
            ns => !request.namespaces?.[ns],
          ),
        )),
        ...request.namespaces,
      };
    }
    const results = evaluator.evaluate(evaluable, {
      namespaces,
      defaultNamespace: request.defaultNamespace,
    });
    items.forEach((item, i) => {
      if ('error' in item) {
        results[i] = {
          ...results[i],
          object: objectRefOf(item.object),
          allowed: false,
          error: item.error,
        };
      }
    });
    const violations = results.reduce((n, r) => n + r.violations.length, 0);
    return {
      allowed: results.every(r => r.allowed),
      bundle: {
        name: bundle.name,
        version: bundle.version,
        environment: bundle.environment,
        ...(bundle.environmentGroup
          ? { environmentGroup: bundle.environmentGroup }
          : {}),
      },
      results,
      summary: {
        objects: results.length,
        denied: results.filter(r => !r.allowed).length,
        violations,
        errors: results.filter(r => r.error).length,
      },
    };
  }

  /**
   * Labels of a cluster's namespaces, for namespace selectors and
   * `namespaceObject` when a pre-flight does not send them: read from the
   * cluster and cached briefly. An unreachable cluster leaves them unknown
   * (rules then see a namespace without labels).
   */
  private async liveNamespaceLabels(
    cluster: string,
    names: string[],
  ): Promise<Record<string, Record<string, string>>> {
    const out: Record<string, Record<string, string>> = {};
    const now = Date.now();
    const missing: string[] = [];
    for (const name of new Set(names)) {
      const cached = this.namespaceCache.get(`${cluster}/${name}`);
      if (cached && now - cached.at < NAMESPACE_TTL_MS) {
        if (cached.labels) out[name] = cached.labels;
      } else {
        missing.push(name);
      }
    }
    if (missing.length === 0) return out;
    let client: KubeClient | undefined;
    try {
      client = await this.clientFor(cluster);
      for (const name of missing.slice(0, NAMESPACE_LOOKUPS_PER_REQUEST)) {
        const ns = await client.getOptional<{
          metadata: { labels?: Record<string, string> };
        }>(`/api/v1/namespaces/${encodeURIComponent(name)}`);
        const labels = ns ? ns.metadata.labels ?? {} : undefined;
        if (this.namespaceCache.size >= NAMESPACE_CACHE_SIZE) {
          this.namespaceCache.clear();
        }
        this.namespaceCache.set(`${cluster}/${name}`, { labels, at: now });
        if (labels) out[name] = labels;
      }
    } catch (error) {
      this.logger.debug(
        `Namespace labels of ${cluster} unavailable for evaluation: ${error}`,
      );
    } finally {
      client?.close();
    }
    return out;
  }

  /** Applies or writes the governed bundle of a cluster. */
  async distribute(name: string, mode: 'apply' | 'gitops', actor: string) {
    const cluster = await this.clusterOrThrow(name);
    const bundle = await this.bundleForCluster(cluster);
    return mode === 'apply'
      ? this.distributor.apply(name, bundle, actor)
      : this.distributor.writeGitOps(
          name,
          bundle,
          actor,
          cluster.environmentGroup,
        );
  }

  /** Drift check (for applied bundles) and compliance scan of one cluster. */
  async scan(name: string): Promise<PolicyComplianceReport> {
    const cluster = await this.clusterOrThrow(name);
    const bundle = await this.bundleForCluster(cluster);
    const installation = await this.store.getInstallation(name);
    if (installation) {
      await this.distributor.checkDrift(name, bundle);
    }
    let client: KubeClient | undefined;
    try {
      client = await this.clientFor(name);
      await this.store.recordCompliance(
        await this.scanner.scan(name, bundle, client),
      );
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      await this.store.recordCompliance({
        cluster: name,
        bundleVersion: bundle.version,
        status: 'failed',
        scannedAt: new Date().toISOString(),
        objectsScanned: 0,
        error: error.message,
        engines: [],
        rules: [],
        findings: [],
        truncated: false,
      });
    } finally {
      client?.close();
    }
    return this.report(cluster);
  }

  /**
   * The compliance summaries of a page of clusters from the stored state,
   * as the fleet shows them: the same figures as their reports, read with
   * one query per table instead of two per cluster.
   */
  async summaries(clusters: RegisteredCluster[]) {
    const names = clusters.map(c => c.name);
    const [profiles, installations, scans] = await Promise.all([
      this.registry.profiles.list(),
      this.store.getInstallations(names),
      this.store.getComplianceSummaries(names),
    ]);
    return clusters.map(c => {
      const profile = profiles.find(p => p.name === c.profile);
      const governedVersion = this.resolve({
        environment: c.environment,
        environmentGroup: c.environmentGroup,
        overlays: profile?.policyOverlays ?? [],
      }).version;
      const installation = installations.get(c.name);
      const scan = scans.get(c.name);
      return {
        cluster: c.name,
        environment: c.environment,
        environmentGroup: c.environmentGroup,
        governedVersion,
        installedVersion: installation?.bundleVersion,
        mode: installation?.mode,
        drift: installation?.drift.status ?? ('unknown' as const),
        upToDate: installation?.bundleVersion === governedVersion,
        violations: scan?.violations ?? 0,
        scannedAt: scan?.scannedAt,
        scanStatus: scan?.status,
      };
    });
  }

  /** The compliance report of a cluster from the stored state. */
  async report(cluster: RegisteredCluster): Promise<PolicyComplianceReport> {
    const bundle = await this.bundleForCluster(cluster);
    const installation = await this.store.getInstallation(cluster.name);
    const snapshot = await this.store.getCompliance(cluster.name);
    return {
      cluster: cluster.name,
      environment: cluster.environment,
      environmentGroup: cluster.environmentGroup,
      governedVersion: bundle.version,
      ...(installation ? { installation } : {}),
      ...(snapshot
        ? {
            scan: {
              status: snapshot.status,
              scannedAt: snapshot.scannedAt,
              bundleVersion: snapshot.bundleVersion,
              objectsScanned: snapshot.objectsScanned,
              ...(snapshot.error ? { error: snapshot.error } : {}),
              engines: snapshot.engines,
            },
          }
        : {}),
      rules: snapshot?.rules.length
        ? snapshot.rules
        : bundle.rules.map(rule => ({
            ruleId: rule.id,
            governed: true,
            severity: rule.severity,
            enforcement: rule.enforcement,
            violations: 0,
            bySource: {},
          })),
      findings: snapshot?.findings ?? [],
      truncated: snapshot?.truncated ?? false,
    };
  }

  /**
   * Scans every directly reachable cluster, `concurrency` at a time; one
   * slow or failing cluster costs one slot and never stops the others.
   */
  async scanAll(
    concurrency: number,
  ): Promise<{ scanned: number; failed: number }> {
    const names: string[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await this.registry.clusters.list({
        filter: {
          connectivity: ['direct'],
          lifecycleState: ['active', 'degraded', 'registering'],
        },
        limit: 500,
        offset,
      });
      names.push(...page.items.map(c => c.name));
      if (page.items.length < 500) break;
    }
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++];
        try {
          await this.scan(name);
        } catch (error) {
          failed++;
          this.logger.warn(
            `Policy compliance scan of ${name} failed: ${error}`,
          );
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(concurrency, names.length) }, worker),
    );
    return { scanned: names.length, failed };
  }
}

/** Namespaces the namespaced objects of a request go to. */
function namespacesOf(items: AdmissionItem[], defaultNamespace?: string) {
  const names = new Set<string>();
  for (const item of items) {
    const o = item.object as
      | {
          apiVersion?: unknown;
          kind?: unknown;
          metadata?: { namespace?: unknown };
        }
      | undefined;
    if (!o || typeof o.apiVersion !== 'string' || typeof o.kind !== 'string') {
      continue;
    }
    const { group } = splitApiVersion(o.apiVersion);
    if (!knownKind(group, o.kind)?.namespaced) continue;
    const ns = o.metadata?.namespace;
    names.add(
      typeof ns === 'string' && ns ? ns : defaultNamespace ?? 'default',
    );
  }
  return [...names];
}
