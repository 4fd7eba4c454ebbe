import {
  LoggerService,
  SchedulerServiceTaskRunner,
} from '@backstage/backend-plugin-api';
import { stringifyEntityRef } from '@backstage/catalog-model';
import {
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import {
  clusterToEntity,
  EntityOptions,
  environmentGroupToEntity,
  LOCATION,
} from './clusterToEntity';
import { KmpRegistryClient } from './KmpRegistryClient';

/**
 * Publishes the KMP cluster registry into the catalog. A full sync (on its
 * schedule) replaces everything the provider owns and so removes
 * decommissioned clusters; in between, a short delta loop asks the registry
 * for the clusters changed since the last revision it saw and applies just
 * those as a delta mutation.
 */
export class KmpClusterEntityProvider implements EntityProvider {
  private connection?: EntityProviderConnection;
  private revision = -1;
  private entityOptions?: EntityOptions;

  constructor(
    private readonly client: KmpRegistryClient,
    private readonly logger: LoggerService,
    private readonly options: {
      fullSync: SchedulerServiceTaskRunner;
      deltaSync: SchedulerServiceTaskRunner;
      authProvider: string;
      brokerCertificateAuthority?: string;
    },
  ) {}

  getProviderName(): string {
    return 'kmp-cluster-registry';
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.options.fullSync.run({
      id: `${this.getProviderName()}:full`,
      fn: async () => {
        await this.fullSync();
      },
    });
    await this.options.deltaSync.run({
      id: `${this.getProviderName()}:delta`,
      fn: async () => {
        await this.deltaSync();
      },
    });
  }

  private async getEntityOptions(): Promise<EntityOptions> {
    if (!this.entityOptions) {
      this.entityOptions = {
        kmpBaseUrl: await this.client.externalBaseUrl(),
        authProvider: this.options.authProvider,
        brokerCertificateAuthority: this.options.brokerCertificateAuthority,
      };
    }
    return this.entityOptions;
  }

  private toDeferred(cluster: RegisteredCluster, options: EntityOptions) {
    return { entity: clusterToEntity(cluster, options), locationKey: LOCATION };
  }

  /** Replaces every entity of this provider with the registry's current state. */
  async fullSync(): Promise<{ clusters: number }> {
    if (!this.connection)
      throw new Error('KmpClusterEntityProvider is not connected');
    const options = await this.getEntityOptions();
    const clusters: RegisteredCluster[] = [];
    let revision = 0;
    for (;;) {
      const page = await this.client.changesSince(revision);
      clusters.push(...page.items);
      revision = page.revision;
      if (page.items.length === 0 || revision >= page.currentRevision) break;
    }
    const groups = await this.client.environmentGroups();
    const live = clusters.filter(c => c.lifecycleState !== 'decommissioned');
    await this.connection.applyMutation({
      type: 'full',
      entities: [
        ...groups.map(g => ({
          entity: environmentGroupToEntity(g),
          locationKey: LOCATION,
        })),
        ...live.map(c => this.toDeferred(c, options)),
      ],
    });
    this.revision = revision;
    this.logger.info(
      `Published ${live.length} KMP clusters and ${groups.length} environment groups`,
    );
    return { clusters: live.length };
  }

  /** Applies the clusters changed since the last sync as a delta. */
  async deltaSync(): Promise<{ added: number; removed: number }> {
    if (!this.connection || this.revision < 0) return { added: 0, removed: 0 };
    const options = await this.getEntityOptions();
    const page = await this.client.changesSince(this.revision);
    if (page.items.length === 0) return { added: 0, removed: 0 };
    const added = page.items.filter(c => c.lifecycleState !== 'decommissioned');
    const removed = page.items.filter(
      c => c.lifecycleState === 'decommissioned',
    );
    await this.connection.applyMutation({
      type: 'delta',
      added: added.map(c => this.toDeferred(c, options)),
      removed: removed.map(c => ({
        entityRef: stringifyEntityRef({
          kind: 'Resource',
          namespace: 'default',
          name: c.name,
        }),
        locationKey: LOCATION,
      })),
    });
    this.revision = page.revision;
    return { added: added.length, removed: removed.length };
  }
}
