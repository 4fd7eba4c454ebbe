import {
  AuditorService,
  LoggerService,
  SchedulerService,
} from '@backstage/backend-plugin-api';
import { InputError, NotFoundError } from '@backstage/errors';
import {
  ClusterCredentials,
  ClusterRegistration,
  ClusterUpdate,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import { ClusterClient } from './ClusterClient';
import { ClusterStore, ClusterFields } from './ClusterStore';
import { ClusterUrlPolicy } from './ClusterUrlPolicy';
import { RefreshSettings } from './config';
import { CredentialCipher } from './CredentialCipher';
import { EnvironmentGroupStore } from './EnvironmentGroupStore';
import { probeCluster } from './probeCluster';
import { ProfileStore } from './ProfileStore';

export { actorOf } from '../service/RouteGuard';

/**
 * The cluster registry: validates and stores clusters from every source
 * (config, API, kubeconfig import), keeps their credentials encrypted, and
 * refreshes their live metadata on the scheduler with bounded concurrency.
 */
export class ClusterRegistry {
  private constructor(
    private readonly store: ClusterStore,
    private readonly groups: EnvironmentGroupStore,
    private readonly profiles: ProfileStore,
    private readonly policy: ClusterUrlPolicy,
    private readonly cipher: CredentialCipher | undefined,
    private readonly refresh: RefreshSettings,
    private readonly logger: LoggerService,
    private readonly auditor: AuditorService,
  ) {}

  static create(options: {
    store: ClusterStore;
    groups: EnvironmentGroupStore;
    profiles: ProfileStore;
    policy: ClusterUrlPolicy;
    cipher?: CredentialCipher;
    refresh: RefreshSettings;
    logger: LoggerService;
    auditor: AuditorService;
  }) {
    return new ClusterRegistry(
      options.store,
      options.groups,
      options.profiles,
      options.policy,
      options.cipher,
      options.refresh,
      options.logger,
      options.auditor,
    );
  }

  get clusters(): ClusterStore {
    return this.store;
  }

  private encrypt(name: string, credentials?: ClusterCredentials) {
    if (!credentials) return undefined;
    if (!this.cipher) {
      throw new InputError(
        'cannot store cluster credentials: kmp.registry.encryptionKey is not configured',
      );
    }
    return this.cipher.encrypt(name, credentials);
  }

  /** Decrypted credentials, for the backend's own use only. */
  async credentialsOf(name: string): Promise<ClusterCredentials | undefined> {
    const ciphertext = await this.store.getCredentialsCiphertext(name);
    if (!ciphertext || !this.cipher) return undefined;
    return this.cipher.decrypt(name, ciphertext);
  }

  /** Validates references and the URL; returns the fields to store. */
  private async resolveFields(
    input: Omit<ClusterRegistration, 'credentials'>,
    options: { checkUrl: boolean } = { checkUrl: true },
  ): Promise<ClusterFields> {
    const group = await this.groups.get(input.environmentGroup);
    if (!group) {
      throw new InputError(
        `environmentGroup '${input.environmentGroup}' does not exist`,
      );
    }
    const profiles = await this.profiles.list();
    if (!profiles.some(p => p.name === input.profile)) {
      throw new InputError(
        `profile '${input.profile}' does not exist; known profiles: ${
          profiles.map(p => p.name).join(', ') || '(none configured)'
        }`,
      );
    }
    const apiServerUrl =
      input.apiServerUrl && options.checkUrl
        ? await this.policy.check(input.apiServerUrl)
        : input.apiServerUrl;
    return { ...input, apiServerUrl, environment: group.environment };
  }

  async register(
    input: ClusterRegistration,
    actor: string,
    source: 'api' | 'kubeconfig' = 'api',
  ): Promise<RegisteredCluster> {
    const { credentials, ...rest } = input;
    const fields = await this.resolveFields(rest);
    const cluster = await this.store.register({
      fields,
      source,
      credentials: this.encrypt(fields.name, credentials),
      actor,
    });
    this.refreshSoon(cluster.name);
    return cluster;
  }

  async update(name: string, update: ClusterUpdate, actor: string) {
    const current = await this.store.getOrThrow(name);
    if (current.lifecycleState === 'decommissioned') {
      throw new NotFoundError(`cluster '${name}' is not registered`);
    }
    const { credentials, ...patch } = update;
    // The stored URL passed the policy when it was stored (and every
    // connection re-checks it); only a new URL is checked here.
    const merged = await this.resolveFields(
      { ...current, ...patch },
      { checkUrl: patch.apiServerUrl !== undefined },
    );
    const fields: Partial<ClusterFields> = Object.fromEntries(
      Object.keys(patch).map(k => [k, (merged as Record<string, unknown>)[k]]),
    );
    if (patch.environmentGroup) fields.environment = merged.environment;
    const cluster = await this.store.update({
      name,
      fields,
      credentials: this.encrypt(name, credentials),
      actor,
    });
    if (patch.apiServerUrl || credentials) this.refreshSoon(name);
    return cluster;
  }

  async decommission(name: string, actor: string) {
    return this.store.decommission({ name, actor });
  }

  /**
   * Makes the config-declared clusters match config: registers new ones,
   * updates changed ones, decommissions those no longer declared.
   */
  async syncFromConfig(declared: ClusterRegistration[]): Promise<void> {
    const actor = 'kmp:config';
    const existing = new Map(
      (await this.store.listBySource('config')).map(c => [c.name, c]),
    );
    for (const input of declared) {
      const current =
        existing.get(input.name) ?? (await this.store.get(input.name));
      existing.delete(input.name);
      if (current && current.lifecycleState !== 'decommissioned') {
        if (current.source !== 'config') {
          throw new InputError(
            `Invalid configuration at kmp.clusters: '${input.name}' is already registered through the ${current.source}`,
          );
        }
        const { credentials, ...rest } = input;
        const fields = await this.resolveFields(rest);
        await this.store.update({
          name: input.name,
          fields,
          credentials: this.encrypt(input.name, credentials),
          actor,
          action: 'config-sync',
        });
      } else {
        const { credentials, ...rest } = input;
        await this.store.register({
          fields: await this.resolveFields(rest),
          source: 'config',
          credentials: this.encrypt(input.name, credentials),
          actor,
        });
      }
    }
    for (const gone of existing.keys()) {
      await this.store.decommission({ name: gone, actor });
    }
  }

  /** Probes one cluster now and records the result. */
  async refreshOne(name: string): Promise<void> {
    const cluster = await this.store.get(name);
    if (
      !cluster ||
      cluster.lifecycleState === 'decommissioned' ||
      cluster.connectivity !== 'direct' ||
      !cluster.apiServerUrl
    ) {
      return;
    }
    let credentials: ClusterCredentials | undefined;
    try {
      credentials = await this.credentialsOf(name);
    } catch (error) {
      await this.store.recordProbe(
        name,
        { ok: false, error: (error as Error).message },
        { unreachableAfter: this.refresh.unreachableAfter },
      );
      return;
    }
    const client = ClusterClient.create(
      {
        name,
        apiServerUrl: cluster.apiServerUrl,
        credentials: credentials ?? {},
      },
      this.policy,
    );
    const result = await probeCluster(
      client,
      this.refresh.timeoutSeconds * 1000,
    );
    const transition = await this.store.recordProbe(name, result, {
      unreachableAfter: this.refresh.unreachableAfter,
    });
    if (transition && transition.before !== transition.after) {
      this.logger.info(
        `Cluster ${name} is now ${transition.after} (was ${transition.before})${
          result.ok ? '' : `: ${result.error}`
        }`,
      );
      const event = await this.auditor.createEvent({
        eventId: 'cluster-state-change',
        severityLevel: transition.after === 'unreachable' ? 'medium' : 'low',
        meta: { cluster: name, from: transition.before, to: transition.after },
      });
      await event.success();
    }
  }

  /**
   * A namespace of the cluster was changed through KMP (golden path,
   * ClickOps, kubectl through the broker): its tenants may have changed, so
   * it is refreshed now rather than at the next interval — developers see
   * a cluster as soon as their team has a namespace there. Bursts of
   * changes are coalesced into one refresh.
   */
  namespacesChanged(name: string): void {
    if (this.tenantRefreshes.has(name)) return;
    this.tenantRefreshes.add(name);
    setTimeout(() => {
      this.tenantRefreshes.delete(name);
      this.refreshSoon(name);
    }, 200).unref();
  }

  private readonly tenantRefreshes = new Set<string>();

  private refreshSoon(name: string) {
    this.refreshOne(name).catch(error =>
      this.logger.warn(`Refresh of cluster ${name} failed: ${error}`),
    );
  }

  /**
   * Refreshes every directly connected cluster with at most
   * `concurrency` probes in flight; a slow cluster holds one slot for at most
   * its timeout and never delays the others beyond that.
   */
  async refreshAll(): Promise<{ probed: number; durationMs: number }> {
    const started = Date.now();
    const names = await this.store.listProbeTargets();
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++];
        try {
          await this.refreshOne(name);
        } catch (error) {
          this.logger.warn(`Refresh of cluster ${name} failed: ${error}`);
        }
      }
    };
    await Promise.all(
      Array.from(
        { length: Math.min(this.refresh.concurrency, names.length) },
        worker,
      ),
    );
    return { probed: names.length, durationMs: Date.now() - started };
  }

  async scheduleRefresh(scheduler: SchedulerService): Promise<void> {
    await scheduler.scheduleTask({
      id: 'kmp-registry-refresh',
      frequency: { seconds: this.refresh.intervalSeconds },
      timeout: { seconds: Math.max(60, this.refresh.intervalSeconds * 10) },
      initialDelay: { seconds: 1 },
      fn: async () => {
        const { probed, durationMs } = await this.refreshAll();
        this.logger.debug(`Refreshed ${probed} clusters in ${durationMs} ms`);
      },
    });
  }
}
